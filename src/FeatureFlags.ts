/**
 * Mixpanel feature flags: what both evaluation modes share.
 *
 * - `LocalFlags` fetches the flag definitions, keeps them fresh by polling, and evaluates every lookup in
 *   process, with the hashing and rules of the official SDKs.
 * - `RemoteFlags` asks Mixpanel (`GET /flags`) on every lookup.
 *
 * Both provide this module's `FeatureFlags` service, so code that looks flags up does not care which
 * mode serves it: `FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" })` is an
 * `Effect<boolean, never, FeatureFlags>`. A lookup never fails: when no variant can be served it returns
 * the caller's fallback, with the reason. Serving a variant tracks the exposure event
 * (`$experiment_started`) through the `Mixpanel` service, unless the call says `exposure: false`.
 *
 * @since 0.1.0
 */
import * as EffectContext from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type { Region } from "./Consumer.js"
import * as schemas from "./internal/flags/schemas.js"
import type { JsonValue } from "./Message.js"
import type { FlagsError, InvalidMessage, MixpanelError } from "./MixpanelError.js"

/**
 * What a flag is evaluated for. Keys keep Mixpanel's names, because the flag's definition names the key
 * it is assigned by (`distinct_id`, or a group key such as `company_id`) and the context goes to the
 * server as it is in remote mode. `custom_properties` are what runtime rules test (compared without case).
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // A user of a company, with the properties that runtime rules test
 * const context: FeatureFlags.Context = {
 *   distinct_id: "u1",
 *   company_id: "acme",
 *   custom_properties: { plan: "pro", country: "DE" }
 * }
 * const program = FeatureFlags.isEnabled("new-checkout", context)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  /** The user; exposure events are tracked for this id (none when it is empty). */
  readonly distinct_id: string
  /** Properties for the flags' runtime rules. */
  readonly custom_properties?: { readonly [key: string]: JsonValue }
  readonly [key: string]: JsonValue | undefined
}

/**
 * Why a lookup returned the caller's fallback. The official SDKs' `FallbackReason` kinds, by `_tag`:
 *
 * - `FlagNotFound` (`FLAG_NOT_FOUND`): no flag of that key (remote: the server served none for it);
 * - `MissingContextKey` (`MISSING_CONTEXT_KEY`): the context lacks the key the flag is assigned by;
 * - `NoRolloutMatch` (`NO_ROLLOUT_MATCH`): the context is in no rollout of the flag;
 * - `NotReady` (`NOT_READY`, python): local mode has no definitions yet (no fetch has succeeded);
 * - `InvalidDefinition`: local mode received the flag, malformed (this library's addition);
 * - `BackendError` (`BACKEND_ERROR`): remote mode's request failed;
 * - `InvalidInput`: the flag key is not a string, or the context is not a plain object of JSON values
 *   (this library's addition: from untyped callers; nothing was looked up).
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const explain = (reason: FeatureFlags.FallbackReason): string => {
 *   switch (reason._tag) {
 *     case "MissingContextKey":
 *       return `the context has no ${reason.key}`
 *     case "InvalidDefinition":
 *     case "BackendError":
 *       return reason.error.message
 *     default:
 *       return reason._tag
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type FallbackReason =
  | { readonly _tag: "FlagNotFound" }
  | { readonly _tag: "MissingContextKey"; readonly key: string }
  | { readonly _tag: "NoRolloutMatch" }
  | { readonly _tag: "NotReady" }
  | { readonly _tag: "InvalidDefinition"; readonly error: FlagsError }
  | { readonly _tag: "BackendError"; readonly error: FlagsError }
  | { readonly _tag: "InvalidInput"; readonly error: InvalidMessage }

/**
 * A variant that a flag served: evaluated in process (`local`) or by Mixpanel (`remote`). The optional
 * fields are present when the definition (or the server) gave them, `null` included.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const describe = (variant: FeatureFlags.ServedVariant): string =>
 *   `${variant.key} (${variant.source}${variant.isQaTester === true ? ", test user" : ""})`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ServedVariant {
  readonly source: "local" | "remote"
  /** The variant's key, as the definition spells it. */
  readonly key: string
  readonly value: JsonValue
  readonly experimentId?: string | null
  readonly isExperimentActive?: boolean | null
  /** Served because the context's `distinct_id` is one of the flag's test users. */
  readonly isQaTester?: boolean | null
}

