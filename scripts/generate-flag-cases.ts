/**
 * Generates the feature flag conformance cases in `test/flags/cases/`, computing every expected answer
 * with the official `mixpanel` npm package (a dev dependency): its local flags provider, driven offline by
 * handing it the definitions directly (it reads them from a `Map` that its own fetch fills), its hash, and
 * the `json-logic-js` instance it registers Mixpanel's custom operators on.
 *
 *   npx tsx scripts/generate-flag-cases.ts
 *
 * The inputs come from a seeded PRNG, so running it again gives the same files (unless the reference
 * changes). It formats its output with biome, as the repository's lint expects.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { mulberry32 } from "../src/internal/prng.js"
import { jsonLogic, makeProvider, reference, token, utils } from "./flag-reference.js"

// ---------------------------------------------------------------------------------------------------
// the reference
// ---------------------------------------------------------------------------------------------------

type Json = string | number | boolean | null | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const { provider, tracked } = makeProvider()

// ---------------------------------------------------------------------------------------------------
// seeded randomness
// ---------------------------------------------------------------------------------------------------

let random = mulberry32(20251128)
const chance = (p: number) => random() < p
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)] as A
const hex = (length: number) => Array.from({ length }, () => "0123456789abcdef"[int(0, 15)]).join("")
const mixCase = (text: string) => Array.from(text, (c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("")

// ---------------------------------------------------------------------------------------------------
// hash cases
// ---------------------------------------------------------------------------------------------------

const hashCases = (): Array<[string, string, number]> => {
  const keys = [
    "",
    "user-1",
    "123",
    "ünïcödé",
    "日本語のユーザー",
    "😀 emoji",
    "\ud800 lone high",
    "lone low \udc00",
    "pair \ud83d\ude00 then lone \ud83d",
    "[object Object]",
    "null",
    "x".repeat(300)
  ]
  const alphabet = "abcXYZ019-_@.é😀漢\u0000\u007f"
  for (let i = 0; i < 488; i++) {
    keys.push(Array.from({ length: int(0, 40) }, () => pick(Array.from(alphabet))).join(""))
  }
  return keys.map((key, i) => {
    const salt = pick([
      "rollout",
      "variant",
      `flag-${i}rollout`,
      `flag-${i}${hex(8)}${i % 3}`,
      `flag-${i}${hex(32)}variant`,
      ""
    ])
    return [key, salt, utils.normalizedHash(key, salt)]
  })
}

// ---------------------------------------------------------------------------------------------------
// contexts
// ---------------------------------------------------------------------------------------------------

const plans = ["free", "Pro", "ENTERPRISE", "pro", "team"]
const countries = ["US", "de", "Fr", "JP", "br"]
const versions = [
  "1.2.3",
  "v2.0",
  "1.10.0-beta.1",
  "1.10.0",
  "2",
  "0.9.12",
  "1.2.3+build.7",
  "V3.0.0-RC.2",
  "not a version"
]
const dates = [
  "2024-01-15T10:00:00Z",
  "2023-06-30T23:59:59+02:00",
  "2025-02-28T00:00:00.123Z",
  "2024-02-30T00:00:00Z",
  "2024-13-01T00:00:00Z",
  "yesterday",
  "2022-12-31t12:00:00z"
]
const tagPool = ["beta", "VIP", "churn-risk", "early", "Beta"]

const customProperties = (): Json => {
  const roll = random()
  if (roll < 0.12) return null
  if (roll < 0.15) return pick(["not an object", 5])
  const properties: Record<string, Json> = {}
  if (chance(0.8)) properties[chance(0.3) ? "Plan" : "plan"] = pick(plans)
  if (chance(0.7)) properties.country = pick(countries)
  if (chance(0.6)) properties.age = chance(0.3) ? String(int(10, 80)) : int(10, 80)
  if (chance(0.5)) properties.app_version = pick(versions)
  if (chance(0.5)) properties.signup_date = pick(dates)
  if (chance(0.5)) properties.tags = Array.from({ length: int(0, 3) }, () => pick(tagPool))
  if (chance(0.4)) properties.is_beta = chance(0.5)
  if (chance(0.3)) properties.nested = { level: { value: pick(["Deep", "deeper", 3]) } }
  if (chance(0.2)) properties.score = chance(0.5) ? null : ""
  if (chance(0.1)) {
    // two keys that differ only in case: the later one wins once keys are lowercased
    properties.Country = "CA"
    properties.country = pick(countries)
  }
  return properties
}

const distinctId = (n: number): string =>
  pick([
    `user-${n}`,
    `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    `person${n}@example.com`,
    String(100000 + n),
    `ünï-${n}`,
    `用户${n}`,
    `$device:${hex(16)}`
  ])

const makeContexts = (count: number): Array<JsonObject> =>
  Array.from({ length: count }, (_, n) => {
    const context: Record<string, Json> = { distinct_id: n % 37 === 5 ? "" : distinctId(n) }
    const company = random()
    if (company < 0.5) context.company_id = `company-${int(1, 40)}`
    else if (company < 0.65) context.company_id = int(1, 500)
    else if (company < 0.68) context.company_id = null
    else if (company < 0.7) context.company_id = { id: 1 }
    const properties = customProperties()
    if (properties !== null || chance(0.5)) context.custom_properties = properties
    return context
  })

// ---------------------------------------------------------------------------------------------------
// runtime rules
// ---------------------------------------------------------------------------------------------------

const propertyNames = ["plan", "Plan", "country", "age", "app_version", "signup_date", "tags", "is_beta", "score"]
const missingNames = ["missing_prop", "Nope", "nested.nothing"]

const variable = (): Json =>
  chance(0.85)
    ? { var: chance(0.1) ? "nested.level.value" : pick(propertyNames) }
    : { var: chance(0.5) ? pick(missingNames) : [pick(missingNames), pick(["DEFAULT", 0, null])] }

const literal = (): Json =>
  pick<Json>([
    pick(plans),
    pick(countries),
    mixCase(pick(tagPool)),
    int(0, 90),
    String(int(0, 90)),
    pick([true, false, null, "", 0, "deep", "DEEP"])
  ])

const operand = (depth: number): Json => {
  const roll = random()
  if (roll < 0.5) return variable()
  if (roll < 0.85 || depth <= 0) return literal()
  return pick<Json>([
    { "+": [variable(), int(0, 5)] },
    { "-": [variable(), literal()] },
    { "*": [variable(), 2] },
    { "/": [variable(), 2] },
    { "%": [variable(), 3] },
    { cat: [variable(), "-", literal()] },
    { substr: [variable(), int(-3, 3), ...(chance(0.5) ? [int(-2, 3)] : [])] },
    { min: [variable(), int(0, 50)] },
    { max: [variable(), int(0, 50)] },
    { if: [variable(), literal(), literal()] },
    { merge: [variable(), [literal()]] }
  ])
}

const comparisons = ["==", "!=", "===", "!==", "<", "<=", ">", ">="]
const symbols = ["===", "!==", "<", "<=", ">", ">=", "~"]

const condition = (depth: number): Json => {
  const roll = random()
  if (depth > 0 && roll < 0.22) {
    const op = pick(["and", "or", "and", "or", "!", "!!", "if"])
    if (op === "!" || op === "!!") return { [op]: [condition(depth - 1)] }
    if (op === "if") return { if: [condition(depth - 1), condition(depth - 1), condition(depth - 1)] }
    return { [op]: Array.from({ length: int(1, 3) }, () => condition(depth - 1)) }
  }
  if (roll < 0.55) return { [pick(comparisons)]: [operand(depth - 1), operand(depth - 1)] }
  if (roll < 0.6) return { "<": [int(0, 30), { var: "age" }, int(30, 90)] }
  if (roll < 0.68) {
    return pick<Json>([
      { in: [mixCase(pick(tagPool)), { var: "tags" }] },
      { in: [{ var: pick(["country", "plan"]) }, [mixCase(pick(countries)), mixCase(pick(plans)), "us"]] },
      { in: [pick(["ro", "PR", "e", "x"]), { var: pick(["plan", "Plan", "country"]) }] },
      { in: [literal(), { var: pick(missingNames) }] }
    ])
  }
  if (roll < 0.76) {
    return {
      semver_compare: [
        chance(0.9) ? { var: "app_version" } : literal(),
        pick(symbols),
        pick(["1.2.3", "V1.10.0", "2.0.0-alpha", "1", "1.10.0-BETA.2", "x.y.z"])
      ]
    }
  }
  if (roll < 0.83) {
    return {
      datetime_compare: [
        { var: "signup_date" },
        pick(symbols),
        pick([1704067200000, 1719792000000, 1735689600000, 1704067200123, "1704067200000"])
      ]
    }
  }
  if (roll < 0.9) {
    return pick<Json>([
      { some: [{ var: "tags" }, { "==": [{ var: "" }, mixCase(pick(tagPool))] }] },
      { all: [{ var: "tags" }, { in: [{ var: "" }, ["beta", "vip", "early"]] }] },
      { none: [{ var: "tags" }, { "==": [{ var: "" }, "churn-risk"] }] },
      { ">": [{ reduce: [{ var: "tags" }, { "+": [{ var: "accumulator" }, 1] }, 0] }, 1] },
      { "==": [{ map: [{ var: "tags" }, { cat: [{ var: "" }, "!"] }] }, "beta!"] },
      { "!!": [{ filter: [{ var: "tags" }, { "!=": [{ var: "" }, "vip"] }] }] }
    ])
  }
  if (roll < 0.95) {
    return pick<Json>([
      { "!": { missing: [pick(propertyNames), pick(propertyNames)] } },
      { missing: pick(missingNames) },
      { "!": { missing_some: [1, [pick(propertyNames), pick(missingNames)]] } },
      { var: pick(propertyNames) },
      { merge: [] }
    ])
  }
  return pick<Json>([{ unknown_operator: [1, 2] }, { "var.length": ["x"] }, { "*": [] }, true, "TRUE", 0, {}])
}

// ---------------------------------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------------------------------

const variantValues: ReadonlyArray<Json> = [
  "blue",
  "Red",
  42,
  0.5,
  true,
  false,
  null,
  { layout: "grid", columns: 3 },
  ["a", "b"],
  ""
]

const splitsFor = (count: number): Array<number | null | undefined> => {
  const roll = random()
  if (roll < 0.1) return Array.from({ length: count }, () => undefined)
  if (roll < 0.2) return Array.from({ length: count }, (_, i) => (i === count - 1 ? 1 : 0))
  if (roll < 0.3) return Array.from({ length: count }, () => (chance(0.5) ? null : 0.2))
  const weights = Array.from({ length: count }, () => random())
  const total = weights.reduce((a, b) => a + b, 0)
  return weights.map((w) => Math.round((w / total) * 100) / 100)
}

const makeFlag = (index: number, contexts: ReadonlyArray<JsonObject>): JsonObject => {
  const gate = chance(0.25)
  const keys = gate
    ? ["off", "on"]
    : Array.from(
        new Set(
          Array.from({ length: int(1, 4) }, () =>
            pick(["control", "treatment", "Variant-B", "a", "B", "c", "Big"]).toLowerCase()
          )
        )
      ).map((key) => (chance(0.3) ? mixCase(key) : key))
  const splits = gate ? [0, 1] : splitsFor(keys.length)
  const variants = keys.map((key, i) => {
    const variant: Record<string, Json> = {
      key,
      value: gate ? key === "on" : pick(variantValues),
      is_control: i === 0
    }
    const split = splits[i]
    if (split !== undefined) variant.split = split
    return variant
  })
  const rollouts = Array.from({ length: pick([0, 1, 1, 1, 2, 2, 3]) }, () => {
    const rollout: Record<string, Json> = {
      rollout_percentage: pick([0, 0.01, 0.1, 0.25, 0.5, 0.5, 0.73, 0.99, 1, 1, Math.round(random() * 100) / 100])
    }
    const rule = random()
    if (rule < 0.35) rollout.runtime_evaluation_rule = condition(2)
    else if (rule < 0.45) {
      rollout.runtime_evaluation_definition = chance(0.5)
        ? { plan: mixCase(pick(plans)) }
        : { country: mixCase(pick(countries)), plan: pick(plans) }
    } else if (rule < 0.5) rollout.runtime_evaluation_rule = null
    if (chance(0.15)) {
      rollout.variant_override = { key: chance(0.85) ? mixCase(pick(keys)) : "no-such-variant" }
    } else if (chance(0.05)) rollout.variant_override = null
    if (chance(0.2) && !gate) {
      const overridden: Record<string, number> = {}
      for (const key of keys) if (chance(0.7)) overridden[key] = Math.round(random() * 100) / 100
      if (chance(0.2)) overridden["not-a-variant"] = 0.5
      rollout.variant_splits = overridden
    }
    return rollout
  })
  const ruleset: Record<string, Json> = { variants, rollout: rollouts }
  const test = random()
  if (test < 0.25) {
    const users: Record<string, string> = {}
    for (let i = 0; i < int(1, 6); i++) {
      const id = pick(contexts).distinct_id
      if (typeof id === "string" && id !== "") users[id] = chance(0.85) ? mixCase(pick(keys)) : "missing-variant"
    }
    ruleset.test = { users }
  } else if (test < 0.3) ruleset.test = null
  const flag: Record<string, Json> = {
    id: `${index}`,
    name: `Flag ${index}`,
    key: index % 17 === 3 ? `Flag ${index} ✓` : `flag-${index}`,
    status: "active",
    project_id: 123,
    context: pick(["distinct_id", "distinct_id", "distinct_id", "distinct_id", "company_id"]),
    ruleset
  }
  const salt = random()
  if (salt < 0.6) flag.hash_salt = hex(32)
  else if (salt < 0.75) flag.hash_salt = null
  const experiment = random()
  if (experiment < 0.5) flag.experiment_id = `${hex(8)}-${hex(4)}`
  else if (experiment < 0.65) flag.experiment_id = null
  const active = random()
  if (active < 0.4) flag.is_experiment_active = true
  else if (active < 0.6) flag.is_experiment_active = false
  else if (active < 0.7) flag.is_experiment_active = null
  return flag
}

// ---------------------------------------------------------------------------------------------------
// evaluation by the reference
// ---------------------------------------------------------------------------------------------------

const localEvaluation = () => {
  const contexts = makeContexts(240)
  const flags = Array.from({ length: 64 }, (_, i) => makeFlag(i, contexts))
  provider.flagDefinitions = new Map(flags.map((flag) => [String(flag.key), flag]))
  const expected: Record<string, string> = {}
  const exposures: Array<JsonObject> = []
  const exposureLookups: Array<Json> = []
  contexts.forEach((context, c) => {
    expected[String(c)] = flags
      .map((flag, f) => {
        const key = String(flag.key)
        tracked.length = 0
        // exposures of a sample of lookups, to check the event's properties too
        const report = (c * 64 + f) % 29 === 0
        if (report) exposureLookups.push([c, key])
        const variant = provider.getVariant(key, { variant_value: "fallback" }, context, report)
        for (const event of tracked) {
          exposures.push({ context: c, flag: key, event: event.event, properties: event.properties as JsonObject })
        }
        return token(variant)
      })
      .join(" ")
  })
  return {
    reference,
    generator: "scripts/generate-flag-cases.ts",
    format:
      "expected[context index] lists, per flag in order, the reference's getVariant answer: the variant key served (with ! when served to a test user), - for NO_ROLLOUT_MATCH, ? for MISSING_CONTEXT_KEY. exposureLookups are lookups [context index, flag key] made with exposure on, in order; exposures the $experiment_started events the reference tracked for them.",
    flags,
    contexts,
    expected,
    exposureLookups,
    exposures
  }
}

const ruleEvaluation = () => {
  const contexts = makeContexts(40)
  const rules = Array.from({ length: 420 }, () => condition(3))
  const legacy: Array<Json> = Array.from({ length: 30 }, () =>
    pick<Json>([
      { plan: mixCase(pick(plans)) },
      { country: mixCase(pick(countries)), plan: pick(plans) },
      { Plan: "pro" },
      { age: String(int(10, 80)) },
      { is_beta: "TRUE" },
      {}
    ])
  )
  const satisfied = (rollout: JsonObject) =>
    contexts.map((context) => (provider._isRuntimeEvaluationSatisfied(rollout, context) ? "1" : "0")).join("")
  return {
    reference,
    generator: "scripts/generate-flag-cases.ts",
    format:
      "rules[i].satisfied[c] is 1 when the reference holds rules[i] satisfied for contexts[c] (JsonLogic over the lowercased custom_properties); legacy the same for runtime_evaluation_definition.",
    contexts,
    rules: rules.map((rule) => ({ rule, satisfied: satisfied({ runtime_evaluation_rule: rule }) })),
    legacy: legacy.map((definition) => ({
      definition,
      satisfied: satisfied({ runtime_evaluation_definition: definition })
    }))
  }
}

/** A JSON stand-in for the values JSON cannot hold. */
const encode = (value: unknown): Json => {
  if (value === undefined) return { $undefined: true }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) }
  if (typeof value === "function") return { $function: true }
  if (Array.isArray(value)) return value.map(encode)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encode(item)]))
  }
  return value as Json
}

