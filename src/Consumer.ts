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
import type { NonEmptyReadonlyArray } from "effect/Array"
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Endpoint } from "./Endpoint.js"
import * as buffered from "./internal/consumer/buffered/engine.js"
import * as direct from "./internal/consumer/direct.js"
import type { DurableStore } from "./internal/consumer/durable/service.js"
import * as settings from "./internal/consumer/options.js"
import * as Options from "./internal/options.js"
import {
  type DeliveryError,
  type DeliveryFailure,
  type InvalidConfig,
  InvalidMessage,
  type MixpanelError,
  type SendError
} from "./MixpanelError.js"

export type {
  /**
   * The ingestion endpoint a message goes to (see the `Endpoint` module).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Consumer } from "effect-mixpanel"
   *
   * const sendAll = (endpoint: Consumer.Endpoint, messages: ReadonlyArray<string>) =>
   *   Effect.flatMap(Consumer.Consumer, (consumer) => consumer.sendBatch(endpoint, messages))
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  Endpoint
} from "./Endpoint.js"

/**
 * The operations every consumer provides. Messages are JSON texts, as the `Mixpanel` service encodes them.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // A consumer that logs each message instead of sending it, for local development
 * const LogConsumer = Layer.succeed(
 *   Consumer.Consumer,
 *   Consumer.Consumer.of({
 *     send: (endpoint, message) => Effect.logDebug(`${endpoint}: ${message}`),
 *     sendBatch: (endpoint, messages) =>
 *       Effect.forEach(messages, (message) => Effect.logDebug(`${endpoint}: ${message}`), { discard: true }),
 *     sendNow: (endpoint, message) => Effect.logDebug(`${endpoint}: ${message}`),
 *     flush: Effect.void
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Delivers (or, for a buffered consumer, accepts for delivery) one message. */
  readonly send: (endpoint: Endpoint, message: string) => Effect.Effect<void, SendError>
  /** Delivers (or accepts) several messages for one endpoint. */
  readonly sendBatch: (endpoint: Endpoint, messages: ReadonlyArray<string>) => Effect.Effect<void, SendError>
  /** Delivers one message at once, past any buffer: `alias` goes this way. */
  readonly sendNow: (endpoint: Endpoint, message: string) => Effect.Effect<void, SendError>
  /** Completes when every message accepted before it is delivered or has finally failed. */
  readonly flush: Effect.Effect<void, DeliveryError>
}

