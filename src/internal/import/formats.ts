/**
 * Incremental parsers for the importer's file formats: text goes in as it is read, in chunks of any size,
 * and entries come out with their line number and position. Each holds at most one unfinished record
 * (a line, an array element, a CSV row), so memory does not grow with the file.
 *
 * - NDJSON: one JSON value per line; blank lines are skipped; the position is the line number.
 * - JSON: an array of values (the position is the element's index, from 1), or NDJSON if the text does not
 *   start with `[` (many files named `.json` are NDJSON).
 * - CSV (or TSV): RFC 4180, a header row naming the columns; the position is the data row's index, from 1.
 *
 * Entries at a position up to `skipThrough` are not made (`--resume`); for NDJSON they are not parsed either.
 * A record with bytes that are not UTF-8 (the reader of the bytes says where: `invalid`) is unreadable.
 */
import type { Entry, Format } from "../../Import.js"
import { setField } from "./records.js"

export type { Format } from "../../Import.js"

/** A parser: `push` each chunk of text in order, then `end`. Both append the entries they complete to `out`. */
export interface Parser {
  readonly push: (text: string, out: Array<Entry>) => void
  readonly end: (out: Array<Entry>) => void
  /**
   * The last character pushed (a U+FFFD) stands for bytes that are not UTF-8: the record it is in is
   * unreadable. `column` is the first of those bytes' place in its line, from 1; `byte` is its value.
   */
  readonly invalid: (column: number, byte: number) => void
  /** Where the next record starts, as far as the text goes: its line, and its position. */
  readonly next: () => { readonly line: number; readonly ordinal: number }
}

/** A line (or element, or row) longer than this is not kept in memory: it is reported and skipped. */
export const maxRecordChars = 16 * 1024 * 1024

/** The text kept of an unreadable record in the rejects file. */
const maxQuotedChars = 2048

const quote = (text: string): string => (text.length > maxQuotedChars ? `${text.slice(0, maxQuotedChars)}…` : text)

/** An error as the words of a reason: its message, or the thrown value as text. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const parseJson = (source: string, line: number, ordinal: number, text: string): Entry => {
  try {
    return { _tag: "Record", source, line, ordinal, record: JSON.parse(text) }
  } catch (error) {
    return { _tag: "Unreadable", source, line, ordinal, reason: `not JSON: ${reasonOf(error)}`, text: quote(text) }
  }
}

const unreadable = (source: string, line: number, ordinal: number, reason: string, text: string): Entry => ({
  _tag: "Unreadable",
  source,
  line,
  ordinal,
  reason,
  text: quote(text)
})

const tooLong = `longer than ${maxRecordChars} characters`

/** Why a record is unreadable when a line of it is not UTF-8 (a file in Latin-1, say, or damaged). */
const notUtf8 = (line: number, column: number, byte: number) =>
  `line ${line} is not valid UTF-8 (byte ${column} of the line: 0x${byte.toString(16).toUpperCase()})`

