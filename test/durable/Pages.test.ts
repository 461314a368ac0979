/**
 * The outbox's page format: how messages are cut into pages, written into a row and read back.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Pages from "../../src/internal/consumer/durable/pages.js"

/** A page written and read back: its messages as text (PostgreSQL), or as their UTF-8 bytes (SQLite). */
const read = (id: number, page: Pages.NewPage, done: string | null = null, as: "text" | "bytes" = "text") => {
  const row = Pages.toNewRow(page)
  return Pages.waiting({ ...row, id, done, messages: as === "text" ? row.messages : Buffer.from(row.messages) })
}

describe("pages of the outbox", () => {
  it("cut a run of messages at 256 messages or 48 KiB, a message larger than that alone", () => {
    const small = Array.from({ length: 600 }, (_, i) => `{"n":${i}}`)
    const pages = Pages.cut(
      [],
      "events",
      small,
      small.map((m) => m.length)
    )
    expect(pages.map((page) => page.messages.length)).toEqual([256, 256, 88])
    expect(pages.flatMap((page) => page.messages)).toEqual(small)

    const large = [20_000, 20_000, 20_000, 60_000, 10].map((size, i) => `{"n":${i},"p":"${"p".repeat(size)}"}`)
    const bytes = large.map((m) => m.length)
    expect(Pages.cut([], "imports", large, bytes).map((page) => page.messages.length)).toEqual([2, 1, 1, 1])
  })

  it.each(["text", "bytes"] as const)(
    "read back from their %s as written, whatever the messages hold (newlines included), without those done",
    (as) => {
      const fields = (messages: ReadonlyArray<{ id: number; json: string; bytes: number; endpoint: string }>) =>
        messages.map((m) => [m.id, m.json, m.bytes, m.endpoint])
      const messages = ['{"a":"x"}', '{"c":"é😀"}', '{"b":"line\nbreak"}', "{}"]
      const page: Pages.NewPage = { endpoint: "people", messages, bytes: [9, 16, 19, 2] }
      const expected = [
        [Pages.messageId(7, 0), messages[0], 9, "people"],
        [Pages.messageId(7, 1), messages[1], 16, "people"],
        [Pages.messageId(7, 2), messages[2], 19, "people"],
        [Pages.messageId(7, 3), messages[3], 2, "people"]
      ]
      expect(fields(read(7, page, null, as))).toEqual(expected)
      // Without the message that holds a newline of its own, the bytes are cut at the newlines
      const plain: Pages.NewPage = { endpoint: "people", messages: [messages[0], messages[1]], bytes: [9, 16] }
      expect(fields(read(7, plain, null, as))).toEqual(expected.slice(0, 2))
      const some = read(7, page, Pages.doneText(new Set([3, 0])), as)
      expect(some.map((m) => m.json)).toEqual([messages[1], messages[2]])
      // A page of one: its text is the message, and its bytes the message's
      const one: Pages.NewPage = { endpoint: "events", messages: ["{}"], bytes: [2] }
      expect(fields(read(9, one, null, as))).toEqual([[Pages.messageId(9, 0), "{}", 2, "events"]])
      expect(read(9, one, "0", as)).toEqual([])
    }
  )

  it("a page of encoded messages (SQLite's appends) is the row of their texts, its messages as bytes", () => {
    const messages = ['{"a":"x"}', '{"c":"é😀"}', '{"b":"line\nbreak"}']
    const page: Pages.NewPage = { endpoint: "people", messages, bytes: [9, 16, 19] }
    const encoded = Pages.toNewRow({ ...page, messages: messages.map(Pages.encode) })
    expect(encoded.messages).toBeInstanceOf(Uint8Array)
    expect({ ...encoded, messages: Buffer.from(encoded.messages).toString() }).toEqual(Pages.toNewRow(page))
    expect(Pages.toNewRow({ endpoint: "events", messages: [Pages.encode("{}")], bytes: [2] }).messages).toEqual(
      Buffer.from("{}")
    )
    expect(messages.map((m) => Pages.decode(Pages.encode(m)))).toEqual(messages)
  })

  it("paginate: each endpoint's messages in their order, and the entries in the order of the pages", () => {
    const entry = (endpoint: "events" | "people", json: string, owner: number) => ({
      endpoint,
      json,
      bytes: json.length,
      owner
    })
    const entries = [entry("events", "e1", 0), entry("people", "p1", 1), entry("events", "e2", 2)]
    const { order, pages } = Pages.paginate(entries)
    expect(pages.map((page) => [page.endpoint, page.messages])).toEqual([
      ["events", ["e1", "e2"]],
      ["people", ["p1"]]
    ])
    expect(order.map((e) => e.owner)).toEqual([0, 2, 1])
  })

  it("message ids: a page's id and a place in it, increasing in the order of the appends", () => {
    expect(Pages.pageOf(Pages.messageId(12, 255))).toBe(12)
    expect(Pages.indexOf(Pages.messageId(12, 255))).toBe(255)
    expect(Pages.messageId(12, 255)).toBeLessThan(Pages.messageId(13, 0))
  })
})
