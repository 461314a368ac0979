import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Zlib from "node:zlib"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { Endpoint } from "../Endpoint.js"
import * as Endpoints from "../Endpoint.js"
import type * as Api from "../MixpanelTestServer.js"
import { mulberry32 } from "./prng.js"

/** @internal */
export const tag = Context.GenericTag<Api.MixpanelTestServer>("effect-mixpanel/MixpanelTestServer")

// ---------------------------------------------------------------------------------------------------
// faults
// ---------------------------------------------------------------------------------------------------

const rateLimitBody = JSON.stringify({
  code: 429,
  error: "Project exceeded rate limits. Please retry the request with exponential backoff.",
  status: "Too Many Requests"
})

/** @internal */
export const Fault: Api.FaultConstructors = {
  status: (status, options) => ({
    _tag: "Status",
    status,
    ...(options?.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}),
    ...(options?.body !== undefined ? { body: options.body } : {})
  }),
  rateLimited: (retryAfter) => ({
    _tag: "Status",
    status: 429,
    body: rateLimitBody,
    ...(retryAfter !== undefined ? { retryAfter } : {})
  }),
  drop: { _tag: "Drop" },
  stall: { _tag: "Stall" },
  slow: (delay) => ({ _tag: "Slow", millis: Duration.toMillis(delay) }),
  body: (body, status) => ({ _tag: "Body", body, ...(status !== undefined ? { status } : {}) })
}

interface QueuedFault {
  readonly fault: Api.Fault
  readonly endpoint: Api.Route | undefined
}

interface RandomState {
  readonly options: Api.RandomFaults
  readonly next: () => number
}

const makeRandom = (options: Api.RandomFaults | undefined): RandomState | undefined =>
  options === undefined ? undefined : { options, next: mulberry32(options.seed ?? 0) }

// ---------------------------------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------------------------------

const isObject = (u: unknown): u is Api.JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

const flagsPaths: { readonly [R in Api.FlagsRoute]: string } = {
  flags: "/flags",
  flagDefinitions: "/flags/definitions"
}

const routeByPath: ReadonlyMap<string, Api.Route> = new Map<string, Api.Route>([
  ...Endpoints.all.map((e) => [Endpoints.path[e], e] as const),
  ...(Object.keys(flagsPaths) as ReadonlyArray<Api.FlagsRoute>).map((r) => [flagsPaths[r], r] as const)
])

const routeOf = (pathname: string): Api.Route | undefined =>
  routeByPath.get(pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname)

const isFlagsRoute = (route: Api.Route): route is Api.FlagsRoute => route === "flags" || route === "flagDefinitions"

/** `data=` holds raw JSON or base64 JSON; a `+` turned into a space by form decoding is put back. */
const decodeData = (data: string): string => {
  const trimmed = data.trim()
  const first = trimmed.charAt(0)
  if (first === "[" || first === "{") return trimmed
  return Buffer.from(trimmed.replace(/ /g, "+"), "base64").toString("utf8")
}

const unescapeForm = (text: string): string => decodeURIComponent(text.replace(/\+/g, " "))

/** `URLSearchParams` is several times slower on big bodies than the native `decodeURIComponent`. */
const parseForm = (body: string): ReadonlyMap<string, string> => {
  const params = new Map<string, string>()
  try {
    for (const pair of body.split("&")) {
      if (pair === "") continue
      const eq = pair.indexOf("=")
      const name = unescapeForm(eq < 0 ? pair : pair.slice(0, eq))
      // the first value wins, as with `URLSearchParams.get`
      if (!params.has(name)) params.set(name, eq < 0 ? "" : unescapeForm(pair.slice(eq + 1)))
    }
    return params
  } catch {
    // a malformed percent escape, which `URLSearchParams` keeps as it is
    const lenient = new Map<string, string>()
    for (const [name, value] of new URLSearchParams(body)) if (!lenient.has(name)) lenient.set(name, value)
    return lenient
  }
}

interface Payload {
  /** The JSON (or NDJSON) text, or `undefined` when the request carried none. */
  readonly text: string | undefined
  readonly ndjson: boolean
  /** Parameters of a form body, which may also carry `verbose` and `strict`. */
  readonly form: ReadonlyMap<string, string> | undefined
}

