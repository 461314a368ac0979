/**
 * The embedded Mixpanel answers raw requests as Mixpanel documents it (`docs/testing-server.md`, "What the
 * test server checks, and Mixpanel's answer"): each case is one request, sent with `fetch` as any client
 * would send it, and the answer, the items kept and the items dropped that Mixpanel's rules give.
 */
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Endpoint } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

const T0 = 1_732_780_800_123

interface RawRequest {
  readonly method?: "GET" | "POST"
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array<ArrayBuffer>
}

interface Case {
  /** The rule, as the docs table states it. */
  readonly rule: string
  readonly request: RawRequest
  /** The status, and the body: text, or JSON compared with `toEqual` (asymmetric matchers allowed). */
  readonly status: number
  readonly body: string | { readonly json: unknown }
  /** Items kept per endpoint (others: none). */
  readonly received?: Partial<Record<Endpoint.Endpoint, number>>
  /** Reasons of the items dropped, in order. */
  readonly dropped?: ReadonlyArray<MixpanelTestServer.DropReason>
  readonly options?: MixpanelTestServer.Options
}

type Item = Record<string, unknown>

const event = (n: number, properties: Item = {}): Item => ({
  event: "Signed Up",
  properties: { token: "T", distinct_id: `u${n}`, time: T0 + n, $insert_id: `id-${n}`, ...properties }
})
const profile = (update: Item): Item => ({ $token: "T", $distinct_id: "u1", $time: T0, ...update })
const group = (update: Item): Item => ({ $token: "T", $group_key: "company", $group_id: "acme", $time: T0, ...update })

/** A form body as the client sends it: `data=` and the JSON with `%&+=;` escaped. */
const formBody = (items: unknown): string =>
  `data=${JSON.stringify(items).replace(/[%&+=;]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`

const form = (path: string, items: unknown): RawRequest => ({
  method: "POST",
  path,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: formBody(items)
})

const json = (path: string, items: unknown): RawRequest => ({
  method: "POST",
  path,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(items)
})

const refused = (error: unknown = expect.any(String)) => ({ json: { status: 0, error } })
const accepted = { json: { status: 1, error: null } }
const imported = (n: number) => ({ json: { code: 200, num_records_imported: n, status: "OK" } })
const failedRecords = (n: number, failed: ReadonlyArray<unknown>) => ({
  json: {
    code: 400,
    error: "some data points in the request failed validation",
    status: "Bad Request",
    num_records_imported: n,
    failed_records: failed
  }
})
const badRequest = (error: unknown) => ({ json: { code: 400, error, status: "Bad Request" } })
const field = (index: number, name: string, insertId?: string) => ({
  index,
  ...(insertId === undefined ? {} : { insert_id: insertId }),
  field: name,
  message: expect.stringContaining(`'${name}' is invalid`)
})

const base64 = (text: string): string => Buffer.from(text).toString("base64")
const mib = 1024 * 1024
/**
 * The JSON text of `items` with `levels` nested empty lists in place of the string `"NESTED"`: text, since
 * `JSON.stringify` cannot write a value thousands of levels deep.
 */
const nested = (items: unknown, levels: number): string =>
  JSON.stringify(items).replace('"NESTED"', `${"[".repeat(levels)}${"]".repeat(levels)}`)

/** Base64 of a batch, with a `+` in it (which a form decoder reads as a space when it is not escaped). */
const withPlus = base64(JSON.stringify([{ event: ">>>", properties: { token: "T" } }]))

