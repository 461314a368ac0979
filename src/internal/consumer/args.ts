/**
 * The arguments of the `Consumer` service's own operations, checked at the door: an endpoint is one of
 * the four, a message is the JSON text of an object (a message that is not would spoil the request of
 * every message batched with it). Untyped callers get an `InvalidMessage`, never a defect, and a caller's
 * string is never used as a key of a plain object.
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { Service } from "../../Consumer.js"
import type { Endpoint } from "../../Endpoint.js"
import { InvalidMessage, type SendError } from "../../MixpanelError.js"
import { maxDepth, nestsDeeperThan } from "../json.js"
import type { Outgoing } from "./unwritten.js"

const endpoints: ReadonlySet<unknown> = new Set<Endpoint>(["events", "people", "groups", "imports"])

/** Whether `value` is one of the four endpoints. */
export const isEndpoint = (value: unknown): value is Endpoint => endpoints.has(value)

const badEndpoint = (operation: string) =>
  new InvalidMessage({ operation, field: "endpoint", detail: 'expected "events", "people", "groups" or "imports"' })

/** `undefined` when the arguments of `send`/`sendNow` are right, else the error. */
export const checkOne = (operation: string, endpoint: unknown, message: unknown): InvalidMessage | undefined => {
  if (!isEndpoint(endpoint)) return badEndpoint(operation)
  if (typeof message !== "string") {
    return new InvalidMessage({ operation, field: "message", detail: "expected the JSON text of a message" })
  }
  return undefined
}

/** `sendBatch`'s arguments as an array of strings, or the error. */
export const checkMany = (
  operation: string,
  endpoint: unknown,
  messages: unknown
): Effect.Effect<ReadonlyArray<string>, InvalidMessage> => {
  if (!isEndpoint(endpoint)) return Effect.fail(badEndpoint(operation))
  let copy: Array<unknown>
  try {
    if (!Array.isArray(messages)) throw new TypeError()
    copy = messages.slice() // read once: what is checked is what is sent
  } catch {
    return Effect.fail(new InvalidMessage({ operation, field: "messages", detail: "expected an array of JSON texts" }))
  }
  for (let i = 0; i < copy.length; i++) {
    if (typeof copy[i] !== "string") {
      return Effect.fail(
        new InvalidMessage({ operation, field: `messages[${i}]`, detail: "expected the JSON text of a message" })
      )
    }
  }
  return Effect.succeed(copy as ReadonlyArray<string>)
}

/** Whether `message` is the JSON text of an object: what a consumer accepts from a caller it does not know. */
const isJsonObject = (message: string): boolean => {
  try {
    const value: unknown = JSON.parse(message)
    return typeof value === "object" && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** What is wrong with the JSON text of a message from a caller this library does not know, if anything. */
const problemOf = (message: string): string | undefined =>
  // Before the parse: text nested thousands of levels deep overflows the stack of `JSON.parse`, and of a server
  nestsDeeperThan(message, maxDepth)
    ? `nested more than ${maxDepth} levels deep`
    : isJsonObject(message)
      ? undefined
      : "expected the JSON text of a message (an object)"

/** Checks a message from an unknown caller: an endpoint and the JSON text of an object. */
export const checkMessage = (operation: string, endpoint: unknown, message: unknown): InvalidMessage | undefined => {
  const invalid = checkOne(operation, endpoint, message)
  if (invalid !== undefined) return invalid
  const detail = problemOf(message as string)
  return detail === undefined ? undefined : new InvalidMessage({ operation, field: "message", detail })
}

/** Checks the messages of `sendBatch` from an unknown caller, as `checkMessage` does. */
export const checkMessages = (
  operation: string,
  endpoint: unknown,
  messages: unknown
): Effect.Effect<ReadonlyArray<string>, InvalidMessage> =>
  Effect.flatMap(checkMany(operation, endpoint, messages), (checked) => {
    for (let i = 0; i < checked.length; i++) {
      const detail = problemOf(checked[i] as string)
      if (detail !== undefined) return Effect.fail(new InvalidMessage({ operation, field: `messages[${i}]`, detail }))
    }
    return Effect.succeed(checked)
  })

/**
 * The entry of this library's own consumers for the `Mixpanel` service, whose messages are built and
 * checked already: it skips the checks of a caller it does not know (a JSON parse per message). A
 * consumer written by a user has none, and the service calls its `send` as any caller would.
 */
export const TrustedTypeId: unique symbol = Symbol.for("effect-mixpanel/Consumer/trusted")

/** What `TrustedTypeId` holds. */
export interface Trusted {
  readonly send: (endpoint: Endpoint, message: string) => Effect.Effect<void, SendError>
  readonly sendBatch: (endpoint: Endpoint, messages: ReadonlyArray<string>) => Effect.Effect<void, SendError>
  /**
   * `sendBatch` without an effect where the consumer needs none: done at once (`undefined`, or the
   * error), or the effect to run when the consumer must wait. `context` is the calling fiber's, if any
   * (`Mixpanel.unsafe` has none): a durable consumer joins the transaction it holds.
   */
  readonly unsafeSend?: (
    endpoint: Endpoint,
    messages: ReadonlyArray<string>,
    context?: Context.Context<never>
  ) => SendError | undefined | Effect.Effect<void, SendError>
  /**
   * Present when the consumer writes each message's JSON itself when it sends it (the memory buffer):
   * `sendBatch` and `unsafeSend` taking messages still unwritten (`unwritten.ts`) as well.
   */
  readonly writesLater?: {
    readonly sendBatch: (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>) => Effect.Effect<void, SendError>
    readonly unsafeSend: (
      endpoint: Endpoint,
      messages: ReadonlyArray<Outgoing>
    ) => SendError | undefined | Effect.Effect<void, SendError>
  }
}

/** The trusted entry of `consumer`, or its public one. */
export const trusted = (consumer: Service): Trusted =>
  (consumer as Service & { readonly [TrustedTypeId]?: Trusted })[TrustedTypeId] ?? consumer
