/**
 * A file's bytes as text for a parser, checked as UTF-8. A decoder would put U+FFFD in place of bytes that
 * are not UTF-8 and say nothing; here the parser is told where they are, and the record they fall in is
 * unreadable. Each chunk is decoded by a fatal `TextDecoder`, so that checking costs nothing more than
 * decoding (and needs nothing of Node's); only a chunk it refuses is searched, byte by byte, for the places
 * to report. A character cut in two by the end of a chunk is joined to its rest first; a byte order mark at
 * the start of the file is left out.
 */
import type { Entry } from "../../Import.js"
import type { Parser } from "./formats.js"

/** How many bytes the sequence that `lead` begins takes, if it is one. */
const sequenceLength = (lead: number) => (lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2)

/**
 * Where the first byte from `from` on is that begins no well-formed UTF-8 sequence ending by `end`; `end`
 * when there is none. Unicode's rules (table 3-7): no overlong forms, no surrogates, nothing past U+10FFFF.
 */
export const malformedAt = (bytes: Uint8Array, from: number, end: number): number => {
  let i = from
  while (i < end) {
    const lead = bytes[i] as number
    if (lead < 0x80) {
      i++
      continue
    }
    const length = sequenceLength(lead)
    // The second byte's range is what rules out overlong forms, surrogates and code points past U+10FFFF.
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf
    if (lead < 0xc2 || lead > 0xf4 || i + length > end) return i
    const second = bytes[i + 1] as number
    if (second < low || second > high) return i
    for (let k = 2; k < length; k++) if (((bytes[i + k] as number) & 0xc0) !== 0x80) return i
    i += length
  }
  return end
}

/** Where the last character of `bytes` starts if the chunk cut it (its rest comes with the next); else their length. */
const wholeUpTo = (bytes: Uint8Array): number => {
  const end = bytes.length
  for (let i = end - 1; i >= 0 && i >= end - 3; i--) {
    const byte = bytes[i] as number
    if ((byte & 0xc0) !== 0x80) return byte >= 0xc0 && i + sequenceLength(byte) > end ? i : end
  }
  return end
}

const none = new Uint8Array(0)

const hasBom = (bytes: Uint8Array) => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf

/** Reads bytes into `parser`: `push` each chunk in order, then `end`, which ends the parser too. */
export interface Reader {
  readonly push: (bytes: Uint8Array, out: Array<Entry>) => void
  readonly end: (out: Array<Entry>) => void
}

/** A reader of one file's bytes into `parser`. */
export const reader = (parser: Parser): Reader => {
  const fatal = () => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
  let decoder = fatal()
  /** The start of a character the end of the last chunk cut. */
  let carry = none
  /** The bytes of the current line before `carry`. */
  let lineBytes = 0
  let start = true

  /** Tells the parser that the sequence at `at` is not UTF-8, with its place in its line (from 1). */
  const malformed = (bytes: Uint8Array, at: number, out: Array<Entry>) => {
    const newline = bytes.lastIndexOf(10, at)
    parser.push("\uFFFD", out)
    parser.invalid(newline < 0 ? lineBytes + at + 1 : at - newline, bytes[at] as number)
  }

  /** `bytes` from `from` to `end`, which the decoder refused: the well-formed stretches, and the rest reported. */
  const search = (bytes: Uint8Array, from: number, end: number, out: Array<Entry>) => {
    // A decoder that threw may hold some of what it was given.
    decoder = fatal()
    let next = from
    for (let at = malformedAt(bytes, next, end); at < end; at = malformedAt(bytes, next, end)) {
      if (at > next) parser.push(decoder.decode(bytes.subarray(next, at), { stream: true }), out)
      malformed(bytes, at, out)
      // One report for the sequence: its first byte, and the continuation bytes after it.
      next = at + 1
      while (next < end && ((bytes[next] as number) & 0xc0) === 0x80) next++
    }
    if (next < end) parser.push(decoder.decode(bytes.subarray(next, end), { stream: true }), out)
  }

  const push = (chunk: Uint8Array, out: Array<Entry>) => {
    let bytes = chunk
    if (carry.length > 0) {
      bytes = new Uint8Array(carry.length + chunk.length)
      bytes.set(carry)
      bytes.set(chunk, carry.length)
    }
    const end = wholeUpTo(bytes)
    carry = end === bytes.length ? none : bytes.slice(end)
    let from = 0
    if (start && end > 0) {
      start = false
      if (hasBom(bytes)) from = 3
    }
    // The whole characters are given to the decoder, which therefore never holds a part of one.
    let text: string | undefined
    try {
      text = decoder.decode(bytes.subarray(from, end), { stream: true })
    } catch {
      text = undefined
    }
    if (text === undefined) search(bytes, from, end, out)
    else parser.push(text, out)
    const newline = end === 0 ? -1 : bytes.lastIndexOf(10, end - 1)
    lineBytes = newline < 0 ? lineBytes + end : end - newline - 1
  }

  const end = (out: Array<Entry>) => {
    // The file ends inside a character.
    if (carry.length > 0) malformed(carry, 0, out)
    carry = none
    parser.end(out)
  }

  return { push, end }
}
