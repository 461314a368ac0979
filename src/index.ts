/**
 * The main entry of effect-mixpanel, a server-side Mixpanel client for Effect: every module as a
 * namespace. The embedded test server is in the `effect-mixpanel/testing` entry.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * const MixpanelLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *   Layer.provide(Consumer.layerBuffered()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const main = Mixpanel.track("u1", "Signed Up").pipe(Effect.provide(MixpanelLive))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */

/**
 * Where messages go: the `Consumer` service and its layers, direct (`layerDirect`) and buffered
 * (`layerBuffered`), with their options.
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const BufferedConsumer = Consumer.layerBuffered({ flushInterval: "5 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Consumer from "./Consumer.js"

/**
 * The four ingestion endpoints of Mixpanel, and their URL paths.
 *
 * @example
 * ```ts
 * import { Endpoint } from "effect-mixpanel"
 *
 * console.log(Endpoint.path.events) // "/track"
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Endpoint from "./Endpoint.js"

/**
 * Feature flag lookups, whichever mode (`LocalFlags` or `RemoteFlags`) serves them.
 *
 * @example
 * ```ts
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * const enabled = FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as FeatureFlags from "./FeatureFlags.js"

/**
 * Bulk imports of events and profiles from a `Stream` of records or from files, with a summary of every
 * record's outcome (the library behind the `effect-mixpanel import` command).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Import } from "effect-mixpanel"
 *
 * const entries = Import.fromRecords(Stream.make({ event: "Signed Up", distinct_id: "u1", time: 1735689600 }))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Import from "./Import.js"

/**
 * Feature flags evaluated in process, from definitions fetched and kept fresh by polling.
 *
 * @example
 * ```ts
 * import { LocalFlags } from "effect-mixpanel"
 *
 * const FlagsLive = LocalFlags.layer({ token: "YOUR_TOKEN" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as LocalFlags from "./LocalFlags.js"

/**
 * The messages Mixpanel ingests, as Effect Schemas.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.DistinctId)("anonymous")) // false
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Message from "./Message.js"

/**
 * The `Mixpanel` service: every tracking operation as an `Effect`.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up", { plan: "pro" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as Mixpanel from "./Mixpanel.js"

/**
 * Every way an operation can fail, as tagged errors.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up").pipe(
 *   Effect.catchTag("ResponseError", (error) => Effect.logWarning(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as MixpanelError from "./MixpanelError.js"

/**
 * Feature flags evaluated by Mixpanel, one request per lookup.
 *
 * @example
 * ```ts
 * import { RemoteFlags } from "effect-mixpanel"
 *
 * const FlagsLive = RemoteFlags.layer({ token: "YOUR_TOKEN" })
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as RemoteFlags from "./RemoteFlags.js"

/**
 * A `Consumer` for tests, which records every message instead of sending it.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as TestConsumer from "./TestConsumer.js"
