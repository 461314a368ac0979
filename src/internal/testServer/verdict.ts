/**
 * What the test server decides about one item (an event, a profile or group update): accepted, refused
 * (Mixpanel says so in its answer), or dropped (Mixpanel answers as if it were accepted, and the item
 * never shows up). The rules of each endpoint live beside this module, in `events.ts` and `profiles.ts`.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Endpoint } from "../../Endpoint.js"
import * as Message from "../../Message.js"
import type * as Api from "../../MixpanelTestServer.js"

export type Verdict =
  | { readonly _tag: "Accept" }
  | { readonly _tag: "Refuse"; readonly field: string; readonly message: string }
  | { readonly _tag: "Drop"; readonly reason: Api.DropReason; readonly field: string; readonly message: string }

export const accept: Verdict = { _tag: "Accept" }

export const refuse = (field: string, message: string): Verdict => ({ _tag: "Refuse", field, message })

/** A refusal in Mixpanel's words: `'properties.time' is invalid: ...`. */
export const invalid = (field: string, why: string): Verdict => refuse(field, `'${field}' is invalid: ${why}`)

export const drop = (reason: Api.DropReason, field: string, message: string): Verdict => ({
  _tag: "Drop",
  reason,
  field,
  message
})

/** What the rules need to know of the server's options. */
export interface Rules {
  readonly token: string | undefined
  readonly checkTime: boolean
  readonly now: () => number
  readonly rejectRecord: Api.Options["rejectRecord"]
}

export const isObject = (u: unknown): u is Api.JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

/** Mixpanel reads times under 1e11 as seconds, others as milliseconds. */
export const toMillis = (time: number): number => (time < 1e11 ? time * 1000 : time)

export const isPlaceholder = (id: string): boolean => Message.placeholderIds.has(id.toLowerCase())

/** The size of an item as JSON, as Mixpanel's per-item limits count it. */
export const jsonBytes = (item: unknown): number => Buffer.byteLength(JSON.stringify(item))

/**
 * A check by one of `Message`'s schemas, the rules the client builds its messages with: `undefined`
 * when `value` passes, else the field (the path of the first issue under `field`) and the schema's words.
 */
export const checkWith = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (value: unknown, field: string): Verdict | undefined => {
    const result = decode(value)
    if (Either.isRight(result)) return undefined
    const [issue] = ParseResult.ArrayFormatter.formatErrorSync(result.left)
    const path = [field, ...(issue?.path ?? []).map(String)].filter((part) => part !== "").join(".")
    const why = issue?.message ?? "is invalid"
    return path === "" ? refuse("", why) : invalid(path, why)
  }
}

/** The `rejectRecord` hook, as a refusal. */
export const hook = (rules: Rules, endpoint: Endpoint, item: Api.JsonObject): Verdict | undefined => {
  const rejection = rules.rejectRecord?.(endpoint, item)
  if (rejection === undefined) return undefined
  return typeof rejection === "string" ? refuse("properties", rejection) : refuse(rejection.field, rejection.message)
}