/** NDJSON. Lines end at `\n`; a `\r` before it is dropped. */
export const ndjson = (source: string, skipThrough = 0, firstLine = 1): Parser => {
  let rest = ""
  let line = firstLine - 1
  let overlong = false
  /** Why the line being read is unreadable, when a byte of it is not UTF-8. */
  let broken: string | undefined
  const emit = (text: string, out: Array<Entry>) => {
    line++
    const reason = broken ?? (overlong ? tooLong : undefined)
    overlong = false
    broken = undefined
    if (line <= skipThrough) return
    if (reason !== undefined) {
      out.push(unreadable(source, line, line, reason, text))
      return
    }
    const entry = parseJson(source, line, line, text)
    // A blank line is no record; it is cheaper to find out when parsing fails than to check every line.
    if (entry._tag === "Unreadable" && text.trim() === "") return
    out.push(entry)
  }
  return {
    push: (text, out) => {
      let start = 0
      let newline = text.indexOf("\n")
      if (rest !== "" && newline >= 0) {
        // The line begun in the chunks before: joined on its own, not the chunk (a copy of 64 KiB a chunk)
        const line = rest + text.slice(0, newline)
        emit(line.endsWith("\r") ? line.slice(0, -1) : line, out)
        rest = ""
        start = newline + 1
        newline = text.indexOf("\n", start)
      }
      for (; newline >= 0; newline = text.indexOf("\n", start)) {
        const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline
        emit(text.slice(start, end), out)
        start = newline + 1
      }
      rest = start === 0 ? rest + text : text.slice(start)
      if (rest.length > maxRecordChars || (overlong && rest.length > maxQuotedChars)) {
        // Keep the start of the line for the report, and drop the rest up to the next newline.
        rest = rest.slice(0, maxQuotedChars)
        overlong = true
      }
    },
    end: (out) => {
      if (rest !== "") emit(rest.endsWith("\r") ? rest.slice(0, -1) : rest, out)
      rest = ""
    },
    next: () => ({ line: line + 1, ordinal: line + 1 }),
    invalid: (column, byte) => {
      broken ??= notUtf8(line + 1, column, byte)
    }
  }
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff

/**
 * A JSON array, streamed: elements are found by tracking strings and nesting, and each is parsed on its
 * own. If the first character that is not white space is not `[`, the text is read as NDJSON.
 */
export const jsonArray = (source: string, skipThrough = 0): Parser => {
  // before: looking for `[`; between: between elements; element: inside one; after: past `]`
  let state: "before" | "between" | "element" | "after" = "before"
  let delegate: Parser | undefined
  let line = 1
  let ordinal = 0
  let depth = 0
  let inString = false
  let escaped = false
  let pending = ""
  let dropping = false
  let elementLine = 1
  let trailing = false
  /** Why the element being read is unreadable, when a byte of it is not UTF-8. */
  let broken: string | undefined

  const finish = (text: string, out: Array<Entry>) => {
    ordinal++
    const reason = broken ?? (dropping ? tooLong : undefined)
    broken = undefined
    if (ordinal <= skipThrough) return
    out.push(
      reason === undefined
        ? parseJson(source, elementLine, ordinal, text)
        : unreadable(source, elementLine, ordinal, reason, text)
    )
  }

  const push = (text: string, out: Array<Entry>) => {
    if (delegate !== undefined) return delegate.push(text, out)
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 10) line++
      if (state === "element") {
        if (inString) {
          if (escaped) escaped = false
          else if (c === 92) escaped = true
          else if (c === 34) inString = false
        } else if (c === 34) inString = true
        else if (c === 123 || c === 91) depth++
        else if ((c === 125 || c === 93) && depth > 0) depth--
        else if (depth === 0 && (c === 44 || c === 93)) {
          // At depth 0, a `,` ends the element, and so does the array's own `]` after a scalar.
          finish(pending + text.slice(start, i), out)
          pending = ""
          state = c === 44 ? "between" : "after"
        }
      } else if (state === "between") {
        if (c === 93) state = "after"
        else if (!isSpace(c) && c !== 44) {
          state = "element"
          start = i
          elementLine = line
          depth = 0
          inString = false
          escaped = false
          dropping = false
          i-- // read this character again, as the element's first
        }
      } else if (state === "before") {
        if (c === 91) state = "between"
        else if (!isSpace(c)) {
          // Not an array: NDJSON, from this line on (the lines before it were blank).
          delegate = ndjson(source, skipThrough, line - (c === 10 ? 1 : 0))
          delegate.push(text.slice(i), out)
          return
        }
      } else if (!isSpace(c)) trailing = true
    }
    if (state === "element") {
      pending += text.slice(start)
      if (pending.length > maxRecordChars || (dropping && pending.length > maxQuotedChars)) {
        pending = pending.slice(0, maxQuotedChars)
        dropping = true
      }
    }
  }

  const end = (out: Array<Entry>) => {
    if (delegate !== undefined) return delegate.end(out)
    const rest = (reason: string, text: string, at: number) =>
      out.push(unreadable(source, at, ordinal + 1, reason, text))
    if (state === "element") rest(broken ?? "the file ends inside an array element", pending, elementLine)
    else if (state === "between") rest("the file ends before the array is closed", "", line)
    else if (trailing) rest("text after the end of the array", "", line)
  }

  const next = () =>
    delegate !== undefined ? delegate.next() : { line: state === "element" ? elementLine : line, ordinal: ordinal + 1 }
  // Bytes that are not UTF-8 are never `"`, `,`, `[`, `]` or a newline: the elements around them are found as
  // ever. (Between elements, their U+FFFD has begun one; after the array, it is text after its end.)
  const invalid = (column: number, byte: number) => {
    if (delegate !== undefined) delegate.invalid(column, byte)
    else broken ??= notUtf8(line, column, byte)
  }
  return { push, end, next, invalid }
}

