/**
 * Feature flags evaluated by Mixpanel: every lookup is one request (`GET /flags`, with the context and
 * the flag key) with a timeout. Nothing to poll and no definitions to hold; each lookup costs a round
 * trip, and serves what Mixpanel decides at that moment (cohorts and other server-side targeting
 * included).
 *
 * A request that fails (transport, timeout, an error status, a body that is not Mixpanel's) is logged, and
 * the lookup returns the caller's fallback with the reason `BackendError` carrying the `FlagsError`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as FeatureFlags from "./FeatureFlags.js"
import * as Http from "./internal/flags/http.js"
import * as internal from "./internal/flags/remoteFlags.js"
import type { Mixpanel } from "./Mixpanel.js"
import type { InvalidConfig } from "./MixpanelError.js"

/**
 * Options of `RemoteFlags`: how to reach Mixpanel.
 *
 * @example
 * ```ts
 * import { RemoteFlags } from "effect-mixpanel"
 *
 * const options: RemoteFlags.Options = { token: "YOUR_TOKEN", requestTimeout: "500 millis" }
 * const FlagsLive = RemoteFlags.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends FeatureFlags.ConnectionOptions {}

/**
 * The lookups of `FeatureFlags.Service`, each one request.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RemoteFlags } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const flags: RemoteFlags.Service = yield* RemoteFlags.RemoteFlags
 *   return yield* flags.getVariantValue("cohort-offer", "none", { distinct_id: "u1" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends FeatureFlags.Service {}

/**
 * The `RemoteFlags` service: the lookups, each asked of Mixpanel. `layer` provides it together with
 * `FeatureFlags`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RemoteFlags } from "effect-mixpanel"
 *
 * // A lookup that must be Mixpanel's own decision, even where FeatureFlags is served locally
 * const offer = Effect.flatMap(RemoteFlags.RemoteFlags, (flags) => flags.isEnabled("cohort-offer", { distinct_id: "u1" }))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RemoteFlags extends Context.Tag("effect-mixpanel/RemoteFlags")<RemoteFlags, Service>() {}

/**
 * Builds the service in a scope (which owns the fibers of exposure events).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, RemoteFlags, TestConsumer } from "effect-mixpanel"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make({
 *     remoteFlags: { "button-color": { variant_key: "green", variant_value: "green" } }
 *   })
 *   const flags = yield* RemoteFlags.make({ token: "T", baseUrl: server.url })
 *   return yield* flags.getVariantValue("button-color", "blue", { distinct_id: "u1" }) // "green"
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
): Layer.Layer<RemoteFlags | FeatureFlags.FeatureFlags, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(
    Effect.map(service, (flags) => Context.make(RemoteFlags, flags).pipe(Context.add(FeatureFlags.FeatureFlags, flags)))
  )

/**
 * Provides `RemoteFlags` and `FeatureFlags`. Needs an `HttpClient` (provided by the application) and the
 * `Mixpanel` service (for exposure events).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, FeatureFlags, Mixpanel, RemoteFlags } from "effect-mixpanel"
 *
 * const FlagsLive = RemoteFlags.layer({ token: "YOUR_TOKEN", requestTimeout: "2 seconds" }).pipe(
 *   Layer.provide(Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(Layer.provide(Consumer.layerDirect()))),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const main = FeatureFlags.getVariantValue("button-color", "blue", { distinct_id: "u1" }).pipe(Effect.provide(FlagsLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<RemoteFlags | FeatureFlags.FeatureFlags, InvalidConfig, HttpClient.HttpClient | Mixpanel> =>
  toLayer(make(options))

/**
 * `layer` with its options read from `Config`; by default from the environment: `MIXPANEL_TOKEN` (as
 * `Redacted`), `MIXPANEL_REGION`, `MIXPANEL_BASE_URL`, `MIXPANEL_REQUEST_TIMEOUT`, the service account
 * variables (see docs/configuration.md).
 *
 * @example
 * ```ts
 * import { RemoteFlags } from "effect-mixpanel"
 *
 * // MIXPANEL_TOKEN, MIXPANEL_REGION, ... from the environment; needs an HttpClient and Mixpanel
 * const FlagsLive = RemoteFlags.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = Http.connectionConfig
): Layer.Layer<
  RemoteFlags | FeatureFlags.FeatureFlags,
  InvalidConfig | ConfigError.ConfigError,
  HttpClient.HttpClient | Mixpanel
> => toLayer(Effect.flatMap(Config.unwrap(options), make))
