/**
 * The importer's pieces that need no I/O: the file formats (whatever the chunking), times, the derived
 * `$insert_id`, and the building of messages, held to `Message`'s schemas.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { FileSystem, Error as PlatformError } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck as fc, ParseResult, Schema, Stream } from "effect"
import { Message } from "effect-mixpanel"
import type { Entry } from "../../src/Import.js"
import * as Files from "../../src/internal/import/files.js"
import * as Formats from "../../src/internal/import/formats.js"
import { murmur128 } from "../../src/internal/import/hash.js"
import * as Progress from "../../src/internal/import/progress.js"
import * as Records from "../../src/internal/import/records.js"
import * as Utf8 from "../../src/internal/import/utf8.js"

const feed = (parser: Formats.Parser, chunks: ReadonlyArray<string>): Array<Entry> => {
  const out: Array<Entry> = []
  for (const chunk of chunks) parser.push(chunk, out)
  parser.end(out)
  return out
}

/** The text in one chunk, in chunks of every size from 1 to 7, and split at every place in two. */
const chunkings = (text: string): Array<Array<string>> => {
  const all: Array<Array<string>> = [[text]]
  for (let size = 1; size <= 7; size++) {
    const chunks: Array<string> = []
    for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
    all.push(chunks)
  }
  for (let i = 1; i < text.length; i++) all.push([text.slice(0, i), text.slice(i)])
  return all
}

const sameWhateverTheChunks = (make: () => Formats.Parser, text: string) => {
  const whole = feed(make(), [text])
  for (const chunks of chunkings(text)) expect(feed(make(), chunks)).toEqual(whole)
  return whole
}

const summary = (entries: ReadonlyArray<Entry>) =>
  entries.map((entry) =>
    entry._tag === "Record"
      ? { line: entry.line, ordinal: entry.ordinal, record: entry.record }
      : { line: entry.line, ordinal: entry.ordinal, unreadable: entry.reason.split(":")[0], text: entry.text }
  )

describe("NDJSON", () => {
  it("reads a record per line, with its line number, however the text is cut", () => {
    const text = '{"a":1}\r\n\n{"b":"x\\ny"}\n  \n{broken\n[1,2]\n{"c":true}'
    const entries = sameWhateverTheChunks(() => Formats.ndjson("f.ndjson"), text)
    expect(summary(entries)).toEqual([
      { line: 1, ordinal: 1, record: { a: 1 } },
      { line: 3, ordinal: 3, record: { b: "x\ny" } },
      { line: 5, ordinal: 5, unreadable: "not JSON", text: "{broken" },
      { line: 6, ordinal: 6, record: [1, 2] },
      { line: 7, ordinal: 7, record: { c: true } }
    ])
    expect(entries[0]?.source).toBe("f.ndjson")
  })

  it("skips the lines a checkpoint covers", () => {
    const entries = feed(Formats.ndjson("f", 2), ['{"a":1}\n{"a":2}\n{"a":3}\n'])
    expect(summary(entries)).toEqual([{ line: 3, ordinal: 3, record: { a: 3 } }])
  })

  it("reports a line too long to hold, and reads on after it", () => {
    const long = `{"x":"${"y".repeat(Formats.maxRecordChars)}"}`
    const parser = Formats.ndjson("f")
    const out: Array<Entry> = []
    for (let i = 0; i < long.length; i += 1 << 20) parser.push(long.slice(i, i + (1 << 20)), out)
    parser.push('\n{"ok":1}\n', out)
    parser.end(out)
    expect(out.map((entry) => (entry._tag === "Record" ? entry.record : entry.reason))).toEqual([
      `longer than ${Formats.maxRecordChars} characters`,
      { ok: 1 }
    ])
  })
})