const extractPayload = (method: string, url: URL, contentType: string, body: Buffer): Payload => {
  const queryData = url.searchParams.get("data")
  if (method === "GET" || body.length === 0) {
    return { text: queryData === null ? undefined : decodeData(queryData), ndjson: false, form: undefined }
  }
  const string = body.toString("utf8")
  if (contentType.includes("ndjson") || contentType.includes("jsonl")) {
    return { text: string, ndjson: true, form: undefined }
  }
  if (contentType.includes("json")) return { text: string, ndjson: false, form: undefined }
  if (!contentType.includes("x-www-form-urlencoded")) {
    // no usable content type: sniff
    const first = string.trimStart().charAt(0)
    if (first === "[" || first === "{") {
      const ndjson = first === "{" && /}\s*\n\s*{/.test(string)
      return { text: string, ndjson, form: undefined }
    }
  }
  const form = parseForm(string)
  const data = form.get("data") ?? queryData
  return { text: data === null ? undefined : decodeData(data), ndjson: false, form }
}

type Parsed = { readonly items: ReadonlyArray<Api.JsonObject> } | { readonly error: string }

const parseItems = (text: string | undefined, ndjson: boolean): Parsed => {
  if (text === undefined) return { error: "no data" }
  let values: Array<unknown>
  try {
    if (ndjson) {
      values = []
      for (const line of text.split("\n")) {
        const trimmed = line.trim()
        if (trimmed !== "") values.push(JSON.parse(trimmed))
      }
    } else {
      const value: unknown = JSON.parse(text)
      if (Array.isArray(value)) values = value
      else if (isObject(value)) values = [value]
      else return { error: "data must be a JSON array or a JSON object" }
    }
  } catch {
    return { error: ndjson ? "data is not valid NDJSON" : "data is not valid JSON" }
  }
  for (let i = 0; i < values.length; i++) {
    if (!isObject(values[i])) return { error: `item ${i} is not a JSON object` }
  }
  return { items: values as ReadonlyArray<Api.JsonObject> }
}

const gunzip = (body: Buffer, maxOutputLength: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    Zlib.gunzip(body, { maxOutputLength }, (error, result) => (error ? reject(error) : resolve(result)))
  })

const readBody = (req: Http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const authorized = (auth: Api.Auth, header: string | undefined, projectId: string | null): boolean => {
  const match = header === undefined ? null : /^Basic\s+(\S+)\s*$/i.exec(header)
  if (match === null) return false
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon < 0) return false
  const user = decoded.slice(0, colon)
  const password = decoded.slice(colon + 1)
  const account = auth.serviceAccount
  if (password !== "") {
    return (
      account !== undefined &&
      user === account.username &&
      password === account.secret &&
      projectId === String(account.projectId)
    )
  }
  if (auth.apiSecret !== undefined && user === auth.apiSecret) return true
  return auth.token !== undefined && user === auth.token && projectId === null
}

// ---------------------------------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------------------------------

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/
const HOUR = 60 * 60 * 1000
const FIVE_DAYS = 5 * 24 * HOUR
/** 1971-01-01T00:00:00Z */
const IMPORT_EARLIEST = 31_536_000_000

/** Mixpanel reads times under 1e11 as seconds, others as milliseconds. */
const toMillis = (time: number): number => (time < 1e11 ? time * 1000 : time)

interface FailedRecord {
  readonly index: number
  readonly insert_id: string
  readonly field: string
  readonly message: string
}

interface Failure {
  readonly field: string
  readonly message: string
}

const fromRejection = (rejection: Api.Rejection): Failure =>
  typeof rejection === "string" ? { field: "properties", message: rejection } : rejection

// ---------------------------------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------------------------------

interface Store {
  items: Array<Api.JsonObject>
  keys: Set<string>
  count: number
  duplicates: number
}

const emptyStore = (): Store => ({ items: [], keys: new Set(), count: 0, duplicates: 0 })

/** The dedup key of an event, or `undefined` when it has no `$insert_id` (Mixpanel does not dedup it). */
const dedupKey = (item: Api.JsonObject): string | undefined => {
  const properties = item.properties
  if (!isObject(properties)) return undefined
  const insertId = properties.$insert_id
  if (typeof insertId !== "string") return undefined
  const time = properties.time
  return JSON.stringify([
    item.event,
    typeof time === "number" ? toMillis(time) : (time ?? null),
    properties.distinct_id ?? null,
    insertId
  ])
}

const json = (value: unknown): string => JSON.stringify(value)

const mixpanelError = (code: number, error: string, status: string): string => json({ code, error, status })

const statusText = (status: number): string => Http.STATUS_CODES[status] ?? "Error"

