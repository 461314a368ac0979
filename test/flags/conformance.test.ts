/**
 * Conformance with the official SDK: every expected answer in `test/flags/cases/` was computed by the
 * `mixpanel` npm package (`scripts/generate-flag-cases.ts`); ours must be the same, case by case. The
 * local evaluation cases are also put to the official package itself, as installed, next to ours.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { FeatureFlags, LocalFlags } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import * as Reference from "../../scripts/flag-reference.js"
import * as Evaluate from "../../src/internal/flags/evaluate.js"
import { fnv1a64Hex, normalizedHash } from "../../src/internal/flags/hash.js"
import * as JsonLogic from "../../src/internal/flags/jsonLogic.js"
import { exposures, localLayer, readCases } from "./support.js"

interface LocalCases {
  readonly reference: string
  readonly flags: ReadonlyArray<{ readonly key: string }>
  readonly contexts: ReadonlyArray<FeatureFlags.Context>
  readonly expected: Readonly<Record<string, string>>
  readonly exposureLookups: ReadonlyArray<readonly [number, string]>
  readonly exposures: ReadonlyArray<{ readonly properties: Record<string, unknown> }>
}

interface RuleCases {
  readonly contexts: ReadonlyArray<FeatureFlags.Context>
  readonly rules: ReadonlyArray<{ readonly rule: unknown; readonly satisfied: string }>
  readonly legacy: ReadonlyArray<{ readonly definition: unknown; readonly satisfied: string }>
}

interface ApplyCases {
  readonly data: ReadonlyArray<unknown>
  readonly cases: ReadonlyArray<{ readonly rule: unknown; readonly results: ReadonlyArray<unknown> }>
}

const local = readCases<LocalCases>("local-evaluation.json")
const rules = readCases<RuleCases>("runtime-rules.json")
const applies = readCases<ApplyCases>("json-logic.json")
const operators = readCases<{
  readonly data: unknown
  readonly rows: ReadonlyArray<{ readonly op: string; readonly rules: string; readonly results: string }>
}>("json-logic-operators.json")
const hashes = readCases<{ readonly cases: ReadonlyArray<readonly [string, string, number]> }>("hash.json")

const decodeFlag = Schema.decodeUnknownSync(FeatureFlags.FlagDefinition)

/** Our answer in the cases' notation: the variant key (`!` for a test user), `-` no rollout, `?` no context key. */
const token = (variant: FeatureFlags.SelectedVariant<unknown>): string => {
  if (variant.source !== "fallback") return `${variant.key}${variant.isQaTester === true ? "!" : ""}`
  switch (variant.reason._tag) {
    case "NoRolloutMatch":
      return "-"
    case "MissingContextKey":
      return "?"
    default:
      return `fallback:${variant.reason._tag}`
  }
}

const outcomeToken = (outcome: Evaluate.Outcome): string =>
  token(outcome._tag === "Served" ? outcome.variant : { source: "fallback", value: null, reason: outcome.reason })

interface Mismatch {
  readonly at: string
  readonly expected: unknown
  readonly actual: unknown
}

/** Compares every case and reports the first mismatches, with how many there are. */
const expectNoMismatch = (mismatches: ReadonlyArray<Mismatch>, total: number) => {
  expect(total).toBeGreaterThan(0)
  expect({ mismatches: mismatches.length, first: mismatches.slice(0, 5) }).toEqual({ mismatches: 0, first: [] })
}

/** JSON's view of a value (so `-0` is `0`), with stand-ins for what JSON cannot hold, as the generator writes them. */
const encode = (value: unknown): unknown => {
  const walk = (v: unknown): unknown => {
    if (v === undefined) return { $undefined: true }
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) }
    if (typeof v === "function") return { $function: true }
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, i]) => [k, walk(i)]))
    return v
  }
  return JSON.parse(JSON.stringify(walk(value)))
}

