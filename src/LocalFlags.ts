/**
 * Feature flags evaluated in process. The layer fetches the project's flag definitions
 * (`GET /flags/definitions`) when it starts, then again on a schedule in a fiber of the layer's scope (so
 * polling stops when the scope closes), and every lookup is evaluated locally: no request, no waiting.
 *
 * Evaluation follows the official SDKs exactly (FNV-1a 64 hashing with their salts, rollout percentages,
 * variant splits and overrides, test users, JsonLogic runtime rules over `custom_properties`), so a user
 * gets the same variant whichever SDK evaluates the flag.
 *
 * A failed fetch (a defect of the `HttpClient` too) keeps the last good definitions; it is logged and
 * reported by `status`, and polling goes on. Until a fetch has succeeded, every lookup returns the caller's
 * fallback with the reason `NotReady`. A malformed flag definition fails that flag alone (reason
 * `InvalidDefinition`).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as FeatureFlags from "./FeatureFlags.js"
import * as internal from "./internal/flags/localFlags.js"
import type { Mixpanel } from "./Mixpanel.js"
import type { FlagsError, InvalidConfig } from "./MixpanelError.js"

/**
 * Options of `LocalFlags`: how to reach Mixpanel (`FeatureFlags.ConnectionOptions`), and polling.
 *
 * @example
 * ```ts
 * import { LocalFlags } from "effect-mixpanel"
 *
 * const options: LocalFlags.Options = { token: "YOUR_TOKEN", region: "EU", pollingInterval: "5 minutes" }
 * const FlagsLive = LocalFlags.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends FeatureFlags.ConnectionOptions {
  /** Fetch the definitions again on a schedule. Default `true`; with `false`, only at start and on `refresh`. */
  readonly polling?: boolean | undefined
  /** Time between the end of one fetch and the start of the next: 1 second to 1 day. Default 60 seconds. */
  readonly pollingInterval?: Duration.DurationInput | undefined
}

/**
 * The state of the definitions.
 *
 * - `ready`: a fetch has succeeded (until then every lookup falls back with `NotReady`);
 * - `flags`: how many flags can be evaluated;
 * - `lastSuccess`: when the last successful fetch ended (`Clock` milliseconds);
 * - `lastError`: why the latest fetch failed, if it did (cleared by the next success);
 * - `invalidFlags`: the flags of the last good fetch that were refused as malformed.
 *
 * @example
 * ```ts
 * import { LocalFlags } from "effect-mixpanel"
 *
 * const describe = (status: LocalFlags.Status): string =>
 *   status.ready ? `${status.flags} flags, ${status.invalidFlags.length} malformed` : "no definitions yet"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly ready: boolean
  readonly flags: number
  readonly lastSuccess: Option.Option<number>
  readonly lastError: Option.Option<FlagsError>
  readonly invalidFlags: ReadonlyArray<FlagsError>
}

/**
 * The lookups of `FeatureFlags.Service`, plus the state of the definitions.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LocalFlags } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const flags: LocalFlags.Service = yield* LocalFlags.LocalFlags
 *   yield* flags.refresh
 *   const status = yield* flags.status
 *   yield* Effect.logInfo(`${status.flags} flags ready`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends FeatureFlags.Service {
  readonly status: Effect.Effect<Status>
  /** Fetches the definitions now (waiting for a fetch in progress first). On failure the last good ones stay. */
  readonly refresh: Effect.Effect<void, FlagsError>
}

