/**
 * From a record as read (a JSON object, a CSV row) to the JSON of one Mixpanel message: column mapping,
 * the record's shape (flat, or already Mixpanel's), times to milliseconds, the token, and a `$insert_id`
 * derived from the event's content when it has none; then `Message`'s schemas decide whether it is valid
 * and encode it.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { RecordType } from "../../Import.js"
import * as Message from "../../Message.js"
import { formatPath } from "../json.js"
import * as Rules from "../rules.js"
import { murmur128 } from "./hash.js"

/** A message ready to send, or why a record cannot be one. */
export type Built = { readonly json: string } | { readonly reason: string }

type Fields = { readonly [key: string]: unknown }

/** Whether `value` is an object of fields (not `null`, not an array). */
export const isObject = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A record's own field `key` (`undefined` when it has none): `constructor` or `toString` are a record's
 * fields only when it has them, never `Object.prototype`'s.
 */
const own = (fields: Fields, key: string): unknown => (Object.hasOwn(fields, key) ? fields[key] : undefined)

/**
 * `target[key] = value` as an own field, whatever the key: assigned, `__proto__` would set the object's
 * prototype and the field would be lost without a word; as a field, `Message`'s schemas refuse it by name,
 * as `Mixpanel.track` does.
 */
export const setField = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/**
 * Milliseconds since the epoch from seconds, milliseconds (a number, or digits in a string) or an ISO 8601
 * date; `undefined` when the value is none of them. Numbers under 1e11 are seconds (1e11 seconds is the
 * year 5138; 1e11 milliseconds is 1973), as Mixpanel reads them. An ISO date without a zone is UTC.
 */