/**
 * The `Consumer` service: where the `Mixpanel` service hands each message. Provide one with
 * `layerDirect`, `layerBuffered` (or their `Config` variants) or `TestConsumer.layer`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // Send a message that was not delivered once more, exactly as it was
 * const resend = (failure: Consumer.DeliveryFailure) =>
 *   Effect.flatMap(Consumer.Consumer, (consumer) => consumer.send(failure.endpoint, failure.json))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Consumer extends Context.Tag("effect-mixpanel/Consumer")<Consumer, Service>() {}

/**
 * Flushes the consumer in context: completes when every message accepted before it is delivered or has
 * finally failed (see `Service.flush`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * // A job that reports success only once its events are delivered
 * const job = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Report Exported", { format: "csv" })
 *   yield* Consumer.flush
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const flush: Effect.Effect<void, DeliveryError, Consumer> = Effect.flatMap(
  Consumer,
  (consumer) => consumer.flush
)

/**
 * `flush` with a deadline: fails with a `TimeoutException` when what was sent before it is not all
 * delivered (or finally failed) within `timeout`. The messages stay with the consumer, which goes on
 * delivering them; a later flush, or closing its scope, waits for them again. A `timeout` that is not a
 * duration of 0 or more (a negative or `NaN` amount, text that is not a duration) fails with an
 * `InvalidMessage` naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * // A request handler that waits at most 2 seconds for its events, and never fails because of them
 * const handler = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Exported")
 *   yield* Consumer.flushWithin("2 seconds").pipe(Effect.catchAll((error) => Effect.logWarning(error.message)))
 * })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const flushWithin = (
  timeout: Duration.DurationInput
): Effect.Effect<void, DeliveryError | Cause.TimeoutException | InvalidMessage, Consumer> =>
  Option.match(Options.decodeDuration(timeout), {
    onNone: () =>
      Effect.fail(
        new InvalidMessage({ operation: "Consumer.flushWithin", field: "timeout", detail: Options.durationExpected })
      ),
    onSome: (duration) => Effect.timeout(flush, duration)
  })

/**
 * A data residency region: `US` (`api.mixpanel.com`, the default), `EU` (`api-eu.mixpanel.com`) or
 * `IN` (`api-in.mixpanel.com`).
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const region: Consumer.Region = "EU"
 * const EuConsumer = Consumer.layerDirect({ region })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Region = "US" | "EU" | "IN"

/**
 * Credentials for `/import` (and so for `importEvent`, `importEvents` and `merge`).
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const describe = (auth: Consumer.ImportAuth): string =>
 *   auth._tag === "ServiceAccount" ? `service account ${auth.username} (project ${auth.projectId})` : auth._tag
 *
 * describe(Consumer.apiSecret("YOUR_API_SECRET")) // "ApiSecret"
 * ```
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
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * const ImportConsumer = Consumer.layerDirect({
 *   importAuth: Consumer.serviceAccount({
 *     username: "importer.1a2b3c.mp-service-account",
 *     secret: Redacted.make(process.env.MIXPANEL_SERVICE_ACCOUNT_SECRET ?? ""),
 *     projectId: 1234567
 *   })
 * })
 * ```
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
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const ImportConsumer = Consumer.layerDirect({ importAuth: Consumer.apiSecret("YOUR_API_SECRET") })
 * ```
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
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const ImportConsumer = Consumer.layerDirect({ importAuth: Consumer.projectToken("YOUR_TOKEN") })
 * ```
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
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const transport: Consumer.TransportOptions = {
 *   region: "EU",
 *   requestTimeout: "5 seconds",
 *   importAuth: Consumer.projectToken("YOUR_TOKEN")
 * }
 *
 * const DirectConsumer = Consumer.layerDirect(transport)
 * const BufferedConsumer = Consumer.layerBuffered({ ...transport, gzip: true })
 * ```
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
  /**
   * Changes the `HttpClient` the consumer sends with: a proxy's header, a policy of the application's own
   * (as `@effect/ai-openai`'s `transformClient`). Default: the client in context as it is. A request's body
   * is lent until its 2xx answer is read, then emptied and reused: to keep the bytes, copy them during the
   * request (docs/consumers.md, "Request bodies").
   */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Options of `layerDirect`.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * const options: Consumer.DirectOptions = {
 *   region: "EU",
 *   maxRetries: 5,
 *   retrySchedule: Schedule.spaced("2 seconds")
 * }
 *
 * const DirectConsumer = Consumer.layerDirect(options)
 * ```
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
 * The seed's `Consumer`, done right: one HTTP request per `send` (for `sendBatch`, one per batch of at
 * most 2000 messages and 2 MiB), and the caller waits for its outcome; `flush` has nothing to wait for.
 * Transient failures (transport errors, timeouts, 408, 429, 5xx but 501 and 505) are retried with backoff
 * and jitter, honouring `Retry-After`. A failed call fails with the messages it did not deliver.
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
 * The direct consumer's options, read from the environment (see `layerDirectConfig`).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // What the environment says, and geolocation on whatever it says
 * const options = Config.map(Consumer.directConfig, (options) => ({ ...options, geolocate: true }))
 *
 * const DirectConsumer = Consumer.layerDirectConfig(options)
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const directConfig: Config.Config<DirectOptions> = settings.directConfig

/**
 * The buffered consumer's options, read from the environment (see `layerBufferedConfig`).
 *
 * @example
 * ```ts
 * import { Config, Effect } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * const onUndelivered: Consumer.OnUndelivered = (failures) =>
 *   Effect.logWarning(`${failures.length} Mixpanel messages not delivered`)
 *
 * const BufferedConsumer = Consumer.layerBufferedConfig(
 *   Config.map(Consumer.bufferedConfig, (options) => ({ ...options, onUndelivered }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const bufferedConfig: Config.Config<BufferedOptions> = settings.bufferedConfig

/**
 * `layerDirect` with its options read from `Config`. By default from the environment: `MIXPANEL_REGION`,
 * `MIXPANEL_BASE_URL`, the `/import` credentials, `MIXPANEL_REQUEST_TIMEOUT`, `MIXPANEL_GZIP`,
 * `MIXPANEL_GEOLOCATE` and `MIXPANEL_MAX_RETRIES` (all in docs/configuration.md).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * // MIXPANEL_TOKEN, MIXPANEL_REGION, MIXPANEL_MAX_RETRIES, ... from the environment
 * const MixpanelLive = Mixpanel.layerConfig().pipe(
 *   Layer.provide(Consumer.layerDirectConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDirectConfig = (
  options: Config.Config.Wrap<DirectOptions> = directConfig
): Layer.Layer<Consumer, InvalidConfig | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(Consumer, Effect.flatMap(Config.unwrap(options), direct.make))

/**
 * What the buffered consumer does when a message arrives and its buffer is full (see `capacity`):
 *
 * - `"dropNewest"` (the default): refuse the new message; `send` returns at once.
 * - `"dropOldest"`: make room by dropping the oldest messages still waiting (never one already in a
 *   request); if the messages in flight alone fill the buffer, the new one is dropped instead.
 * - `"wait"`: `send` waits until there is room. Nothing is dropped, and the caller slows down to the pace
 *   of delivery: right for batch jobs and imports, risky in a request handler while Mixpanel is down.
 *
 * Every dropped message is counted, logged and handed to `onUndelivered` with the reason `BufferFull`.
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * // A nightly import: slow down rather than drop anything
 * const overflow: Consumer.Overflow = "wait"
 * const ImportConsumer = Consumer.layerBuffered({ overflow, importAuth: Consumer.apiSecret("YOUR_API_SECRET") })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Overflow = "wait" | "dropNewest" | "dropOldest"

export type {
  /**
   * A message that the buffered consumer did not deliver, with its outcome and reason (see
   * `MixpanelError.DeliveryFailure`).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Consumer } from "effect-mixpanel"
   *
   * const report = (failure: Consumer.DeliveryFailure) =>
   *   Effect.logWarning(`${failure.endpoint}: ${failure.outcome}/${failure.reason}: ${failure.detail}`)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  DeliveryFailure,
  /**
   * How a message that was not delivered ended: `Rejected`, `Dropped` or `Undelivered` (see
   * `MixpanelError.DeliveryOutcome`).
   *
   * @example
   * ```ts
   * import { Consumer } from "effect-mixpanel"
   *
   * // What Mixpanel rejected would be rejected again; the rest is worth sending later
   * const worthResending = (outcome: Consumer.DeliveryOutcome): boolean => outcome !== "Rejected"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  DeliveryOutcome,
  /**
   * Why a message was not delivered, e.g. `BufferFull` or `RetriesExhausted` (see
   * `MixpanelError.DeliveryReason`).
   *
   * @example
   * ```ts
   * import { Consumer } from "effect-mixpanel"
   *
   * // Reasons that need a person: wrong credentials, or a buffer too small for the traffic
   * const needsAttention = (reason: Consumer.DeliveryReason): boolean =>
   *   reason === "Unauthorized" || reason === "BufferFull"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  DeliveryReason
} from "./MixpanelError.js"

/**
 * The hook that receives every message the buffered consumer did not deliver, with its outcome and
 * reason: rejected by Mixpanel, dropped (buffer full, retries exhausted, sent after shutdown) or still
 * undelivered at the shutdown deadline. It receives the messages of one event together (a batch, a drop,
 * a shutdown), and its calls never overlap. Its failures and defects are logged and otherwise ignored.
 *
 * A flush waits for the hook: when `Consumer.flush` returns, the hook has seen every message of that flush
 * that was not delivered. Keep it quick (append to a file, a queue, a table): the consumer waits for it,
 * at the shutdown deadline too, for a minute at most per call (then the call is interrupted, and logged).
 * From JavaScript it may be an `async` function: its promise is awaited, its rejection logged. It may send
 * (what it sends is handled after it returns), but must not call `Consumer.flush`, which would wait for
 * the hook itself.
 *
 * @example
 * ```ts
 * import { FileSystem } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // Append each message that was not delivered to a file, to send it again later
 * const onUndelivered: Consumer.OnUndelivered<FileSystem.FileSystem> = (failures) =>
 *   Effect.flatMap(FileSystem.FileSystem, (fs) =>
 *     fs.writeFileString(
 *       "undelivered.ndjson",
 *       failures.map(({ endpoint, json }) => `${JSON.stringify({ endpoint, json })}\n`).join(""),
 *       { flag: "a" }
 *     )
 *   )
 *
 * // Needs a FileSystem too, e.g. NodeFileSystem.layer from @effect/platform-node
 * const BufferedConsumer = Consumer.layerBuffered({ onUndelivered })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type OnUndelivered<R = never> = (
  failures: NonEmptyReadonlyArray<DeliveryFailure>
) => Effect.Effect<unknown, unknown, R>

/**
 * Options of `layerBuffered`. Each default is stated once, next to its option.
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * // A batch job: never drop a message, and take up to a minute to deliver everything at shutdown
 * const options: Consumer.BufferedOptions = {
 *   flushInterval: "30 seconds",
 *   overflow: "wait",
 *   shutdownTimeout: "1 minute"
 * }
 *
 * const BufferedConsumer = Consumer.layerBuffered(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BufferedOptions<R = never> extends TransportOptions {
  /** Most messages per request, 1 to 2000. Default 2000 (Mixpanel's limit). */
  readonly maxBatchSize?: number | undefined
  /**
   * Most bytes per request, counted on the UTF-8 JSON array that is sent (before gzip and form encoding,
   * as Mixpanel counts). A message too large for a request on its own is rejected (`TooLarge`) without
   * ever holding up another. Default `2 * 1024 * 1024` (2 MiB, the stricter of Mixpanel's stated limits).
   */
  readonly maxBatchBytes?: number | undefined
  /**
   * How long a message may wait for its batch to fill before the batch is sent anyway: from 1 millisecond
   * (a shorter one would only keep a core busy) to 1 day. Default 10 seconds.
   */
  readonly flushInterval?: Duration.DurationInput | undefined
  /**
   * Most messages held at once, buffered or in flight (all endpoints together). Default 100,000. It also
   * bounds the failures kept for the next flush's `DeliveryError` (the rest are counted in `omitted`).
   */
  readonly capacity?: number | undefined
  /**
   * Most UTF-8 bytes of messages held at once, buffered or in flight; at least `maxBatchBytes`.
   * Default `64 * 1024 * 1024` (64 MiB). An event of the `Mixpanel` service waits unwritten (its checks
   * are made in the call, its JSON is written by the worker that sends it) and counts the size its checks
   * measured, a little under its JSON's (a number counts as one byte).
   */
  readonly capacityBytes?: number | undefined
  /** What to do when the buffer is full; see `Overflow`. Default `"dropNewest"`. */
  readonly overflow?: Overflow | undefined
  /**
   * Most requests in flight at once to `/track` and to `/import` (each). `/engage` and `/groups` always
   * send one request at a time so that profile updates arrive in order. Default 4.
   */
  readonly maxConcurrentRequests?: number | undefined
  /**
   * The delays between tries of a batch that failed transiently (transport errors, timeouts, 408, 429,
   * 5xx but 501 and 505). A `Retry-After` from the server is always waited for at least, and a 429 (or any
   * `Retry-After`) pauses the whole endpoint, not only that batch. Default: exponential from 2 seconds,
   * doubling, at most 60 seconds, plus 1 to 5 seconds of random jitter (Mixpanel's advice).
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, MixpanelError> | undefined
  /** Most retries of one batch; then its messages are dropped (`RetriesExhausted`). Default 10. */
  readonly maxRetries?: number | undefined
  /**
   * Longest time from a batch's first try to its last retry; a retry that would start later is not made
   * (`RetriesExhausted`). Default 5 minutes.
   */
  readonly maxRetryTime?: Duration.DurationInput | undefined
  /**
   * When the layer's scope closes, how long the consumer may keep delivering what it holds. At the
   * deadline, requests in flight and retry waits are interrupted, and every message left is reported as
   * `Undelivered` (`Shutdown`); a retry that could only start after the deadline is given up at once.
   * Default 10 seconds.
   */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** Receives every message that was not delivered; see `OnUndelivered`. Default: none (logs and metrics only). */
  readonly onUndelivered?: OnUndelivered<R> | undefined
}

/**
 * A consumer that buffers messages and delivers them in the background, and loses none without saying
 * so. Messages are batched per endpoint (up to `maxBatchSize` messages and `maxBatchBytes` bytes) and
 * sent when a batch is full, every `flushInterval`, on `Consumer.flush`, and when the layer's scope closes
 * (within `shutdownTimeout`). Transient failures are retried with backoff (a 429 pauses the endpoint), a
 * 413 splits the batch, a strict `/import` reports its failed records one by one, and profile and group
 * updates keep their order. `sendNow` (used by `alias`) skips the buffer, with `layerDirect`'s retries.
 *
 * `send` and `sendBatch` return once the messages are accepted (or, with `overflow: "wait"`, once there is
 * room); they fail only with `InvalidConfig` (an `/import` without `importAuth`). Every message then ends
 * delivered, rejected, dropped or undelivered at shutdown, and each one that is not delivered reaches
 * `onUndelivered`, the logs and the metrics. `flush` fails with a `DeliveryError` listing the messages sent
 * since the previous flush that were not delivered. See `docs/delivery.md`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * const MixpanelLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *   Layer.provide(
 *     Consumer.layerBuffered({
 *       flushInterval: "5 seconds",
 *       shutdownTimeout: "15 seconds",
 *       onUndelivered: (failures) =>
 *         Effect.logError(`${failures.length} Mixpanel messages not delivered: ${failures[0].reason}`)
 *     })
 *   ),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const program = Mixpanel.track("u1", "Signed Up", { plan: "pro" }).pipe(Effect.provide(MixpanelLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBuffered = <R = never>(
  options: BufferedOptions<R> = {}
): Layer.Layer<Consumer, InvalidConfig, HttpClient.HttpClient | Exclude<R, Scope.Scope>> =>
  Layer.scoped(Consumer, buffered.make(options))

/**
 * `layerBuffered` with its options read from `Config`. By default from the environment: everything
 * `layerDirectConfig` reads, and `MIXPANEL_MAX_BATCH_SIZE`, `MIXPANEL_MAX_BATCH_BYTES`,
 * `MIXPANEL_FLUSH_INTERVAL`, `MIXPANEL_CAPACITY`, `MIXPANEL_CAPACITY_BYTES`, `MIXPANEL_OVERFLOW`,
 * `MIXPANEL_MAX_CONCURRENT_REQUESTS`, `MIXPANEL_MAX_RETRIES`, `MIXPANEL_MAX_RETRY_TIME`,
 * `MIXPANEL_SHUTDOWN_TIMEOUT` (all in docs/configuration.md). To add a hook:
 * `layerBufferedConfig(Config.map(Consumer.bufferedConfig, (options) => ({ ...options, onUndelivered })))`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * // MIXPANEL_TOKEN, MIXPANEL_FLUSH_INTERVAL, MIXPANEL_OVERFLOW, ... from the environment
 * const MixpanelLive = Mixpanel.layerConfig().pipe(
 *   Layer.provide(Consumer.layerBufferedConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBufferedConfig = (
  options: Config.Config.Wrap<BufferedOptions> = bufferedConfig
): Layer.Layer<Consumer, InvalidConfig | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(Consumer, Effect.flatMap(Config.unwrap(options), buffered.make))

/**
 * Options of `layerDurable`: those of `layerBuffered` but the cap (`capacity`, `capacityBytes` and
 * `overflow` are the durable store's options), and `pollInterval`. Each default is stated once, next to
 * its option (here or in `BufferedOptions`).
 *
 * @example
 * ```ts
 * import { Consumer } from "effect-mixpanel"
 *
 * const options: Consumer.DurableOptions = {
 *   flushInterval: "5 seconds",
 *   pollInterval: "2 seconds",
 *   shutdownTimeout: "3 seconds"
 * }
 *
 * const DurableConsumer = Consumer.layerDurable(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableOptions<R = never> extends Omit<BufferedOptions<R>, "capacity" | "capacityBytes" | "overflow"> {
  /**
   * How often the relay looks at the store for what this process did not append: messages of other
   * processes sharing the outbox, of an earlier run, or of a relay that died (whose leases ran out); a
   * lane with nothing of its own waiting then sends what it finds. Also how often a flush checks whether
   * another relay delivered its messages, and how long a worker waits after a failure of the store.
   * From 1 millisecond to 1 hour; default 1 second.
   */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * A consumer that keeps every message it accepts in a durable store (`DurableStore` from
 * `effect-mixpanel/durable`: a SQLite file, or the application's own `SqlClient`, e.g. PostgreSQL shared
 * by a fleet) until Mixpanel has it, and delivers it with the buffered consumer's engine: batches by
 * count and bytes, retries with backoff and `Retry-After`, 413 splits, strict `/import` records, ordered
 * profile and group updates. A message leaves the store only after Mixpanel's 2xx for it; one that can
 * never be delivered goes to the store's dead letters with its reason.
 *
 * `send` returns once the store has the message (with `"commit"` durability, once it is committed; with
 * `"async"`, at once), and fails with a `StoreError` when the store cannot take it. Inside the
 * application's `sql.withTransaction` on the store's database, the message is written through that
 * transaction: it commits or rolls back with the application's writes (do not `flush` there). A crash
 * loses nothing committed: on the next start (or by another process of the fleet) it is sent again, with
 * the same `$insert_id`. Closing the scope delivers what it can within `shutdownTimeout` and leaves the
 * rest in the store, reported as nothing. See `docs/durable.md`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const MixpanelLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *   Layer.provide(Consumer.layerDurable({ flushInterval: "5 seconds" })),
 *   Layer.provide(DurableStore.layerSqlite({ filename: "./data/mixpanel.db" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDurable = <R = never>(
  options: DurableOptions<R> = {}
): Layer.Layer<Consumer, InvalidConfig, HttpClient.HttpClient | DurableStore | Exclude<R, Scope.Scope>> =>
  Layer.scoped(Consumer, buffered.makeDurable(options))

/**
 * The durable consumer's options, read from the environment (see `layerDurableConfig`).
 *
 * @example
 * ```ts
 * import { Config, Duration } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // What the environment says, with a shorter poll whatever it says
 * const options = Config.map(Consumer.durableConfig, (options) => ({ ...options, pollInterval: Duration.millis(500) }))
 *
 * const DurableConsumer = Consumer.layerDurableConfig(options)
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const durableConfig: Config.Config<DurableOptions> = settings.durableConfig

/**
 * `layerDurable` with its options read from `Config`. By default from the environment: everything
 * `layerBufferedConfig` reads but `MIXPANEL_CAPACITY`, `MIXPANEL_CAPACITY_BYTES` and `MIXPANEL_OVERFLOW`
 * (the store's options, given to `DurableStore.layerSqlite` in code: set, each is a `ConfigError` naming
 * it, rather than be ignored), and `MIXPANEL_POLL_INTERVAL` (all in docs/configuration.md).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * // MIXPANEL_TOKEN, MIXPANEL_FLUSH_INTERVAL, MIXPANEL_POLL_INTERVAL, ... from the environment
 * const MixpanelLive = Mixpanel.layerConfig().pipe(
 *   Layer.provide(Consumer.layerDurableConfig()),
 *   Layer.provide(DurableStore.layerSqlite({ filename: "./data/mixpanel.db" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDurableConfig = (
  options: Config.Config.Wrap<DurableOptions> = durableConfig
): Layer.Layer<Consumer, InvalidConfig | ConfigError.ConfigError, HttpClient.HttpClient | DurableStore> =>
  Layer.scoped(Consumer, Effect.flatMap(Config.unwrap(options), buffered.makeDurable))
