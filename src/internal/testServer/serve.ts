/**
 * Serving one ingestion request as Mixpanel does (`MIXPANEL_API.md`, "Responses" and "Request size"):
 * credentials, then the size of the body as sent, then the payload, then the item count, then each item
 * on its own. `/track`, `/engage` and `/groups` keep the good items and answer `0` when any was refused;
 * `/import` is strict unless `strict=0`: it imports the good records and lists the others in
 * `failed_records`.
 */
import type { Endpoint } from "../../Endpoint.js"
import type * as Api from "../../MixpanelTestServer.js"
import {
  type Answer,
  type FailedRecord,
  importFailed,
  importOk,
  liveOk,
  liveRefused,
  refuseRequest,
  tooManyBytes,
  unauthorized
} from "./answers.js"
import { importAuthorized } from "./auth.js"
import { checkEvent } from "./events.js"
import { checkGroup, checkProfile } from "./profiles.js"
import { isObject, type Rules, type Verdict } from "./verdict.js"
import type { Parsed } from "./wire.js"

/** The resolved options the ingestion endpoints serve by. */
export interface Settings {
  readonly maxItems: number
  readonly maxBytes: number
  readonly auth: Api.Auth | undefined
  readonly rules: Rules
}

/** What a request carries, read off the wire. */
export interface Request {
  readonly endpoint: Endpoint
  /** A parameter of the query or of a form body. */
  readonly param: (name: string) => string | undefined
  readonly authorization: string | undefined
  readonly projectId: string | null
  /** The size Mixpanel limits (see `wire.sizeAsSent`). */
  readonly bytes: number
  readonly parsed: Parsed
}

/** The answer, and what the server keeps of the request. */
export interface Served {
  readonly answer: Answer
  readonly accepted: ReadonlyArray<Api.JsonObject>
  readonly dropped: ReadonlyArray<Api.DroppedItem>
}

export const answerOnly = (answer: Answer): Served => ({ answer, accepted: [], dropped: [] })

const check = (endpoint: Endpoint, item: unknown, rules: Rules): Verdict => {
  switch (endpoint) {
    case "events":
    case "imports":
      return checkEvent(endpoint, item, rules)
    case "people":
      return checkProfile(item, rules)
    case "groups":
      return checkGroup(item, rules)
  }
}

const dropped = (
  endpoint: Endpoint,
  item: unknown,
  reason: Api.DropReason,
  field: string,
  message: string
): Api.DroppedItem => ({ endpoint, item, reason, field, message })

const insertIdOf = (item: unknown): { readonly insert_id?: string } => {
  const properties = isObject(item) ? item.properties : undefined
  const id = isObject(properties) ? properties.$insert_id : undefined
  return typeof id === "string" ? { insert_id: id } : {}
}

/** `/import`: each record on its own; refusals are `failed_records` when strict, silent drops when not. */
const serveImport = (items: ReadonlyArray<unknown>, strict: boolean, rules: Rules): Served => {
  const accepted: Array<Api.JsonObject> = []
  const lost: Array<Api.DroppedItem> = []
  const failed: Array<FailedRecord> = []
  items.forEach((item, index) => {
    const verdict = checkEvent("imports", item, rules)
    if (verdict._tag === "Accept") accepted.push(item as Api.JsonObject)
    else if (verdict._tag === "Drop")
      lost.push(dropped("imports", item, verdict.reason, verdict.field, verdict.message))
    else if (strict) failed.push({ index, ...insertIdOf(item), field: verdict.field, message: verdict.message })
    else lost.push(dropped("imports", item, "Invalid", verdict.field, verdict.message))
  })
  // without strict Mixpanel validates nothing in the request: it counts every record as imported
  const answer =
    failed.length > 0 ? importFailed(accepted.length, failed) : importOk(strict ? accepted.length : items.length)
  return { answer, accepted, dropped: lost }
}

/** `/track`, `/engage`, `/groups`: the good items are kept; any refusal makes the answer `0`. */
const serveLive = (endpoint: Endpoint, items: ReadonlyArray<unknown>, verbose: boolean, rules: Rules): Served => {
  const accepted: Array<Api.JsonObject> = []
  const lost: Array<Api.DroppedItem> = []
  let refusal: string | undefined
  items.forEach((item, index) => {
    const verdict = check(endpoint, item, rules)
    if (verdict._tag === "Accept") accepted.push(item as Api.JsonObject)
    else if (verdict._tag === "Drop") lost.push(dropped(endpoint, item, verdict.reason, verdict.field, verdict.message))
    else refusal ??= items.length > 1 ? `item ${index}: ${verdict.message}` : verdict.message
  })
  const answer = refusal === undefined ? liveOk(verbose) : liveRefused(200, verbose, refusal)
  return { answer, accepted, dropped: lost }
}

/** The checks of a request as a whole, in this order: credentials, size, payload. Its items, or the answer. */
export const admit = (settings: Settings, request: Request): Served | { readonly items: ReadonlyArray<unknown> } => {
  const isImport = request.endpoint === "imports"
  if (isImport && settings.auth !== undefined) {
    if (!importAuthorized(settings.auth, request.authorization, request.projectId)) return answerOnly(unauthorized)
  }
  if (request.bytes > settings.maxBytes) return answerOnly(tooManyBytes(settings.maxBytes))
  const parsed = request.parsed
  return "error" in parsed ? answerOnly(refuseRequest(isImport, isVerbose(request), 400, parsed.error)) : parsed
}

export const isVerbose = (request: Request): boolean => request.param("verbose") === "1"

export const serve = (settings: Settings, request: Request): Served => {
  const admitted = admit(settings, request)
  if ("answer" in admitted) return admitted
  const { endpoint } = request
  const isImport = endpoint === "imports"
  if (admitted.items.length > settings.maxItems) {
    const error = `request exceeds max limit of ${settings.maxItems} items`
    return answerOnly(refuseRequest(isImport, isVerbose(request), 400, error))
  }
  return isImport
    ? serveImport(admitted.items, request.param("strict") !== "0", settings.rules)
    : serveLive(endpoint, admitted.items, isVerbose(request), settings.rules)
}
