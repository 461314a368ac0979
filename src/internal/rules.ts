/**
 * The rules of a message's fields that both roads to the wire apply: `Message`'s schemas (as their
 * filters) and the `Mixpanel` service's fast path for events. Defined once here, so the two cannot drift.
 */

/** Placeholder ids that Mixpanel refuses as a `distinct_id` (compared without regard to case). */
export const placeholderIds: ReadonlySet<string> = new Set([
  "00000000-0000-0000-0000-000000000000",
  "anon",
  "anonymous",
  "nil",
  "none",
  "null",
  "n/a",
  "na",
  "undefined",
  "unknown",
  "<nil>",
  "0",
  "-1",
  "true",
  "false",
  "[]",
  "{}"
])

/** A project token: a string that is not blank. */
export const isToken = (token: unknown): token is string => typeof token === "string" && token.trim() !== ""

/** An event name: a string that is not empty. */
export const isEventName = (name: unknown): name is string => typeof name === "string" && name !== ""

/** A `distinct_id`: any string but a placeholder (all of which are short). */
export const isDistinctId = (id: unknown): id is string =>
  typeof id === "string" && (id.length > 36 || !placeholderIds.has(id.toLowerCase()))

/** A time: finite milliseconds since the epoch, not before 1970. */
export const isTime = (time: unknown): time is number => typeof time === "number" && Number.isFinite(time) && time >= 0

/** An `$insert_id`: 1 to 36 characters of `[A-Za-z0-9-]`. */
export const insertIdPattern = /^[A-Za-z0-9-]{1,36}$/

/** Whether `id` is an `$insert_id` by `insertIdPattern`. */
export const isInsertId = (id: unknown): id is string => typeof id === "string" && insertIdPattern.test(id)
