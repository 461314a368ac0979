/**
 * The outbox's pages. A row of the outbox holds a page: the messages of one endpoint that one
 * transaction stored together (a group commit's, an append's in the application's transaction), at most
 * `maxMessages` of them and `maxBytes`. SQLite's and PostgreSQL's cost per row (the insert, the
 * index entry, the lease, the read back, the delete) is then paid once per page rather than once per
 * message; the bytes are written as before.
 *
 * - `messages`: the messages' JSON, joined by newlines (JSON texts hold none), so that a page reads as
 *   NDJSON by hand; `lengths` (their lengths in UTF-16 code units, comma-separated) cuts the text without
 *   trusting the separator; the page's bytes (as SQLite reads them) are cut at the newlines, checked
 *   against that count. `sizes`: each message's bytes as sent (`Stored.bytes`). Both are `NULL` for a
 *   page of one message, whose text is the message and whose `bytes` its size.
 * - `done`: the indices of the page's messages that left it (acknowledged, dead-lettered, evicted) while
 *   the others wait, comma-separated, `NULL` for none; `waiting` and `bytes` count the others. A page whose
 *   messages have all left is deleted.
 * - a message's id is its page's id × `span` + its index in the page: increasing in the order of the
 *   appends, as the engine and the dead letters need, and unique across the outbox's history.
 */
import type { Endpoint } from "../../../Endpoint.js"
import { fromUtf8 } from "../../json.js"
import { OutboxMessage } from "./outboxMessage.js"

/** Message ids per page id: a page never holds more messages. */
export const span = 65536

/** Most messages in a page. */
export const maxMessages = 256

/**
 * Most bytes (as sent) in a page of more than one message. V8 puts a string of more than 128 KiB in its
 * large-object space, where each one costs a mapping of its own: a page's text written and read back at
 * 160 KB cost 3.5 to 4 µs per message (its join, better-sqlite3's decoding), at 40 KB 0.1. A page's text
 * takes at most twice its bytes as sent (a two-byte string of mostly ASCII), so 48 KiB keeps it below.
 */
export const maxBytes = 48 * 1024

/** The id of the message at `index` of page `page`. */
export const messageId = (page: number, index: number): number => page * span + index

/** The page of the message `id`. */
export const pageOf = (id: number): number => Math.floor(id / span)

/** The index in its page of the message `id`. */
export const indexOf = (id: number): number => id % span

/** A message's JSON as its UTF-8 bytes, with its `length` as text (UTF-16 code units, as `lengths` records it). */
export interface Encoded {
  readonly utf8: Uint8Array
  readonly length: number
}

/** A message to store: its JSON text, or encoded. */
export type Text = string | Encoded

/**
 * `json` encoded: it then waits for its transaction as bytes outside the JavaScript heap, where the text
 * would be copied by every young-generation collection meanwhile, and is bound as it is (see `toNewRow`).
 */
export const encode = (json: string): Encoded => ({ utf8: Buffer.from(json, "utf8"), length: json.length })

/** The JSON text of a message to store. */
export const decode = (text: Text): string => (typeof text === "string" ? text : fromUtf8(text.utf8))

/** A message to store as a page holds it: its text, or its bytes. */
export const content = (text: Text): string | Uint8Array => (typeof text === "string" ? text : text.utf8)

/** The messages of one endpoint to store as one page, with their bytes as sent. */
export interface NewPage {
  readonly endpoint: Endpoint
  readonly messages: ReadonlyArray<Text>
  readonly bytes: ReadonlyArray<number>
}

/**
 * Cuts a run of messages into pages, in order: a page is full at `maxMessages`, or when the next message
 * would take it beyond `maxBytes` (a page holds at least one message, whatever its size).
 */
export const cut = (
  pages: Array<NewPage>,
  endpoint: Endpoint,
  messages: ReadonlyArray<Text>,
  bytes: ReadonlyArray<number>
): Array<NewPage> => {
  let from = 0
  while (from < messages.length) {
    let to = from + 1
    let total = bytes[from] ?? 0
    while (to < messages.length && to - from < maxMessages && total + (bytes[to] ?? 0) <= maxBytes) {
      total += bytes[to] ?? 0
      to++
    }
    pages.push({ endpoint, messages: messages.slice(from, to), bytes: bytes.slice(from, to) })
    from = to
  }
  return pages
}

/**
 * The pages of `entries`, messages of any endpoints in the order they came: each endpoint's messages in
 * that order, cut by `cut`. `order` is the entries in the order of the pages' messages, so that the ids
 * the pages get can be matched to the entries.
 */
