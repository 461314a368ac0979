/**
 * Every way a Mixpanel operation can fail, as a small set of tagged errors.
 *
 * Each error carries what a caller needs to act on it: the endpoint, the HTTP status and the server's
 * error text where there is one, how long the server asked us to wait, and, when a send fails, the
 * messages that were not delivered (so that they can be persisted or sent again). The `message` of an
 * error reads as a sentence and never holds a token, secret or property value.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { Endpoint } from "./Endpoint.js"

/**
 * The brand every error of this library carries; `isMixpanelError` tests for it.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * const error = new MixpanelError.InvalidConfig({ option: "token", detail: "the project token is empty" })
 * console.log(MixpanelError.TypeId in error) // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-mixpanel/MixpanelError")

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * const brand: MixpanelError.TypeId = MixpanelError.TypeId
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A message that was not delivered: the endpoint it was meant for and its JSON text, exactly as it would
 * have been sent. Handing it back to `Consumer.send` sends it again.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel, MixpanelError } from "effect-mixpanel"
 *
 * // Keep the messages of a failed send, to send them again later
 * const saved: Array<MixpanelError.Undelivered> = []
 * const program = Mixpanel.track("u1", "Signed Up").pipe(
 *   Effect.catchTags({
 *     RequestError: (error) => Effect.sync(() => saved.push(...error.undelivered)),
 *     ResponseError: (error) => Effect.sync(() => saved.push(...error.undelivered))
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Undelivered extends Schema.Class<Undelivered>("effect-mixpanel/Undelivered")({
  endpoint: Endpoint,
  json: Schema.String
}) {}

/**
 * Errors print their fields for debugging, but never the messages they carry: those hold the project
 * token and the caller's property values.
 */
const redactedJson = (error: { readonly _tag: string; readonly message: string }, fields: object) => ({
  _tag: error._tag,
  message: error.message,
  ...fields
})