describe("JSON", () => {
  it("streams the elements of an array, with the line each starts on", () => {
    const text = '\uFEFF[\n {"a":"],[{\\"}"},\n  {"b":[1,{"c":2}]} ,\n 3, "s", {bad json}, null\n]\n'
    const entries = sameWhateverTheChunks(() => Formats.jsonArray("f.json"), text)
    expect(summary(entries)).toEqual([
      { line: 2, ordinal: 1, record: { a: '],[{"}' } },
      { line: 3, ordinal: 2, record: { b: [1, { c: 2 }] } },
      { line: 4, ordinal: 3, record: 3 },
      { line: 4, ordinal: 4, record: "s" },
      { line: 4, ordinal: 5, unreadable: "not JSON", text: "{bad json}" },
      { line: 4, ordinal: 6, record: null }
    ])
  })

  it("reads a file that does not start with [ as NDJSON", () => {
    const entries = sameWhateverTheChunks(() => Formats.jsonArray("f.json"), '\n{"a":1}\n{"a":2}\n')
    expect(summary(entries)).toEqual([
      { line: 2, ordinal: 2, record: { a: 1 } },
      { line: 3, ordinal: 3, record: { a: 2 } }
    ])
  })

  it("reports an array cut short, and text after it", () => {
    expect(summary(feed(Formats.jsonArray("f"), ['[{"a":1},{"a":']))).toEqual([
      { line: 1, ordinal: 1, record: { a: 1 } },
      { line: 1, ordinal: 2, unreadable: "the file ends inside an array element", text: '{"a":' }
    ])
    expect(summary(feed(Formats.jsonArray("f"), ["[1,\n2]\nx"]))).toEqual([
      { line: 1, ordinal: 1, record: 1 },
      { line: 2, ordinal: 2, record: 2 },
      { line: 3, ordinal: 3, unreadable: "text after the end of the array", text: "" }
    ])
  })

  it("skips the elements a checkpoint covers", () => {
    expect(summary(feed(Formats.jsonArray("f", 2), ["[1,2,3]"]))).toEqual([{ line: 1, ordinal: 3, record: 3 }])
  })
})

describe("CSV", () => {
  it("reads rows by the header, quotes and all, however the text is cut", () => {
    const text =
      'time,"distinct id",note\r\n1700000000,u1,"a ""quoted"", multi\nline"\r\n\n1700000001,u2,\n1700000002,u3\n1700000003,"u4",plain'
    const entries = sameWhateverTheChunks(() => Formats.csv("f.csv"), text)
    expect(summary(entries)).toEqual([
      { line: 2, ordinal: 1, record: { time: "1700000000", "distinct id": "u1", note: 'a "quoted", multi\nline' } },
      { line: 5, ordinal: 2, record: { time: "1700000001", "distinct id": "u2" } },
      { line: 6, ordinal: 3, unreadable: "the row has 2 fields, the header 3", text: "1700000002,u3" },
      { line: 7, ordinal: 4, record: { time: "1700000003", "distinct id": "u4", note: "plain" } }
    ])
  })

  it("reads no row of a header that names a column twice: which one would be the field is unclear", () => {
    expect(summary(feed(Formats.csv("f.csv"), ["email,name,email,,\na@x,A,b@x,,\n"]))).toEqual([
      { line: 2, ordinal: 1, unreadable: 'the header names the column "email" twice', text: "a@x,A,b@x,," }
    ])
    // unnamed columns (a trailing comma) are not named twice
    expect(summary(feed(Formats.csv("f.csv"), ["a,,\n1,,\n"]))).toEqual([{ line: 2, ordinal: 1, record: { a: "1" } }])
  })

  it("reads TSV, and reports a quote left open", () => {
    expect(summary(feed(Formats.csv("f.tsv", 0, "\t"), ["a\tb\n1\t2\n"]))).toEqual([
      { line: 2, ordinal: 1, record: { a: "1", b: "2" } }
    ])
    expect(summary(feed(Formats.csv("f.csv"), ['a,b\n1,"open\n']))).toEqual([
      { line: 2, ordinal: 1, unreadable: "the file ends inside a quoted field", text: '1,"open\n' }
    ])
  })

  it("quotes a row it cannot read as it is in the file, quotes and all, however the text is cut", () => {
    const row = 'A,2024-05-01T10:00:00Z,"c,9","say ""hi""\n there",extra'
    const text = `event,time,distinct_id,note\r\n${row}\r\nB,1,u,n\n`
    expect(summary(sameWhateverTheChunks(() => Formats.csv("f.csv"), text))).toEqual([
      { line: 2, ordinal: 1, unreadable: "the row has 5 fields, the header 4", text: row },
      { line: 4, ordinal: 2, record: { event: "B", time: "1", distinct_id: "u", note: "n" } }
    ])
    // a long one, as far as a rejection quotes it
    const long = `"${"x".repeat(5000)}",2`
    const chunks = `a\n${long}\n`.match(/[\s\S]{1,700}/g) ?? []
    expect(summary(feed(Formats.csv("f.csv"), chunks))).toEqual([
      { line: 2, ordinal: 1, unreadable: "the row has 2 fields, the header 1", text: `${long.slice(0, 2048)}…` }
    ])
  })

  it("skips the rows a checkpoint covers", () => {
    expect(summary(feed(Formats.csv("f", 1), ["a\n1\n2\n"]))).toEqual([{ line: 3, ordinal: 2, record: { a: "2" } }])
  })
})