/**
 * The caller's fallback, returned when no variant can be served, with the reason.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const variant = yield* FeatureFlags.getVariant("pricing-page", { value: "v1" }, { distinct_id: "u1" })
 *   if (variant.source === "fallback") {
 *     const fallback: FeatureFlags.FallbackVariant<string> = variant
 *     yield* Effect.logDebug(`pricing-page fell back: ${fallback.reason._tag}`)
 *   }
 *   return variant.value
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FallbackVariant<A = JsonValue> {
  readonly source: "fallback"
  readonly key?: string
  readonly value: A
  readonly reason: FallbackReason
}

/**
 * What a lookup returns: a served variant, or the caller's fallback.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // A served value is any JSON: check it before use; the fallback has the caller's type
 * const seats = (variant: FeatureFlags.SelectedVariant<number>): number =>
 *   variant.source === "fallback" || typeof variant.value !== "number" ? 5 : variant.value
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SelectedVariant<A = JsonValue> = ServedVariant | FallbackVariant<A>

/**
 * The fallback a caller supplies to `getVariant`: a value, and optionally a variant key.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const fallback: FeatureFlags.Fallback<string> = { key: "control", value: "classic" }
 * const program = FeatureFlags.getVariant("checkout-flow", fallback, { distinct_id: "u1" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Fallback<A = JsonValue> {
  readonly key?: string
  readonly value: A
}

/**
 * Options of one lookup.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // A lookup for an internal report: not an exposure of the user to the experiment
 * const options: FeatureFlags.LookupOptions = { exposure: false }
 * const program = FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" }, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LookupOptions {
  /** Track the exposure event when a variant is served. Default `true`. */
  readonly exposure?: boolean
}

/**
 * The lookups both modes provide.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // Every flag falls back: for tests that are not about flags
 * const FlagsOff = Layer.succeed(
 *   FeatureFlags.FeatureFlags,
 *   FeatureFlags.FeatureFlags.of({
 *     mode: "local",
 *     getVariant: (_flagKey, fallback) =>
 *       Effect.succeed({ ...fallback, source: "fallback" as const, reason: { _tag: "FlagNotFound" as const } }),
 *     getVariantValue: (_flagKey, fallbackValue) => Effect.succeed(fallbackValue),
 *     isEnabled: () => Effect.succeed(false),
 *     getAllVariants: () => Effect.succeed({}),
 *     trackExposure: () => Effect.void,
 *     awaitExposures: Effect.void
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Which mode serves the lookups. */
  readonly mode: "local" | "remote"
  /**
   * The variant of `flagKey` for `context`, or `fallback` (with the reason) when none can be served.
   * Serving a variant starts its exposure event (see `LookupOptions`) without waiting for it.
   */
  readonly getVariant: <A = JsonValue>(
    flagKey: string,
    fallback: Fallback<A>,
    context: Context,
    options?: LookupOptions
  ) => Effect.Effect<SelectedVariant<A>>
  /** The value of the variant `getVariant` serves, or `fallbackValue`. */
  readonly getVariantValue: <A>(
    flagKey: string,
    fallbackValue: A,
    context: Context,
    options?: LookupOptions
  ) => Effect.Effect<JsonValue | A>
  /** Whether the served variant's value is exactly `true` (a feature gate); `false` when none is served. */
  readonly isEnabled: (flagKey: string, context: Context, options?: LookupOptions) => Effect.Effect<boolean>
  /**
   * Every variant served to `context`, by flag key; no exposure events. Local mode: every flag whose
   * rollouts take the context (none before the first fetch). Remote mode: one request, failing with the
   * request's error.
   */
  readonly getAllVariants: (
    context: Context
  ) => Effect.Effect<Readonly<Record<string, ServedVariant>>, FlagsError | InvalidMessage>
  /**
   * Tracks the exposure event of `variant` now and waits for the `Mixpanel` service to take it (for
   * variants from `getAllVariants`, or lookups made with `exposure: false`). Fails with `InvalidMessage`
   * naming the argument when the context has no `distinct_id` (`context.distinct_id`), or when `variant` is
   * not one a flag served (`variant.source`, `variant.key`, …).
   */
  readonly trackExposure: (
    flagKey: string,
    variant: ServedVariant,
    context: Context
  ) => Effect.Effect<void, MixpanelError>
  /**
   * Completes when every exposure event started so far has been handed to the `Mixpanel` service (or
   * failed, which is logged). Closing the layer's scope waits for them too.
   */
  readonly awaitExposures: Effect.Effect<void>
}