export const paginate = <E extends { readonly endpoint: Endpoint; readonly json: Text; readonly bytes: number }>(
  entries: ReadonlyArray<E>
): { readonly pages: Array<NewPage>; readonly order: Array<E> } => {
  const runs = new Map<Endpoint, Array<E>>()
  for (const entry of entries) {
    const run = runs.get(entry.endpoint)
    if (run === undefined) runs.set(entry.endpoint, [entry])
    else run.push(entry)
  }
  const pages: Array<NewPage> = []
  const order: Array<E> = []
  for (const [endpoint, run] of runs) {
    cut(
      pages,
      endpoint,
      run.map((entry) => entry.json),
      run.map((entry) => entry.bytes)
    )
    for (const entry of run) order.push(entry)
  }
  return { pages, order }
}

/** The columns of a new page's row. */
export interface NewRow {
  readonly endpoint: Endpoint
  readonly count: number
  readonly bytes: number
  readonly lengths: string | null
  readonly sizes: string | null
  /** The text, or its UTF-8 bytes where the messages came encoded (SQLite stores them as text: see `Statements`). */
  readonly messages: string | Uint8Array
}

/** The newline between two messages of a page, as a byte. */
const newline = 10

/** The messages of a page, joined by newlines: as text, or as bytes if any came encoded. */
const joined = (messages: ReadonlyArray<Text>): string | Uint8Array => {
  if (messages.every((message) => typeof message === "string")) return messages.join("\n")
  const parts = messages.map((message) => (typeof message === "string" ? encode(message).utf8 : message.utf8))
  let size = parts.length - 1
  for (const part of parts) size += part.length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  parts.forEach((part, i) => {
    if (i > 0) out[at++] = newline
    out.set(part, at)
    at += part.length
  })
  return out
}

/** The row that stores `page`. */
export const toNewRow = (page: NewPage): NewRow => {
  const { bytes, endpoint, messages } = page
  let total = 0
  for (const b of bytes) total += b
  if (messages.length === 1) {
    return { endpoint, count: 1, bytes: total, lengths: null, sizes: null, messages: content(messages[0] ?? "") }
  }
  const lengths: Array<number> = []
  for (const message of messages) lengths.push(message.length)
  return {
    endpoint,
    count: messages.length,
    bytes: total,
    lengths: lengths.join(","),
    sizes: bytes.join(","),
    messages: joined(messages)
  }
}

/** The indices in a `done` column. */
export const doneOf = (done: string | null): Set<number> =>
  done === null || done === "" ? new Set() : new Set(done.split(",").map(Number))

/** The `done` column of these indices. */
export const doneText = (done: ReadonlySet<number>): string => [...done].sort((a, b) => a - b).join(",")

/** A page as read back from the outbox: its `messages` as text, or as their UTF-8 bytes. */
export interface StoredPage {
  readonly id: number
  readonly endpoint: Endpoint
  readonly bytes: number
  readonly done: string | null
  readonly lengths: string | null
  readonly sizes: string | null
  readonly messages: string | Uint8Array
}

/**
 * The messages of a page of several, in order, cut from its text by `lengths`; from its bytes at the
 * newlines, where they cut it into as many (a message holding a newline of its own, which none of this
 * library's JSON does, has its bytes decoded and cut by `lengths`).
 */
const texts = (messages: string | Uint8Array, lengths: ReadonlyArray<string>): Array<string | Uint8Array> => {
  if (typeof messages !== "string") {
    const out: Array<Uint8Array> = []
    let at = 0
    for (let end = messages.indexOf(newline); end >= 0; end = messages.indexOf(newline, at)) {
      out.push(messages.subarray(at, end))
      at = end + 1
    }
    out.push(messages.subarray(at))
    if (out.length === lengths.length) return out
    return texts(fromUtf8(messages), lengths)
  }
  const out: Array<string> = []
  let at = 0
  for (const length of lengths) {
    out.push(messages.slice(at, at + Number(length)))
    at += Number(length) + 1
  }
  return out
}

/** The messages of `page` still waiting, in order. */
export const waiting = (page: StoredPage): Array<OutboxMessage> => {
  const { endpoint, id } = page
  const done = doneOf(page.done)
  if (page.lengths === null || page.sizes === null) {
    return done.has(0) ? [] : [new OutboxMessage(messageId(id, 0), endpoint, page.messages, page.bytes)]
  }
  const sizes = page.sizes.split(",")
  const all = texts(page.messages, page.lengths.split(","))
  const out: Array<OutboxMessage> = []
  for (let i = 0; i < all.length; i++) {
    if (!done.has(i))
      out.push(new OutboxMessage(messageId(id, i), endpoint, all[i] as string | Uint8Array, Number(sizes[i])))
  }
  return out
}

/** `messages` by page id, in the order met. */
export const byPage = <A extends { readonly id: number }>(messages: ReadonlyArray<A>): Map<number, Array<A>> => {
  const pages = new Map<number, Array<A>>()
  for (const message of messages) {
    const page = pageOf(message.id)
    const some = pages.get(page)
    if (some === undefined) pages.set(page, [message])
    else some.push(message)
  }
  return pages
}