const applyEncoded = (rule: unknown, data: unknown): Json => {
  try {
    return encode(jsonLogic.apply(rule, data))
  } catch {
    return { $throws: true }
  }
}

/** Values whose coercions differ, for every operator against every other. */
const pool: ReadonlyArray<Json> = [
  0,
  1,
  -1,
  2.5,
  "0",
  "1",
  "10",
  "9",
  "abc",
  "aBc",
  "",
  " ",
  null,
  true,
  false,
  [],
  [1, 2],
  ["abc"],
  { var: "obj" },
  { var: "arr" },
  { var: "missing" }
]

const matrixData: JsonObject = {
  obj: { a: 1, b: [1, 2], c: { d: "deep" } },
  arr: [1, "two", null],
  str: "Hello",
  num: 5,
  zero: 0,
  empty: "",
  nil: null
}

const binaryOperators = [
  "==",
  "===",
  "!=",
  "!==",
  "<",
  "<=",
  ">",
  ">=",
  "%",
  "-",
  "/",
  "+",
  "*",
  "in",
  "cat",
  "min",
  "max",
  "merge",
  "substr",
  "and",
  "or",
  "if",
  "?:",
  "var",
  "missing",
  "missing_some",
  "!",
  "!!",
  "filter",
  "map",
  "all",
  "some",
  "none"
]

