/**
 * Encoding a message with `Message`'s schemas into its JSON text, and errors that name what the caller
 * passed (the argument a field came from), never the value.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as Message from "../../Message.js"
import { InvalidMessage } from "../../MixpanelError.js"
import { maxWireBytes, Unwritten } from "../consumer/unwritten.js"
import * as Issues from "../issues.js"
import * as Json from "../json.js"
import { formatPath, utf8Length } from "../json.js"

/** A value read or built, or the error naming what is wrong with it. */
export type Read<A> = Either.Either<A, InvalidMessage>

export const join = (prefix: string, path: string) =>
  prefix === "" ? path : path === "" ? prefix : path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`

export const fromIssue = (operation: string, issue: Json.Issue, prefix: string): InvalidMessage =>
  new InvalidMessage({ operation, field: join(prefix, formatPath(issue.path)), detail: issue.detail })

/**
 * Where a field of a message came from, for errors that name what the caller passed: the message's first
 * path segment renamed (`$add` → `properties`, `$distinct_id` → `distinctId`), or a whole path
 * (`properties.alias` → `aliasId`), and where `meta` came from.
 */
export interface Origin {
  readonly prefix: string
  readonly meta: string
  readonly renames?: Readonly<Record<string, string>>
  /** The argument that holds every other field (`update` for a whole update). */
  readonly others?: string
}

export const renamed = (origin: Origin, path: ReadonlyArray<PropertyKey>): string => {
  const whole = origin.renames?.[formatPath(path)]
  if (whole !== undefined) return join(origin.prefix, whole)
  const [head, ...rest] = path
  const name = typeof head === "string" ? origin.renames?.[head] : undefined
  if (name !== undefined) return join(origin.prefix, join(name, formatPath(rest)))
  return join(origin.prefix, origin.others === undefined ? formatPath(path) : join(origin.others, formatPath(path)))
}

/** Encodes one message of `schema` to its JSON text, with `meta` merged in; `Left` names what is wrong. */
export const encoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = ParseResult.encodeEither(schema, { onExcessProperty: "error" })
  return (operation: string, message: A, meta: object | undefined, origin: Origin): Read<string> => {
    const encoded = encode(message)
    if (Either.isLeft(encoded)) {
      const { detail, path } = Issues.first(encoded.left)
      return Either.left(new InvalidMessage({ operation, field: renamed(origin, path), detail }))
    }
    let wire = encoded.right as object
    if (meta !== undefined) {
      const clash = Object.keys(meta).find((key) => Object.hasOwn(wire, key))
      if (clash !== undefined) {
        return Either.left(
          new InvalidMessage({
            operation,
            field: join(origin.meta, formatPath([clash])),
            detail: "the message sets this key itself"
          })
        )
      }
      wire = { ...wire, ...meta }
    }
    const json = JSON.stringify(wire)
    return underLimit(json) ? Either.right(json) : Either.left(tooLarge(operation, json, wire, origin, meta))
  }
}

/** A JSON text of at most this many UTF-16 units is under `maxBytes` whatever it holds. */
const surelySmall = Math.floor(Json.maxBytes / 3)

/** Whether a message's JSON text is under Mixpanel's limit on a message (counted in UTF-8 bytes). */
export const underLimit = (json: string): boolean => json.length <= surelySmall || utf8Length(json) <= Json.maxBytes

/**
 * The error of a message whose JSON text `json` is over Mixpanel's limit: it names the field that holds
 * at least half of the message, followed down as far as one part holds half of it (the event name, the
 * distinct id, `properties.notes`), or the whole message when none does; `meta` says which of the
 * message's keys came from the `meta` option. Made on the failure path only: a message under the limit is
 * never measured.
 */
export const tooLarge = (
  operation: string,
  json: string,
  message: object,
  origin: Origin,
  meta?: object
): InvalidMessage => {
  const bytes = utf8Length(json)
  // the message is plain JSON data: each part's bytes are those of its JSON
  const { path, size } = Json.largestPart(message, (part) => utf8Length(JSON.stringify(part) ?? ""))
  const [head] = path
  const field =
    path.length === 0
      ? origin.prefix
      : meta !== undefined && typeof head === "string" && Object.hasOwn(meta, head)
        ? join(origin.meta, formatPath(path))
        : renamed(origin, path)
  const of = path.length === 0 ? "" : `, ${size} of them in this field`
  return new InvalidMessage({
    operation,
    field,
    detail: `the message is ${bytes} bytes of JSON${of}; Mixpanel takes less than ${Json.maxBytes}`
  })
}

export const encodeEvent = encoder(Message.Event)
export const encodeProfile = encoder(Message.ProfileUpdate)
export const encodeGroup = encoder(Message.GroupUpdate)

/** The part of every event's JSON that is the same for every event of one service. */
export interface EventTemplate {
  /** `"token":"…"` */
  readonly token: string
  /** `"mp_lib":"…","$lib_version":"…"` */
  readonly library: string
}

export const eventTemplate = (token: string, library: string, version: string): EventTemplate => ({
  token: `"token":${JSON.stringify(token)}`,
  library: `"mp_lib":${JSON.stringify(library)},"$lib_version":${JSON.stringify(version)}`
})

/**
 * The JSON that `JSON.stringify` writes for an event of `Message.Event` whose properties are the library's
 * followed by `properties` (none of them one the library sets, none integer-like), with the fixed part
 * written once per service: the properties are the only object serialized per event.
 */
export const eventJson = (
  template: EventTemplate,
  event: string,
  distinctId: string,
  time: number,
  insertId: string,
  properties: object | undefined
): string => {
  const rest = properties === undefined ? "{}" : JSON.stringify(properties)
  return `{"event":${JSON.stringify(event)},"properties":{${template.token},"distinct_id":${JSON.stringify(distinctId)},"time":${time},"$insert_id":"${insertId}",${template.library}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}}`
}

/** An event checked in the call, whose `eventJson` a worker writes when it sends it. */
export class UnwrittenEvent extends Unwritten {
  readonly size: number
  constructor(
    readonly template: EventTemplate,
    readonly event: string,
    readonly distinctId: string,
    readonly time: number,
    readonly insertId: string,
    readonly properties: object | undefined,
    propertiesSize: number
  ) {
    super()
    // the text around the fields, about 60 characters, and the time's 13 digits: counted as 80
    this.size =
      80 +
      template.token.length +
      template.library.length +
      event.length +
      distinctId.length +
      insertId.length +
      propertiesSize
  }

  write(): string {
    return eventJson(this.template, this.event, this.distinctId, this.time, this.insertId, this.properties)
  }
}

/** Whether an unwritten message is surely under Mixpanel's limit on a message, however it is written. */
export const surelyUnderLimit = (message: Unwritten): boolean => maxWireBytes(message) < Json.maxBytes
