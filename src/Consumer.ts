/**
 * Where messages go once the `Mixpanel` service has built them. A `Consumer` is a service provided as a
 * Layer: `layerDirect` sends one HTTP request per call, the buffered consumer batches and retries in the
 * background, and `TestConsumer.layer` records messages for tests.
 *
 * The HTTP consumers need an `HttpClient` from `@effect/platform`, provided by the application
 * (`FetchHttpClient.layer`, `NodeHttpClient.layerUndici`, ...): the library never bundles one.
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
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type { Endpoint } from "./Endpoint.js"
import * as direct from "./internal/directConsumer.js"
import type { InvalidConfig, MixpanelError } from "./MixpanelError.js"

export type {
  /**
   * @since 0.1.0
   * @category models
   */
  Endpoint
} from "./Endpoint.js"

/**
 * The operations every consumer provides. Messages are JSON texts, as the `Mixpanel` service encodes them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Delivers (or, for a buffered consumer, accepts for delivery) one message. */
  readonly send: (endpoint: Endpoint, message: string) => Effect.Effect<void, MixpanelError>
  /** Delivers (or accepts) several messages for one endpoint. */
  readonly sendBatch: (endpoint: Endpoint, messages: ReadonlyArray<string>) => Effect.Effect<void, MixpanelError>
  /** Delivers one message at once, past any buffer: `alias` goes this way. */
  readonly sendNow: (endpoint: Endpoint, message: string) => Effect.Effect<void, MixpanelError>
  /** Completes when every message accepted before it is delivered or has finally failed. */
  readonly flush: Effect.Effect<void, MixpanelError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Consumer extends Context.Tag("effect-mixpanel/Consumer")<Consumer, Service>() {}

/**
 * Flushes the consumer in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const flush: Effect.Effect<void, MixpanelError, Consumer> = Effect.flatMap(
  Consumer,
  (consumer) => consumer.flush
)

/**
 * A data residency region: `US` (`api.mixpanel.com`, the default), `EU` (`api-eu.mixpanel.com`) or
 * `IN` (`api-in.mixpanel.com`).
 *
 * @since 0.1.0
 * @category models
 */
export type Region = "US" | "EU" | "IN"

/**
 * Credentials for `/import` (and so for `importEvent`, `importEvents` and `merge`).
 *
 * @since 0.1.0
 * @category models
 */
export type ImportAuth =
  | {
      readonly _tag: "ServiceAccount"
      readonly username: string
      readonly secret: Redacted.Redacted
      readonly projectId: string
    }
  | { readonly _tag: "ApiSecret"; readonly secret: Redacted.Redacted }
  | { readonly _tag: "ProjectToken"; readonly token: Redacted.Redacted }

const redact = (value: string | Redacted.Redacted): Redacted.Redacted =>
  Redacted.isRedacted(value) ? value : Redacted.make(value)

/**
 * A service account: HTTP Basic `username:secret` with the `project_id` (Mixpanel's preferred way).
 *
 * @since 0.1.0
 * @category constructors
 */
export const serviceAccount = (options: {
  readonly username: string
  readonly secret: string | Redacted.Redacted
  readonly projectId: string | number
}): ImportAuth => ({
  _tag: "ServiceAccount",
  username: options.username,
  secret: redact(options.secret),
  projectId: String(options.projectId)
})

/**
 * The project's API secret (deprecated by Mixpanel, retired on 2027-03-03).
 *
 * @since 0.1.0
 * @category constructors
 */
export const apiSecret = (secret: string | Redacted.Redacted): ImportAuth => ({
  _tag: "ApiSecret",
  secret: redact(secret)
})

/**
 * The project token as `/import` credentials.
 *
 * @since 0.1.0
 * @category constructors
 */
export const projectToken = (token: string | Redacted.Redacted): ImportAuth => ({
  _tag: "ProjectToken",
  token: redact(token)
})

/**
 * How to reach Mixpanel, shared by the HTTP consumers.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransportOptions {
  /** Data residency region. Default `US`. Ignored when `baseUrl` is set. */
  readonly region?: Region | undefined
  /** A custom API host (a proxy, or `MixpanelTestServer`'s `url`). Plain HTTP is refused for secrets unless the host is loopback. */
  readonly baseUrl?: string | URL | undefined
  /** Credentials for `/import`. Without them, imports fail with `InvalidConfig`. */
  readonly importAuth?: ImportAuth | undefined
  /** Longest wait for one response. Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Gzip `/import` bodies. Default `false`: it saves bandwidth at a real CPU cost. */
  readonly gzip?: boolean | undefined
  /** Let Mixpanel geolocate events from the sending server's IP (`ip=1`). Default `false`. */
  readonly geolocate?: boolean | undefined
}

/**
 * Options of `layerDirect`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectOptions extends TransportOptions {
  /** How many more tries a transiently failed request gets. Default 3. */
  readonly maxRetries?: number | undefined
  /**
   * The delays between tries. Default: exponential from 1 second, doubling, jittered, at most 30 seconds.
   * A `Retry-After` from the server is always waited for at least.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, MixpanelError> | undefined
}

/**
 * The seed's `Consumer`, done right: one HTTP request per `send` (per 2000 messages for `sendBatch`),
 * transient failures (transport errors, timeouts, 408, 429, 5xx but 501 and 505) retried with backoff and
 * jitter, honouring `Retry-After`. A failed call fails with the messages it did not deliver.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * const MixpanelLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *   Layer.provide(Consumer.layerDirect({ region: "EU" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDirect = (options: DirectOptions = {}): Layer.Layer<Consumer, InvalidConfig, HttpClient.HttpClient> =>
  Layer.effect(Consumer, direct.make(options))

/**
 * `layerDirect` with its options read from `Config`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDirectConfig = (
  options: Config.Config.Wrap<DirectOptions>
): Layer.Layer<Consumer, InvalidConfig | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(Consumer, Effect.flatMap(Config.unwrap(options), direct.make))
