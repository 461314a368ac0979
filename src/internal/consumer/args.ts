/**
 * The arguments of the `Consumer` service's own operations, checked at the door: an endpoint is one of
 * the four, a message is a string. Untyped callers get an `InvalidMessage`, never a defect, and a caller's
 * string is never used as a key of a plain object.
 */
import * as Effect from "effect/Effect"
import type { Endpoint } from "../../Endpoint.js"
import { InvalidMessage } from "../../MixpanelError.js"

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
  if (!Array.isArray(messages)) {
    return Effect.fail(new InvalidMessage({ operation, field: "messages", detail: "expected an array of JSON texts" }))
  }
  for (let i = 0; i < messages.length; i++) {
    if (typeof messages[i] !== "string") {
      return Effect.fail(
        new InvalidMessage({ operation, field: `messages[${i}]`, detail: "expected the JSON text of a message" })
      )
    }
  }
  return Effect.succeed(messages as ReadonlyArray<string>)
}
