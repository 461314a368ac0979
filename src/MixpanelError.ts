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
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-mixpanel/MixpanelError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A message that was not delivered: the endpoint it was meant for and its JSON text, exactly as it would
 * have been sent. Handing it back to `Consumer.send` sends it again.
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
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
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
 * @since 0.1.0
 * @category errors
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>("effect-mixpanel/InvalidConfig")("InvalidConfig", {
  option: Schema.String,
  detail: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
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
 * @since 0.1.0
 * @category errors
 */
export class RequestError extends Schema.TaggedError<RequestError>("effect-mixpanel/RequestError")("RequestError", {
  ...undeliveredFields,
  reason: Schema.Literal("Transport", "Timeout"),
  detail: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const what = this.reason === "Timeout" ? "timed out" : "failed"
    return `${this.endpoint}: request ${what} (${this.detail}); ${countMessages(this.undelivered.length)} not delivered`
  }

  /**
   * @since 0.1.0
   */
  override toJSON(): unknown {
    return redactedJson(this, { endpoint: this.endpoint, reason: this.reason, undelivered: this.undelivered.length })
  }

  /**
   * @since 0.1.0
   */
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * One record that a strict `/import` refused, as the server reported it.
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
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const server = this.serverError === undefined ? "" : `: ${this.serverError}`
    const wait = this.retryAfter === undefined ? "" : ` (retry after ${Duration.format(this.retryAfter)})`
    return `${this.endpoint}: ${this.reason} (HTTP ${this.status})${server}${wait}; ${countMessages(this.undelivered.length)} not delivered`
  }

  /**
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
   * @since 0.1.0
   */
  override [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

const countMessages = (n: number) => (n === 1 ? "1 message" : `${n} messages`)

/**
 * Any error of this library.
 *
 * @since 0.1.0
 * @category errors
 */
export type MixpanelError = InvalidMessage | InvalidConfig | RequestError | ResponseError

/**
 * @since 0.1.0
 * @category guards
 */
export const isMixpanelError = (u: unknown): u is MixpanelError => Predicate.hasProperty(u, TypeId)
