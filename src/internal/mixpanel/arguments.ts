/**
 * Reading the arguments of the `Mixpanel` service's operations, each once (`json.ts`), from callers with
 * types or without: a value of the right kind, or an `InvalidMessage` naming the argument.
 */
import * as Either from "effect/Either"
import { InvalidMessage } from "../../MixpanelError.js"
import * as Issues from "../issues.js"
import * as Json from "../json.js"
import { formatPath } from "../json.js"
import * as Fields from "../rules.js"
import { fromIssue, join, type Read } from "./encode.js"

export const bad = (operation: string, field: string, detail: string) =>
  Either.left(new InvalidMessage({ operation, field, detail }))

/** A snapshot of an optional object argument (a plain object of JSON values and dates). */
export const readObject = (
  operation: string,
  field: string,
  value: unknown
): Read<Record<string, unknown> | undefined> =>
  Either.map(readSnapshot(operation, field, value), (snapshot) => snapshot?.value as Record<string, unknown>)

/**
 * `readObject`, with the size the walk counted. Its dates are formatted when the message is written (for an
 * event the buffer takes unwritten, by the worker that sends it), not in the call.
 */
export const readSnapshot = (operation: string, field: string, value: unknown): Read<Json.Snapshot | undefined> => {
  if (value === undefined) return Either.right(undefined)
  if (!Json.isPlainObject(value)) return bad(operation, field, "expected a plain object")
  const snapshot = Json.snapshot(value, "later")
  return Json.isIssue(snapshot) ? Either.left(fromIssue(operation, snapshot, field)) : Either.right(snapshot)
}

export const readDistinctId = (operation: string, field: string, id: unknown, profile: boolean): Read<string> => {
  if (typeof id !== "string") return bad(operation, field, "expected a string")
  if (profile && id === "") return bad(operation, field, "a profile needs a non-empty distinct id")
  if (!Fields.isDistinctId(id))
    return bad(operation, field, "a placeholder id (such as `null` or `anonymous`) that Mixpanel refuses")
  return Either.right(id)
}

export const readEventName = (operation: string, field: string, name: unknown): Read<string> =>
  Fields.isEventName(name)
    ? Either.right(name)
    : bad(operation, field, typeof name === "string" ? "an event name cannot be empty" : "expected a string")

export const readTime = (operation: string, field: string, time: unknown): Read<number> => {
  let millis: unknown = time
  if (typeof time === "object" && time !== null) {
    try {
      millis = time instanceof Date ? time.getTime() : undefined
    } catch {
      millis = undefined
    }
  }
  return Fields.isTime(millis)
    ? Either.right(millis)
    : bad(operation, field, "expected a valid Date, or milliseconds since the epoch (not before 1970)")
}

/**
 * What an event's option or field the operation does not have was likely meant as, when it is no
 * misspelling: Mixpanel reads an event's IP address (for its location) from its `ip` property.
 */
export const eventHints: ReadonlyMap<string, string> = new Map([
  ["ip", ": an event's IP address goes in its properties, as `ip`"]
])

/** Why `key` is not one of `names`: a hint for it, or the name it is nearest to, then `names`, labelled. */
export const unknownKey = (
  key: string,
  label: string,
  names: ReadonlyArray<string>,
  hints: ReadonlyMap<string, string>
): string => `${hints.get(key) ?? Issues.didYouMean(Issues.suggest(key, names))} (its ${label}: ${names.join(", ")})`

/** The options object of an operation: only `names` are allowed, each read once. */
export const readOptions = (
  operation: string,
  options: unknown,
  names: ReadonlyArray<string>,
  hints: ReadonlyMap<string, string> = new Map()
): Read<Record<string, unknown>> => {
  const read = readObject(operation, "options", options)
  if (Either.isLeft(read) || read.right === undefined) return Either.map(read, (value) => value ?? {})
  const unknown = Object.keys(read.right).find((key) => !names.includes(key))
  if (unknown === undefined) return Either.right(read.right)
  return bad(
    operation,
    join("options", formatPath([unknown])),
    `is not an option of ${operation}${unknownKey(unknown, "options", names, hints)}`
  )
}

/** The `meta` of read options, which must be an object if given. */
export const metaOf = (
  operation: string,
  options: Record<string, unknown>
): Read<Record<string, unknown> | undefined> =>
  options.meta === undefined || Json.isPlainObject(options.meta)
    ? Either.right(options.meta as Record<string, unknown> | undefined)
    : bad(operation, "options.meta", "expected a plain object")

export const modifierNames = ["meta", "$ip", "$ignore_time", "$ignore_alias", "$latitude", "$longitude"]

/** Errors about a modifier name the option it came from. */
export const modifierOptions: Readonly<Record<string, string>> = Object.fromEntries(
  modifierNames.map((name) => [name, `options.${name}`])
)

/** Most items in one batch call: an iterable is read no further (an endless one would never end). */
export const maxBatchItems = 1_000_000

/** Reads the items of a batch argument, keeping only the first failure (a batch of bad items costs O(1)). */
export const readItems = (operation: string, items: unknown): Read<ReadonlyArray<unknown>> => {
  if (typeof items !== "object" || items === null) return bad(operation, "events", "expected an array of events")
  const tooMany = () =>
    bad(operation, "events", `holds more than ${maxBatchItems.toLocaleString("en-US")} events: send them in parts`)
  try {
    if (Array.isArray(items)) return items.length > maxBatchItems ? tooMany() : Either.right(items.slice())
    if (typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function") {
      return bad(operation, "events", "expected an array (or an iterable) of events")
    }
    const read: Array<unknown> = []
    for (const item of items as Iterable<unknown>) {
      if (read.length === maxBatchItems) return tooMany()
      read.push(item)
    }
    return Either.right(read)
  } catch {
    return bad(operation, "events", "reading the events threw an exception")
  }
}
