/**
 * Mixpanel's limits on one request, counted on the body as it is sent: at most `maxItems` messages, and
 * at most `maxBytes` bytes before compression. The form endpoints (`/track`, `/engage`, `/groups`) send
 * `data=` and the JSON array form-escaped, which is larger than the JSON; `/import` sends the JSON array.
 */
import type { Endpoint } from "../../Endpoint.js"
import { utf8Length } from "../json.js"

/** Mixpanel's limit on messages per request. */
export const maxItems = 2000

/** Mixpanel's limit on the body of one request, by the stricter reading: 2 MiB. */
export const maxBytes = 2 * 1024 * 1024

/** The limits a batch is cut to. */
export interface Limits {
  readonly maxItems: number
  readonly maxBytes: number
}

/** Mixpanel's own limits. */
export const mixpanelLimits: Limits = { maxItems, maxBytes }

/** Whether `endpoint` takes a form body (`data=<JSON>`) rather than a JSON array. */
export const isForm = (endpoint: Endpoint): boolean => endpoint !== "imports"

/**
 * The `data=` of a form body. Form decoders take any byte as itself except `%` (an escape), `+` (a space),
 * and `&`, `=` and `;` (separators), so only those are escaped: JSON then travels nearly as it is, where
 * `encodeURIComponent` would escape every quote, brace and colon (40% more bytes, three times the time).
 */
export const formData = (json: string): string => `data=${formEscape(json)}`

/** What a form escapes, and as what: `%` first, so that no escape is escaped again. */
const formEscapes: ReadonlyArray<readonly [special: string, encoded: string]> = [
  ["%", "%25"],
  ["&", "%26"],
  ["+", "%2B"],
  ["=", "%3D"],
  [";", "%3B"]
]

/**
 * One native search per special character. Writing the bench's 100,000 events into bodies (escapes and
 * sizes), each in a process of its own: 1.5 µs of CPU per event against 1.8 with one regular expression
 * and a replacer, once warm; the first 100,000 cost both about 5.
 */
const formEscape = (json: string): string => {
  let escaped = json
  for (const [special, encoded] of formEscapes) escaped = escaped.replaceAll(special, encoded)
  return escaped
}

/** How many characters of `json` a form escapes. */
const escapeCount = (json: string): number => {
  let count = 0
  for (const [special] of formEscapes) {
    for (let at = json.indexOf(special); at >= 0; at = json.indexOf(special, at + 1)) count++
  }
  return count
}

/**
 * The body of a request of `messages` to `endpoint`, as bytes: `data=[m1,m2,...]` form-escaped for the
 * form endpoints, `[m1,m2,...]` for `/import`. Each message is escaped and written into one buffer of the
 * exact size: no joined string, no pass over the whole body, no second copy. The same bytes as `formData`
 * (or the JSON array) encoded as UTF-8, in a buffer of `allocate`'s.
 */
export const body = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe
): Uint8Array => {
  const form = isForm(endpoint)
  const parts: Array<string> = new Array(messages.length)
  let size = (form ? 7 : 2) + Math.max(0, messages.length - 1)
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as string
    const part = form ? formEscape(message) : message
    parts[i] = part
    size += Buffer.byteLength(part, "utf8")
  }
  const buffer = allocate(size)
  let at = buffer.write(form ? "data=[" : "[", 0, "latin1")
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) buffer[at++] = 44 // ","
    at += buffer.write(parts[i] as string, at, "utf8")
  }
  buffer[at] = 93 // "]"
  return buffer
}

/** The bytes `json` takes in a request body to `endpoint`: its UTF-8 size, plus two per escaped character. */
export const wireBytes = (endpoint: Endpoint, json: string): number => {
  const bytes = utf8Length(json)
  return isForm(endpoint) ? bytes + 2 * escapeCount(json) : bytes
}

/** The fixed part of a body: `[` and `]`, and `data=` for a form. */
const overhead = (endpoint: Endpoint): number => (isForm(endpoint) ? 7 : 2)

/** The size of a body of `count` messages whose `wireBytes` add up to `bytes` (with the commas between them). */
export const bodyBytes = (endpoint: Endpoint, count: number, bytes: number): number =>
  overhead(endpoint) + bytes + Math.max(0, count - 1)

/** Whether a message of `bytes` wire bytes can go in a request at all. */
export const fitsAlone = (endpoint: Endpoint, bytes: number, limits: Limits): boolean =>
  bodyBytes(endpoint, 1, bytes) <= limits.maxBytes

/**
 * Whether a message of `size` wire bytes joins a batch of `count` messages of `bytes` within `limits`:
 * the first one always, whatever its size.
 */
export const admits = (endpoint: Endpoint, limits: Limits, count: number, bytes: number, size: number): boolean =>
  count === 0 || (count < limits.maxItems && bodyBytes(endpoint, count + 1, bytes + size) <= limits.maxBytes)

/** Splits `messages` in order into batches within both limits. A message too large for any batch goes alone. */
export const split = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>,
  limits: Limits
): Array<ReadonlyArray<string>> => {
  const batches: Array<ReadonlyArray<string>> = []
  let current: Array<string> = []
  let bytes = 0
  for (const message of messages) {
    const size = wireBytes(endpoint, message)
    if (!admits(endpoint, limits, current.length, bytes, size)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(message)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}
