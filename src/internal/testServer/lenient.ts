/**
 * The `lenient` test server: what earlier versions accepted and answered, for tests that need it. Only
 * the shape of items is checked (no placeholder, size or value-kind rules, nothing dropped); one bad item
 * on `/track`, `/engage` or `/groups` refuses the whole request with 400; `/import` is strict only with
 * `strict=1`; more than `maxItems` items is 413. Its transports are lenient too (see `wire.ts`).
 */
import type { Endpoint } from "../../Endpoint.js"
import type * as Api from "../../MixpanelTestServer.js"
import { type FailedRecord, importFailed, importOk, liveOk, refuseRequest } from "./answers.js"
import { FIVE_DAYS, HOUR, IMPORT_EARLIEST } from "./events.js"
import { admit, answerOnly, isVerbose, type Request, type Served, type Settings } from "./serve.js"
import { hook, isObject, type Rules, toMillis } from "./verdict.js"

interface Failure {
  readonly field: string
  readonly message: string
}

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/

const failure = (field: string, message: string): Failure => ({ field, message })

const rejection = (rules: Rules, endpoint: Endpoint, item: Api.JsonObject): Failure | undefined => {
  const verdict = hook(rules, endpoint, item)
  return verdict?._tag === "Refuse" ? verdict : undefined
}

const liveFailure = (endpoint: Endpoint, item: Api.JsonObject, rules: Rules): Failure | undefined => {
  if (endpoint === "events") {
    if (typeof item.event !== "string" || item.event === "")
      return failure("event", "'event' must be a non-empty string")
    const properties = item.properties
    if (!isObject(properties)) return failure("properties", "'properties' must be a JSON object")
    if (rules.token !== undefined && properties.token !== rules.token)
      return failure("properties.token", "invalid token")
    if (rules.checkTime && typeof properties.time === "number") {
      const time = toMillis(properties.time)
      const now = rules.now()
      if (time < now - FIVE_DAYS || time > now + HOUR) {
        return failure("properties.time", "'properties.time' is outside the accepted range (the last 5 days)")
      }
    }
  } else {
    if (rules.token !== undefined && item.$token !== rules.token) return failure("$token", "invalid token")
    if (endpoint === "people") {
      const id = item.$distinct_id
      if (typeof id !== "string" && typeof id !== "number") {
        return failure("$distinct_id", "'$distinct_id' must be a string or a number")
      }
    } else {
      if (typeof item.$group_key !== "string" || item.$group_key === "") {
        return failure("$group_key", "'$group_key' must be a non-empty string")
      }
      const id = item.$group_id
      if (typeof id !== "string" && typeof id !== "number") {
        return failure("$group_id", "'$group_id' must be a string or a number")
      }
    }
  }
  return rejection(rules, endpoint, item)
}

const importFailure = (item: Api.JsonObject, rules: Rules): Failure | undefined => {
  if (typeof item.event !== "string" || item.event === "") return failure("event", "'event' must be a non-empty string")
  const properties = item.properties
  if (!isObject(properties)) return failure("properties", "'properties' must be a JSON object")
  const time = properties.time
  if (typeof time !== "number" || !Number.isFinite(time)) {
    return failure("properties.time", "'properties.time' must be a number")
  }
  const insertId = properties.$insert_id
  if (typeof insertId !== "string" || !INSERT_ID.test(insertId)) {
    return failure("properties.$insert_id", "'properties.$insert_id' must be 1 to 36 characters of [A-Za-z0-9-]")
  }
  if (properties.distinct_id !== undefined && typeof properties.distinct_id !== "string") {
    return failure("properties.distinct_id", "'properties.distinct_id' must be a string")
  }
  if (rules.token !== undefined && properties.token !== undefined && properties.token !== rules.token) {
    return failure("properties.token", "invalid token")
  }
  if (rules.checkTime) {
    const millis = toMillis(time)
    if (millis < IMPORT_EARLIEST || millis > rules.now() + HOUR) {
      return failure(
        "properties.time",
        "'properties.time' is outside the accepted range (1971-01-01 up to now + 1 hour)"
      )
    }
  }
  return rejection(rules, "imports", item)
}

export const serveLenient = (settings: Settings, request: Request): Served => {
  const admitted = admit(settings, request)
  if ("answer" in admitted) return admitted
  const { endpoint } = request
  const isImport = endpoint === "imports"
  const verbose = isVerbose(request)
  const index = admitted.items.findIndex((item) => !isObject(item))
  if (index >= 0) return answerOnly(refuseRequest(isImport, verbose, 400, `item ${index} is not a JSON object`))
  const items = admitted.items as ReadonlyArray<Api.JsonObject>
  if (items.length > settings.maxItems) {
    return answerOnly(refuseRequest(true, verbose, 413, `request exceeds max limit of ${settings.maxItems} items`))
  }
  if (!isImport) {
    for (let i = 0; i < items.length; i++) {
      const refused = liveFailure(endpoint, items[i] as Api.JsonObject, settings.rules)
      if (refused !== undefined) {
        return answerOnly(
          refuseRequest(false, verbose, 400, items.length > 1 ? `item ${i}: ${refused.message}` : refused.message)
        )
      }
    }
    return { answer: liveOk(verbose), accepted: items, dropped: [] }
  }
  const accepted: Array<Api.JsonObject> = []
  const failed: Array<FailedRecord> = []
  items.forEach((item, i) => {
    const refused = importFailure(item, settings.rules)
    if (refused === undefined) {
      accepted.push(item)
    } else {
      const properties = item.properties
      const insertId = isObject(properties) && typeof properties.$insert_id === "string" ? properties.$insert_id : ""
      failed.push({ index: i, insert_id: insertId, ...refused })
    }
  })
  const answer =
    failed.length > 0 && request.param("strict") === "1"
      ? importFailed(accepted.length, failed)
      : importOk(accepted.length)
  return { answer, accepted, dropped: [] }
}