/**
 * A message that Mixpanel would reject, or that cannot be JSON, caught before it is sent. `field` is the
 * path of the offending value, e.g. `properties.price` or `event`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "").pipe(
 *   // "track: invalid `event`: an event name cannot be empty"
 *   Effect.catchTag("InvalidMessage", (error) => Effect.logWarning(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>("effect-mixpanel/InvalidMessage")(
  "InvalidMessage",
  {
    operation: Schema.String,
    field: Schema.String,
    detail: Schema.String
  }
) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.InvalidMessage({ operation: "track", field: "event", detail: "empty" })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g.
   * `track: invalid `event`: an event name cannot be empty`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.operation}: invalid ${this.field === "" ? "message" : `\`${this.field}\``}: ${this.detail}`
  }
}

/**
 * Options or configuration that cannot work: an empty token, a malformed base URL, a secret that would
 * be sent over plain HTTP to a host other than loopback, an `/import` without credentials.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up").pipe(
 *   Effect.provide(Mixpanel.layer({ token: "" }).pipe(Layer.provide(TestConsumer.layer))),
 *   // "invalid option `token`: the project token is empty"
 *   Effect.catchTag("InvalidConfig", (error) => Effect.logError(error.message))
 * )
 *
 * Effect.runPromise(program)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>("effect-mixpanel/InvalidConfig")("InvalidConfig", {
  option: Schema.String,
  detail: Schema.String
}) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.InvalidConfig({ option: "token", detail: "the project token is empty" })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g.
   * `invalid option `token`: the project token is empty`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return `invalid option \`${this.option}\`: ${this.detail}`
  }
}

const undeliveredFields = {
  endpoint: Endpoint,
  undelivered: Schema.Array(Undelivered)
}

/**
 * The request did not get an answer: the connection failed or was dropped (`Transport`), or no
 * response came within the request timeout (`Timeout`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up").pipe(
 *   Effect.catchTag("RequestError", (error) =>
 *     Effect.logWarning(`${error.reason} on ${error.endpoint}: ${error.undelivered.length} message(s) to send again`)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestError extends Schema.TaggedError<RequestError>("effect-mixpanel/RequestError")("RequestError", {
  ...undeliveredFields,
  reason: Schema.Literal("Transport", "Timeout"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Unknown)
}) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.RequestError({
   *   endpoint: "events",
   *   reason: "Timeout",
   *   detail: "no answer",
   *   undelivered: []
   * })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g.
   * `events: request timed out (no answer within 10 seconds); 1 message not delivered`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    const what = this.reason === "Timeout" ? "timed out" : "failed"
    return `${this.endpoint}: request ${what} (${this.detail}); ${countMessages(this.undelivered.length)} not delivered`
  }

  /**
   * The error as `JSON.stringify` writes it: the number of messages it carries, never the messages
   * themselves (they hold the project token and the caller's property values).
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.Undelivered({ endpoint: "events", json: '{"event":"E","properties":{"token":"SECRET"}}' })
   * ]
   * const error = new MixpanelError.RequestError({
   *   endpoint: "events",
   *   reason: "Timeout",
   *   detail: "no answer",
   *   undelivered
   * })
   *
   * console.log(JSON.stringify(error))
   * // {"_tag":"RequestError","message":"events: request timed out (no answer); 1 message not delivered",
   * //  "endpoint":"events","reason":"Timeout","undelivered":1}
   * ```
   *
   * @since 0.1.0
   */
  override toJSON(): unknown {
    return redactedJson(this, { endpoint: this.endpoint, reason: this.reason, undelivered: this.undelivered.length })
  }

  /**
   * What `console.log` and `util.inspect` show in Node: the same fields as `toJSON`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.Undelivered({ endpoint: "events", json: '{"event":"E","properties":{"token":"SECRET"}}' })
   * ]
   * const error = new MixpanelError.RequestError({
   *   endpoint: "events",
   *   reason: "Timeout",
   *   detail: "no answer",
   *   undelivered
   * })
   *
   * console.log(error)
   * // {
   * //   _tag: 'RequestError',
   * //   message: 'events: request timed out (no answer); 1 message not delivered',
   * //   endpoint: 'events',
   * //   reason: 'Timeout',
   * //   undelivered: 1
   * // }
   * ```
   *
   * @since 0.1.0
   */
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * One record that a strict `/import` refused, as the server reported it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.importEvents([{ distinctId: "u1", event: "Order Placed", time: 1709294400000 }]).pipe(
 *   Effect.catchTag("ResponseError", (error) =>
 *     Effect.forEach(error.failedRecords, (record) =>
 *       Effect.logWarning(`record ${record.index} refused at ${record.field ?? "?"}: ${record.detail}`)
 *     )
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class FailedRecord extends Schema.Class<FailedRecord>("effect-mixpanel/FailedRecord")({
  index: Schema.Number,
  insertId: Schema.optional(Schema.String),
  field: Schema.optional(Schema.String),
  detail: Schema.String
}) {}

/**
 * The server answered, and not with success.
 *
 * - `Rejected`: the server refused the messages (400, or a `status: 0` body); sending them again will not help.
 * - `Unauthorized`: 401 or 403; the credentials for the endpoint are wrong or missing.
 * - `TooLarge`: 413; the request was over the server's size limit.
 * - `RateLimited`: 429; `retryAfter` holds the server's `Retry-After`, if it sent one.
 * - `ServerError`: a 5xx status.
 * - `UnexpectedStatus`: any other status.
 * - `Malformed`: a success status with a body that is not what Mixpanel sends.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up").pipe(
 *   Effect.catchTag("ResponseError", (error) =>
 *     error.reason === "Unauthorized"
 *       ? Effect.logError(`check the credentials for ${error.endpoint} (HTTP ${error.status})`)
 *       : Effect.fail(error)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseError extends Schema.TaggedError<ResponseError>("effect-mixpanel/ResponseError")("ResponseError", {
  ...undeliveredFields,
  reason: Schema.Literal(
    "Rejected",
    "Unauthorized",
    "TooLarge",
    "RateLimited",
    "ServerError",
    "UnexpectedStatus",
    "Malformed"
  ),
  status: Schema.Number,
  serverError: Schema.optional(Schema.String),
  retryAfter: Schema.optional(Schema.DurationFromSelf),
  failedRecords: Schema.optionalWith(Schema.Array(FailedRecord), { default: () => [] })
}) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.ResponseError({
   *   endpoint: "events",
   *   reason: "Rejected",
   *   status: 400,
   *   undelivered: []
   * })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, with the first of `failedRecords` (a strict `/import`'s reasons), e.g.
   * `imports: Rejected (HTTP 400): some data points in the request failed validation (record 0:
   * 'properties.time' is invalid: must be between 1971-01-01 and 1 hour from now); 1 message not delivered`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    const server = this.serverError === undefined ? "" : `: ${this.serverError}`
    const [first] = this.failedRecords
    const more = this.failedRecords.length > 1 ? `, and ${this.failedRecords.length - 1} more` : ""
    const record = first === undefined ? "" : ` (record ${first.index}: ${first.detail}${more})`
    const wait = this.retryAfter === undefined ? "" : ` (retry after ${Duration.format(this.retryAfter)})`
    return `${this.endpoint}: ${this.reason} (HTTP ${this.status})${server}${record}${wait}; ${countMessages(this.undelivered.length)} not delivered`
  }

  /**
   * The error as `JSON.stringify` writes it: the number of messages it carries, never the messages
   * themselves (they hold the project token and the caller's property values).
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.Undelivered({ endpoint: "events", json: '{"event":"E","properties":{"token":"SECRET"}}' })
   * ]
   * const error = new MixpanelError.ResponseError({ endpoint: "events", reason: "Rejected", status: 400, undelivered })
   *
   * console.log(JSON.stringify(error))
   * // {"_tag":"ResponseError","message":"events: Rejected (HTTP 400); 1 message not delivered",
   * //  "endpoint":"events","reason":"Rejected","status":400,"failedRecords":0,"undelivered":1}
   * ```
   *
   * @since 0.1.0
   */
  override toJSON(): unknown {
    return redactedJson(this, {
      endpoint: this.endpoint,
      reason: this.reason,
      status: this.status,
      serverError: this.serverError,
      failedRecords: this.failedRecords.length,
      undelivered: this.undelivered.length
    })
  }

  /**
   * What `console.log` and `util.inspect` show in Node: the same fields as `toJSON`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.Undelivered({ endpoint: "events", json: '{"event":"E","properties":{"token":"SECRET"}}' })
   * ]
   * const error = new MixpanelError.ResponseError({ endpoint: "events", reason: "Rejected", status: 400, undelivered })
   *
   * console.log(error)
   * // {
   * //   _tag: 'ResponseError',
   * //   message: 'events: Rejected (HTTP 400); 1 message not delivered',
   * //   endpoint: 'events',
   * //   reason: 'Rejected',
   * //   status: 400,
   * //   serverError: undefined,
   * //   failedRecords: 0,
   * //   undelivered: 1
   * // }
   * ```
   *
   * @since 0.1.0
   */
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

const countMessages = (n: number) => (n === 1 ? "1 message" : `${n} messages`)

/**
 * A request to Mixpanel's feature flags API (`/flags/definitions` or `/flags`) that did not give usable
 * flags, or one flag definition that is malformed.
 *
 * - `Transport`, `Timeout`: no answer (the connection failed, or no response within the request timeout).
 * - `Unauthorized` (401, 403), `RateLimited` (429), `ServerError` (5xx), `UnexpectedStatus` (any other
 *   status but 200): the server's answer, with its error text in `detail`.
 * - `Malformed`: a 200 whose body is not what Mixpanel sends.
 * - `InvalidDefinition`: one flag of a good response is malformed (`flagKey` names it, when it has a
 *   key); the other flags are kept.
 *
 * Lookups never fail with it: they serve the caller's fallback and carry this error as the reason.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FeatureFlags } from "effect-mixpanel"
 *
 * // In remote mode getAllVariants is one request, and fails with its FlagsError
 * const variants = FeatureFlags.getAllVariants({ distinct_id: "u1" }).pipe(
 *   Effect.catchTag("FlagsError", (error) => Effect.as(Effect.logWarning(error.message), {}))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class FlagsError extends Schema.TaggedError<FlagsError>("effect-mixpanel/FlagsError")("FlagsError", {
  path: Schema.Literal("/flags", "/flags/definitions"),
  reason: Schema.Literal(
    "Transport",
    "Timeout",
    "Unauthorized",
    "RateLimited",
    "ServerError",
    "UnexpectedStatus",
    "Malformed",
    "InvalidDefinition"
  ),
  status: Schema.optional(Schema.Number),
  flagKey: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.FlagsError({ path: "/flags", reason: "Timeout", detail: "no answer" })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g.
   * `/flags: Timeout: no answer within 10 seconds`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    const flag = this.flagKey === undefined ? "" : ` flag \`${this.flagKey}\``
    return `${this.path}: ${this.reason}${status}${flag}: ${this.detail}`
  }
}

/**
 * How a message that was not delivered ended:
 *
 * - `Rejected`: refused for what it is (by Mixpanel, or before sending because no request could hold it);
 *   sending it again unchanged will fail again, except after fixing the credentials (`Unauthorized`).
 * - `Dropped`: the consumer let go of it: its buffer was full (`BufferFull`), its retries ran out
 *   (`RetriesExhausted`), it came after the consumer had shut down (`Closed`), or the durable store
 *   failed to commit it after accepting it (`StoreFailed`).
 * - `Undelivered`: it was still waiting or in flight when the shutdown deadline passed (`Shutdown`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { MixpanelError } from "effect-mixpanel"
 *
 * const isOutcome = Schema.is(MixpanelError.DeliveryOutcome)
 * console.log(isOutcome("Dropped")) // true
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const DeliveryOutcome = Schema.Literal("Rejected", "Dropped", "Undelivered")

/**
 * The type of `DeliveryOutcome`: `"Rejected" | "Dropped" | "Undelivered"`.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * // What Mixpanel rejected would be rejected again; the rest is worth sending later
 * const worthResending = (outcome: MixpanelError.DeliveryOutcome): boolean => outcome !== "Rejected"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type DeliveryOutcome = typeof DeliveryOutcome.Type

/**
 * Why a message was not delivered:
 *
 * - `Invalid`: Mixpanel refused the request it was in (400, or a `status: 0` answer).
 * - `FailedRecord`: a strict `/import` refused this record; `detail` and `field` are the server's.
 * - `TooLarge`: the message alone is over the request byte limit (`maxBatchBytes`, or a 413 for it alone).
 * - `Unauthorized`: 401 or 403.
 * - `UnexpectedStatus`: another status that another try would not change (404, 501, ...).
 * - `Malformed`: a success status with a body Mixpanel does not send; the message may have arrived.
 * - `BufferFull`: the overflow policy dropped it.
 * - `RetriesExhausted`: it failed transiently until `maxRetries` or `maxRetryTime` ran out.
 * - `Closed`: it was sent (or was waiting for room) when the consumer shut down.
 * - `Shutdown`: the shutdown deadline passed before it could be delivered.
 * - `StoreFailed`: a durable consumer with `"async"` durability accepted it, and the store's commit of it
 *   failed (the disk, the database): it was never stored.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * console.log(MixpanelError.DeliveryReason.literals.length) // 11
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const DeliveryReason = Schema.Literal(
  "Invalid",
  "FailedRecord",
  "TooLarge",
  "Unauthorized",
  "UnexpectedStatus",
  "Malformed",
  "BufferFull",
  "RetriesExhausted",
  "Closed",
  "Shutdown",
  "StoreFailed"
)

/**
 * The type of `DeliveryReason`.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * // Reasons that need a person: wrong credentials, or a buffer too small for the traffic
 * const needsAttention = (reason: MixpanelError.DeliveryReason): boolean =>
 *   reason === "Unauthorized" || reason === "BufferFull"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type DeliveryReason = typeof DeliveryReason.Type

/**
 * A message that the buffered consumer did not deliver, with how it ended and why. It is an
 * `Undelivered`: `endpoint` and `json` are the message as it would have been sent, so handing them back to
 * `Consumer.send` sends it again. `detail` is a sentence (the server's own text where there is one, never a
 * token or a property value of ours); `status` is the HTTP status that decided it, if any; `field` the
 * field a strict `/import` named.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * const BufferedConsumer = Consumer.layerBuffered({
 *   onUndelivered: (failures) =>
 *     Effect.forEach(
 *       failures,
 *       (failure) => Effect.logWarning(`${failure.outcome}/${failure.reason}: ${failure.detail}`),
 *       { discard: true }
 *     )
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class DeliveryFailure extends Undelivered.extend<DeliveryFailure>("effect-mixpanel/DeliveryFailure")({
  outcome: DeliveryOutcome,
  reason: DeliveryReason,
  detail: Schema.String,
  status: Schema.optional(Schema.Number),
  field: Schema.optional(Schema.String)
}) {}

/**
 * Some messages sent since the previous `Consumer.flush` were not delivered; `undelivered` holds each of
 * them with its outcome and reason, and `omitted` counts those left out of the list to bound its memory
 * (beyond the consumer's `capacity`). The buffered consumer has already handed every one of them to its
 * `onUndelivered` hook: this error is for the caller of `flush` to know, not a second copy to persist.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer } from "effect-mixpanel"
 *
 * // e.g. "3 messages not delivered (2 Dropped/RetriesExhausted, 1 Rejected/Invalid)"
 * const flushed = Consumer.flush.pipe(Effect.catchTag("DeliveryError", (error) => Effect.logError(error.message)))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class DeliveryError extends Schema.TaggedError<DeliveryError>("effect-mixpanel/DeliveryError")("DeliveryError", {
  undelivered: Schema.Array(DeliveryFailure),
  omitted: Schema.optionalWith(Schema.Number, { default: () => 0 })
}) {
  /**
   * Brands the error as this library's, for `isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.DeliveryError({ undelivered: [] })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g.
   * `3 messages not delivered (2 Dropped/RetriesExhausted, 1 Rejected/Invalid)`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    const counts = this.counts()
    const parts = Object.keys(counts).map((key) => `${counts[key]} ${key}`)
    const more = this.omitted === 0 ? "" : `, and ${this.omitted} more not listed`
    return `${countMessages(this.undelivered.length)} not delivered (${parts.join(", ")})${more}`
  }

  /**
   * The number of undelivered messages per `outcome/reason`, e.g. `{ "Rejected/Invalid": 2 }`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.DeliveryFailure({
   *     endpoint: "events",
   *     json: '{"event":"E","properties":{"token":"SECRET"}}',
   *     outcome: "Dropped",
   *     reason: "BufferFull",
   *     detail: "the buffer is full"
   *   })
   * ]
   * const error = new MixpanelError.DeliveryError({ undelivered })
   *
   * console.log(error.counts()) // { 'Dropped/BufferFull': 1 }
   * ```
   *
   * @since 0.1.0
   */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const failure of this.undelivered) {
      const key = `${failure.outcome}/${failure.reason}`
      counts[key] = (counts[key] ?? 0) + 1
    }
    return counts
  }

  /**
   * The error as `JSON.stringify` writes it: the number of messages it carries, never the messages
   * themselves (they hold the project token and the caller's property values).
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.DeliveryFailure({
   *     endpoint: "events",
   *     json: '{"event":"E","properties":{"token":"SECRET"}}',
   *     outcome: "Dropped",
   *     reason: "BufferFull",
   *     detail: "the buffer is full"
   *   })
   * ]
   * const error = new MixpanelError.DeliveryError({ undelivered })
   *
   * console.log(JSON.stringify(error))
   * // {"_tag":"DeliveryError","message":"1 message not delivered (1 Dropped/BufferFull)",
   * //  "counts":{"Dropped/BufferFull":1},"undelivered":1,"omitted":0}
   * ```
   *
   * @since 0.1.0
   */
  override toJSON(): unknown {
    return redactedJson(this, {
      counts: this.counts(),
      undelivered: this.undelivered.length,
      omitted: this.omitted
    })
  }

  /**
   * What `console.log` and `util.inspect` show in Node: the same fields as `toJSON`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const undelivered = [
   *   new MixpanelError.DeliveryFailure({
   *     endpoint: "events",
   *     json: '{"event":"E","properties":{"token":"SECRET"}}',
   *     outcome: "Dropped",
   *     reason: "BufferFull",
   *     detail: "the buffer is full"
   *   })
   * ]
   * const error = new MixpanelError.DeliveryError({ undelivered })
   *
   * console.log(error)
   * // {
   * //   _tag: 'DeliveryError',
   * //   message: '1 message not delivered (1 Dropped/BufferFull)',
   * //   counts: { 'Dropped/BufferFull': 1 },
   * //   undelivered: 1,
   * //   omitted: 0
   * // }
   * ```
   *
   * @since 0.1.0
   */
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * Why the store failed:
 *
 * - `DiskFull`: the disk, or `maxFileBytes`, is full.
 * - `ReadOnly`: the file, its directory or the database is read-only.
 * - `Corrupt`: the file is not a database, or is damaged.
 * - `Unavailable`: the database cannot be reached (refused, reset, shut down).
 * - `Busy`: another writer held the lock too long, or a transaction lost a race; trying again works.
 * - `Schema`: the outbox's tables are missing or out of date.
 * - `Closed`: the store was shut down.
 * - `Unknown`: anything else; `detail` has the driver's words.
 *
 * @example
 * ```ts
 * import type { MixpanelError } from "effect-mixpanel"
 *
 * const needsAnOperator = (reason: MixpanelError.StoreErrorReason) =>
 *   reason === "DiskFull" || reason === "ReadOnly" || reason === "Corrupt"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const StoreErrorReason = Schema.Literal(
  "DiskFull",
  "ReadOnly",
  "Corrupt",
  "Unavailable",
  "Busy",
  "Schema",
  "Closed",
  "Unknown"
)

/**
 * The type of `StoreErrorReason`.
 *
 * @example
 * ```ts
 * import type { MixpanelError } from "effect-mixpanel"
 *
 * const reason: MixpanelError.StoreErrorReason = "DiskFull"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StoreErrorReason = typeof StoreErrorReason.Type

