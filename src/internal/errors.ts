/** Operations on `MixpanelError` values that the consumers share. */
import type { NonEmptyReadonlyArray } from "effect/Array"
import type { Endpoint } from "../Endpoint.js"
import { type MixpanelError, RequestError, ResponseError, Undelivered } from "../MixpanelError.js"

/** Every message of a request, as undelivered. */
export const undeliveredAll = (endpoint: Endpoint, messages: ReadonlyArray<string>): Array<Undelivered> =>
  messages.map((json) => new Undelivered({ endpoint, json }))

/** The undelivered messages an error carries; none for errors raised before sending. */
export const undelivered = (error: MixpanelError): ReadonlyArray<Undelivered> =>
  error._tag === "RequestError" || error._tag === "ResponseError" || error._tag === "DeliveryError"
    ? error.undelivered
    : []

/** The same error, carrying `messages` as its undelivered messages. */
export const withUndelivered = (error: MixpanelError, messages: ReadonlyArray<Undelivered>): MixpanelError => {
  switch (error._tag) {
    case "RequestError":
      return new RequestError({ ...fieldsOf(error), undelivered: messages })
    case "ResponseError":
      return new ResponseError({ ...fieldsOf(error), undelivered: messages })
    default:
      return error
  }
}

const fieldsOf = <E extends RequestError | ResponseError>(error: E) => {
  const { _tag: _, ...fields } = error
  return fields
}

/** Several failures of one call as one error: the first, carrying every undelivered message. */
export const combine = (errors: NonEmptyReadonlyArray<MixpanelError>): MixpanelError =>
  errors.length === 1 ? errors[0] : withUndelivered(errors[0], errors.flatMap(undelivered))
