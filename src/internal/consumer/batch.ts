/**
 * Mixpanel's limits on one request, counted on the body as it is sent: at most `maxItems` messages, and
 * at most `maxBytes` bytes before compression. The form endpoints (`/track`, `/engage`, `/groups`) send
 * `data=` and the JSON array form-escaped, which is larger than the JSON; `/import` sends the JSON array.
 */
import type { Endpoint } from "../../Endpoint.js"
import { fromUtf8, utf8Length } from "../json.js"
import type { Sendable } from "./placed.js"

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
 * The characters a form body escapes (as `%XX`): form decoders take any byte as itself except `%` (an
 * escape), `+` (a space), and `&`, `=` and `;` (separators), so only those are escaped. JSON then travels
 * nearly as it is, where `encodeURIComponent` would escape every quote, brace and colon (40% more bytes,
 * three times the time).
 */
const formSpecials: ReadonlyArray<string> = ["%", "&", "+", "=", ";"]

/** Whether a byte is one a form escapes. */
const isFormSpecial = new Uint8Array(128)
for (const special of formSpecials) isFormSpecial[special.charCodeAt(0)] = 1

/** Uppercase hexadecimal digits, as bytes. */
const hexDigits = Buffer.from("0123456789ABCDEF", "latin1")

/**
 * Where the specials of the text last searched are: for each special in turn, its places in order
 * (`found`, reused), its run ending at `runEnds[k]`.
 */
const found: Array<number> = []
const runEnds = new Int32Array(formSpecials.length)

/** Finds where `json`'s specials are, into `found`, and how many there are: one native search per special. */
const findSpecials = (json: string): number => {
  found.length = 0
  for (let k = 0; k < formSpecials.length; k++) {
    const special = formSpecials[k] as string
    for (let at = json.indexOf(special); at >= 0; at = json.indexOf(special, at + 1)) found.push(at)
    runEnds[k] = found.length
  }
  return found.length
}

/** The specials as bytes, in the order of `formSpecials`. */
const formSpecialBytes: ReadonlyArray<number> = formSpecials.map((special) => special.charCodeAt(0))

/**
 * `findSpecials` for UTF-8 bytes: a special is one byte, never part of a longer character. Apart from
 * `findSpecials` so that each search sees one kind of text: one function for both, its `indexOf` given
 * strings and bytes in turn, wrote the bench's events from bytes in 1.6 to 2.0 µs each (4 runs), against
 * 1.1 to 2.2 (median 1.4).
 */
const findSpecialBytes = (bytes: Uint8Array): number => {
  found.length = 0
  for (let k = 0; k < formSpecialBytes.length; k++) {
    const special = formSpecialBytes[k] as number
    for (let at = bytes.indexOf(special); at >= 0; at = bytes.indexOf(special, at + 1)) found.push(at)
    runEnds[k] = found.length
  }
  return found.length
}

/** The next of the runs' ends to take, for each special, from the end. */
const cursors = new Int32Array(formSpecials.length)

/**
 * Escapes in place the `count` specials `found` in the `length` bytes written at `at` (their places
 * counted in bytes), from the end: each run of bytes between two specials moves once, by `copyWithin`, the
 * specials taken last first from their runs (a merge: no sort, no allocation). The bench's events into
 * form bodies: 0.72 to 0.77 µs per event, against 1.39 to 1.62 byte by byte.
 */
const escapeFound = (buffer: Buffer, at: number, length: number, count: number): void => {
  for (let k = 0; k < cursors.length; k++) cursors[k] = (runEnds[k] as number) - 1
  let end = at + length
  for (let i = count - 1; i >= 0; i--) {
    let last = -1
    let place = -1
    for (let k = 0; k < cursors.length; k++) {
      const cursor = cursors[k] as number
      if (cursor >= (k === 0 ? 0 : (runEnds[k - 1] as number)) && (found[cursor] as number) > place) {
        place = found[cursor] as number
        last = k
      }
    }
    cursors[last] = (cursors[last] as number) - 1
    const special = at + place
    const byte = buffer[special] as number
    const to = special + 2 * i // each special before it takes two bytes more
    buffer.copyWithin(to + 3, special + 1, end)
    buffer[to] = 37 // "%"
    buffer[to + 1] = hexDigits[byte >> 4] as number
    buffer[to + 2] = hexDigits[byte & 15] as number
    end = special
  }
}

/** Whether the specials of `written` bytes that take `size` escaped are 16 bytes apart or more on average. */
const sparse = (written: number, size: number): boolean => (size - written) * 8 < written

/**
 * Escapes in place the `written` bytes at `at` that a form escapes (of any text, or bytes), into the
 * `escaped` bytes from `at`: from the end, so that every byte moves once and the bytes before the first
 * special stay where they are.
 */
const escapeInPlace = (buffer: Buffer, at: number, written: number, escaped: number): void => {
  let from = at + written - 1
  let to = at + escaped - 1
  while (to > from) {
    const byte = buffer[from--] as number
    if (isFormSpecial[byte] === 1) {
      buffer[to--] = hexDigits[byte & 15] as number
      buffer[to--] = hexDigits[byte >> 4] as number
      buffer[to--] = 37 // "%"
    } else buffer[to--] = byte
  }
}

/** What a body to `endpoint` opens with, before its first message (and a `]` closes it). */
const opening = (endpoint: Endpoint): string => (isForm(endpoint) ? "data=[" : "[")