/**
 * The `LocalFlags` service: the lookups, and the state of the definitions. `layer` provides it together
 * with `FeatureFlags`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LocalFlags, RemoteFlags } from "effect-mixpanel"
 *
 * // With both modes in one context, each is reached by its own tag
 * const program = Effect.gen(function* () {
 *   const local = yield* LocalFlags.LocalFlags
 *   const remote = yield* RemoteFlags.RemoteFlags
 *   const context = { distinct_id: "u1" }
 *   return [yield* local.isEnabled("fast-path", context), yield* remote.isEnabled("cohort-offer", context)]
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class LocalFlags extends Context.Tag("effect-mixpanel/LocalFlags")<LocalFlags, Service>() {}

/**
 * Builds the service in a scope: the first fetch is awaited (its failure does not fail the construction),
 * and polling runs in a fiber of the scope.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { LocalFlags, Mixpanel, TestConsumer } from "effect-mixpanel"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const flagDefinitions = [
 *   {
 *     key: "new-checkout",
 *     context: "distinct_id",
 *     ruleset: { variants: [{ key: "on", value: true }], rollout: [{ rollout_percentage: 1 }] }
 *   }
 * ]
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make({ flagDefinitions })
 *   const flags = yield* LocalFlags.make({ token: "T", baseUrl: server.url, polling: false })
 *   return yield* flags.isEnabled("new-checkout", { distinct_id: "u1" }) // true
 * })
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provide(TestConsumer.layer))
 * Effect.runPromise(program.pipe(Effect.scoped, Effect.provide([TestMixpanel, FetchHttpClient.layer])))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Mixpanel | Scope.Scope> = internal.make

const toLayer = <E, R>(
  service: Effect.Effect<Service, E, R>
): Layer.Layer<LocalFlags | FeatureFlags.FeatureFlags, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(
    Effect.map(service, (flags) => Context.make(LocalFlags, flags).pipe(Context.add(FeatureFlags.FeatureFlags, flags)))
  )

/**
 * Provides `LocalFlags` and `FeatureFlags`. Needs an `HttpClient` (from `@effect/platform`, provided by
 * the application) and the `Mixpanel` service (for exposure events).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, FeatureFlags, LocalFlags, Mixpanel } from "effect-mixpanel"
 *
 * const MixpanelLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(Layer.provide(Consumer.layerBuffered()))
 * const FlagsLive = LocalFlags.layer({ token: "YOUR_TOKEN", pollingInterval: "30 seconds" }).pipe(
 *   Layer.provideMerge(MixpanelLive),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const main = FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" }).pipe(Effect.provide(FlagsLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<LocalFlags | FeatureFlags.FeatureFlags, InvalidConfig, HttpClient.HttpClient | Mixpanel> =>
  toLayer(make(options))

/**
 * `layer` with its options read from `Config`; by default from the environment: `MIXPANEL_TOKEN` (as
 * `Redacted`), `MIXPANEL_REGION`, `MIXPANEL_BASE_URL`, `MIXPANEL_REQUEST_TIMEOUT`, the service account
 * variables, `MIXPANEL_FLAGS_POLLING_INTERVAL` (see docs/configuration.md).
 *
 * @example
 * ```ts
 * import { LocalFlags } from "effect-mixpanel"
 *
 * // MIXPANEL_TOKEN, MIXPANEL_FLAGS_POLLING_INTERVAL, ... from the environment; needs an HttpClient and Mixpanel
 * const FlagsLive = LocalFlags.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = internal.config
): Layer.Layer<
  LocalFlags | FeatureFlags.FeatureFlags,
  InvalidConfig | ConfigError.ConfigError,
  HttpClient.HttpClient | Mixpanel
> => toLayer(Effect.flatMap(Config.unwrap(options), make))

/**
 * The state of the definitions of the `LocalFlags` in context.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { LocalFlags } from "effect-mixpanel"
 *
 * // A readiness check: definitions fetched, and the latest fetch did not fail
 * const ready = Effect.map(LocalFlags.status, (status) => status.ready && Option.isNone(status.lastError))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const status: Effect.Effect<Status, never, LocalFlags> = Effect.flatMap(LocalFlags, (flags) => flags.status)

/**
 * Fetches the definitions now.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LocalFlags } from "effect-mixpanel"
 *
 * // After editing flags in Mixpanel: fetch them now rather than at the next poll
 * const program = LocalFlags.refresh.pipe(Effect.catchTag("FlagsError", (error) => Effect.logWarning(error.message)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const refresh: Effect.Effect<void, FlagsError, LocalFlags> = Effect.flatMap(LocalFlags, (flags) => flags.refresh)