/**
 * The service of whichever mode is provided: `LocalFlags.layer` and `RemoteFlags.layer` both provide it.
 * With both layers in one context, the one provided last wins; use `LocalFlags.LocalFlags` and
 * `RemoteFlags.RemoteFlags` to address each.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const flags = yield* FeatureFlags.FeatureFlags
 *   yield* Effect.logDebug(`flags are evaluated ${flags.mode === "local" ? "in process" : "by Mixpanel"}`)
 *   return yield* flags.isEnabled("new-checkout", { distinct_id: "u1" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class FeatureFlags extends EffectContext.Tag("effect-mixpanel/FeatureFlags")<FeatureFlags, Service>() {}

/**
 * How both modes reach Mixpanel's flags API.
 *
 * @example
 * ```ts
 * import { FeatureFlags, LocalFlags, RemoteFlags } from "effect-mixpanel"
 *
 * const connection: FeatureFlags.ConnectionOptions = { token: "YOUR_TOKEN", region: "EU", requestTimeout: "3 seconds" }
 *
 * const Local = LocalFlags.layer(connection)
 * const Remote = RemoteFlags.layer(connection)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionOptions {
  /** The project token, sent as the `token` parameter and (without a service account) as HTTP Basic `token:`. An empty token fails with `InvalidConfig`. */
  readonly token: string | Redacted.Redacted
  /** Data residency region. Default `US`. Ignored when `baseUrl` is set. */
  readonly region?: Region | undefined
  /** A custom API host (a proxy, or `MixpanelTestServer`'s `url`). */
  readonly baseUrl?: string | URL | undefined
  /** Authenticate as a service account (HTTP Basic `username:secret`, with `project_id`) instead of with the token. Plain HTTP is refused unless the host is loopback. */
  readonly serviceAccount?:
    | {
        readonly username: string
        readonly secret: string | Redacted.Redacted
        readonly projectId: string | number
      }
    | undefined
  /** Longest wait for one response. Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * The event that records an exposure: `$experiment_started`, with the properties `Experiment name` (the
 * flag key), `Variant name`, `$experiment_type` (`feature_flag`), `Flag evaluation mode` (`local` or
 * `remote`), `Variant fetch latency (ms)` (remote), and, when known, `$experiment_id`,
 * `$is_experiment_active` and `$is_qa_tester`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags, TestConsumer } from "effect-mixpanel"
 *
 * // In a test: the exposure events tracked so far
 * const exposures = Effect.map(TestConsumer.events, (events) =>
 *   events.filter((event) => event.event === FeatureFlags.exposureEvent)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const exposureEvent = "$experiment_started"

/**
 * One variant of a flag definition.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const variant = Schema.decodeUnknownSync(FeatureFlags.FlagVariant)({ key: "on", value: true, split: 0.5 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FlagVariant = schemas.Variant

/**
 * The type of `FlagVariant`: `key`, `value`, and the optional `is_control` and `split` (a fraction).
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const control: FeatureFlags.FlagVariant = { key: "off", value: false, is_control: true, split: 0.5 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FlagVariant extends Schema.Schema.Type<typeof FlagVariant> {}

/**
 * One rollout of a flag definition: a share of contexts (`rollout_percentage`, from 0 to 1), an optional
 * runtime rule (JsonLogic over
 * the context's custom properties, or the legacy exact-match `runtime_evaluation_definition`), and an
 * optional variant override or per-rollout variant splits.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // A quarter of the users on the pro plan
 * const rollout = Schema.decodeUnknownSync(FeatureFlags.Rollout)({
 *   rollout_percentage: 0.25,
 *   runtime_evaluation_rule: { "==": [{ var: "plan" }, "pro"] }
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Rollout = schemas.Rollout

/**
 * The type of `Rollout`.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // Everyone, with the variant "on" forced
 * const everyone: FeatureFlags.Rollout = { rollout_percentage: 1, variant_override: { key: "on" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Rollout extends Schema.Schema.Type<typeof Rollout> {}

/**
 * The rules of a flag: its variants (at least one), its rollouts, and its test users.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const ruleset = Schema.decodeUnknownSync(FeatureFlags.RuleSet)({
 *   variants: [
 *     { key: "off", value: false, is_control: true, split: 0.5 },
 *     { key: "on", value: true, split: 0.5 }
 *   ],
 *   rollout: [{ rollout_percentage: 1 }],
 *   test: { users: { "qa-user": "on" } }
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RuleSet = schemas.RuleSet

/**
 * The type of `RuleSet`.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const onForEveryone: FeatureFlags.RuleSet = {
 *   variants: [{ key: "on", value: true }],
 *   rollout: [{ rollout_percentage: 1 }]
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RuleSet extends Schema.Schema.Type<typeof RuleSet> {}

/**
 * One flag definition, as `GET /flags/definitions` lists it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const definition = Schema.decodeUnknownSync(FeatureFlags.FlagDefinition)({
 *   key: "new-checkout",
 *   context: "distinct_id",
 *   ruleset: { variants: [{ key: "on", value: true }], rollout: [{ rollout_percentage: 1 }] }
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FlagDefinition = schemas.FlagDefinition

/**
 * The type of `FlagDefinition`.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // Half of the users get the new checkout; the embedded server serves the definition to LocalFlags
 * const newCheckout: FeatureFlags.FlagDefinition = {
 *   key: "new-checkout",
 *   context: "distinct_id",
 *   ruleset: {
 *     variants: [
 *       { key: "off", value: false, is_control: true, split: 0.5 },
 *       { key: "on", value: true, split: 0.5 }
 *     ],
 *     rollout: [{ rollout_percentage: 1 }]
 *   }
 * }
 * const server = MixpanelTestServer.make({ flagDefinitions: [newCheckout] })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FlagDefinition extends Schema.Schema.Type<typeof FlagDefinition> {}

/**
 * The answer of `GET /flags/definitions`: `{"flags": [...]}`. Each flag is decoded on its own with
 * `FlagDefinition`, so that one malformed flag fails alone.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const response = Schema.decodeUnknownSync(FeatureFlags.DefinitionsResponse)({ flags: [{ key: "new-checkout" }] })
 * console.log(response.flags.length) // 1: each flag is checked on its own, with FlagDefinition
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DefinitionsResponse = schemas.DefinitionsResponse

/**
 * One variant as `GET /flags` serves it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const variant = Schema.decodeUnknownSync(FeatureFlags.RemoteVariant)({ variant_key: "on", variant_value: true })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RemoteVariant = schemas.RemoteVariant

/**
 * The type of `RemoteVariant`.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const served: FeatureFlags.RemoteVariant = { variant_key: "on", variant_value: true, experiment_id: "exp-7" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RemoteVariant extends Schema.Schema.Type<typeof RemoteVariant> {}

/**
 * The answer of `GET /flags`: `{"code": 200, "flags": {"<flag key>": <RemoteVariant>}}`, holding only the
 * flags that serve the context a variant. Each variant is decoded on its own with `RemoteVariant`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const response = Schema.decodeUnknownSync(FeatureFlags.RemoteResponse)({
 *   code: 200,
 *   flags: { "new-checkout": { variant_key: "on", variant_value: true } }
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RemoteResponse = schemas.RemoteResponse

/**
 * The variant of `flagKey` for `context`, or `fallback` with the reason.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const variant = yield* FeatureFlags.getVariant("checkout-flow", { value: "classic" }, { distinct_id: "u1" })
 *   if (variant.source === "fallback") yield* Effect.logInfo(`fallback: ${variant.reason._tag}`)
 *   return variant.value
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const getVariant = <A = JsonValue>(
  flagKey: string,
  fallback: Fallback<A>,
  context: Context,
  options?: LookupOptions
): Effect.Effect<SelectedVariant<A>, never, FeatureFlags> =>
  Effect.flatMap(FeatureFlags, (flags) => flags.getVariant(flagKey, fallback, context, options))

/**
 * The value of the variant served for `context`, or `fallbackValue`.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // "blue" unless the flag serves a value
 * const color = FeatureFlags.getVariantValue("button-color", "blue", { distinct_id: "u1" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const getVariantValue = <A>(
  flagKey: string,
  fallbackValue: A,
  context: Context,
  options?: LookupOptions
): Effect.Effect<JsonValue | A, never, FeatureFlags> =>
  Effect.flatMap(FeatureFlags, (flags) => flags.getVariantValue(flagKey, fallbackValue, context, options))

/**
 * Whether the variant served for `context` has the value `true`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const checkout = Effect.gen(function* () {
 *   const context = { distinct_id: "u1", custom_properties: { plan: "pro" } }
 *   const enabled = yield* FeatureFlags.isEnabled("new-checkout", context)
 *   return enabled ? "new" : "old"
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const isEnabled = (
  flagKey: string,
  context: Context,
  options?: LookupOptions
): Effect.Effect<boolean, never, FeatureFlags> =>
  Effect.flatMap(FeatureFlags, (flags) => flags.isEnabled(flagKey, context, options))

/**
 * Every variant served to `context`, by flag key, without exposure events.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // Every flag's value for a user, for a web page to read
 * const values = Effect.map(FeatureFlags.getAllVariants({ distinct_id: "u1" }), (variants) =>
 *   Object.fromEntries(Object.entries(variants).map(([key, variant]) => [key, variant.value]))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const getAllVariants = (
  context: Context
): Effect.Effect<Readonly<Record<string, ServedVariant>>, FlagsError | InvalidMessage, FeatureFlags> =>
  Effect.flatMap(FeatureFlags, (flags) => flags.getAllVariants(context))

/**
 * Tracks the exposure event of a served variant, and waits for the `Mixpanel` service to take it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // Look the flag up early, and count the exposure only when the user sees the feature
 * const program = Effect.gen(function* () {
 *   const context = { distinct_id: "u1" }
 *   const variant = yield* FeatureFlags.getVariant("new-checkout", { value: false }, context, { exposure: false })
 *   if (variant.source !== "fallback") {
 *     // ... when the checkout page renders:
 *     yield* FeatureFlags.trackExposure("new-checkout", variant, context)
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const trackExposure = (
  flagKey: string,
  variant: ServedVariant,
  context: Context
): Effect.Effect<void, MixpanelError, FeatureFlags> =>
  Effect.flatMap(FeatureFlags, (flags) => flags.trackExposure(flagKey, variant, context))

/**
 * Waits until every exposure event started so far has been handed to the `Mixpanel` service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer, FeatureFlags } from "effect-mixpanel"
 *
 * // A serverless handler: its exposure events must go out before it returns
 * const handler = Effect.gen(function* () {
 *   const enabled = yield* FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" })
 *   yield* FeatureFlags.awaitExposures // handed to the Mixpanel service
 *   yield* Consumer.flush // and delivered
 *   return enabled
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const awaitExposures: Effect.Effect<void, never, FeatureFlags> = Effect.flatMap(
  FeatureFlags,
  (flags) => flags.awaitExposures
)