describe("a file that cannot be read to its end", () => {
  const broken = new PlatformError.SystemError({
    reason: "Unknown",
    module: "FileSystem",
    method: "gunzip",
    pathOrDescriptor: "f.gz",
    description: "unexpected end of file"
  })
  /** `text`, then the error of a `.gz` cut short. */
  const cutShort =
    (text: string): Files.Open =>
    () =>
      Stream.concat(Stream.make(new TextEncoder().encode(text)), Stream.fail(broken))
  const read = (format: Formats.Format, text: string, skipThrough = 0) =>
    Files.read(
      { source: "f.gz", path: "/f.gz", format, gzip: true, size: 0 },
      { open: cutShort(text), skipThrough }
    ).pipe(
      Stream.runCollect,
      Effect.map((entries) => summary(Chunk.toReadonlyArray(entries))),
      Effect.provide(FileSystem.layerNoop({}))
    )
  const rest = "the rest of f.gz cannot be read"

  it.effect("gives its records up to the break, then one entry for the rest, naming the file", () =>
    Effect.gen(function* () {
      // The record cut in two is not made: cut short, it could pass for another
      expect(yield* read("ndjson", '{"a":1}\n\n{"a":2}\n{"a":')).toEqual([
        { line: 1, ordinal: 1, record: { a: 1 } },
        { line: 3, ordinal: 3, record: { a: 2 } },
        { line: 4, ordinal: 4, unreadable: rest, text: "" }
      ])
      expect(yield* read("json", '[{"a":1},\n{"a":2},\n{"a"')).toEqual([
        { line: 1, ordinal: 1, record: { a: 1 } },
        { line: 2, ordinal: 2, record: { a: 2 } },
        { line: 3, ordinal: 3, unreadable: rest, text: "" }
      ])
      expect(yield* read("csv", "a,b\n1,2\n3,4")).toEqual([
        { line: 2, ordinal: 1, record: { a: "1", b: "2" } },
        { line: 3, ordinal: 2, unreadable: rest, text: "" }
      ])
      const [entry] = yield* Files.read(
        { source: "f.gz", path: "/f.gz", format: "ndjson", gzip: true, size: 0 },
        { open: cutShort("") }
      ).pipe(Stream.runCollect, Effect.provide(FileSystem.layerNoop({})))
      expect(entry).toMatchObject({ reason: `${rest}: gunzip: unexpected end of file` })
      // --resume: once the rest has an outcome, it is not reported again
      expect(yield* read("ndjson", '{"a":1}\n{"a":2}\n', 3)).toEqual([])
      expect(yield* read("ndjson", '{"a":1}\n{"a":2}\n', 2)).toEqual([
        { line: 3, ordinal: 3, unreadable: rest, text: "" }
      ])
    })
  )

  it.scoped("a .gz cut short, empty or not gzip, read with the platform's DecompressionStream", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-mixpanel-files-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const lines = Array.from({ length: 2000 }, (_, i) => `{"seq":${i},"pad":"${"x".repeat(40)}"}\n`).join("")
      const gzipped = gzipSync(lines)
      writeFileSync(join(dir, "a.ndjson.gz"), gzipped.subarray(0, gzipped.length / 2))
      writeFileSync(join(dir, "b.ndjson.gz"), "")
      writeFileSync(join(dir, "c.ndjson.gz"), "not gzip\n")
      writeFileSync(join(dir, "d.ndjson"), '{"seq":0}\n')
      const entries = Chunk.toReadonlyArray(yield* Stream.runCollect(Files.entries([dir])))
      const unreadable = entries.filter((entry) => entry._tag === "Unreadable")
      expect(unreadable.map((entry) => [entry.source, entry.reason.split(":")[0]])).toEqual(
        ["a", "b", "c"].map((name) => [
          join(dir, `${name}.ndjson.gz`),
          `the rest of ${join(dir, `${name}.ndjson.gz`)} cannot be read`
        ])
      )
      // the records before the break, and the file after the broken ones
      expect(entries.filter((entry) => entry._tag === "Record").length).toBeGreaterThan(100)
      expect(entries.at(-1)).toMatchObject({ _tag: "Record", source: join(dir, "d.ndjson"), record: { seq: 0 } })
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("UTF-8", () => {
  it("finds bytes that are not UTF-8 where a decoder does: the first byte it would replace", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
    const replacing = new TextDecoder("utf-8", { ignoreBOM: true })
    // Well-formed text, and sequences of bytes at the edges of Unicode's ranges (overlong forms,
    // surrogates, past U+10FFFF, cut short)
    const leads = [0x41, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff]
    const continuations = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0]
    const piece = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 3 }).map((text) => new TextEncoder().encode(text)),
      fc
        .tuple(fc.constantFrom(...leads), fc.array(fc.constantFrom(...continuations), { maxLength: 3 }))
        .map(([lead, rest]) => Uint8Array.of(lead, ...rest))
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const bytes = Uint8Array.from(pieces.flatMap((bytes) => [...bytes]))
        const at = Utf8.malformedAt(bytes, 0, bytes.length)
        const before = fatal.decode(bytes.subarray(0, at))
        if (at === bytes.length) expect(replacing.decode(bytes)).toBe(fatal.decode(bytes))
        else expect(replacing.decode(bytes).startsWith(`${before}\uFFFD`)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("file names", () => {
  it("say the format, with or without .gz", () => {
    expect(Formats.formatOf("a/b.NDJSON")).toEqual({ format: "ndjson", gzip: false })
    expect(Formats.formatOf("x.jsonl.gz")).toEqual({ format: "ndjson", gzip: true })
    expect(Formats.formatOf("x.json.gz")).toEqual({ format: "json", gzip: true })
    expect(Formats.formatOf("x.csv")).toEqual({ format: "csv", gzip: false })
    expect(Formats.formatOf("x.tsv.gz")).toEqual({ format: "tsv", gzip: true })
    expect(Formats.formatOf("_SUCCESS")).toEqual({ format: undefined, gzip: false })
  })
})

describe("times", () => {
  it("become milliseconds from seconds, milliseconds and ISO 8601", () => {
    const ms = Date.UTC(2024, 0, 2, 3, 4, 5)
    expect(Records.toMillis(ms / 1000)).toBe(ms)
    expect(Records.toMillis(ms)).toBe(ms)
    expect(Records.toMillis(1704164645.5)).toBe(1704164645500)
    expect(Records.toMillis(`${ms / 1000}`)).toBe(ms)
    expect(Records.toMillis(` ${ms} `)).toBe(ms)
    expect(Records.toMillis("2024-01-02T03:04:05Z")).toBe(ms)
    expect(Records.toMillis("2024-01-02T03:04:05")).toBe(ms) // no zone: UTC
    expect(Records.toMillis("2024-01-02 03:04:05.250")).toBe(ms + 250)
    expect(Records.toMillis("2024-01-02T05:04:05+02:00")).toBe(ms)
    expect(Records.toMillis("2024-01-02T05:04:05+0200")).toBe(ms)
    expect(Records.toMillis("2024-01-02")).toBe(Date.UTC(2024, 0, 2))
    expect(Records.toMillis("2024-02-29")).toBe(Date.UTC(2024, 1, 29))
    // days a month does not have, which Date.parse would roll into the next month
    for (const bad of [
      "yesterday",
      "2024-13-45",
      "2024-02-30",
      "2023-02-29",
      "2024-04-31T10:00:00Z",
      "",
      Number.NaN,
      true,
      null,
      {}
    ]) {
      expect(Records.toMillis(bad)).toBeUndefined()
    }
  })
})

describe("the derived $insert_id", () => {
  it("is MurmurHash3 x86 128 of the text's UTF-16 code units (vectors: Python's mmh3 on UTF-16LE bytes)", () => {
    expect(murmur128("")).toBe("00000000000000000000000000000000")
    expect(murmur128("a")).toBe("033bb196ccef4fe1ccef4fe1ccef4fe1")
    expect(murmur128("hello")).toBe("498e49896c081b4802cf3f742cf72941")
    expect(murmur128("The quick brown fox jumps over the lazy dog")).toBe("15beb6860f94f6cafed4894d28be6d5b")
    expect(murmur128("événement ☃ 🎉 x")).toBe("070f7e374da582a57b1f704689a1436d")
    expect(murmur128("1234567")).toBe("eb59bef17c5a5c1cb7831205ba253c1f")
    expect(murmur128("12345678")).toBe("083fc1f2e182fa4fbd464907c7fddd7a")
    expect(murmur128("123456789abcdefghij")).toBe("c3dc1d5cccd51edd0add4ecc288c4e3a")
  })
})

const context = (type: Records.Context["type"], groupKey?: string): Records.Context => ({
  type,
  token: "T",
  groupKey,
  bytes: (json) => new TextEncoder().encode(json).length
})

const built = (record: unknown, type: Records.Context["type"] = "event", groupKey?: string) => {
  const result = Records.build(record, context(type, groupKey))
  return "json" in result ? JSON.parse(result.json) : result
}

describe("messages", () => {
  it("an event from a flat record or from Mixpanel's shape, with the token, the time in ms and a stable $insert_id", () => {
    const flat = built({ event: "Signed Up", distinct_id: "u1", time: 1700000000, plan: "pro" })
    const nested = built({ event: "Signed Up", properties: { distinct_id: "u1", time: 1700000000, plan: "pro" } })
    expect(flat).toEqual(nested)
    expect(flat).toEqual({
      event: "Signed Up",
      properties: {
        token: "T",
        distinct_id: "u1",
        time: 1700000000000,
        plan: "pro",
        $insert_id: expect.stringMatching(/^[0-9a-f]{32}$/)
      }
    })
    // The same content, the same id; other content, another
    expect(built({ event: "Signed Up", distinct_id: "u1", time: 1700000000, plan: "pro" })).toEqual(flat)
    expect(
      built({ event: "Signed Up", distinct_id: "u1", time: 1700000000, plan: "free" }).properties.$insert_id
    ).not.toBe(flat.properties.$insert_id)
    // A record's own $insert_id and token are kept
    expect(built({ event: "E", distinct_id: "u1", time: 1, $insert_id: "mine-1", token: "other" }).properties).toEqual({
      token: "other",
      distinct_id: "u1",
      time: 1000,
      $insert_id: "mine-1"
    })
  })

  it("rejects what Mixpanel would, naming the field", () => {
    expect(built({ event: "E", distinct_id: "u1" })).toEqual({
      reason: "properties.time: an imported event needs a time"
    })
    expect(built({ event: "E", time: "soon" }).reason).toMatch(/^properties\.time: not seconds/)
    expect(built({ event: "", time: 1 })).toEqual({ reason: "event: an event name cannot be empty" })
    // without a name, what is missing is the name (not the time, which is looked for at the top then)
    for (const name of ["foo", "toString", "constructor"]) {
      const renamed = Records.applyMapping({ event: "E", properties: { time: 1700000000000 } }, [[name, "event"]])
      expect(built(renamed)).toEqual({ reason: "event: is missing" })
    }
    expect(built({ event: 7, properties: {} })).toEqual({ reason: "event: Expected string, actual 7" })
    expect(built({ event: "E", time: 1, distinct_id: "undefined" }).reason).toMatch(/^properties\.distinct_id: /)
    expect(built({ event: "E", time: 1, $insert_id: "no spaces" }).reason).toMatch(/^properties\.\$insert_id: /)
    expect(built({ event: "E", time: -5 }).reason).toMatch(/^properties\.time: a time must be .*not before 1970/)
    expect(built([1, 2])).toEqual({ reason: "a record is a JSON object" })
    // in Mixpanel's shape, a field beside event and properties (it was dropped without a word), __proto__ too
    for (const [record, field] of [
      [{ event: "E", foo: 1, properties: { time: 1 } }, "foo"],
      [JSON.parse('{"event":"E","__proto__":{"polluted":1},"properties":{"time":1}}'), "__proto__"]
    ] as const) {
      expect(built(record)).toEqual({
        reason: `${field}: an event holds only event and properties: put it in properties (a --transform can move it)`
      })
    }
    expect(built({ event: "E", time: 1, big: "x".repeat(Message.maxMessageBytes) }).reason).toMatch(/bytes of JSON/)
  })

  it("a user profile update: a flat record as a $set, or an update as it is", () => {
    expect(built({ distinct_id: "u1", name: "Ada", $ip: "1.2.3.4", $time: "2024-01-01T00:00:00Z" }, "user")).toEqual({
      $token: "T",
      $distinct_id: "u1",
      $ip: "1.2.3.4",
      $time: Date.UTC(2024, 0, 1),
      $set: { name: "Ada" }
    })
    expect(built({ $distinct_id: "u1", $add: { logins: 1 } }, "user")).toEqual({
      $token: "T",
      $distinct_id: "u1",
      $add: { logins: 1 }
    })
    expect(built({ name: "Ada" }, "user").reason).toMatch(/\$distinct_id/)
  })

  it("a group profile update, its key from the record or the option, its id from the key's field", () => {
    expect(built({ company_id: "acme", seats: "40" }, "group", "company_id")).toEqual({
      $token: "T",
      $group_key: "company_id",
      $group_id: "acme",
      $set: { seats: "40" }
    })
    expect(built({ $group_key: "team", $group_id: 7, $set_once: { founded: 2001 } }, "group")).toEqual({
      $token: "T",
      $group_key: "team",
      $group_id: 7,
      $set_once: { founded: 2001 }
    })
    expect(built({ group_id: "acme" }, "group").reason).toMatch(/--group-key/)
  })

  it("fields named like Object.prototype's members are fields like any other; __proto__ is refused by name", () => {
    const members = { constructor: "c", toString: "t", valueOf: "v", hasOwnProperty: "h" }
    const [row] = summary(
      feed(Formats.csv("f.csv"), [
        "event,distinct_id,time,constructor,toString,valueOf,hasOwnProperty\nA,u1,1,c,t,v,h\n"
      ])
    )
    expect(row).toEqual({ line: 2, ordinal: 1, record: { event: "A", distinct_id: "u1", time: "1", ...members } })
    expect(built({ event: "A", distinct_id: "u1", time: 1, ...members }).properties).toMatchObject(members)
    expect(built({ event: "A", properties: { distinct_id: "u1", time: 1, ...members } }).properties).toMatchObject(
      members
    )
    expect(built({ distinct_id: "u1", ...members }, "user").$set).toEqual(members)
    // a group key naming a member of every object is not a field the record has
    expect(built({ seats: 1 }, "group", "constructor").reason).toMatch(/^\$group_id: /)
    // nor is a mapping's source
    expect(Records.applyMapping({ a: 1 }, [["b", "constructor"]])).toEqual({ a: 1 })

    // `__proto__` as a key is a field (not the object's prototype), which the schemas refuse, as `Mixpanel.track`
    const refused = "`__proto__` cannot be a property name: JavaScript takes it for an object's prototype"
    const [proto] = feed(Formats.csv("f.csv"), ["event,time,__proto__\nA,1,p\n"])
    expect(proto?._tag === "Record" && Object.keys(proto.record as object)).toEqual(["event", "time", "__proto__"])
    expect(built(proto?._tag === "Record" ? proto.record : undefined)).toEqual({
      reason: `properties.__proto__: ${refused}`
    })
    expect(built(JSON.parse('{"event":"A","time":1,"__proto__":{"x":1}}'))).toEqual({
      reason: `properties.__proto__: ${refused}`
    })
    expect(built(JSON.parse('{"event":"A","properties":{"time":1,"__proto__":"p"}}'))).toEqual({
      reason: `properties.__proto__: ${refused}`
    })
    expect(built(JSON.parse('{"distinct_id":"u1","__proto__":"p"}'), "user")).toEqual({
      reason: `$set.__proto__: ${refused}`
    })
    const mapped = Records.applyMapping({ a: 1 }, [["__proto__", "a"]])
    expect(Object.keys(mapped)).toEqual(["__proto__"])
  })

  it("mapping renames fields at the top, or in properties", () => {
    expect(
      Records.applyMapping({ ts: 1, uuid: "u", properties: { action: "Buy" } }, [
        ["time", "ts"],
        ["distinct_id", "uuid"],
        ["kind", "action"],
        ["absent", "nowhere"]
      ])
    ).toEqual({ time: 1, distinct_id: "u", properties: { kind: "Buy" } })
  })

  it("the cheap encoding of events is the schema's, byte for byte", () => {
    const full = ParseResult.encodeUnknownEither(Message.Event)
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.date({ noInvalidDate: true }), fc.constant(undefined))
    const properties = fc.dictionary(
      fc.oneof(fc.constantFrom("token", "distinct_id", "time", "$insert_id", "plan"), fc.string()),
      value,
      { maxKeys: 6 }
    )
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), properties, fc.integer(), (name, given, time) => {
        // As the importer builds them: the schema's named keys first, then the others
        const ordered = Records.eventProperties(given, false, "T", time)
        const fast = Records.encodeEventFast(name, ordered)
        const expected = full({ event: name, properties: ordered })
        if (expected._tag === "Left") expect(fast).toBeUndefined()
        else expect(fast).toBe(JSON.stringify(expected.right))
      }),
      { numRuns: 2000 }
    )
    // and it does take the cheap path for ordinary events
    expect(Records.encodeEventFast("E", { token: "T", time: 1, at: new Date(0) })).toBe(
      '{"event":"E","properties":{"token":"T","time":1,"at":"1970-01-01T00:00:00"}}'
    )
    expect(Schema.is(Message.Event)({ event: "E", properties: { token: "T" } })).toBe(true)
  })
})

