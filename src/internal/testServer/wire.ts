/**
 * Reading a request off the wire: its route, its body (gunzipped), where its payload is and how it is
 * encoded, and its size as Mixpanel counts it. Mixpanel's reading is strict; `lenient` is the reading of
 * earlier versions of the test server, which took what Mixpanel does not.
 */
import type * as Http from "node:http"
import * as Zlib from "node:zlib"
import * as Endpoints from "../../Endpoint.js"
import type * as Api from "../../MixpanelTestServer.js"
import { nestsDeeperThan } from "../json.js"

const flagsPaths: { readonly [R in Api.FlagsRoute]: string } = {
  flags: "/flags",
  flagDefinitions: "/flags/definitions"
}

const routeByPath: ReadonlyMap<string, Api.Route> = new Map<string, Api.Route>([
  ...Endpoints.all.map((e) => [Endpoints.path[e], e] as const),
  ...(Object.keys(flagsPaths) as ReadonlyArray<Api.FlagsRoute>).map((r) => [flagsPaths[r], r] as const)
])

/**
 * The route of a path. Mixpanel serves `/track`, not `/track/`; the flags routes (and every route when
 * `lenient`) take a trailing slash too.
 */
export const routeOf = (pathname: string, lenient: boolean): Api.Route | undefined => {
  const exact = routeByPath.get(pathname)
  if (exact !== undefined || pathname.length < 2 || !pathname.endsWith("/")) return exact
  const route = routeByPath.get(pathname.slice(0, -1))
  return route === undefined || lenient || route === "flags" || route === "flagDefinitions" ? route : undefined
}

