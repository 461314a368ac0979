/**
 * Mixpanel's rules for one event on `/track` and `/import` (`MIXPANEL_API.md`, "Message shapes" and
 * "Request size"; Mixpanel's import reference, "Validation"). The checks the client shares are `Message`'s
 * own schemas; where Mixpanel is laxer than the client (a `/track` event without `time` or `$insert_id`,
 * an `/import` record without `token`) or stricter (`$insert_id` and `distinct_id` required on `/import`),
 * the rule is Mixpanel's.
 */
import * as Message from "../../Message.js"
import type * as Api from "../../MixpanelTestServer.js"
import {
  accept,
  checkWith,
  drop,
  hook,
  invalid,
  isObject,
  isPlaceholder,
  jsonBytes,
  type Rules,
  refuse,
  toMillis,
  type Verdict
} from "./verdict.js"

/** An event must be smaller than 1 MB of JSON; read as 1 MiB (the client stops at 1,000,000 bytes). */
export const maxEventBytes = 1024 * 1024

export const HOUR = 60 * 60 * 1000
/** `/track` takes the last 5 days. */
export const FIVE_DAYS = 5 * 24 * HOUR
/** `/import` takes 1971-01-01T00:00:00Z up to now + 1 hour. */
export const IMPORT_EARLIEST = Date.UTC(1971, 0, 1)

const eventName = checkWith(Message.EventName)
const token = checkWith(Message.Token)
const time = checkWith(Message.Time)
const insertId = checkWith(Message.InsertId)

const tokenRule = (endpoint: "events" | "imports", properties: Api.JsonObject, rules: Rules): Verdict | undefined => {
  // `/track` knows the project by the token alone; `/import` by its credentials, a token is optional there
  if (endpoint === "imports" && properties.token === undefined) return undefined
  const wrong = token(properties.token, "properties.token")
  if (wrong !== undefined) return wrong
  return rules.token !== undefined && properties.token !== rules.token
    ? invalid("properties.token", "not the project's token")
    : undefined
}

/** `$merge`: `{$distinct_ids: [a, b], token}`, on `/import` only, with no `time` or `$insert_id` needed. */
const mergeRule = (endpoint: "events" | "imports", properties: Api.JsonObject): Verdict | undefined => {
  if (endpoint === "events") return invalid("event", "$merge is accepted on /import only")
  const ids = properties.$distinct_ids
  if (!Array.isArray(ids) || ids.length !== 2 || !ids.every((id) => typeof id === "string" && id !== "")) {
    return invalid("properties.$distinct_ids", "must be a list of exactly two distinct ids")
  }
  return properties.token === undefined ? invalid("properties.token", "is missing") : undefined
}

/** `$create_alias`: `{distinct_id, alias, token}`. */
const aliasRule = (properties: Api.JsonObject): Verdict | undefined => {
  if (typeof properties.alias !== "string" || properties.alias === "") {
    return invalid("properties.alias", "must be a non-empty string")
  }
  return typeof properties.distinct_id === "string" ? undefined : invalid("properties.distinct_id", "is missing")
}

/** The shape of an event: a refusal, or `undefined`. */
const shape = (endpoint: "events" | "imports", item: Api.JsonObject, rules: Rules): Verdict | undefined => {
  const badName = eventName(item.event, "event")
  if (badName !== undefined) return badName
  const properties = item.properties
  if (!isObject(properties)) return invalid("properties", "must be a JSON object")
  const badToken = tokenRule(endpoint, properties, rules)
  if (badToken !== undefined) return badToken
  if (item.event === "$merge") {
    const badMerge = mergeRule(endpoint, properties)
    if (badMerge !== undefined) return badMerge
  } else if (item.event === "$create_alias") {
    const badAlias = aliasRule(properties)
    if (badAlias !== undefined) return badAlias
  }
  // `/import` needs (event, time, distinct_id, $insert_id), its deduplication key; `$merge` has none
  const required = endpoint === "imports" && item.event !== "$merge"
  const id = properties.distinct_id
  if (id !== undefined && typeof id !== "string") return invalid("properties.distinct_id", "must be a string")
  if (required && id === undefined) return invalid("properties.distinct_id", "is missing")
  if (properties.time !== undefined || required) {
    const badTime = time(properties.time, "properties.time")
    if (badTime !== undefined) return badTime
  }
  const insert = properties.$insert_id
  if (insert !== undefined || required) {
    const badInsertId = insertId(insert, "properties.$insert_id")
    if (badInsertId !== undefined) return badInsertId
    if (isPlaceholder(insert as string)) return invalid("properties.$insert_id", "a placeholder id is not allowed")
  }
  return undefined
}

/** What Mixpanel makes of one event sent to `/track` or `/import`. */
export const checkEvent = (endpoint: "events" | "imports", item: unknown, rules: Rules): Verdict => {
  if (!isObject(item)) return refuse("", "an event must be a JSON object")
  const bytes = jsonBytes(item)
  if (bytes >= maxEventBytes) {
    return refuse("", `the event is ${bytes} bytes of JSON; an event must be smaller than ${maxEventBytes}`)
  }
  const refused = shape(endpoint, item, rules) ?? hook(rules, endpoint, item)
  if (refused !== undefined) return refused
  const properties = item.properties as Api.JsonObject
  const id = properties.distinct_id
  if (typeof id === "string" && isPlaceholder(id)) {
    // `/import` validates and says so; `/track` answers 1 and drops the event
    const why = `"${id}" is a placeholder id that Mixpanel blocks`
    return endpoint === "imports"
      ? invalid("properties.distinct_id", why)
      : drop("PlaceholderId", "properties.distinct_id", why)
  }
  const at = typeof properties.time === "number" ? toMillis(properties.time) : undefined
  if (rules.checkTime && at !== undefined) {
    const now = rules.now()
    if (endpoint === "imports" && (at < IMPORT_EARLIEST || at > now + HOUR)) {
      return invalid("properties.time", "must be between 1971-01-01 and 1 hour from now")
    }
    if (endpoint === "events" && at < now - FIVE_DAYS) {
      return drop("TooOld", "properties.time", "/track takes the events of the last 5 days only")
    }
  }
  return accept
}