/**
 * The durable store (`Consumer.layerDurable`, `effect-mixpanel/durable`) failed: at layer build (`operation: "open"`: the file cannot be opened, the
 * database cannot be reached, the tables cannot be created), or in an operation. `cause` is the
 * driver's error (an `SqlError`, a better-sqlite3 or node-postgres error).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const Store = DurableStore.layerSqlite({ filename: "./data/mixpanel.db" }).pipe(
 *   Layer.tapError((error) => Effect.logError(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>("effect-mixpanel/StoreError")("StoreError", {
  operation: Schema.String,
  reason: StoreErrorReason,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * Brands the error as this library's, for `MixpanelError.isMixpanelError`.
   *
   * @example
   * ```ts
   * import { MixpanelError } from "effect-mixpanel"
   *
   * const error = new MixpanelError.StoreError({ operation: "append", reason: "DiskFull", detail: "the disk is full" })
   * console.log(MixpanelError.isMixpanelError(error)) // true
   * ```
   *
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The error as a sentence, e.g. `Mixpanel outbox: append failed: the disk is full (SQLITE_FULL: ...)`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return `Mixpanel outbox: ${this.operation} failed: ${this.detail}`
  }
}

/**
 * The errors of sending a message: of every tracking operation of `Mixpanel`, and of a consumer's `send`,
 * `sendBatch` and `sendNow`. `InvalidMessage`: the message (or, from untyped callers, the consumer's
 * arguments) is not valid; `InvalidConfig`: an `/import` without credentials; `RequestError` and
 * `ResponseError`: from a consumer that sends before it returns (`layerDirect`, and `alias` on any consumer),
 * the request's failure. A buffered consumer reports delivery failures later: through `Consumer.flush`
 * (`DeliveryError`) and `onUndelivered`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel, type MixpanelError } from "effect-mixpanel"
 *
 * // Tracking that never fails the request it runs in
 * const trackOrLog = (userId: string) =>
 *   Mixpanel.track(userId, "Signed Up").pipe(
 *     Effect.catchAll((error: MixpanelError.SendError) => Effect.logWarning(error.message))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type SendError = InvalidMessage | InvalidConfig | RequestError | ResponseError | StoreError

/**
 * Any error of this library.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * // Whether a failed operation may pass later, unchanged
 * const isTransient = (error: MixpanelError.MixpanelError): boolean =>
 *   error._tag === "RequestError" ||
 *   (error._tag === "ResponseError" && (error.reason === "RateLimited" || error.reason === "ServerError"))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type MixpanelError =
  | InvalidMessage
  | InvalidConfig
  | RequestError
  | ResponseError
  | FlagsError
  | DeliveryError
  | StoreError

/**
 * Whether `u` is an error of this library, any member of `MixpanelError`.
 *
 * @example
 * ```ts
 * import { MixpanelError } from "effect-mixpanel"
 *
 * const describe = (cause: unknown): string =>
 *   MixpanelError.isMixpanelError(cause) ? `Mixpanel: ${cause.message}` : String(cause)
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isMixpanelError = (u: unknown): u is MixpanelError => Predicate.hasProperty(u, TypeId)