export const readBody = (req: Http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

/** The body without its `Content-Encoding`, or why it cannot be had. */
export type Decoded =
  | { readonly _tag: "Body"; readonly body: Buffer }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Broken"; readonly error: string }
  | { readonly _tag: "Unsupported"; readonly encoding: string }

/** Gunzips a gzip body, giving up past `maxOutputLength` bytes so that a gzip bomb cannot exhaust memory. */
export const decodeBody = (body: Buffer, encoding: string, maxOutputLength: number): Promise<Decoded> => {
  const name = encoding.trim().toLowerCase()
  if (name === "" || name === "identity") return Promise.resolve({ _tag: "Body", body })
  if (name !== "gzip" && name !== "x-gzip") return Promise.resolve({ _tag: "Unsupported", encoding: name })
  return new Promise((resolve) => {
    Zlib.gunzip(body, { maxOutputLength }, (error, result) => {
      if (error === null) resolve({ _tag: "Body", body: result })
      else if ((error as { readonly code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") resolve({ _tag: "TooLarge" })
      else resolve({ _tag: "Broken", error: "could not gunzip the body" })
    })
  })
}

/** Where a request's items are: JSON or NDJSON text, and the parameters of a form body. */
export interface Payload {
  readonly text: string
  readonly ndjson: boolean
  readonly form: ReadonlyMap<string, string> | undefined
}

/** A payload, or why the request holds none Mixpanel can read (answered 400). */
export type Read = Payload | { readonly error: string }

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
    const kept = new Map<string, string>()
    for (const [name, value] of new URLSearchParams(body)) if (!kept.has(name)) kept.set(name, value)
    return kept
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * `data` holds raw JSON or base64 JSON. A `+` of base64 sent unescaped reads as a space: Mixpanel's
 * base64 decoder refuses it, the lenient reading puts the `+` back.
 */
const decodeData = (data: string, lenient: boolean): string | { readonly error: string } => {
  const trimmed = data.trim()
  if (trimmed === "") return { error: "data, missing or empty" }
  const first = trimmed.charAt(0)
  if (first === "[" || first === "{") return trimmed
  const base64 = lenient ? trimmed.replace(/ /g, "+") : trimmed
  if (!lenient && !BASE64.test(base64)) return { error: "data is neither JSON nor base64" }
  return Buffer.from(base64, "base64").toString("utf8")
}

const fromData = (data: string | null | undefined, form: Payload["form"], lenient: boolean): Read => {
  if (data === null || data === undefined) return { error: "data, missing or empty" }
  const text = decodeData(data, lenient)
  return typeof text === "string" ? { text, ndjson: false, form } : text
}

const ows = /[ \t]*/.source
const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/.source
const quotedString = /"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"/.source

/** `type/subtype` and its parameters, as RFC 9110 writes a `Content-Type` (§8.3.1, §5.6.6: `;;` is allowed). */
const contentTypeSyntax = new RegExp(
  `^${ows}(${token}/${token})(?:${ows};${ows}(?:${token}=(?:${token}|${quotedString}))?)*${ows}$`
)

/** The media type of a `Content-Type`, lower case and without its parameters; `undefined` when it is malformed. */
const mediaType = (contentType: string): string | undefined => contentTypeSyntax.exec(contentType)?.[1]?.toLowerCase()

const readable = "send application/x-www-form-urlencoded, application/json or application/x-ndjson"

/**
 * Mixpanel's reading: `GET` with `data` in the query; `POST` with a body labelled
 * `application/x-www-form-urlencoded` (`data=`), `application/json` or `application/x-ndjson`. The query's
 * `data` of a `POST`, and bodies with another label or none, are not read.
 */
const strictPayload = (method: string, url: URL, contentType: string, body: Buffer): Read => {
  if (method === "GET") return fromData(url.searchParams.get("data"), undefined, false)
  if (contentType === "") return { error: `no Content-Type: ${readable}` }
  const type = mediaType(contentType)
  if (type === undefined) return { error: `malformed Content-Type: ${readable}` }
  switch (type) {
    case "application/json":
      return { text: body.toString("utf8"), ndjson: false, form: undefined }
    case "application/x-ndjson":
      return { text: body.toString("utf8"), ndjson: true, form: undefined }
    case "application/x-www-form-urlencoded": {
      const form = parseForm(body.toString("utf8"))
      return fromData(form.get("data"), form, false)
    }
    default:
      return { error: `unsupported Content-Type ${type}: ${readable}` }
  }
}

/** The reading of earlier versions: the query's `data` of a `POST`, any label, bodies sniffed. */
const lenientPayload = (method: string, url: URL, contentType: string, body: Buffer): Read => {
  const queryData = url.searchParams.get("data")
  if (method === "GET" || body.length === 0) return fromData(queryData, undefined, true)
  const string = body.toString("utf8")
  if (contentType.includes("ndjson") || contentType.includes("jsonl"))
    return { text: string, ndjson: true, form: undefined }
  if (contentType.includes("json")) return { text: string, ndjson: false, form: undefined }
  if (!contentType.includes("x-www-form-urlencoded")) {
    const first = string.trimStart().charAt(0)
    if (first === "[" || first === "{") {
      return { text: string, ndjson: first === "{" && /}\s*\n\s*{/.test(string), form: undefined }
    }
  }
  const form = parseForm(string)
  return fromData(form.get("data") ?? queryData, form, true)
}

export const readPayload = (lenient: boolean, method: string, url: URL, contentType: string, body: Buffer): Read =>
  (lenient ? lenientPayload : strictPayload)(method, url, contentType, body)

/**
 * The size of a request as Mixpanel limits it: the body as sent, before compression (for a form that is
 * `data=` plus the form-escaped JSON, larger than the JSON), or the query of a `GET`.
 */
export const sizeAsSent = (method: string, url: URL, body: Buffer): number =>
  method === "GET" ? Buffer.byteLength(url.search.slice(1)) : body.length

export type Parsed = { readonly items: ReadonlyArray<unknown> } | { readonly error: string }

/**
 * The deepest nesting of arrays and objects the server reads. `JSON.parse` takes any depth, but the checks
 * after it (Schema, `JSON.stringify`) recurse, and overflowed the stack from about 2,000 levels; the client
 * never sends more than `Json.maxDepth` (100).
 */
export const maxNesting = 1000

/** The items of a payload: a JSON array, one JSON object, or NDJSON lines. */
export const parseItems = (payload: Payload): Parsed => {
  if (nestsDeeperThan(payload.text, maxNesting)) return { error: `data is nested more than ${maxNesting} levels deep` }
  try {
    if (payload.ndjson) {
      const items: Array<unknown> = []
      for (const line of payload.text.split("\n")) {
        const trimmed = line.trim()
        if (trimmed !== "") items.push(JSON.parse(trimmed))
      }
      return { items }
    }
    const value: unknown = JSON.parse(payload.text)
    if (Array.isArray(value)) return { items: value }
    if (typeof value === "object" && value !== null) return { items: [value] }
    return { error: "data must be a JSON array or a JSON object" }
  } catch {
    return { error: payload.ndjson ? "data is not valid NDJSON" : "data is not valid JSON" }
  }
}