/** Where the first message of a body to `endpoint` starts. */
const firstAt = (endpoint: Endpoint): number => opening(endpoint).length

/** A form escape (`%XX`) of one of the specials, as a body holds it. */
const formEscaped = new RegExp(
  `%(${formSpecials.map((special) => special.charCodeAt(0).toString(16).toUpperCase()).join("|")})`,
  "g"
)
const unescapeForm = (_: string, hex: string): string => String.fromCharCode(Number.parseInt(hex, 16))

/** The JSON text of a message, read back from its bytes if it was placed. */
export const textOf = (endpoint: Endpoint, message: Sendable): string => {
  if (typeof message === "string") return message
  const { at, body, size } = message
  const bytes = fromUtf8(body.subarray(at, at + size))
  return isForm(endpoint) ? bytes.replace(formEscaped, unescapeForm) : bytes
}

/** The body that `messages` make up whole, in order (a batch sent again as it was placed), if they do. */
const wholeBody = (endpoint: Endpoint, messages: ReadonlyArray<Sendable>): Uint8Array | undefined => {
  const first = messages[0]
  if (first === undefined || typeof first === "string") return undefined
  let at = firstAt(endpoint)
  for (const message of messages) {
    if (typeof message === "string" || message.body !== first.body || message.at !== at) return undefined
    at += message.size + 1 // its bytes, and the comma or the closing bracket
  }
  return at === first.body.length ? first.body : undefined
}

/**
 * The body of a request of `messages` to `endpoint`, as bytes: `data=[m1,m2,...]` form-escaped for the
 * form endpoints, `[m1,m2,...]` for `/import`. Placed messages that make up a body whole are that body;
 * otherwise one buffer of `allocate`'s, of the exact size, with each text written into it as UTF-8 and its
 * specials escaped there (no escaped or joined string, no second copy), and each placed message's bytes
 * copied. Writing the bench's 100,000 events into bodies: 1.5 µs of CPU per event, against 3.7 with an
 * escaped string per message (`replaceAll` per special character, then the string written), its garbage
 * collection included.
 */
export const body = (
  endpoint: Endpoint,
  messages: ReadonlyArray<Sendable>,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe
): Uint8Array => {
  const whole = wholeBody(endpoint, messages)
  if (whole !== undefined) return whole
  const sizes = new Array<number>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Sendable
    sizes[i] = typeof message === "string" ? wireBytes(endpoint, message) : message.size
  }
  return write(endpoint, messages, sizes, allocate)
}

/**
 * A message as a body is written from: its JSON text, its JSON as UTF-8 bytes (as a durable store reads it
 * back), or its bytes already in another body.
 */
export type Source = Sendable | Uint8Array

/** What a message is held as once written into a body: told where its bytes are. */
export interface Placeable {
  readonly place: (body: Uint8Array, at: number) => void
}

/**
 * Writes a batch's messages, of `sizes` wire bytes each, into one body of `allocate`'s, and tells each of
 * `placed` (one per message, in order) where its bytes are.
 */
export const place = (
  endpoint: Endpoint,
  messages: ReadonlyArray<Source>,
  sizes: ReadonlyArray<number>,
  allocate: (size: number) => Buffer,
  placed: ReadonlyArray<Placeable>
): void => {
  const body = write(endpoint, messages, sizes, allocate)
  let at = firstAt(endpoint)
  for (let i = 0; i < messages.length; i++) {
    ;(placed[i] as Placeable).place(body, at)
    at += (sizes[i] as number) + 1 // its bytes, and the comma or the closing bracket
  }
}

const write = (
  endpoint: Endpoint,
  messages: ReadonlyArray<Source>,
  sizes: ReadonlyArray<number>,
  allocate: (size: number) => Buffer
): Uint8Array => {
  let bytes = 0
  for (const size of sizes) bytes += size
  const buffer = allocate(bodyBytes(endpoint, messages.length, bytes))
  let at = buffer.write(opening(endpoint), 0, "latin1")
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) buffer[at++] = 44 // ","
    const message = messages[i] as Source
    const size = sizes[i] as number
    // Specials 16 bytes apart or more on average are found by native searches, and the runs between them
    // moved natively; denser ones byte by byte. A string's search finds places in bytes if it is ASCII.
    if (typeof message === "string") {
      const written = buffer.write(message, at, "utf8")
      if (written < size) {
        if (written === message.length && sparse(written, size)) escapeFound(buffer, at, written, findSpecials(message))
        else escapeInPlace(buffer, at, written, size)
      }
    } else if (message instanceof Uint8Array) {
      buffer.set(message, at)
      const written = message.length
      if (written < size) {
        if (sparse(written, size)) escapeFound(buffer, at, written, findSpecialBytes(message))
        else escapeInPlace(buffer, at, written, size)
      }
    } else buffer.set(message.body.subarray(message.at, message.at + size), at)
    at += size
  }
  buffer[at] = 93 // "]"
  return buffer
}

/** The bytes `json` takes in a request body to `endpoint`: its UTF-8 size, plus two per escaped character. */
export const wireBytes = (endpoint: Endpoint, json: string): number => {
  const bytes = utf8Length(json)
  return isForm(endpoint) ? bytes + 2 * findSpecials(json) : bytes
}

/** The fixed part of a body: its opening and the closing `]`. */
const overhead = (endpoint: Endpoint): number => opening(endpoint).length + 1

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