/**
 * CSV (RFC 4180) with a header row, or TSV: fields separated by `delimiter`, optionally in double quotes
 * (a quote inside is doubled; quoted fields may hold newlines). Each row becomes an object from column
 * name to text; empty fields are left out. A row whose number of fields differs from the header's is
 * unreadable; empty rows are skipped.
 */
export const csv = (source: string, skipThrough = 0, delimiter = ","): Parser => {
  const separator = delimiter.charCodeAt(0)
  // start: at the start of a field; plain: in an unquoted field; quoted: inside quotes; quote: just
  // after a quote inside quotes (the field's end, or the first of a doubled quote)
  let state: "start" | "plain" | "quoted" | "quote" = "start"
  let header: ReadonlyArray<string> | undefined
  /**
   * Why no row can be read, when the header names a column twice (which one is the record's field?) or is
   * not UTF-8 (what are its names?).
   */
  let badHeader: string | undefined
  /** Why the row being read is unreadable, when a byte of it is not UTF-8. */
  let broken: string | undefined
  let fields: Array<string> = []
  let field = ""
  let rowChars = 0
  let dropping = false
  let line = 1
  let rowLine = 1
  let ordinal = 0
  /**
   * The row's text as it is in the file, for a rejection: `chunk` is the text being pushed and `rowStart`
   * where the row starts in it; `rowHead`, what the row had in the texts before (as much as a rejection quotes).
   */
  let chunk = ""
  let rowStart = 0
  let rowHead = ""
  /** The row's text up to `end` in `chunk`, without the `\r` of a `\r\n`. */
  const rowText = (end: number) => {
    const text = rowHead + chunk.slice(rowStart, end)
    return text.endsWith("\r") ? text.slice(0, -1) : text
  }

  const endField = () => {
    if (!dropping) {
      fields.push(field)
      rowChars += field.length
    }
    field = ""
  }

  /** Ends the row at `end` in `chunk` (its newline, or the end of the text). */
  const endRow = (out: Array<Entry>, end: number) => {
    endField()
    const row = fields
    const at = rowLine
    const wasDropping = dropping
    const reason = broken
    const text = rowText(end)
    broken = undefined
    fields = []
    rowChars = 0
    dropping = false
    state = "start"
    rowLine = line
    rowStart = end + 1
    rowHead = ""
    if (wasDropping) {
      ordinal++
      if (ordinal > skipThrough) out.push(unreadable(source, at, ordinal, reason ?? tooLong, text))
      return
    }
    if (row.length === 1 && row[0] === "") return
    if (header === undefined) {
      const names = row.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, "") : name).trim())
      const repeated = names.find((name, i) => name !== "" && names.indexOf(name) !== i)
      if (reason !== undefined) badHeader = `the header row: ${reason}`
      else if (repeated !== undefined) badHeader = `the header names the column ${JSON.stringify(repeated)} twice`
      header = names
      return
    }
    ordinal++
    if (ordinal <= skipThrough) return
    const why =
      badHeader ??
      reason ??
      (row.length !== header.length ? `the row has ${row.length} fields, the header ${header.length}` : undefined)
    if (why !== undefined) {
      out.push(unreadable(source, at, ordinal, why, text))
      return
    }
    const record: Record<string, unknown> = {}
    for (let i = 0; i < row.length; i++) {
      const value = row[i] as string
      if (value !== "") setField(record, header[i] as string, value)
    }
    out.push({ _tag: "Record", source, line: at, ordinal, record })
  }

  const push = (text: string, out: Array<Entry>) => {
    let start = 0
    chunk = text
    rowStart = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      switch (state) {
        case "start":
        case "quote":
          if (c === 34) {
            // At the start, a field in quotes; after a quote in quotes, a doubled one: the second quote
            // starts the next slice, so the value keeps one.
            start = state === "start" ? i + 1 : i
            state = "quoted"
          } else if (c === separator) {
            endField()
            state = "start"
          } else if (c === 10) {
            line++
            endRow(out, i)
          } else if (c !== 13) {
            // After a closing quote, the text is kept, as most readers do.
            state = "plain"
            start = i
          }
          break
        case "plain":
          if (c === separator || c === 10) {
            field += text.slice(start, i)
            if (c === 10) {
              // The `\r` of a `\r\n`, which may have come at the end of the previous chunk
              if (field.endsWith("\r")) field = field.slice(0, -1)
              line++
              endRow(out, i)
            } else {
              endField()
              state = "start"
            }
          }
          break
        case "quoted":
          if (c === 34) {
            field += text.slice(start, i)
            state = "quote"
          } else if (c === 10) line++
          break
      }
    }
    if (state === "plain" || state === "quoted") field += text.slice(start)
    rowHead = (rowHead + text.slice(rowStart, rowStart + maxQuotedChars + 1)).slice(0, maxQuotedChars + 1)
    chunk = ""
    rowStart = 0
    if (rowChars + field.length > maxRecordChars || (dropping && field.length > maxQuotedChars)) {
      if (!dropping) fields.push(field.slice(0, maxQuotedChars))
      field = ""
      dropping = true
    }
  }

  const end = (out: Array<Entry>) => {
    if (state === "quoted") {
      ordinal++
      if (ordinal <= skipThrough) return
      out.push(unreadable(source, rowLine, ordinal, broken ?? "the file ends inside a quoted field", rowText(0)))
      return
    }
    if (field.endsWith("\r")) field = field.slice(0, -1)
    if (state !== "start" || fields.length > 0) endRow(out, 0)
  }
  const invalid = (column: number, byte: number) => {
    broken ??= notUtf8(line, column, byte)
  }
  return { push, end, next: () => ({ line: rowLine, ordinal: ordinal + 1 }), invalid }
}

/** A parser for `format`. */
export const make = (format: Format, source: string, skipThrough = 0): Parser => {
  switch (format) {
    case "ndjson":
      return ndjson(source, skipThrough)
    case "json":
      return jsonArray(source, skipThrough)
    case "csv":
      return csv(source, skipThrough, ",")
    case "tsv":
      return csv(source, skipThrough, "\t")
  }
}

/** The format a file name implies, with or without `.gz`; `undefined` when the name says nothing. */
export const formatOf = (name: string): { readonly format: Format | undefined; readonly gzip: boolean } => {
  const lower = name.toLowerCase()
  const gzip = lower.endsWith(".gz")
  const base = gzip ? lower.slice(0, -3) : lower
  const extension = base.slice(base.lastIndexOf(".") + 1)
  switch (extension) {
    case "ndjson":
    case "jsonl":
    case "txt":
      return { format: "ndjson", gzip }
    case "json":
      return { format: "json", gzip }
    case "csv":
      return { format: "csv", gzip }
    case "tsv":
      return { format: "tsv", gzip }
    default:
      return { format: undefined, gzip }
  }
}