const versionPool = [
  "1.2.3",
  "v1.2.3",
  "1.2",
  "1",
  "1.10.0",
  "1.9.9",
  "1.2.3-alpha",
  "1.2.3-alpha.1",
  "1.2.3-alpha.beta",
  "1.2.3-1",
  "1.2.3+build",
  "01.2.3",
  " 1.2.3 ",
  "1.2.3.4",
  123,
  `${"9".repeat(20)}.0.0`
]
const datePool: ReadonlyArray<Json> = [
  "2024-01-01T00:00:00Z",
  "2024-01-01T00:00:00.999Z",
  "2024-01-01T01:00:00+01:00",
  "2024-02-29T12:00:00Z",
  "2023-02-29T12:00:00Z",
  "2024-01-01 00:00:00Z",
  "2024-01-01T24:00:00Z",
  "2024-01-01T00:00:00",
  1704067200000,
  null
]
const millisPool: ReadonlyArray<Json> = [
  1704067200000,
  1704067199999,
  1704067200999,
  1704067201000,
  -1,
  2 ** 63,
  "1704067200000",
  null
]

const operatorCases = () => {
  const rows: Array<JsonObject> = []
  const row = (op: string, first: Json, rules: ReadonlyArray<Json>) =>
    rows.push({
      op,
      first,
      rules: JSON.stringify(rules),
      results: JSON.stringify(rules.map((rule) => applyEncoded(rule, matrixData)))
    })
  for (const op of binaryOperators) {
    for (const a of pool)
      row(
        op,
        a,
        pool.map((b) => ({ [op]: [a, b] }))
      )
  }
  for (const op of ["<", "<="]) {
    for (const a of pool.slice(0, 8))
      row(
        `${op} (3)`,
        a,
        pool.slice(0, 8).map((b) => ({ [op]: [a, b, 3] }))
      )
  }
  for (const a of pool) {
    row(
      "substr (3)",
      a,
      [-3, -1, 0, 1, 2, 10].map((start) => ({ substr: [a, start, -1] }))
    )
    row("unary -", a, [{ "-": [a] }, { "*": [a] }, { "+": [a] }, { cat: [a] }, { "!": a }, { if: a }])
  }
  for (const path of [
    "",
    null,
    "obj",
    "obj.a",
    "obj.c.d",
    "obj.b.1",
    "arr.1",
    "arr.5",
    "str.length",
    "num",
    "nil",
    "nil.x",
    1,
    "missing",
    "a.b.c"
  ]) {
    row("var path", path, [
      { var: path },
      { var: [path, "dflt"] },
      { missing: [path] },
      { missing_some: [1, [path, "num"]] }
    ])
  }
  for (const actual of versionPool) {
    for (const symbol of ["===", "!==", "<", "<=", ">", ">=", "=="]) {
      row(
        `semver_compare ${symbol}`,
        actual,
        versionPool.map((target) => ({ semver_compare: [actual, symbol, target] }))
      )
    }
  }
  for (const actual of datePool) {
    for (const symbol of ["===", "!==", "<", "<=", ">", ">="]) {
      row(
        `datetime_compare ${symbol}`,
        actual,
        millisPool.map((target) => ({ datetime_compare: [actual, symbol, target] }))
      )
    }
  }
  row("arity", null, [
    { semver_compare: ["1.0.0", "==="] },
    { datetime_compare: ["2024-01-01T00:00:00Z", ">"] },
    { reduce: [[1, 2, 3], { "+": [{ var: "current" }, { var: "accumulator" }] }] },
    { reduce: [{ var: "num" }, 1, "init"] },
    { "*": [] },
    { min: [] },
    { max: [] },
    { cat: [] },
    { and: [] },
    { or: [] },
    { if: [] }
  ])
  return rows
}