const cases: ReadonlyArray<Case> = [
  // ------------------------------------------------------------------ refused: profile and group updates
  {
    rule: "a profile update without an operation is refused",
    request: form("/engage?verbose=1", [profile({})]),
    status: 200,
    body: refused("a profile update needs one of $set, $set_once, $union, $remove, $unset, $delete, $add, $append")
  },
  {
    rule: "a profile update with two operations is refused",
    request: form("/engage?verbose=1", [profile({ $set: { a: 1 }, $unset: ["b"] })]),
    status: 200,
    body: refused("a profile update holds one operation, not $set and $unset")
  },
  {
    rule: "$add takes numbers",
    request: form("/engage?verbose=1", [profile({ $add: { logins: "1" } })]),
    status: 200,
    body: refused(expect.stringContaining("'$add.logins' is invalid"))
  },
  {
    rule: "$union takes lists",
    request: form("/engage?verbose=1", [profile({ $union: { tags: "b2b" } })]),
    status: 200,
    body: refused(expect.stringContaining("'$union.tags' is invalid"))
  },
  {
    rule: "$unset takes a list of names",
    request: form("/engage?verbose=1", [profile({ $unset: "plan" })]),
    status: 200,
    body: refused(expect.stringContaining("'$unset' is invalid"))
  },
  {
    rule: '$delete takes ""',
    request: form("/engage?verbose=1", [profile({ $delete: true })]),
    status: 200,
    body: refused(expect.stringContaining("'$delete' is invalid"))
  },
  {
    rule: "a profile $time is a number",
    request: form("/engage?verbose=1", [profile({ $time: "2024-11-28T08:00:00", $set: { a: 1 } })]),
    status: 200,
    body: refused(expect.stringContaining("'$time' is invalid"))
  },
  {
    rule: "a profile $distinct_id is a string",
    request: form("/engage?verbose=1", [profile({ $distinct_id: 42, $set: { a: 1 } })]),
    status: 200,
    body: refused(expect.stringContaining("'$distinct_id' is invalid"))
  },
  {
    rule: "a profile update of more than 1 MB is refused",
    request: form("/engage?verbose=1", [profile({ $set: { blob: "x".repeat(1_000_000) } })]),
    status: 200,
    body: refused(expect.stringContaining("an update takes at most 1000000")),
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "$add is not a group operation",
    request: form("/groups?verbose=1", [group({ $add: { seats: 1 } })]),
    status: 200,
    body: refused("'$add' is invalid: not an operation of group profiles")
  },
  {
    rule: "$append is not a group operation, even beside a group operation",
    request: form("/groups?verbose=1", [group({ $set: { a: 1 }, $append: { b: 2 } })]),
    status: 200,
    body: refused("'$append' is invalid: not an operation of group profiles")
  },
  {
    rule: "a group update without an operation is refused",
    request: form("/groups", [group({})]),
    status: 200,
    body: "0"
  },
  // ------------------------------------------------------------------ refused: events
  {
    rule: "a /track $insert_id of null is refused",
    request: form("/track?verbose=1", [event(1, { $insert_id: null })]),
    status: 200,
    body: refused(expect.stringContaining("'properties.$insert_id' is invalid"))
  },
  {
    rule: "a /track $insert_id of 37 characters is refused",
    request: form("/track?verbose=1", [event(1, { $insert_id: "a".repeat(37) })]),
    status: 200,
    body: refused(expect.stringContaining("'properties.$insert_id' is invalid"))
  },
  {
    rule: "a /track $insert_id with other characters than [A-Za-z0-9-] is refused",
    request: form("/track?verbose=1", [event(1, { $insert_id: "order#1" })]),
    status: 200,
    body: refused(expect.stringContaining("'properties.$insert_id' is invalid"))
  },
  {
    rule: "an event of 1 MiB is refused (/track)",
    request: form("/track?verbose=1", [event(1, { blob: "x".repeat(mib) })]),
    status: 200,
    body: refused(expect.stringContaining("an event must be smaller than 1048576")),
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "an event of 1 MiB is refused (/import)",
    request: json("/import", [event(1, { blob: "x".repeat(mib - 118) }), event(2)]),
    status: 400,
    body: failedRecords(1, [{ index: 0, insert_id: "id-1", field: "", message: expect.stringContaining("1048576") }]),
    received: { imports: 1 },
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "an event just under 1 MiB is kept",
    request: json("/import", [event(1, { blob: "x".repeat(mib - 119) })]),
    status: 200,
    body: imported(1),
    received: { imports: 1 },
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "$merge needs exactly two ids",
    request: json("/import", [
      { event: "$merge", properties: { token: "T", $distinct_ids: ["a"] } },
      { event: "$merge", properties: { token: "T", $distinct_ids: ["a", "b", "c"] } },
      { event: "$merge", properties: { token: "T", $distinct_ids: "a,b" } }
    ]),
    status: 400,
    body: failedRecords(
      0,
      [0, 1, 2].map((i) => field(i, "properties.$distinct_ids"))
    )
  },
  {
    rule: "$merge needs the project token",
    request: json("/import", [{ event: "$merge", properties: { $distinct_ids: ["a", "b"] } }]),
    status: 400,
    body: failedRecords(0, [field(0, "properties.token")])
  },
  {
    rule: "$create_alias needs a string alias",
    request: form("/track?verbose=1", [
      { event: "$create_alias", properties: { token: "T", distinct_id: "u1" } },
      { event: "$create_alias", properties: { token: "T", distinct_id: "u1", alias: 7 } }
    ]),
    status: 200,
    body: refused(expect.stringContaining("'properties.alias' is invalid"))
  },
  {
    rule: "a distinct_id is a string (/track)",
    request: form("/track?verbose=1", [event(1, { distinct_id: 42 })]),
    status: 200,
    body: refused("'properties.distinct_id' is invalid: must be a string")
  },
  {
    rule: "a distinct_id is a string (/import)",
    request: json("/import", [event(1, { distinct_id: ["u1"] })]),
    status: 400,
    body: failedRecords(0, [field(0, "properties.distinct_id", "id-1")])
  },
  {
    rule: "a /track time is a number, not an ISO string",
    request: form("/track?verbose=1", [event(1, { time: "2024-11-28T08:00:00" })]),
    status: 200,
    body: refused(expect.stringContaining("'properties.time' is invalid"))
  },
  {
    rule: "a /track time is a number, not null",
    request: form("/track?verbose=1", [event(1, { time: null })]),
    status: 200,
    body: refused(expect.stringContaining("'properties.time' is invalid"))
  },
  {
    rule: "a /track event needs the project token",
    request: form("/track", [{ event: "E", properties: { distinct_id: "u1" } }]),
    status: 200,
    body: "0"
  },
  {
    rule: "/import needs time, distinct_id and $insert_id",
    request: json("/import", [
      { event: "E", properties: { distinct_id: "u1", $insert_id: "a" } },
      { event: "E", properties: { time: T0, $insert_id: "b" } },
      { event: "E", properties: { time: T0, distinct_id: "u1" } }
    ]),
    status: 400,
    body: failedRecords(0, [
      field(0, "properties.time", "a"),
      field(1, "properties.distinct_id", "b"),
      field(2, "properties.$insert_id")
    ])
  },
  {
    rule: "/import refuses a placeholder $insert_id",
    request: json("/import", [event(1, { $insert_id: "undefined" })]),
    status: 400,
    body: failedRecords(0, [field(0, "properties.$insert_id", "undefined")])
  },
  // ------------------------------------------------------------------ refused: the request as a whole
  {
    rule: "the byte limit counts a form body as sent: data= and its escapes",
    // 606 bytes of JSON, 771 of form body
    request: form("/track", [event(1, { q: "&=+%".repeat(20), pad: "x".repeat(400) })]),
    status: 413,
    body: { json: { code: 413, error: "request exceeds max limit of 700 bytes", status: "Request Entity Too Large" } },
    options: { maxBytes: 700 }
  },
  {
    rule: "the byte limit counts an /import body uncompressed",
    request: {
      method: "POST",
      path: "/import",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: Zlib.gzipSync(JSON.stringify([event(1, { pad: "x".repeat(1000) })]))
    },
    status: 413,
    body: { json: { code: 413, error: "request exceeds max limit of 1000 bytes", status: "Request Entity Too Large" } },
    options: { maxBytes: 1000 }
  },
  {
    rule: "more than 2000 items is 400 (/track)",
    request: form(
      "/track?verbose=1",
      Array.from({ length: 2001 }, (_, n) => event(n))
    ),
    status: 400,
    body: refused("request exceeds max limit of 2000 items"),
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "more than 2000 items is 400 (/import)",
    request: json(
      "/import",
      Array.from({ length: 2001 }, (_, n) => event(n))
    ),
    status: 400,
    body: badRequest("request exceeds max limit of 2000 items"),
    options: { maxBytes: 4 * mib }
  },
  {
    rule: "a body nested more than 1000 levels deep is not read (/track): the good event beside it is not kept",
    request: { ...json("/track?verbose=1", []), body: nested([event(1, { list: "NESTED" }), event(2)], 5000) },
    status: 400,
    body: refused("data is nested more than 1000 levels deep")
  },
  {
    rule: "a body nested more than 1000 levels deep is not read (/engage, a form)",
    request: {
      ...form("/engage", []),
      body: `data=${encodeURIComponent(nested([profile({ $set: { list: "NESTED" } })], 100_000))}`
    },
    status: 400,
    body: "0"
  },
  {
    rule: "a body nested more than 1000 levels deep is not read (/import, NDJSON)",
    request: {
      ...json("/import", []),
      headers: { "content-type": "application/x-ndjson" },
      body: `${JSON.stringify(event(1))}\n${nested(event(2, { list: "NESTED" }), 1000)}\n`
    },
    status: 400,
    body: badRequest("data is nested more than 1000 levels deep")
  },
  {
    rule: "a body nested 1000 levels deep is read, and brackets in strings are no nesting",
    request: {
      ...json("/track?verbose=1", []),
      body: nested([event(1, { list: "NESTED", text: `\\"${"[".repeat(2000)}` })], 997)
    },
    status: 200,
    body: accepted,
    received: { events: 1 }
  },
  {
    rule: "data in the query of a POST is not read",
    request: {
      method: "POST",
      path: `/track?verbose=1&data=${encodeURIComponent(JSON.stringify([event(1)]))}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: ""
    },
    status: 400,
    body: refused("data, missing or empty")
  },
  {
    rule: "a form body sent as text/plain is not read",
    request: { ...form("/track?verbose=1", [event(1)]), headers: { "content-type": "text/plain" } },
    status: 400,
    body: refused(expect.stringContaining("unsupported Content-Type text/plain"))
  },
  {
    rule: "a malformed Content-Type is not read (/track): an unclosed quoted string, a parameter without a name",
    request: {
      ...json("/track?verbose=1", [event(1)]),
      headers: { "content-type": 'application/json; charset="\\"; ;;=' }
    },
    status: 400,
    body: refused(
      "malformed Content-Type: send application/x-www-form-urlencoded, application/json or application/x-ndjson"
    )
  },
  {
    rule: "a malformed Content-Type is not read (/import): a parameter without a value",
    request: { ...json("/import", [event(1)]), headers: { "content-type": "application/json; charset" } },
    status: 400,
    body: badRequest(expect.stringContaining("malformed Content-Type"))
  },
  {
    rule: "a Content-Type with parameters, quoted or empty, is read",
    request: {
      ...form("/track", [event(1)]),
      headers: { "content-type": 'Application/X-WWW-Form-URLEncoded ; charset="utf-8";; q="a\\"b"' }
    },
    status: 200,
    body: "1",
    received: { events: 1 }
  },
  {
    rule: "an unescaped + in base64 is not base64",
    request: {
      method: "POST",
      path: "/track?verbose=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `data=${withPlus}`
    },
    status: 400,
    body: refused("data is neither JSON nor base64")
  },
  {
    rule: "base64 with its + escaped is read",
    request: {
      method: "POST",
      path: "/track",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `data=${encodeURIComponent(withPlus)}`
    },
    status: 200,
    body: "1",
    received: { events: 1 }
  },
  {
    rule: "NDJSON labelled application/json is not JSON",
    request: {
      method: "POST",
      path: "/import",
      headers: { "content-type": "application/json" },
      body: `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n`
    },
    status: 400,
    body: badRequest("data is not valid JSON")
  },
  {
    rule: "NDJSON without a Content-Type is not read",
    request: { method: "POST", path: "/import", body: `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n` },
    status: 400,
    body: badRequest(expect.stringContaining("Content-Type"))
  },
  {
    rule: "a trailing slash is not Mixpanel's path",
    request: form("/track/", [event(1)]),
    status: 404,
    body: { json: { code: 404, error: "Not Found", status: "Not Found" } }
  },
  // ------------------------------------------------------------------ accepted, item by item
  {
    rule: "/track keeps the well-formed events of a batch and answers 0",
    request: form("/track", [event(1), { event: "E" }, "not an event", event(2)]),
    status: 200,
    body: "0",
    received: { events: 2 }
  },
  {
    rule: "/track with verbose=1 names the first refused item",
    request: form("/track?verbose=1", [event(1), event(2, { time: "yesterday" })]),
    status: 200,
    body: refused(expect.stringMatching(/^item 1: 'properties.time' is invalid/)),
    received: { events: 1 }
  },
  {
    rule: "/engage keeps the well-formed updates of a batch",
    request: form("/engage", [profile({ $set: { a: 1 } }), profile({}), profile({ $add: { n: 1 } })]),
    status: 200,
    body: "0",
    received: { people: 2 }
  },
  {
    rule: "/groups keeps the well-formed updates of a batch",
    request: form("/groups", [group({ $add: { n: 1 } }), group({ $unset: ["a"] })]),
    status: 200,
    body: "0",
    received: { groups: 1 }
  },
  {
    rule: "/import is strict by default: the good records imported, the bad ones in failed_records",
    request: json("/import", [event(1), event(2, { time: "now" }), event(3)]),
    status: 400,
    body: failedRecords(2, [field(1, "properties.time", "id-2")]),
    received: { imports: 2 }
  },
  {
    rule: "strict=0 opts out: 200, every record counted, the bad ones dropped",
    request: json("/import?strict=0", [event(1), event(2, { time: "now" })]),
    status: 200,
    body: imported(2),
    received: { imports: 1 },
    dropped: ["Invalid"]
  },
  {
    rule: "failed_records has no insert_id for a record without one",
    request: json("/import", [{ event: "E", properties: { time: T0, distinct_id: "u1" } }]),
    status: 400,
    body: failedRecords(0, [
      { index: 0, field: "properties.$insert_id", message: expect.stringContaining("'properties.$insert_id'") }
    ])
  },
  {
    rule: "$merge in its documented shape (no time, no $insert_id) is imported",
    request: json("/import", [{ event: "$merge", properties: { token: "T", $distinct_ids: ["anon-1", "u1"] } }]),
    status: 200,
    body: imported(1),
    received: { imports: 1 }
  },
  {
    rule: "$merge with the time and $insert_id the client adds is imported",
    request: json("/import", [
      { event: "$merge", properties: { token: "T", time: T0, $insert_id: "m1", $distinct_ids: ["anon-1", "u1"] } }
    ]),
    status: 200,
    body: imported(1),
    received: { imports: 1 }
  },
  {
    rule: "$merge is accepted on /import only",
    request: form("/track?verbose=1", [{ event: "$merge", properties: { token: "T", $distinct_ids: ["a", "b"] } }]),
    status: 200,
    body: refused("'event' is invalid: $merge is accepted on /import only")
  },
  {
    rule: "$create_alias in its documented shape is kept",
    request: form("/track", [{ event: "$create_alias", properties: { token: "T", distinct_id: "u1", alias: "a1" } }]),
    status: 200,
    body: "1",
    received: { events: 1 }
  },
  {
    rule: "the transports Mixpanel reads: GET with base64 data in the query",
    request: { method: "GET", path: `/track?data=${encodeURIComponent(base64(JSON.stringify([event(1)])))}` },
    status: 200,
    body: "1",
    received: { events: 1 }
  },
  {
    rule: "the transports Mixpanel reads: labelled NDJSON, gzipped",
    request: {
      method: "POST",
      path: "/import",
      headers: { "content-type": "application/x-ndjson", "content-encoding": "gzip" },
      body: Zlib.gzipSync(`${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n`)
    },
    status: 200,
    body: imported(2),
    received: { imports: 2 }
  },
  // ------------------------------------------------------------------ dropped without a word
  {
    rule: "/track drops placeholder distinct_ids, in any case",
    request: form("/track?verbose=1", [
      event(1, { distinct_id: "anonymous" }),
      event(2, { distinct_id: "Undefined" }),
      event(3, { distinct_id: "00000000-0000-0000-0000-000000000000" }),
      event(4, { distinct_id: "" }),
      event(5)
    ]),
    status: 200,
    body: accepted,
    received: { events: 2 },
    dropped: ["PlaceholderId", "PlaceholderId", "PlaceholderId"]
  },
  {
    rule: "/engage drops placeholder $distinct_ids",
    request: form("/engage", [profile({ $distinct_id: "null", $set: { a: 1 } })]),
    status: 200,
    body: "1",
    dropped: ["PlaceholderId"]
  },
  {
    rule: "/import refuses placeholder distinct_ids (its validation says so)",
    request: json("/import", [event(1, { distinct_id: "none" })]),
    status: 400,
    body: failedRecords(0, [field(0, "properties.distinct_id", "id-1")])
  },
  {
    rule: "/track drops events older than 5 days",
    request: form("/track", [event(1, { time: T0 - 6 * 86_400_000 }), event(2, { time: Math.floor(T0 / 1000) })]),
    status: 200,
    body: "1",
    received: { events: 1 },
    dropped: ["TooOld"],
    options: { checkTime: true, now: () => T0 }
  },
  {
    rule: "/import refuses times before 1971 or more than an hour ahead",
    request: json("/import", [event(1, { time: 1000 }), event(2), event(3, { time: T0 + 2 * 3_600_000 })]),
    status: 400,
    body: failedRecords(1, [field(0, "properties.time", "id-1"), field(2, "properties.time", "id-3")]),
    received: { imports: 1 },
    options: { checkTime: true, now: () => T0 }
  }
]

const send = (url: string, request: RawRequest) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}${request.path}`, {
      method: request.method ?? "POST",
      ...(request.headers !== undefined ? { headers: request.headers } : {}),
      ...(request.body !== undefined ? { body: request.body } : {})
    })
    return { status: response.status, text: await response.text() }
  })

describe("MixpanelTestServer answers as Mixpanel does", () => {
  for (const c of cases) {
    it.scoped(c.rule, () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token: "T", ...c.options })
        const reply = yield* send(server.url, c.request)
        expect(reply.status).toBe(c.status)
        if (typeof c.body === "string") expect(reply.text).toBe(c.body)
        else expect(JSON.parse(reply.text)).toEqual(c.body.json)
        const kept = Object.fromEntries(
          (["events", "people", "groups", "imports"] as const).map((e) => [e, server.receivedCount(e)])
        )
        expect(kept).toEqual({ events: 0, people: 0, groups: 0, imports: 0, ...c.received })
        expect(server.dropped().map((d) => d.reason)).toEqual(c.dropped ?? [])
      })
    )
  }
})