export const toMillis = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? fromNumber(value) : undefined
  if (typeof value !== "string") return undefined
  const text = value.trim()
  if (/^-?\d+(\.\d+)?$/.test(text)) return fromNumber(Number(text))
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(text)
  if (iso === null) return undefined
  const [, date, clock, zone] = iso
  // `Date.parse` rolls a day the month does not have over into the next (2024-02-30 is March 1st)
  if (!isCalendarDate(date as string)) return undefined
  if (clock === undefined) return orUndefined(Date.parse(`${date}T00:00:00Z`))
  const offset =
    zone === undefined || zone.toUpperCase() === "Z"
      ? "Z"
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(":")
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`
  return orUndefined(Date.parse(`${date}T${clock}${offset}`))
}

/** Whether `yyyy-mm-dd` is a day of the (proleptic Gregorian) calendar. */
const isCalendarDate = (date: string): boolean => {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number]
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
  return month >= 1 && month <= 12 && day >= 1 && day <= days
}

const fromNumber = (n: number): number => Math.round(n < 1e11 ? n * 1000 : n)

const orUndefined = (n: number): number | undefined => (Number.isNaN(n) ? undefined : n)

const badTime = "not seconds or milliseconds since the epoch, nor an ISO 8601 date"

/**
 * Renames fields by `mapping` (target name → the name in the record). A name not at the top of the record
 * is looked for in its `properties`, and renamed there.
 */
export const applyMapping = (record: Fields, mapping: ReadonlyArray<readonly [string, string]>): Fields => {
  if (mapping.length === 0) return record
  let top: Record<string, unknown> | undefined
  let properties: Record<string, unknown> | undefined
  for (const [target, source] of mapping) {
    if (Object.hasOwn(record, source)) {
      top ??= { ...record }
      const value = top[source]
      delete top[source]
      setField(top, target, value)
    } else if (isObject(record.properties) && Object.hasOwn(record.properties, source)) {
      properties ??= { ...record.properties }
      const value = properties[source]
      delete properties[source]
      setField(properties, target, value)
    }
  }
  if (properties === undefined) return top ?? record
  return { ...(top ?? record), properties }
}

/** The first issue of a failed encoding, as `path: message`. */
const describe = (issue: ParseResult.ParseIssue): string => {
  const [first] = ParseResult.ArrayFormatter.formatIssueSync(issue)
  if (first === undefined) return ParseResult.TreeFormatter.formatIssueSync(issue)
  const path = first.path.map((key) => String(key)).join(".")
  return path === "" ? first.message : `${path}: ${first.message}`
}

const encoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = ParseResult.encodeUnknownEither(schema)
  return (message: unknown): Built => {
    const encoded = encode(message)
    if (Either.isLeft(encoded)) return { reason: describe(encoded.left) }
    return { json: JSON.stringify(encoded.right) }
  }
}

const encodeEvent = encoder(Message.Event)
/** An event's name alone, by `Message.Event`'s rule: a record without one has no time to look for either. */
const encodeName = encoder(Schema.Struct({ event: Message.Event.fields.event }))
const encodeProfile = encoder(Message.ProfileUpdate)
const encodeGroup = encoder(Message.GroupUpdate)

const tooLarge = (json: string, bytes: (json: string) => number): Built | undefined => {
  if (json.length * 3 < Message.maxMessageBytes) return undefined
  const size = bytes(json)
  return size > Message.maxMessageBytes
    ? { reason: `the message is ${size} bytes of JSON; Mixpanel takes at most ${Message.maxMessageBytes}` }
    : undefined
}

/** What building a message needs besides the record. */
export interface Context {
  readonly type: RecordType
  readonly token: string
  readonly groupKey: string | undefined
  /** UTF-8 bytes of a text. */
  readonly bytes: (json: string) => number
}

/**
 * The keys of an event's properties that `Message.EventProperties` names, in its order (not `__proto__`, which it
 * names to refuse).
 */
type EventKey = Exclude<keyof typeof Message.EventProperties.fields, "__proto__">
const eventKeys: ReadonlyArray<EventKey> = Object.keys(Message.EventProperties.fields).filter(
  (key): key is EventKey => key !== "__proto__"
)

/**
 * The properties of an event as the schema encodes them: its named keys first, in the schema's order,
 * then the others in the record's order; with the token added unless the record has one, and `time` as
 * given (milliseconds by now).
 */
export const eventProperties = (
  properties: Fields,
  flat: boolean,
  token: string,
  time: number
): Record<string, unknown> => {
  const ordered: Record<string, unknown> = {}
  for (const key of eventKeys) {
    const value = key === "time" ? time : key === "token" ? (properties.token ?? token) : properties[key]
    if (value !== undefined) ordered[key] = value
  }
  // A flat record's `event` is the event's name, not a property.
  for (const key of Object.keys(properties)) {
    if (!Object.hasOwn(ordered, key) && !(flat && key === "event")) setField(ordered, key, properties[key])
  }
  return ordered
}

/**
 * `Message.EventProperties`' named keys with the rules their schemas are made of (`Rules`), and whether
 * the key may be missing (or `undefined`). `Schema.is` checks the same at about 800 bytes of garbage and
 * 200 ns a call, a third of the garbage of building a message; the test of `encodeEventFast` holds the
 * two equal, and a key the schema gains is a type error here until it has its rule.
 */
const namedRules: {
  readonly [K in EventKey]: {
    readonly rule: (value: unknown) => boolean
    readonly optional: boolean
  }
} = {
  token: { rule: Rules.isToken, optional: false },
  distinct_id: { rule: Rules.isDistinctId, optional: true },
  time: { rule: Rules.isTime, optional: true },
  $insert_id: { rule: Rules.isInsertId, optional: true }
}

const namedChecks = Object.entries(namedRules)

const hasValidNamedProperties = (properties: Fields): boolean => {
  for (const [key, { optional, rule }] of namedChecks) {
    const value = properties[key]
    if (value === undefined ? !optional : !rule(value)) return false
  }
  return true
}

const encodeProperties = ParseResult.encodeUnknownEither(Message.Properties)

/**
 * `Message.Event`'s encoding, the cheap way: the name and the named properties checked with their own
 * schemas, every property value encoded by `Message.Properties` in one walk; `undefined` when any of them
 * fails (the full encoding then says why). A test holds it equal to the full encoding, byte for byte.
 */
export const encodeEventFast = (name: unknown, properties: Fields): string | undefined => {
  if (!Rules.isEventName(name) || !hasValidNamedProperties(properties)) return undefined
  const encoded = encodeProperties(properties)
  return Either.isRight(encoded) ? JSON.stringify({ event: name, properties: encoded.right }) : undefined
}

/**
 * An event for `/import`: `{ event, properties }` as it is, or a flat record whose `event` is the name and
 * whose other fields are the properties. The name is checked first: without one, the record is not in
 * Mixpanel's shape, and its time would be looked for in the wrong place. The token is added unless the
 * record has one; `time` is required and made milliseconds; a missing `$insert_id` becomes the hash of the
 * event's JSON without it.
 */
const event = (record: Fields, context: Context): Built => {
  const name = record.event
  if (!Rules.isEventName(name)) return encodeName(defined("event", name))
  const flat = !(isObject(record.properties) && Object.hasOwn(record, "event"))
  // In Mixpanel's shape, a field beside `event` and `properties` would be dropped without a word
  const beside = flat ? undefined : Object.keys(record).find((key) => key !== "event" && key !== "properties")
  if (beside !== undefined) {
    return {
      reason: `${formatPath([beside])}: an event holds only event and properties: put it in properties (a --transform can move it)`
    }
  }
  const given = flat ? record : (record.properties as Fields)
  if (given.time === undefined) return { reason: "properties.time: an imported event needs a time" }
  const time = toMillis(given.time)
  if (time === undefined) return { reason: `properties.time: ${badTime}` }
  const properties = eventProperties(given, flat, context.token, time)
  const fast = encodeEventFast(name, properties)
  // the full encoding names the first problem
  const built = fast === undefined ? encodeEvent({ event: name, properties }) : { json: fast }
  if (!("json" in built)) return built
  // `properties` is the last key of the encoded event and is never empty (it holds the token), so the
  // JSON ends with `}}` and the id goes right before.
  const json =
    properties.$insert_id === undefined
      ? `${built.json.slice(0, -2)},"$insert_id":"${murmur128(built.json)}"}}`
      : built.json
  return tooLarge(json, context.bytes) ?? { json }
}

const modifierNames: ReadonlyArray<string> = Object.keys(Message.Modifiers.fields)

/** Splits a flat record into the fields named in `names` (kept at the top) and the rest (the `$set`). */
const split = (record: Fields, names: ReadonlyArray<string>, drop: ReadonlyArray<string>) => {
  const top: Record<string, unknown> = {}
  const set: Record<string, unknown> = {}
  for (const key of Object.keys(record)) {
    if (names.includes(key)) setField(top, key, record[key])
    else if (!drop.includes(key)) setField(set, key, record[key])
  }
  return { top, set }
}

/** `{ [key]: value }`, or nothing when `value` is `undefined` (so that the schema says the key is missing). */
const defined = (key: string, value: unknown): Fields => (value === undefined ? {} : { [key]: value })

const withTime = (message: Record<string, unknown>): Built | undefined => {
  if (message.$time === undefined) return undefined
  const time = toMillis(message.$time)
  if (time === undefined) return { reason: `$time: ${badTime}` }
  message.$time = time
  return undefined
}

const hasOperation = (record: Fields, operations: ReadonlyArray<string>) =>
  operations.some((name) => Object.hasOwn(record, name))

/**
 * A user profile update for `/engage`: a record holding an operation (`$set`, `$add`, ...) as it is, or a
 * flat record as a `$set` of its fields, its `$distinct_id` (or `distinct_id`) and modifiers (`$ip`, ...)
 * kept beside it.
 */
const user = (record: Fields, context: Context): Built => {
  let message: Record<string, unknown>
  if (hasOperation(record, Message.profileOperationNames)) message = { $token: context.token, ...record }
  else {
    const { set, top } = split(record, ["$distinct_id", "$token", "$time", ...modifierNames], ["distinct_id"])
    message = { $token: context.token, ...defined("$distinct_id", record.distinct_id), ...top, $set: set }
  }
  const failed = withTime(message)
  if (failed !== undefined) return failed
  const built = encodeProfile(message)
  return "json" in built ? (tooLarge(built.json, context.bytes) ?? built) : built
}

/**
 * A group profile update for `/groups`: a record holding an operation as it is, or a flat record as a
 * `$set`. The group key is the record's `$group_key`, else `groupKey`; the group id is the record's
 * `$group_id`, else `group_id`, else the field named by the group key.
 */
const group = (record: Fields, context: Context): Built => {
  const key = record.$group_key ?? context.groupKey
  if (key === undefined)
    return { reason: "$group_key: a group update needs a group key (in the record, or --group-key)" }
  let message: Record<string, unknown>
  if (hasOperation(record, Message.groupOperationNames)) message = { $token: context.token, $group_key: key, ...record }
  else {
    const idField =
      typeof key === "string" && record.$group_id === undefined && record.group_id === undefined ? key : ""
    const { set, top } = split(record, ["$group_id", "$token", "$time"], ["$group_key", "group_id", idField])
    const id = record.group_id ?? (idField === "" ? undefined : own(record, idField))
    message = { $token: context.token, $group_key: key, ...defined("$group_id", id), ...top, $set: set }
  }
  const failed = withTime(message)
  if (failed !== undefined) return failed
  const built = encodeGroup(message)
  return "json" in built ? (tooLarge(built.json, context.bytes) ?? built) : built
}

/** The message of one record. */
export const build = (record: unknown, context: Context): Built => {
  if (!isObject(record)) return { reason: "a record is a JSON object" }
  switch (context.type) {
    case "event":
      return event(record, context)
    case "user":
      return user(record, context)
    case "group":
      return group(record, context)
  }
}
