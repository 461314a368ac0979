/**
 * Local evaluation of one flag for one context, with the semantics of the official SDKs' local providers
 * (`mixpanel` 0.24 `lib/flags/local_flags.js`, which the conformance cases are computed with):
 *
 * 1. the flag's context key (`distinct_id`, or a group key) must be in the context, else `MissingContextKey`;
 * 2. a test user (`ruleset.test.users[distinct_id]`) gets the named variant, matched case-insensitively;
 * 3. otherwise the first rollout whose hash is under its `rollout_percentage` and whose runtime rule holds
 *    selects the variant: its `variant_override` if that names a variant, else the variant whose cumulative
 *    split (with the rollout's `variant_splits` applied) first exceeds the variant hash;
 * 4. no rollout: `NoRolloutMatch`.
 *
 * Salts: `key + hash_salt + index` for rollout `index` (`key + "rollout"` without a `hash_salt`), and
 * `key + hash_salt + "variant"` for the variant (`key + "variant"` without one).
 */
import type { Context, FallbackReason, ServedVariant } from "../../FeatureFlags.js"
import { normalizedHash } from "./hash.js"
import * as JsonLogic from "./jsonLogic.js"
import type * as Schemas from "./schemas.js"

type Definition = typeof Schemas.FlagDefinition.Type
type Rollout = typeof Schemas.Rollout.Type
type Variant = typeof Schemas.Variant.Type

/** A definition ready for evaluation: its runtime rules lowercased once, as every evaluation would. */
export interface CompiledFlag {
  readonly definition: Definition
  readonly rules: ReadonlyArray<unknown>
}

/** Lowercases every string of a JSON value, and with `keys` every object key too (a later duplicate wins). */
export const lowercase = (value: unknown, keys: boolean): unknown => {
  if (typeof value === "string") return value.toLowerCase()
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return value.map((item) => lowercase(item, keys))
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [keys ? key.toLowerCase() : key, lowercase(item, keys)])
  )
}

export const compile = (definition: Definition): CompiledFlag => ({
  definition,
  // only the string leaves of a rule are lowercased: its operators and object keys stay as they are
  rules: definition.ruleset.rollout.map((rollout) => lowercase(rollout.runtime_evaluation_rule, false))
})

export type Outcome =
  | { readonly _tag: "Served"; readonly variant: ServedVariant }
  | { readonly _tag: "Fallback"; readonly reason: FallbackReason }

const noRolloutMatch: Outcome = { _tag: "Fallback", reason: { _tag: "NoRolloutMatch" } }

/** The custom properties of a context, keys and values lowercased, or `null` without an object of them. */
const runtimeParameters = (context: Context): unknown => {
  const properties: unknown = context.custom_properties
  return !properties || typeof properties !== "object" ? null : lowercase(properties, true)
}

const served = (definition: Definition, variant: Variant, isQaTester: boolean): ServedVariant => ({
  source: "local",
  key: variant.key,
  value: variant.value,
  ...(definition.experiment_id !== undefined ? { experimentId: definition.experiment_id } : {}),
  ...(definition.is_experiment_active !== undefined ? { isExperimentActive: definition.is_experiment_active } : {}),
  isQaTester
})

const findVariant = (definition: Definition, key: string): Variant | undefined => {
  const wanted = key.toLowerCase()
  return definition.ruleset.variants.find((variant) => variant.key.toLowerCase() === wanted)
}

const testUserVariant = (definition: Definition, context: Context): Variant | undefined => {
  const users = definition.ruleset.test?.users
  const distinctId: unknown = context.distinct_id
  if (!users || !distinctId) return undefined
  const id = String(distinctId)
  // own keys only: an id such as `constructor` must not reach Object.prototype (the reference throws there)
  const key = Object.hasOwn(users, id) ? users[id] : undefined
  return key ? findVariant(definition, key) : undefined
}

export const evaluate = (flag: CompiledFlag, flagKey: string, context: Context): Outcome => {
  const definition = flag.definition
  if (!Object.hasOwn(context, definition.context)) {
    return { _tag: "Fallback", reason: { _tag: "MissingContextKey", key: definition.context } }
  }
  const contextValue = String(context[definition.context])

  const tester = testUserVariant(definition, context)
  if (tester !== undefined) return { _tag: "Served", variant: served(definition, tester, true) }

  let parameters: unknown
  let parametersRead = false
  const readParameters = () => {
    if (!parametersRead) {
      parameters = runtimeParameters(context)
      parametersRead = true
    }
    return parameters
  }
  const ruleHolds = (rollout: Rollout, index: number): boolean => {
    if (rollout.runtime_evaluation_rule) {
      try {
        return Boolean(JsonLogic.apply(flag.rules[index], readParameters()))
      } catch {
        return false
      }
    }
    const legacy = rollout.runtime_evaluation_definition
    if (legacy) {
      const actual = readParameters()
      if (!actual) return false
      for (const [key, expected] of Object.entries(legacy)) {
        // `in` and a plain read, as the reference checks the lowercased properties
        if (!(key in (actual as object))) return false
        const value: unknown = (actual as Record<string, unknown>)[key]
        if (String(value).toLowerCase() !== String(expected).toLowerCase()) return false
      }
    }
    return true
  }

  const salt = definition.hash_salt
  const rollouts = definition.ruleset.rollout
  for (let index = 0; index < rollouts.length; index++) {
    const rollout = rollouts[index] as Rollout
    const rolloutSalt = salt != null ? `${definition.key}${salt}${index}` : `${definition.key}rollout`
    if (!(normalizedHash(contextValue, rolloutSalt) < rollout.rollout_percentage && ruleHolds(rollout, index))) {
      continue
    }
    if (rollout.variant_override) {
      const override = findVariant(definition, rollout.variant_override.key)
      if (override !== undefined) return { _tag: "Served", variant: served(definition, override, false) }
    }
    return {
      _tag: "Served",
      variant: served(definition, splitVariant(definition, flagKey, rollout, contextValue), false)
    }
  }
  return noRolloutMatch
}

/** The variant whose cumulative split first exceeds the variant hash; the last one if none does. */
const splitVariant = (definition: Definition, flagKey: string, rollout: Rollout, contextValue: string) => {
  const hash = normalizedHash(contextValue, `${flagKey}${definition.hash_salt ?? ""}variant`)
  const splits = rollout.variant_splits
  const variants = definition.ruleset.variants
  let selected = variants[0]
  // JavaScript's `+` and `<`, as in the reference: a split that is not a number behaves as it does there
  let cumulative: unknown = 0
  for (const variant of variants) {
    selected = variant
    const split: unknown = splits && variant.key in splits ? splits[variant.key] : variant.split
    cumulative = (cumulative as number) + ((split || 0) as number)
    if (hash < (cumulative as number)) break
  }
  return selected
}

/** Every flag of `flags` served to `context`, by key, in definition order (no fallbacks, no exposures). */
export const evaluateAll = (
  flags: Iterable<readonly [string, CompiledFlag]>,
  context: Context
): Record<string, ServedVariant> => {
  const result: Array<readonly [string, ServedVariant]> = []
  for (const [key, flag] of flags) {
    const outcome = evaluate(flag, key, context)
    if (outcome._tag === "Served") result.push([key, outcome.variant])
  }
  return Object.fromEntries(result)
}