const headerRecord = (headers: Http.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

interface Answer {
  readonly status: number
  readonly body: string
  readonly json: boolean
  readonly headers?: Record<string, string>
}

/** @internal */
export const start = (options: Api.Options = {}): Promise<Api.StartedServer> => {
  const maxItems = options.maxItems ?? 2000
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024
  // form and percent encoding can inflate the JSON text about three times: decompress a bit more than
  // that before giving up, so that a gzip bomb cannot exhaust memory
  const maxDecompressed = Math.max(4 * maxBytes, 1024 * 1024)
  const now = options.now ?? Date.now
  const checkTime = options.checkTime ?? false

  const stores: Record<Endpoint, Store> = {
    events: emptyStore(),
    people: emptyStore(),
    groups: emptyStore(),
    imports: emptyStore()
  }
  let log: Array<Api.RecordedRequest> = []
  let queue: Array<QueuedFault> = []
  let random = makeRandom(options.failRandomly)
  let flagDefinitions: ReadonlyArray<unknown> = options.flagDefinitions ?? []
  let remoteFlags: Api.RemoteFlags = options.remoteFlags ?? {}
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let closing: Promise<void> | undefined

  /** A real delay, cancelled when the server closes. */
  const delay = (millis: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, millis)
      timers.add(timer)
    })

  const takeFault = (endpoint: Api.Route): Api.Fault | undefined => {
    // the flags routes take only the faults meant for them
    const flags = isFlagsRoute(endpoint)
    const index = queue.findIndex((q) => q.endpoint === endpoint || (q.endpoint === undefined && !flags))
    if (index >= 0) {
      const [taken] = queue.splice(index, 1)
      return taken?.fault
    }
    if (random === undefined) return undefined
    const { endpoints, faults, rate } = random.options
    if (faults.length === 0 || (endpoints === undefined ? flags : !endpoints.includes(endpoint))) return undefined
    if (random.next() >= rate) return undefined
    return faults[Math.min(faults.length - 1, Math.floor(random.next() * faults.length))]
  }

  const record = (endpoint: Endpoint, items: ReadonlyArray<Api.JsonObject>): void => {
    const store = stores[endpoint]
    const dedup = endpoint === "events" || endpoint === "imports"
    for (const item of items) {
      store.count++
      if (dedup) {
        const key = dedupKey(item)
        if (key !== undefined) {
          if (store.keys.has(key)) {
            store.duplicates++
            continue
          }
          store.keys.add(key)
        }
      }
      store.items.push(item)
    }
  }

  const hook = (endpoint: Endpoint, item: Api.JsonObject): Failure | undefined => {
    const rejection = options.rejectRecord?.(endpoint, item)
    return rejection === undefined ? undefined : fromRejection(rejection)
  }

  /** `/track`, `/engage` and `/groups`: the reason to reject the item, if any. */
  const liveError = (endpoint: Endpoint, item: Api.JsonObject): string | undefined => {
    if (endpoint === "events") {
      if (typeof item.event !== "string" || item.event === "") return "'event' must be a non-empty string"
      const properties = item.properties
      if (!isObject(properties)) return "'properties' must be a JSON object"
      if (options.token !== undefined && properties.token !== options.token) return "invalid token"
      if (checkTime && typeof properties.time === "number") {
        const time = toMillis(properties.time)
        const at = now()
        if (time < at - FIVE_DAYS || time > at + HOUR) {
          return "'properties.time' is outside the accepted range (the last 5 days)"
        }
      }
    } else {
      if (options.token !== undefined && item.$token !== options.token) return "invalid token"
      if (endpoint === "people") {
        const id = item.$distinct_id
        if (typeof id !== "string" && typeof id !== "number") return "'$distinct_id' must be a string or a number"
      } else {
        if (typeof item.$group_key !== "string" || item.$group_key === "") {
          return "'$group_key' must be a non-empty string"
        }
        const id = item.$group_id
        if (typeof id !== "string" && typeof id !== "number") return "'$group_id' must be a string or a number"
      }
    }
    return hook(endpoint, item)?.message
  }

  const importFailure = (item: Api.JsonObject): Failure | undefined => {
    if (typeof item.event !== "string" || item.event === "") {
      return { field: "event", message: "'event' must be a non-empty string" }
    }
    const properties = item.properties
    if (!isObject(properties)) return { field: "properties", message: "'properties' must be a JSON object" }
    const time = properties.time
    if (typeof time !== "number" || !Number.isFinite(time)) {
      return { field: "properties.time", message: "'properties.time' must be a number" }
    }
    const insertId = properties.$insert_id
    if (typeof insertId !== "string" || !INSERT_ID.test(insertId)) {
      return {
        field: "properties.$insert_id",
        message: "'properties.$insert_id' must be 1 to 36 characters of [A-Za-z0-9-]"
      }
    }
    if (properties.distinct_id !== undefined && typeof properties.distinct_id !== "string") {
      return { field: "properties.distinct_id", message: "'properties.distinct_id' must be a string" }
    }
    if (options.token !== undefined && properties.token !== undefined && properties.token !== options.token) {
      return { field: "properties.token", message: "invalid token" }
    }
    if (checkTime) {
      const millis = toMillis(time)
      if (millis < IMPORT_EARLIEST || millis > now() + HOUR) {
        return {
          field: "properties.time",
          message: "'properties.time' is outside the accepted range (1971-01-01 up to now + 1 hour)"
        }
      }
    }
    return hook("imports", item)
  }

  const serve = (
    endpoint: Endpoint,
    url: URL,
    req: Http.IncomingMessage,
    payload: Payload,
    parsed: Parsed,
    bytes: number
  ): Answer => {
    const flag = (name: string) => url.searchParams.get(name) === "1" || payload.form?.get(name) === "1"
    const isImport = endpoint === "imports"
    const verbose = flag("verbose")
    const reject = (status: number, error: string): Answer =>
      isImport
        ? { status, body: mixpanelError(status, error, statusText(status)), json: true }
        : verbose
          ? { status, body: json({ status: 0, error }), json: true }
          : { status, body: "0", json: false }

    if (isImport && options.auth !== undefined) {
      if (!authorized(options.auth, req.headers.authorization, url.searchParams.get("project_id"))) {
        return { status: 401, body: mixpanelError(401, "Invalid credentials", "Unauthorized"), json: true }
      }
    }
    if (bytes > maxBytes) {
      const error = `request exceeds max limit of ${maxBytes} bytes`
      return { status: 413, body: mixpanelError(413, error, "Request Entity Too Large"), json: true }
    }
    if ("error" in parsed) return reject(400, parsed.error)
    const items = parsed.items
    if (items.length > maxItems) {
      const error = `request exceeds max limit of ${maxItems} items`
      return { status: 413, body: mixpanelError(413, error, "Request Entity Too Large"), json: true }
    }

    if (!isImport) {
      for (let i = 0; i < items.length; i++) {
        const error = liveError(endpoint, items[i] as Api.JsonObject)
        if (error !== undefined) return reject(400, items.length > 1 ? `item ${i}: ${error}` : error)
      }
      record(endpoint, items)
      return verbose
        ? { status: 200, body: json({ status: 1, error: null }), json: true }
        : { status: 200, body: "1", json: false }
    }

    const accepted: Array<Api.JsonObject> = []
    const failed: Array<FailedRecord> = []
    for (let index = 0; index < items.length; index++) {
      const item = items[index] as Api.JsonObject
      const failure = importFailure(item)
      if (failure === undefined) {
        accepted.push(item)
      } else {
        const properties = item.properties
        const insertId = isObject(properties) && typeof properties.$insert_id === "string" ? properties.$insert_id : ""
        failed.push({ index, insert_id: insertId, field: failure.field, message: failure.message })
      }
    }
    record("imports", accepted)
    if (failed.length > 0 && flag("strict")) {
      return {
        status: 400,
        body: json({
          code: 400,
          error: "some data points in the request failed validation",
          status: "Bad Request",
          num_records_imported: accepted.length,
          failed_records: failed
        }),
        json: true
      }
    }
    return { status: 200, body: json({ code: 200, num_records_imported: accepted.length, status: "OK" }), json: true }
  }

  const write = (res: Http.ServerResponse, answer: Answer): void => {
    if (res.destroyed || res.writableEnded) return
    res.writeHead(answer.status, {
      "content-type": answer.json ? "application/json" : "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(answer.body),
      ...answer.headers
    })
    res.end(answer.body)
  }

  const faultAnswer = (fault: Api.StatusFault | Api.BodyFault): Answer => {
    if (fault._tag === "Body") return { status: fault.status ?? 200, body: fault.body, json: true }
    const body =
      fault.body ??
      (fault.status === 429
        ? rateLimitBody
        : mixpanelError(fault.status, statusText(fault.status), statusText(fault.status)))
    return {
      status: fault.status,
      body,
      json: true,
      ...(fault.retryAfter !== undefined ? { headers: { "retry-after": String(fault.retryAfter) } } : {})
    }
  }

  /**
   * Applies a fault to a request: answers it (or drops or stalls it), logging the request through `record`,
   * and says whether the request is done. A `Slow` fault only waits: the request then goes on as usual.
   */
  const applyFault = async (
    fault: Api.Fault,
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    record: (status: number | undefined) => void
  ): Promise<boolean> => {
    switch (fault._tag) {
      case "Drop":
        record(undefined)
        req.socket.destroy()
        return true
      case "Stall":
        // the connection stays open until the client gives up or `close` destroys it
        record(undefined)
        return true
      case "Slow":
        await delay(fault.millis)
        return false
      default: {
        const answer = faultAnswer(fault)
        record(answer.status)
        write(res, answer)
        return true
      }
    }
  }

  const handle = async (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    url: URL,
    endpoint: Endpoint,
    fault: Api.Fault | undefined
  ): Promise<void> => {
    const method = req.method ?? "GET"
    const entry = (status: number | undefined, bytes: number, items: number): Api.RecordedRequest => ({
      endpoint,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headerRecord(req.headers),
      bytes,
      items,
      status,
      ...(fault !== undefined ? { fault } : {})
    })

    let body = await readBody(req)
    const encoding = (req.headers["content-encoding"] ?? "").trim().toLowerCase()
    let early: Answer | undefined
    if (encoding === "gzip" || encoding === "x-gzip") {
      try {
        body = await gunzip(body, maxDecompressed)
      } catch (error) {
        const tooLarge = (error as { readonly code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"
        early = tooLarge
          ? {
              status: 413,
              body: mixpanelError(413, `request exceeds max limit of ${maxBytes} bytes`, "Request Entity Too Large"),
              json: true
            }
          : { status: 400, body: mixpanelError(400, "could not gunzip the body", "Bad Request"), json: true }
      }
    } else if (encoding !== "" && encoding !== "identity") {
      early = {
        status: 415,
        body: mixpanelError(415, `unsupported content encoding ${encoding}`, "Unsupported Media Type"),
        json: true
      }
    }

    const payload =
      early === undefined ? extractPayload(method, url, req.headers["content-type"] ?? "", body) : undefined
    const bytes = payload?.text === undefined ? body.length : Buffer.byteLength(payload.text)
    const parsed: Parsed =
      payload === undefined || bytes > maxBytes ? { error: "not decoded" } : parseItems(payload.text, payload.ndjson)
    const items = "items" in parsed ? parsed.items.length : 0

    if (fault !== undefined && (await applyFault(fault, req, res, (status) => log.push(entry(status, bytes, items))))) {
      return
    }

    const answer =
      early ?? serve(endpoint, url, req, payload ?? { text: undefined, ndjson: false, form: undefined }, parsed, bytes)
    log.push(entry(answer.status, bytes, items))
    write(res, answer)
  }

  /** The flags routes: the token, when the server has one, as the `token` parameter and in the credentials. */
  const flagsAuthorized = (url: URL, header: string | undefined): boolean => {
    if (options.token === undefined) return true
    if (url.searchParams.get("token") !== options.token) return false
    const match = header === undefined ? null : /^Basic\s+(\S+)\s*$/i.exec(header)
    if (match === null) return false
    const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    const [user, password] = colon < 0 ? [decoded, undefined] : [decoded.slice(0, colon), decoded.slice(colon + 1)]
    if (user === options.token && password === "") return true
    const account = options.auth?.serviceAccount
    return (
      account !== undefined &&
      user === account.username &&
      password === account.secret &&
      url.searchParams.get("project_id") === String(account.projectId)
    )
  }

  const badRequest = (error: string): Answer => ({
    status: 400,
    body: mixpanelError(400, error, "Bad Request"),
    json: true
  })

  /** The answer to a flags request, and how many flags it holds. */
  const serveFlags = (route: Api.FlagsRoute, url: URL, req: Http.IncomingMessage): [Answer, number] => {
    if (!flagsAuthorized(url, req.headers.authorization)) {
      return [{ status: 401, body: mixpanelError(401, "Invalid credentials", "Unauthorized"), json: true }, 0]
    }
    if (route === "flagDefinitions") {
      return [{ status: 200, body: json({ code: 200, flags: flagDefinitions }), json: true }, flagDefinitions.length]
    }
    let context: unknown
    try {
      context = JSON.parse(url.searchParams.get("context") ?? "")
    } catch {
      return [badRequest("context must be a JSON object"), 0]
    }
    if (!isObject(context) || typeof context.distinct_id !== "string") {
      return [badRequest("distinct_id must be provided in evalContext as a string"), 0]
    }
    const flagKey = url.searchParams.get("flag_key") ?? undefined
    const all = typeof remoteFlags === "function" ? remoteFlags({ context, flagKey }) : remoteFlags
    const flags =
      flagKey === undefined ? all : Object.hasOwn(all, flagKey) ? { [flagKey]: all[flagKey] } : ({} as typeof all)
    return [{ status: 200, body: json({ code: 200, flags }), json: true }, Object.keys(flags).length]
  }

  const handleFlags = async (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    url: URL,
    route: Api.FlagsRoute,
    fault: Api.Fault | undefined
  ): Promise<void> => {
    const body = await readBody(req)
    const entry = (status: number | undefined, items: number): Api.RecordedRequest => ({
      endpoint: route,
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headerRecord(req.headers),
      bytes: body.length,
      items,
      status,
      ...(fault !== undefined ? { fault } : {})
    })
    if (fault !== undefined && (await applyFault(fault, req, res, (status) => log.push(entry(status, 0))))) return
    const [answer, items] = serveFlags(route, url, req)
    log.push(entry(answer.status, items))
    write(res, answer)
  }

  const server = Http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    res.on("error", () => {})
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const endpoint = routeOf(url.pathname)
    const method = req.method ?? "GET"
    // the flags API is read with GET only
    const allowed = method === "GET" || (method === "POST" && endpoint !== undefined && !isFlagsRoute(endpoint))
    if (endpoint === undefined || !allowed) {
      const status = endpoint === undefined ? 404 : 405
      log.push({
        endpoint,
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: headerRecord(req.headers),
        bytes: 0,
        items: 0,
        status
      })
      req.resume()
      write(res, { status, body: mixpanelError(status, statusText(status), statusText(status)), json: true })
      return
    }
    // the fault is chosen as the request arrives, so that queued faults go to requests in arrival order
    const fault = takeFault(endpoint)
    const handled = isFlagsRoute(endpoint)
      ? handleFlags(req, res, url, endpoint, fault)
      : handle(req, res, url, endpoint, fault)
    handled.catch((error: unknown) => {
      if (req.socket.destroyed) return
      const message = error instanceof Error ? error.message : String(error)
      write(res, { status: 500, body: mixpanelError(500, message, "Internal Server Error"), json: true })
    })
  })

  const close = (): Promise<void> => {
    if (closing === undefined) {
      closing = new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        // destroys stalled and kept-alive connections too, so that closing never waits on a client
        server.closeAllConnections()
      })
    }
    return closing
  }

  return new Promise<Api.StartedServer>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      const port = (server.address() as AddressInfo).port
      const host = options.host ?? "127.0.0.1"
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        received: (endpoint) => stores[endpoint].items.slice(),
        receivedCount: (endpoint) => stores[endpoint].count,
        duplicates: (endpoint) => stores[endpoint].duplicates,
        requests: () => log.slice(),
        clear: () => {
          for (const endpoint of Endpoints.all) stores[endpoint] = emptyStore()
          log = []
        },
        fail: (...faults) => {
          for (const fault of faults) queue.push({ fault, endpoint: undefined })
        },
        failOn: (endpoint, ...faults) => {
          for (const fault of faults) queue.push({ fault, endpoint })
        },
        failRandomly: (randomFaults) => {
          random = makeRandom(randomFaults)
        },
        stopFailing: () => {
          queue = []
          random = undefined
        },
        pendingFaults: () => queue.length,
        setFlagDefinitions: (flags) => {
          flagDefinitions = flags
        },
        setRemoteFlags: (flags) => {
          remoteFlags = flags
        },
        close
      })
    })
  })
}

const toService = (server: Api.StartedServer): Api.MixpanelTestServer => {
  const { close: _close, ...service } = server
  return service
}

/** @internal */
export const make = (options: Api.Options = {}): Effect.Effect<Api.MixpanelTestServer, never, Scope.Scope> =>
  Effect.flatMap(Effect.clock, (clock) =>
    Effect.acquireRelease(
      Effect.promise(() => start({ ...options, now: options.now ?? (() => clock.unsafeCurrentTimeMillis()) })),
      (server) => Effect.promise(() => server.close())
    )
  ).pipe(Effect.map(toService))

/** @internal */
export const layer = (options: Api.Options = {}): Layer.Layer<Api.MixpanelTestServer> =>
  Layer.scoped(tag, make(options))