describe("conformance with the official mixpanel SDK", () => {
  const lookups = local.flags.length * local.contexts.length

  it(`local evaluation: ${lookups} lookups answered as the official package answers them, asked now`, () => {
    const { provider } = Reference.makeProvider()
    provider.flagDefinitions = new Map(local.flags.map((flag) => [flag.key, flag]))
    const flags = local.flags.map((raw) => Evaluate.compile(decodeFlag(raw)))
    const mismatches: Array<Mismatch> = []
    const served = new Set<string>()
    for (const [c, context] of local.contexts.entries()) {
      for (const flag of flags) {
        const key = flag.definition.key
        const expected = Reference.token(provider.getVariant(key, { variant_value: "fallback" }, context, false))
        const actual = outcomeToken(Evaluate.evaluate(flag, key, context))
        if (actual !== expected) mismatches.push({ at: `context ${c}, flag ${key}`, expected, actual })
        served.add(expected)
      }
    }
    // the cases exercise every kind of answer: served variants, test users, no rollout, no context key
    expect([...served].some((answer) => answer.endsWith("!"))).toBe(true)
    expect(served).toContain("-")
    expect(served).toContain("?")
    expectNoMismatch(mismatches, lookups)
  })

  it(`hash: ${hashes.cases.length} FNV-1a 64 normalized hashes`, () => {
    const mismatches: Array<Mismatch> = []
    for (const [key, salt, expected] of hashes.cases) {
      const actual = normalizedHash(key, salt)
      if (actual !== expected) mismatches.push({ at: JSON.stringify([key, salt]), expected, actual })
    }
    expectNoMismatch(mismatches, hashes.cases.length)
  })

  it("hash: the 64-bit value against a BigInt FNV-1a", () => {
    const reference = (text: string) => {
      let hash = 0xcbf29ce484222325n
      for (const byte of Buffer.from(text, "utf8"))
        hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn
      return hash.toString(16).padStart(16, "0")
    }
    for (const [key, salt] of hashes.cases) expect(fnv1a64Hex(key + salt)).toBe(reference(key + salt))
  })

  it(`JsonLogic: ${applies.cases.length * applies.data.length} rule applications give json-logic-js's values`, () => {
    const mismatches: Array<Mismatch> = []
    applies.cases.forEach(({ results, rule }, i) => {
      applies.data.forEach((data, d) => {
        let actual: unknown
        try {
          actual = encode(JsonLogic.apply(rule, data))
        } catch {
          actual = { $throws: true }
        }
        try {
          expect(actual).toEqual(results[d])
        } catch {
          mismatches.push({ at: `rule ${i} ${JSON.stringify(rule)}, data ${d}`, expected: results[d], actual })
        }
      })
    })
    expectNoMismatch(mismatches, applies.cases.length)
  })

  const operatorRules = operators.rows.map((row) => ({
    op: row.op,
    rules: JSON.parse(row.rules) as ReadonlyArray<unknown>,
    results: JSON.parse(row.results) as ReadonlyArray<unknown>
  }))
  const operatorCount = operatorRules.reduce((n, row) => n + row.rules.length, 0)

  it(`JsonLogic: ${operatorCount} applications of every operator to a pool of awkward values`, () => {
    const mismatches: Array<Mismatch> = []
    for (const { op, results, rules } of operatorRules) {
      expect(rules.length).toBe(results.length)
      rules.forEach((rule, k) => {
        let actual: unknown
        try {
          actual = encode(JsonLogic.apply(rule, operators.data))
        } catch {
          actual = { $throws: true }
        }
        try {
          expect(actual).toEqual(results[k])
        } catch {
          mismatches.push({ at: `${op}: ${JSON.stringify(rule)}`, expected: results[k], actual })
        }
      })
    }
    expectNoMismatch(mismatches, operatorCount)
  })

  const ruleFlag = (rollout: Record<string, unknown>) =>
    Evaluate.compile(
      decodeFlag({
        key: "rule",
        context: "distinct_id",
        ruleset: { variants: [{ key: "on", value: true }], rollout: [{ rollout_percentage: 1, ...rollout }] }
      })
    )

  it(`runtime rules: ${rules.rules.length * rules.contexts.length} JsonLogic rules over custom properties`, () => {
    const mismatches: Array<Mismatch> = []
    rules.rules.forEach(({ rule, satisfied }, i) => {
      const flag = ruleFlag({ runtime_evaluation_rule: rule })
      const actual = rules.contexts
        .map((context) => (Evaluate.evaluate(flag, "rule", context)._tag === "Served" ? "1" : "0"))
        .join("")
      if (actual !== satisfied)
        mismatches.push({ at: `rule ${i} ${JSON.stringify(rule)}`, expected: satisfied, actual })
    })
    expectNoMismatch(mismatches, rules.rules.length)
  })

  it(`runtime rules: ${rules.legacy.length * rules.contexts.length} legacy runtime_evaluation_definition checks`, () => {
    const mismatches: Array<Mismatch> = []
    rules.legacy.forEach(({ definition, satisfied }, i) => {
      const flag = ruleFlag({ runtime_evaluation_definition: definition })
      const actual = rules.contexts
        .map((context) => (Evaluate.evaluate(flag, "rule", context)._tag === "Served" ? "1" : "0"))
        .join("")
      if (actual !== satisfied) mismatches.push({ at: `legacy ${i}`, expected: satisfied, actual })
    })
    expectNoMismatch(mismatches, rules.legacy.length)
  })

  it(`local evaluation: ${lookups} lookups (${local.flags.length} flags × ${local.contexts.length} contexts)`, () => {
    const flags = local.flags.map((raw) => Evaluate.compile(decodeFlag(raw)))
    const mismatches: Array<Mismatch> = []
    local.contexts.forEach((context, c) => {
      const expected = (local.expected[String(c)] ?? "").split(" ")
      flags.forEach((flag, f) => {
        const actual = outcomeToken(Evaluate.evaluate(flag, flag.definition.key, context))
        if (actual !== expected[f]) {
          mismatches.push({ at: `context ${c}, flag ${flag.definition.key}`, expected: expected[f], actual })
        }
      })
    })
    expectNoMismatch(mismatches, lookups)
  })

  it.scoped(
    `local evaluation through LocalFlags over HTTP: the same ${lookups} lookups, getAllVariants, and the exposure events`,
    () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: local.flags })
        yield* Effect.gen(function* () {
          const flags = yield* LocalFlags.LocalFlags
          expect(yield* flags.status).toMatchObject({ ready: true, flags: local.flags.length, invalidFlags: [] })
          const mismatches: Array<Mismatch> = []
          for (const [c, context] of local.contexts.entries()) {
            const expected = (local.expected[String(c)] ?? "").split(" ")
            const all = yield* flags.getAllVariants(context)
            for (const [f, { key }] of local.flags.entries()) {
              const variant = yield* flags.getVariant(key, { value: "fallback" }, context, { exposure: false })
              const actual = token(variant)
              if (actual !== expected[f])
                mismatches.push({ at: `context ${c}, flag ${key}`, expected: expected[f], actual })
              // getAllVariants holds exactly the served variants
              expect(all[key]).toEqual(variant.source === "local" ? variant : undefined)
            }
          }
          expectNoMismatch(mismatches, lookups)

          for (const [c, key] of local.exposureLookups) {
            const context = local.contexts[c]
            if (context !== undefined) yield* flags.getVariant(key, { value: "fallback" }, context)
          }
          yield* flags.awaitExposures
          const events = yield* exposures
          expect(events.length).toBeGreaterThan(100)
          expect(events).toEqual(local.exposures.map((exposure) => exposure.properties))
        }).pipe(Effect.provide(localLayer(server)))
      })
  )
})