describe("progress", () => {
  const counts = {
    entries: 1_234_567,
    messages: 1_234_567,
    delivered: 1_234_000,
    rejected: 567,
    rejectedBy: { parse: 1, transform: 2, validation: 500, server: 64 },
    skipped: 0,
    undelivered: 0
  }
  const live = { bytesRead: 250_000_000, bytesTotal: 1_000_000_000, counts, elapsedMillis: 60_000 }

  it("a bar for a terminal, a line for logs", () => {
    expect(Progress.bar(live, 8)).toBe(
      "[##------]  25% 1,234,000 delivered · 20,567/s · 250 MB/1.0 GB · ETA 3:00 · 567 rejected"
    )
    expect(Progress.line(live)).toBe(
      "import: 1,234,567 records, 1,234,000 delivered, 567 rejected, 20,567/s, 250 MB of 1.0 GB (25%), 1:00 elapsed, ETA 3:00"
    )
  })

  it("a summary table", () => {
    const table = Progress.table(counts, {
      title: "effect-mixpanel import: done",
      seconds: 61.25,
      rate: 20_147.3,
      files: 2,
      skippedFiles: ["exports/_SUCCESS"],
      rejectsPath: "rejects.ndjson",
      checkpoint: "checkpoint.json (complete)",
      dryRun: false,
      stoppedBy: undefined
    })
    expect(table.split("\n")).toEqual([
      "effect-mixpanel import: done in 61.3 s",
      "  files         2 (skipped, unknown format: exports/_SUCCESS)",
      "  records read  1,234,567",
      "  messages      1,234,567",
      "  delivered     1,234,000 (20,147/s)",
      "  rejected      567 -> rejects.ndjson",
      "                parse 1, transform 2, validation 500, server 64",
      "  undelivered   0",
      "  checkpoint    checkpoint.json (complete)"
    ])
  })
})