const applyCases = () => {
  const data: Array<Json> = makeContexts(12).map((context) => context.custom_properties ?? null)
  const rules = Array.from({ length: 300 }, () => (chance(0.6) ? condition(3) : operand(3)))
  return {
    reference,
    generator: "scripts/generate-flag-cases.ts",
    format:
      "results[i][d] is json-logic-js's apply(rules[i], data[d]) (with Mixpanel's custom operators), encoded: {$undefined}, {$number: 'NaN'}, {$function}, {$throws} for what JSON cannot hold.",
    data,
    cases: rules.map((rule) => ({ rule, results: data.map((d) => applyEncoded(rule, d)) }))
  }
}

// ---------------------------------------------------------------------------------------------------
// output
// ---------------------------------------------------------------------------------------------------

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const directory = Path.join(root, "test", "flags", "cases")
Fs.mkdirSync(directory, { recursive: true })

const outputs: Array<[string, () => unknown]> = [
  ["hash.json", () => ({ reference, generator: "scripts/generate-flag-cases.ts", cases: hashCases() })],
  ["local-evaluation.json", localEvaluation],
  ["runtime-rules.json", ruleEvaluation],
  ["json-logic.json", applyCases],
  [
    "json-logic-operators.json",
    () => ({
      reference,
      generator: "scripts/generate-flag-cases.ts",
      format:
        "each row tries one operator (op) with one first argument against a pool of values: rules and results are JSON texts of equal-length arrays, results[k] being json-logic-js's apply(rules[k], data), encoded as in json-logic.json.",
      data: matrixData,
      rows: operatorCases()
    })
  ]
]
const written: Array<string> = []
for (const [name, make] of outputs) {
  random = mulberry32(name.length * 7919 + 20251128)
  const file = Path.join(directory, name)
  Fs.writeFileSync(file, `${JSON.stringify(make(), null, 2)}\n`)
  written.push(file)
}
const biome = spawnSync("npx", ["biome", "format", "--write", ...written], { cwd: root, stdio: "inherit" })
if (biome.status !== 0) throw new Error("biome could not format the cases")
console.log(`wrote ${written.map((file) => Path.relative(root, file)).join(", ")} from ${reference}`)
