import * as Util from "node:util"
import * as Zlib from "node:zlib"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import type { Endpoint } from "../src/Endpoint.js"
import { Consumer, Mixpanel } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"

const { Fault } = MixpanelTestServer

interface Reply {
  readonly status: number
  readonly text: string
  readonly headers: Headers
}

const toReply = async (response: Response): Promise<Reply> => ({
  status: response.status,
  text: await response.text(),
  headers: response.headers
})

const send = (url: string, init?: RequestInit): Effect.Effect<Reply> =>
  Effect.promise(() => fetch(url, init).then(toReply))

/** A fetch expected to fail: the error it failed with. */
const sendFailing = (url: string, init?: RequestInit): Effect.Effect<unknown> =>
  Effect.promise(() =>
    fetch(url, init).then(
      (response) => Promise.reject(new Error(`expected the request to fail, got ${response.status}`)),
      (error: unknown) => error
    )
  )

const base64 = (text: string): string => Buffer.from(text).toString("base64")

const form = (data: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ data }).toString()
})

const jsonBody = (value: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value)
})

const basic = (user: string, password: string): string => `Basic ${base64(`${user}:${password}`)}`

const T0 = 1_732_780_800_123

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  event: "Signed Up",
  properties: { token: "T", distinct_id: `u${n}`, time: T0 + n, $insert_id: `id-${n}`, ...extra }
})

const samples: { readonly [E in Endpoint]: ReadonlyArray<Record<string, unknown>> } = {
  events: [event(1), event(2)],
  imports: [event(1), event(2)],
  people: [
    { $token: "T", $distinct_id: "u1", $time: T0, $set: { plan: "pro" } },
    { $token: "T", $distinct_id: "u1", $time: T0, $add: { logins: 1 } }
  ],
  groups: [
    { $token: "T", $group_key: "company", $group_id: "c1", $time: T0, $set: { size: 10 } },
    { $token: "T", $group_key: "company", $group_id: "c1", $time: T0, $unset: ["size"] }
  ]
}

const paths: { readonly [E in Endpoint]: string } = {
  events: "/track",
  people: "/engage",
  groups: "/groups",
  imports: "/import"
}

const encodings: ReadonlyArray<
  readonly [string, (path: string, items: ReadonlyArray<unknown>) => [string, RequestInit]]
> = [
  ["form, raw JSON", (path, items) => [path, form(JSON.stringify(items))]],
  ["form, base64 JSON", (path, items) => [path, form(base64(JSON.stringify(items)))]],
  [
    "GET, base64 in the query",
    (path, items) => [`${path}?data=${encodeURIComponent(base64(JSON.stringify(items)))}`, {}]
  ],
  ["JSON", (path, items) => [path, jsonBody(items)]],
  [
    "NDJSON",
    (path, items) => [
      path,
      {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: `${items.map((item) => JSON.stringify(item)).join("\n")}\n`
      }
    ]
  ],
  [
    "gzipped JSON",
    (path, items) => [
      path,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: Zlib.gzipSync(JSON.stringify(items))
      }
    ]
  ],
  [
    "gzipped form",
    (path, items) => [
      path,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" },
        body: Zlib.gzipSync(new URLSearchParams({ data: JSON.stringify(items) }).toString())
      }
    ]
  ]
]

describe("MixpanelTestServer", () => {
  it("refuses a port, a host or a limit that cannot work, or an option misspelt (inside auth and failRandomly too), naming it, where it would have crashed, listened on a pipe or kept its default", async () => {
    for (const [options, option] of [
      [{ port: "abc" }, "port"],
      [{ port: 70_000 }, "port"],
      [{ host: 5 }, "host"],
      [{ host: "" }, "host"],
      [{ maxBytes: "big" }, "maxBytes"],
      [{ maxItems: 0 }, "maxItems"],
      [{ maxitems: 3 }, "maxitems"],
      [{ token: "" }, "token"],
      [{ lenient: "yes" }, "lenient"],
      [{ rejectRecord: true }, "rejectRecord"],
      [{ auth: { apisecret: "right" } }, "auth.apisecret"],
      [{ auth: { serviceAccount: { username: "sa.user", secret: "right" } } }, "auth.serviceAccount.projectId"],
      [
        { auth: { serviceAccount: { username: "sa.user", secret: "right", projectID: 1 } } },
        "auth.serviceAccount.projectID"
      ],
      [{ auth: { apiSecret: "" } }, "auth.apiSecret"],
      [{ auth: "right" }, "auth"],
      [{ failRandomly: { rat: 0.5 } }, "failRandomly.rat"]
    ] as const) {
      await expect(MixpanelTestServer.start(options as MixpanelTestServer.Options)).rejects.toMatchObject({
        _tag: "InvalidConfig",
        option
      })
    }
    // a misspelt key names the option it is nearest to
    await expect(MixpanelTestServer.start({ maxitems: 3 } as MixpanelTestServer.Options)).rejects.toMatchObject({
      message: "invalid option `maxitems`: is not an option here: did you mean maxItems?"
    })
    // inside `auth` too, where it made every /import 401; the message never quotes a secret
    const misspelt = MixpanelTestServer.start({ auth: { apisecret: "right" } } as MixpanelTestServer.Options)
    await expect(misspelt).rejects.toMatchObject({
      message: "invalid option `auth.apisecret`: is not an option here: did you mean apiSecret?"
    })
    const noProject = MixpanelTestServer.start({
      auth: { serviceAccount: { username: "sa.user", secret: "right" } }
    } as MixpanelTestServer.Options)
    await expect(noProject).rejects.toMatchObject({
      message: "invalid option `auth.serviceAccount.projectId`: is missing"
    })
  })

  it.scoped(
    "refuses a malformed fault or random-fault setting at run time, naming it, where it was taken and answered later as a 500 or never applied",
    () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const { Fault } = MixpanelTestServer
        for (const [set, option, detail] of [
          [
            () => server.fail({} as MixpanelTestServer.Fault),
            "fail[0]",
            "expected a fault made by MixpanelTestServer.Fault, such as Fault.status(503) or Fault.drop"
          ],
          [() => server.fail(Fault.drop, Fault.status(42)), "fail[1].status", "must be an integer from 100 to 599"],
          [
            () => server.failOn("event" as MixpanelTestServer.Route, Fault.drop),
            "failOn[0]",
            'must be one of "events", "people", "groups", "imports", "flags", "flagDefinitions": did you mean "events"?'
          ],
          [
            () => server.failRandomly({ rate: 2, faults: [Fault.status(503)] }),
            "failRandomly.rate",
            "must be a number from 0 to 1"
          ],
          [
            () => server.failRandomly({ rat: 1 } as MixpanelTestServer.RandomFaults),
            "failRandomly.rat",
            "is not an option here: did you mean rate?"
          ],
          [
            () => server.failRandomly({ rate: 1, faults: [Fault.status(503, { retryAfter: "1\n2" })] }),
            "failRandomly.faults[0].retryAfter",
            "must be a number of seconds (0 or more) or a header's text in printable ASCII"
          ]
        ] as const) {
          expect(set).toThrow(expect.objectContaining({ _tag: "InvalidConfig", option, detail }))
        }
        // nothing refused was kept: requests are served as usual
        expect(server.pendingFaults()).toBe(0)
        const answer = yield* Effect.promise(() =>
          fetch(`${server.url}/track?data=${encodeURIComponent(JSON.stringify({ event: "e", properties: {} }))}`)
        )
        expect(answer.status).toBe(200)
        expect(() => server.fail(Fault.slow(1e12))).toThrow(
          expect.objectContaining({ option: "fail[0].millis", detail: "must be at most 2147483647 ms (24.8 days)" })
        )
        // the readers and the flags' setter check theirs too, where they threw a TypeError or answered 500 later
        expect(() => server.received("event" as Endpoint)).toThrow(
          expect.objectContaining({ _tag: "InvalidConfig", option: "endpoint" })
        )
        expect(() => server.setFlagDefinitions([{ big: 1n }])).toThrow(
          expect.objectContaining({
            option: "setFlagDefinitions",
            detail: "must be JSON: an array of definitions, well-formed or not"
          })
        )
        // and the well-formed ones still work, `undefined` turning random faults off
        server.failRandomly({ rate: 1, faults: [Fault.status(503)] })
        server.failRandomly(undefined)
        server.failOn("imports", Fault.status(503, { retryAfter: 1 }))
        expect(server.pendingFaults()).toBe(1)
      })
  )

  describe("body encodings", () => {
    for (const endpoint of ["events", "people", "groups", "imports"] as const) {
      for (const [name, build] of encodings) {
        it.scoped(`${paths[endpoint]} accepts ${name}`, () =>
          Effect.gen(function* () {
            const server = yield* MixpanelTestServer.make()
            const [path, init] = build(paths[endpoint], samples[endpoint])
            const reply = yield* send(`${server.url}${path}`, init)
            expect(reply.status).toBe(200)
            if (endpoint === "imports") {
              expect(JSON.parse(reply.text)).toEqual({ code: 200, num_records_imported: 2, status: "OK" })
            } else {
              expect(reply.text).toBe("1")
            }
            expect(server.received(endpoint)).toEqual(samples[endpoint])
            for (const other of ["events", "people", "groups", "imports"] as const) {
              if (other !== endpoint) expect(server.receivedCount(other)).toBe(0)
            }
          })
        )
      }
    }

    it.scoped("a single object is one item", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/track`, form(JSON.stringify(event(1))))
        expect(reply.text).toBe("1")
        yield* send(`${server.url}/import`, jsonBody(event(2)))
        expect(server.received("events")).toEqual([event(1)])
        expect(server.received("imports")).toEqual([event(2)])
      })
    )

    it.scoped("a form body with a stray percent sign is read as URLSearchParams reads it", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/track`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: 'data=[{"event":"100%","properties":{"token":"T"}}]'
        })
        expect(reply.text).toBe("1")
        expect(server.received("events")).toEqual([{ event: "100%", properties: { token: "T" } }])
      })
    )

    it.scoped("an unknown path is 404 and is logged without an endpoint", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.status(503))
        const reply = yield* send(`${server.url}/nope`, jsonBody([event(1)]))
        expect(reply.status).toBe(404)
        expect(server.requests()).toMatchObject([{ endpoint: undefined, path: "/nope", status: 404 }])
        // unknown paths take no fault
        expect(server.pendingFaults()).toBe(1)
      })
    )
  })

  describe("live endpoints: responses", () => {
    it.scoped("verbose success", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        for (const endpoint of ["events", "people", "groups"] as const) {
          const reply = yield* send(
            `${server.url}${paths[endpoint]}?verbose=1`,
            form(JSON.stringify(samples[endpoint]))
          )
          expect(reply.status).toBe(200)
          expect(reply.headers.get("content-type")).toContain("application/json")
          expect(JSON.parse(reply.text)).toEqual({ status: 1, error: null })
        }
      })
    )

    it.scoped("verbose may come in the form body", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/track`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ data: JSON.stringify([event(1)]), verbose: "1" }).toString()
        })
        expect(JSON.parse(reply.text)).toEqual({ status: 1, error: null })
      })
    )

    it.scoped("malformed bodies are 400, with a verbose error", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const cases: ReadonlyArray<readonly [RequestInit, string]> = [
          [form("[{"), "data is not valid JSON"],
          [jsonBody(5), "data must be a JSON array or a JSON object"],
          [
            { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=1" },
            "data, missing or empty"
          ]
        ]
        for (const [init, error] of cases) {
          const verbose = yield* send(`${server.url}/track?verbose=1`, init)
          expect(verbose.status).toBe(400)
          expect(JSON.parse(verbose.text)).toEqual({ status: 0, error })
          const plain = yield* send(`${server.url}/engage`, init)
          expect(plain.status).toBe(400)
          expect(plain.text).toBe("0")
        }
        expect(server.receivedCount("events")).toBe(0)
        expect(server.receivedCount("people")).toBe(0)
      })
    )

    it.scoped("an invalid item is refused alone: 200 with 0, the good items kept", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const noEvent = yield* send(
          `${server.url}/track?verbose=1`,
          form(JSON.stringify([event(1), { properties: {} }, "x"]))
        )
        expect(noEvent.status).toBe(200)
        expect(JSON.parse(noEvent.text)).toMatchObject({ status: 0, error: expect.stringMatching(/^item 1: 'event'/) })
        const noProperties = yield* send(`${server.url}/track?verbose=1`, form(JSON.stringify({ event: "E" })))
        expect(JSON.parse(noProperties.text)).toEqual({
          status: 0,
          error: "'properties' is invalid: must be a JSON object"
        })
        const noGroupKey = yield* send(`${server.url}/groups`, form(JSON.stringify({ $token: "T", $group_id: "c1" })))
        expect([noGroupKey.status, noGroupKey.text]).toEqual([200, "0"])
        const noDistinctId = yield* send(
          `${server.url}/engage?verbose=1`,
          form(JSON.stringify({ $token: "T", $set: {} }))
        )
        expect(JSON.parse(noDistinctId.text)).toEqual({ status: 0, error: "'$distinct_id' is invalid: is missing" })
        expect(server.received("events")).toEqual([event(1)])
        expect(server.receivedCount("people") + server.receivedCount("groups")).toBe(0)
      })
    )

    it.scoped("the token option checks properties.token and $token", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token: "T" })
        const good = yield* send(`${server.url}/track?verbose=1`, form(JSON.stringify([event(1)])))
        expect(JSON.parse(good.text)).toEqual({ status: 1, error: null })
        const bad = yield* send(`${server.url}/track?verbose=1`, form(JSON.stringify([event(2, { token: "X" })])))
        expect(bad.status).toBe(200)
        const wrongToken = "'properties.token' is invalid: not the project's token"
        expect(JSON.parse(bad.text)).toEqual({ status: 0, error: wrongToken })
        const badProfile = yield* send(
          `${server.url}/engage?verbose=1`,
          form(JSON.stringify([{ ...samples.people[0], $token: "X" }]))
        )
        expect(JSON.parse(badProfile.text)).toEqual({
          status: 0,
          error: "'$token' is invalid: not the project's token"
        })
        const badImport = yield* send(`${server.url}/import?strict=1`, jsonBody([event(3, { token: "X" })]))
        expect(JSON.parse(badImport.text).failed_records).toEqual([
          { index: 0, insert_id: "id-3", field: "properties.token", message: wrongToken }
        ])
        expect(server.received("events")).toEqual([event(1)])
        expect(server.receivedCount("people")).toBe(0)
      })
    )

    it.scoped("checkTime: /track keeps the last 5 days and drops older events without a word", () =>
      Effect.gen(function* () {
        const now = T0 + 1000
        const server = yield* MixpanelTestServer.make({ checkTime: true, now: () => now })
        const recent = yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))
        expect(recent.text).toBe("1")
        const inSeconds = yield* send(
          `${server.url}/track`,
          form(JSON.stringify([event(2, { time: Math.floor(T0 / 1000) })]))
        )
        expect(inSeconds.text).toBe("1")
        const tooOld = event(3, { time: now - 6 * 24 * 3600 * 1000 })
        const old = yield* send(`${server.url}/track?verbose=1`, form(JSON.stringify([tooOld])))
        expect([old.status, JSON.parse(old.text)]).toEqual([200, { status: 1, error: null }])
        expect(server.received("events").map((e) => e.event)).toEqual(["Signed Up", "Signed Up"])
        expect(server.dropped()).toEqual([
          {
            endpoint: "events",
            item: tooOld,
            reason: "TooOld",
            field: "properties.time",
            message: "/track takes the events of the last 5 days only"
          }
        ])
      })
    )
  })

  describe("/import", () => {
    const mixed = [
      event(1),
      { event: "", properties: { distinct_id: "u", time: T0, $insert_id: "id-x" } },
      event(2),
      { event: "E", properties: { distinct_id: "u", time: T0, $insert_id: "not valid!" } },
      { event: "E", properties: { distinct_id: "u", $insert_id: "id-y" } },
      { event: "E", properties: { time: T0, $insert_id: "id-z", distinct_id: 5 } },
      { event: "E", properties: "p" }
    ]

    it.scoped("strict (the default) reports failed records and keeps the good ones", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        for (const query of ["?strict=1", ""]) {
          server.clear()
          const reply = yield* send(`${server.url}/import${query}`, jsonBody(mixed))
          expect(reply.status).toBe(400)
          expect(JSON.parse(reply.text)).toEqual({
            code: 400,
            error: "some data points in the request failed validation",
            status: "Bad Request",
            num_records_imported: 2,
            failed_records: [
              { index: 1, insert_id: "id-x", field: "event", message: expect.stringContaining("'event' is invalid") },
              {
                index: 3,
                insert_id: "not valid!",
                field: "properties.$insert_id",
                message:
                  "'properties.$insert_id' is invalid: an $insert_id is 1 to 36 characters of letters, digits and '-'"
              },
              {
                index: 4,
                insert_id: "id-y",
                field: "properties.time",
                message: expect.stringContaining("'properties.time' is invalid")
              },
              {
                index: 5,
                insert_id: "id-z",
                field: "properties.distinct_id",
                message: "'properties.distinct_id' is invalid: must be a string"
              },
              { index: 6, field: "properties", message: "'properties' is invalid: must be a JSON object" }
            ]
          })
          expect(server.received("imports")).toEqual([event(1), event(2)])
          expect(server.dropped()).toEqual([])
        }
      })
    )

    it.scoped("strict with only good records is 200", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/import?strict=1`, jsonBody([event(1), event(2)]))
        expect(reply.status).toBe(200)
        expect(JSON.parse(reply.text)).toEqual({ code: 200, num_records_imported: 2, status: "OK" })
      })
    )

    it.scoped("strict=0: nothing is validated in the request, every record counted, the bad ones dropped", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/import?strict=0`, jsonBody(mixed))
        expect(reply.status).toBe(200)
        expect(JSON.parse(reply.text)).toEqual({ code: 200, num_records_imported: 7, status: "OK" })
        expect(server.received("imports")).toEqual([event(1), event(2)])
        expect(server.dropped().map((d) => [d.endpoint, d.reason, d.field])).toEqual([
          ["imports", "Invalid", "event"],
          ["imports", "Invalid", "properties.$insert_id"],
          ["imports", "Invalid", "properties.time"],
          ["imports", "Invalid", "properties.distinct_id"],
          ["imports", "Invalid", "properties"]
        ])
        expect(server.dropped("imports").map((d) => d.item)).toEqual([1, 3, 4, 5, 6].map((i) => mixed[i]))
        expect(server.dropped("events")).toEqual([])
      })
    )

    it.scoped("malformed bodies are 400 with a Mixpanel error", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const reply = yield* send(`${server.url}/import`, { ...jsonBody([]), body: "nope" })
        expect(reply.status).toBe(400)
        expect(JSON.parse(reply.text)).toEqual({ code: 400, error: "data is not valid JSON", status: "Bad Request" })
      })
    )

    it.scoped("rejectRecord rejects what the built-in checks accept", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({
          rejectRecord: (endpoint, record) => {
            if (record.event === "Banned") return "banned event"
            if (endpoint === "people" && record.$distinct_id === "anonymous") {
              return { field: "$distinct_id", message: "placeholder id" }
            }
            if (endpoint === "imports" && record.event === "Odd") return { field: "event", message: "odd event" }
            return undefined
          }
        })
        const imported = yield* send(
          `${server.url}/import?strict=1`,
          jsonBody([event(1), { ...event(2), event: "Banned" }, { ...event(3), event: "Odd" }])
        )
        expect(JSON.parse(imported.text).failed_records).toEqual([
          { index: 1, insert_id: "id-2", field: "properties", message: "banned event" },
          { index: 2, insert_id: "id-3", field: "event", message: "odd event" }
        ])
        const tracked = yield* send(
          `${server.url}/track?verbose=1`,
          form(JSON.stringify([{ ...event(4), event: "Banned" }, event(5)]))
        )
        expect([tracked.status, JSON.parse(tracked.text)]).toEqual([200, { status: 0, error: "item 0: banned event" }])
        const profile = yield* send(
          `${server.url}/engage?verbose=1`,
          form(JSON.stringify({ $token: "T", $distinct_id: "anonymous", $set: {} }))
        )
        expect(JSON.parse(profile.text)).toEqual({ status: 0, error: "placeholder id" })
        expect(server.received("imports")).toEqual([event(1)])
        expect(server.received("events")).toEqual([event(5)])
      })
    )

    it.scoped("checkTime: /import takes 1971 up to now + 1 hour", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ checkTime: true, now: () => T0 })
        const reply = yield* send(
          `${server.url}/import?strict=1`,
          jsonBody([event(1, { time: 1000 }), event(2, { time: 86_400 * 400 }), event(3, { time: T0 + 2 * 3600_000 })])
        )
        expect(JSON.parse(reply.text).failed_records).toEqual(
          [0, 2].map((index) => ({
            index,
            insert_id: `id-${index + 1}`,
            field: "properties.time",
            message: "'properties.time' is invalid: must be between 1971-01-01 and 1 hour from now"
          }))
        )
        expect(server.received("imports")).toEqual([event(2, { time: 86_400 * 400 })])
      })
    )

    it.scoped("checkTime is off by default", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        yield* send(`${server.url}/import`, jsonBody([event(1, { time: 1000 })]))
        yield* send(`${server.url}/track`, form(JSON.stringify([event(2, { time: 1000 })])))
        expect(server.receivedCount("imports")).toBe(1)
        expect(server.receivedCount("events")).toBe(1)
      })
    )
  })

  describe("/import authentication", () => {
    const auth = {
      serviceAccount: { username: "sa.user", secret: "sa-secret", projectId: 12345 },
      apiSecret: "api-secret",
      token: "project-token"
    }
    const attempt = (url: string, authorization: string | undefined) =>
      send(url, {
        ...jsonBody([event(1)]),
        headers: {
          "content-type": "application/json",
          ...(authorization !== undefined ? { authorization } : {})
        }
      }).pipe(Effect.map((reply) => reply.status))

    it.scoped("service account, API secret and token", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ auth })
        const url = `${server.url}/import`
        expect(yield* attempt(`${url}?project_id=12345`, basic("sa.user", "sa-secret"))).toBe(200)
        expect(yield* attempt(url, basic("api-secret", ""))).toBe(200)
        expect(yield* attempt(`${url}?project_id=12345`, basic("api-secret", ""))).toBe(200)
        expect(yield* attempt(url, basic("project-token", ""))).toBe(200)
        expect(server.receivedCount("imports")).toBe(4)
      })
    )

    it.scoped("missing or wrong credentials are 401", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ auth })
        const url = `${server.url}/import`
        for (const [query, authorization] of [
          ["", undefined],
          ["?project_id=12345", basic("sa.user", "wrong")],
          ["?project_id=999", basic("sa.user", "sa-secret")],
          ["", basic("sa.user", "sa-secret")],
          ["", basic("wrong-secret", "")],
          ["?project_id=12345", basic("project-token", "")],
          ["", "Bearer project-token"]
        ] as const) {
          const reply = yield* send(`${url}${query}`, {
            ...jsonBody([event(1)]),
            headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) }
          })
          expect(reply.status).toBe(401)
          expect(JSON.parse(reply.text)).toEqual({ code: 401, error: "Invalid credentials", status: "Unauthorized" })
        }
        expect(server.receivedCount("imports")).toBe(0)
        // other endpoints never need credentials
        expect((yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))).status).toBe(200)
      })
    )

    it.scoped("the request log keeps no credential in clear: the scheme, and a service account's username", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ auth })
        const url = `${server.url}/import`
        yield* attempt(`${url}?project_id=12345`, basic("sa.user", "sa-secret"))
        yield* attempt(url, basic("api-secret", ""))
        yield* attempt(url, basic("project-token", ""))
        yield* attempt(url, "Bearer api-secret")
        yield* attempt(`${url}?api_secret=api-secret&api_key=sa-secret&strict=1`, undefined)
        yield* send(`${server.url}/flags?token=T`, { headers: { "proxy-authorization": basic("api-secret", "") } })
        const requests = server.requests()
        expect(requests.map((request) => request.headers.authorization)).toEqual([
          "Basic sa.user:<redacted>",
          "Basic <redacted>:",
          "Basic <redacted>:",
          "Bearer <redacted>",
          undefined,
          undefined
        ])
        expect(requests.map((request) => request.status)).toEqual([200, 200, 200, 401, 401, 400])
        expect(requests[4]?.query).toEqual({ api_secret: "<redacted>", api_key: "<redacted>", strict: "1" })
        expect(requests[5]?.headers["proxy-authorization"]).toBe("Basic <redacted>:")
        // what a test would print
        const printed = `${JSON.stringify(requests)}${Util.inspect(requests, { depth: null })}`
        for (const secret of [
          "sa-secret",
          "api-secret",
          "project-token",
          base64("api-secret:"),
          base64("sa.user:sa-secret")
        ]) {
          expect(printed).not.toContain(secret)
        }
      })
    )

    it.scoped("without the auth option /import accepts anything", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        expect(yield* attempt(`${server.url}/import`, undefined)).toBe(200)
        expect(yield* attempt(`${server.url}/import`, basic("who", "ever"))).toBe(200)
      })
    )
  })

  describe("limits", () => {
    it.scoped("more than maxItems is 400", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ maxItems: 3 })
        const ok = yield* send(`${server.url}/track`, form(JSON.stringify([event(1), event(2), event(3)])))
        expect(ok.status).toBe(200)
        const tooMany = yield* send(`${server.url}/import`, jsonBody([event(4), event(5), event(6), event(7)]))
        expect(tooMany.status).toBe(400)
        expect(JSON.parse(tooMany.text)).toEqual({
          code: 400,
          error: "request exceeds max limit of 3 items",
          status: "Bad Request"
        })
        const tooManyLive = yield* send(
          `${server.url}/track?verbose=1`,
          form(JSON.stringify([4, 5, 6, 7].map((n) => event(n))))
        )
        expect([tooManyLive.status, JSON.parse(tooManyLive.text)]).toEqual([
          400,
          { status: 0, error: "request exceeds max limit of 3 items" }
        ])
        expect(server.receivedCount("imports")).toBe(0)
        expect(server.receivedCount("events")).toBe(3)
      })
    )

    it.scoped("the default 2000 items", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const items = Array.from({ length: 2001 }, (_, n) => event(n))
        expect((yield* send(`${server.url}/import`, jsonBody(items.slice(0, 2000)))).status).toBe(200)
        expect((yield* send(`${server.url}/import`, jsonBody(items))).status).toBe(400)
        expect(server.receivedCount("imports")).toBe(2000)
      })
    )

    it.scoped("more than maxBytes of uncompressed JSON is 413, gzip or not", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const big = JSON.stringify([event(1, { blob: "x".repeat(2_100_000) })])
        const expected = {
          code: 413,
          error: "request exceeds max limit of 2097152 bytes",
          status: "Request Entity Too Large"
        }
        const plain = yield* send(`${server.url}/import`, { ...jsonBody([]), body: big })
        expect(plain.status).toBe(413)
        expect(JSON.parse(plain.text)).toEqual(expected)
        const gzipped = yield* send(`${server.url}/import`, {
          method: "POST",
          headers: { "content-type": "application/json", "content-encoding": "gzip" },
          body: Zlib.gzipSync(big)
        })
        expect(gzipped.status).toBe(413)
        expect(JSON.parse(gzipped.text)).toEqual(expected)
        expect(server.requests().map((r) => r.bytes)).toEqual([big.length, big.length])
      })
    )

    it.scoped("bytes are counted on the body as sent: a form's `data=` and escapes count", () =>
      Effect.gen(function* () {
        // `&`, `=`, `+` and `%` take three bytes each once form-escaped
        const json = JSON.stringify([event(1, { url: "https://example.com/?a=1&b=2+3%" })])
        const body = new URLSearchParams({ data: json }).toString()
        expect(body.length).toBeGreaterThan(json.length + 5 + 10)
        const exact = yield* MixpanelTestServer.make({ maxBytes: body.length })
        expect((yield* send(`${exact.url}/track`, form(json))).status).toBe(200)
        const gzipped = { ...form(json), headers: { ...form(json).headers, "content-encoding": "gzip" } }
        expect((yield* send(`${exact.url}/track`, { ...gzipped, body: Zlib.gzipSync(body) })).status).toBe(200)
        expect(exact.requests().map((r) => r.bytes)).toEqual([body.length, body.length])
        const under = yield* MixpanelTestServer.make({ maxBytes: body.length - 1 })
        const reply = yield* send(`${under.url}/track`, form(json))
        expect(reply.status).toBe(413)
        expect(JSON.parse(reply.text).error).toBe(`request exceeds max limit of ${body.length - 1} bytes`)
        // /import counts its JSON body, uncompressed
        expect(
          (yield* send(`${under.url}/import`, jsonBody([event(1, { url: "https://example.com/?a=1&b=2+3%" })]))).status
        ).toBe(200)
        expect(under.requests().at(-1)?.bytes).toBe(json.length)
      })
    )

    it.scoped("a GET counts its query", () =>
      Effect.gen(function* () {
        const query = `data=${encodeURIComponent(base64(JSON.stringify([event(1)])))}`
        const server = yield* MixpanelTestServer.make({ maxBytes: query.length })
        expect((yield* send(`${server.url}/track?${query}`)).status).toBe(200)
        expect((yield* send(`${server.url}/track?${query}&verbose=1`)).status).toBe(413)
        expect(server.requests().map((r) => r.bytes)).toEqual([query.length, query.length + 10])
      })
    )
  })

  describe("records", () => {
    it.scoped("events are deduplicated on (event, time, distinct_id, $insert_id)", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const inSeconds = { ...event(1), properties: { ...event(1).properties, time: 1_732_780_800 } }
        const inMillis = { ...event(1), properties: { ...event(1).properties, time: 1_732_780_800_000 } }
        yield* send(`${server.url}/import`, jsonBody([event(1), event(2), event(1), inSeconds]))
        yield* send(`${server.url}/import`, jsonBody([event(2), inMillis, event(3)]))
        expect(server.received("imports")).toEqual([event(1), event(2), inSeconds, event(3)])
        expect(server.receivedCount("imports")).toBe(7)
        expect(server.duplicates("imports")).toBe(3)
        // without $insert_id nothing is deduplicated
        const bare = { event: "E", properties: { token: "T", distinct_id: "u1" } }
        yield* send(`${server.url}/track`, form(JSON.stringify([bare, bare, event(1), event(1)])))
        expect(server.received("events")).toEqual([bare, bare, event(1)])
        expect(server.duplicates("events")).toBe(1)
      })
    )

    it.scoped("profile and group updates are all kept, in order", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const update = samples.people[0]
        yield* send(`${server.url}/engage`, form(JSON.stringify([update, update])))
        yield* send(`${server.url}/engage`, form(JSON.stringify([samples.people[1]])))
        expect(server.received("people")).toEqual([update, update, samples.people[1]])
        expect(server.duplicates("people")).toBe(0)
      })
    )

    it.scoped("the request log, and clear", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        yield* send(`${server.url}/import?strict=1&project_id=7`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Custom": "yes" },
          body: JSON.stringify([event(1), event(2)])
        })
        const [request] = server.requests()
        expect(request).toMatchObject({
          endpoint: "imports",
          method: "POST",
          path: "/import",
          query: { strict: "1", project_id: "7" },
          bytes: JSON.stringify([event(1), event(2)]).length,
          items: 2,
          status: 200
        })
        expect(request?.headers["x-custom"]).toBe("yes")
        expect(request?.fault).toBeUndefined()
        yield* send(`${server.url}/track`, form(JSON.stringify([event(9, { distinct_id: "anonymous" })])))
        expect(server.dropped()).toHaveLength(1)
        server.clear()
        expect(server.requests()).toEqual([])
        expect(server.dropped()).toEqual([])
        expect(server.received("imports")).toEqual([])
        expect(server.receivedCount("imports")).toBe(0)
        // after clear, the dedup memory is gone too
        yield* send(`${server.url}/import`, jsonBody([event(1)]))
        expect(server.received("imports")).toEqual([event(1)])
      })
    )

    it.scoped("every request is in the log: one refused for its nesting, one whose rejectRecord throws", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({
          rejectRecord: (_endpoint, record) => {
            if (record.event === "Boom") throw new Error("the hook broke")
            return undefined
          }
        })
        const deep = `[{"event":"Deep","properties":{"token":"T","list":${"[".repeat(5000)}${"]".repeat(5000)}}}]`
        const refused = yield* send(`${server.url}/track?verbose=1`, { ...jsonBody([]), body: deep })
        expect(refused.status).toBe(400)
        const broken = yield* send(`${server.url}/track`, jsonBody([{ event: "Boom", properties: { token: "T" } }]))
        expect(broken.status).toBe(500)
        expect(JSON.parse(broken.text)).toMatchObject({ error: "the hook broke" })
        expect(server.requests()).toMatchObject([
          { endpoint: "events", bytes: deep.length, items: 0, status: 400 },
          { endpoint: "events", items: 1, status: 500 }
        ])
      })
    )

    it.scoped("received events read their properties without a cast (npm run typecheck checks this test)", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        yield* send(`${server.url}/track`, form(JSON.stringify([event(1), event(2)])))
        yield* send(`${server.url}/import`, jsonBody([event(3)]))
        const ids = server.received("events").map((e) => e.properties.distinct_id)
        expect(ids).toEqual(["u1", "u2"])
        const [imported] = server.received("imports")
        expect([imported?.event, imported?.properties.$insert_id]).toEqual(["Signed Up", "id-3"])
      })
    )

    it.scoped("received is a snapshot", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const before = server.received("events")
        yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))
        expect(before).toEqual([])
        expect(server.received("events")).toHaveLength(1)
      })
    )
  })

  describe("faults", () => {
    it.scoped("scripted faults apply to the next requests in order", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(
          Fault.status(503, { retryAfter: 2 }),
          Fault.rateLimited(),
          Fault.rateLimited(1),
          Fault.body("garbage"),
          Fault.body('{"status":', 500)
        )
        expect(server.pendingFaults()).toBe(5)
        const body = form(JSON.stringify([event(1)]))
        const first = yield* send(`${server.url}/track`, body)
        expect(first.status).toBe(503)
        expect(first.headers.get("retry-after")).toBe("2")
        const second = yield* send(`${server.url}/track`, body)
        expect(second.status).toBe(429)
        expect(second.headers.get("retry-after")).toBeNull()
        expect(JSON.parse(second.text)).toEqual({
          code: 429,
          error: "Project exceeded rate limits. Please retry the request with exponential backoff.",
          status: "Too Many Requests"
        })
        const third = yield* send(`${server.url}/track`, body)
        expect(third.status).toBe(429)
        expect(third.headers.get("retry-after")).toBe("1")
        const fourth = yield* send(`${server.url}/track`, body)
        expect([fourth.status, fourth.text]).toEqual([200, "garbage"])
        const fifth = yield* send(`${server.url}/track`, body)
        expect([fifth.status, fifth.text]).toEqual([500, '{"status":'])
        expect(server.receivedCount("events")).toBe(0)
        const sixth = yield* send(`${server.url}/track`, body)
        expect([sixth.status, sixth.text]).toEqual([200, "1"])
        expect(server.receivedCount("events")).toBe(1)
        expect(server.requests().map((r) => [r.status, r.fault?._tag, r.items])).toEqual([
          [503, "Status", 1],
          [429, "Status", 1],
          [429, "Status", 1],
          [200, "Body", 1],
          [500, "Body", 1],
          [200, undefined, 1]
        ])
        expect(server.pendingFaults()).toBe(0)
      })
    )

    it.scoped("failOn restricts a fault to one endpoint", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.failOn("imports", Fault.status(502))
        expect((yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))).status).toBe(200)
        expect((yield* send(`${server.url}/import`, jsonBody([event(1)]))).status).toBe(502)
        expect((yield* send(`${server.url}/import`, jsonBody([event(1)]))).status).toBe(200)
      })
    )

    it.scoped("drop: the connection closes without an answer", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.drop)
        const error = yield* sendFailing(`${server.url}/import`, jsonBody([event(1)]))
        expect(error).toBeInstanceOf(TypeError)
        expect(server.receivedCount("imports")).toBe(0)
        expect(server.requests()).toMatchObject([{ status: undefined, fault: { _tag: "Drop" }, items: 1 }])
        expect((yield* send(`${server.url}/import`, jsonBody([event(1)]))).status).toBe(200)
      })
    )

    it.scoped("lostAnswer: the request is served and its items recorded, then the connection is cut", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.lostAnswer, Fault.lostAnswer)
        const error = yield* sendFailing(`${server.url}/import`, jsonBody([event(1), event(2)]))
        expect(error).toBeInstanceOf(TypeError)
        expect(server.received("imports")).toEqual([event(1), event(2)])
        const flags = yield* sendFailing(`${server.url}/track`, form(JSON.stringify([event(3)])))
        expect(flags).toBeInstanceOf(TypeError)
        expect(server.received("events")).toEqual([event(3)])
        expect(server.requests()).toMatchObject([
          { status: undefined, fault: { _tag: "LostAnswer" }, items: 2 },
          { status: undefined, fault: { _tag: "LostAnswer" }, items: 1 }
        ])
        // the retry is deduplicated, as Mixpanel does
        expect((yield* send(`${server.url}/import`, jsonBody([event(1), event(2)]))).status).toBe(200)
        expect(server.received("imports")).toEqual([event(1), event(2)])
        expect(server.duplicates("imports")).toBe(2)
      })
    )

    it.scoped("lostAnswer: the client sees a transport error for messages that did arrive", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token: "T" })
        server.fail(Fault.lostAnswer)
        const MixpanelLive = Mixpanel.layer({ token: "T" }).pipe(
          Layer.provide(Consumer.layerDirect({ baseUrl: server.url, maxRetries: 0 })),
          Layer.provide(FetchHttpClient.layer)
        )
        const error = yield* Effect.flip(Mixpanel.track("u1", "Signed Up").pipe(Effect.provide(MixpanelLive)))
        expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
        expect(server.received("events")).toMatchObject([{ event: "Signed Up", properties: { distinct_id: "u1" } }])
      })
    )

    it.scoped("lostAnswer at random: a probability beside the fault mix, reproducible with a seed", () =>
      Effect.gen(function* () {
        const run = (server: MixpanelTestServer.MixpanelTestServer) =>
          Effect.gen(function* () {
            const outcomes: Array<number | "lost"> = []
            for (let n = 0; n < 30; n++) {
              const init = form(JSON.stringify([event(n)]))
              const reply = yield* Effect.promise(() =>
                fetch(`${server.url}/track`, init).then(
                  (response) => response.status,
                  () => "lost" as const
                )
              )
              outcomes.push(reply)
            }
            return outcomes
          })
        const options = { rate: 0.3, faults: [Fault.status(503)], lostAnswer: 0.3, seed: 9 }
        const a = yield* MixpanelTestServer.make({ failRandomly: options })
        const b = yield* MixpanelTestServer.make({ failRandomly: options })
        const first = yield* run(a)
        expect(yield* run(b)).toEqual(first)
        const lost = first.filter((outcome) => outcome === "lost").length
        expect(lost).toBeGreaterThan(2)
        expect(first.filter((outcome) => outcome === 503).length).toBeGreaterThan(2)
        // lost answers were served: their events are received, the 503s' are not
        expect(a.receivedCount("events")).toBe(first.filter((outcome) => outcome !== 503).length)
        expect(a.requests().filter((r) => r.fault?._tag === "LostAnswer")).toHaveLength(lost)
        // without faults in the mix, only lost answers
        const only = yield* MixpanelTestServer.make({ failRandomly: { lostAnswer: 1 } })
        expect(new Set(yield* run(only))).toEqual(new Set(["lost"]))
        expect(only.receivedCount("events")).toBe(30)
      })
    )

    it.scoped("stall: the client gives up, and the server still closes promptly", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.stall)
        const error = yield* sendFailing(`${server.url}/track`, {
          ...form(JSON.stringify([event(1)])),
          signal: AbortSignal.timeout(200)
        })
        expect((error as Error).name).toBe("TimeoutError")
        expect(server.receivedCount("events")).toBe(0)
        expect(server.requests()).toMatchObject([{ status: undefined, fault: { _tag: "Stall" } }])
      })
    )

    it("stall: closing the server ends a stalled request at once", async () => {
      const server = await MixpanelTestServer.start()
      server.fail(Fault.stall)
      const pending = fetch(`${server.url}/track`, form(JSON.stringify([event(1)]))).then(
        () => "answered",
        () => "failed"
      )
      while (server.requests().length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
      const started = performance.now()
      await server.close()
      expect(await pending).toBe("failed")
      expect(performance.now() - started).toBeLessThan(1000)
    })

    it.live("stall: closing the scope ends a stalled request at once", () =>
      Effect.gen(function* () {
        let url = ""
        const started = yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* MixpanelTestServer.make()
            url = server.url
            server.fail(Fault.stall)
            yield* Effect.forkDaemon(sendFailing(`${server.url}/track`, form(JSON.stringify([event(1)]))))
            while (server.requests().length === 0) yield* Effect.sleep("5 millis")
            return performance.now()
          })
        )
        expect(performance.now() - started).toBeLessThan(1000)
        yield* sendFailing(`${url}/track`, form(JSON.stringify([event(1)])))
      })
    )

    it.scoped("slow: answers normally after a delay, and records", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.slow("30 millis"))
        const started = performance.now()
        const reply = yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))
        expect(performance.now() - started).toBeGreaterThanOrEqual(25)
        expect([reply.status, reply.text]).toEqual([200, "1"])
        expect(server.received("events")).toEqual([event(1)])
        expect(server.requests()).toMatchObject([{ status: 200, fault: { _tag: "Slow", millis: 30 } }])
      })
    )

    it.scoped("random faults are reproducible with a seed", () =>
      Effect.gen(function* () {
        const options = { rate: 0.4, faults: [Fault.status(503), Fault.rateLimited(1), Fault.body("x")], seed: 42 }
        const run = (server: MixpanelTestServer.MixpanelTestServer) =>
          Effect.gen(function* () {
            const statuses: Array<number> = []
            for (let n = 0; n < 30; n++) {
              statuses.push((yield* send(`${server.url}/track`, form(JSON.stringify([event(n)])))).status)
            }
            return statuses
          })
        const a = yield* MixpanelTestServer.make({ failRandomly: options })
        const b = yield* MixpanelTestServer.make()
        b.failRandomly(options)
        const first = yield* run(a)
        const second = yield* run(b)
        expect(first).toEqual(second)
        const failures = a.requests().filter((r) => r.fault !== undefined).length
        expect(failures).toBeGreaterThan(3)
        expect(failures).toBeLessThan(27)
        expect(a.receivedCount("events")).toBe(30 - failures)
        const other = yield* MixpanelTestServer.make({ failRandomly: { ...options, seed: 7 } })
        expect(yield* run(other)).not.toEqual(first)
        a.failRandomly(undefined)
        b.stopFailing()
        expect(yield* run(a)).toEqual(Array.from({ length: 30 }, () => 200))
        expect(yield* run(b)).toEqual(Array.from({ length: 30 }, () => 200))
      })
    )

    it.scoped("random faults can be restricted to endpoints", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({
          failRandomly: { rate: 1, faults: [Fault.status(503)], endpoints: ["imports"] }
        })
        expect((yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))).status).toBe(200)
        expect((yield* send(`${server.url}/import`, jsonBody([event(1)]))).status).toBe(503)
      })
    )

    it.scoped("stopFailing drops queued faults", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        server.fail(Fault.status(500), Fault.status(500))
        server.stopFailing()
        expect(server.pendingFaults()).toBe(0)
        expect((yield* send(`${server.url}/track`, form(JSON.stringify([event(1)])))).status).toBe(200)
      })
    )
  })

  describe("lenient: the old behaviour", () => {
    it.scoped("reads the transports Mixpanel does not", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ lenient: true })
        const json = JSON.stringify([event(1)])
        const replies = [
          yield* send(`${server.url}/track/`, form(json)),
          yield* send(`${server.url}/track?data=${encodeURIComponent(json)}`, { method: "POST" }),
          yield* send(`${server.url}/track`, { method: "POST", headers: { "content-type": "text/plain" }, body: json }),
          yield* send(`${server.url}/track`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: `data=${base64(JSON.stringify([{ event: ">>>", properties: {} }]))}`
          }),
          yield* send(`${server.url}/import`, {
            method: "POST",
            body: `${JSON.stringify(event(2))}\n${JSON.stringify(event(3))}\n`
          })
        ]
        expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
        expect(server.receivedCount("events")).toBe(4)
        expect(server.receivedCount("imports")).toBe(2)
      })
    )

    it.scoped("checks only the shape of items, refuses a request whole, and drops nothing", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ lenient: true })
        const loose = [
          { event: "E", properties: { distinct_id: "anonymous", $insert_id: null } },
          { $distinct_id: 5, $set: {}, $unset: "x" }
        ]
        expect((yield* send(`${server.url}/track`, form(JSON.stringify([loose[0]])))).text).toBe("1")
        expect((yield* send(`${server.url}/engage`, form(JSON.stringify([loose[1]])))).text).toBe("1")
        const whole = yield* send(`${server.url}/track?verbose=1`, form(JSON.stringify([event(1), { event: "" }])))
        expect([whole.status, JSON.parse(whole.text)]).toEqual([
          400,
          { status: 0, error: "item 1: 'event' must be a non-empty string" }
        ])
        expect(server.receivedCount("events")).toBe(1)
        expect(server.dropped()).toEqual([])
      })
    )

    it.scoped("/import is strict only with strict=1; too many items is 413; bytes are the decoded JSON", () =>
      Effect.gen(function* () {
        const json = JSON.stringify([event(1, { url: "a=1&b=2" })])
        const server = yield* MixpanelTestServer.make({ lenient: true, maxItems: 2 })
        const bad = [event(1), { event: "E", properties: {} }]
        expect(JSON.parse((yield* send(`${server.url}/import`, jsonBody(bad))).text)).toEqual({
          code: 200,
          num_records_imported: 1,
          status: "OK"
        })
        const strict = yield* send(`${server.url}/import?strict=1`, jsonBody(bad))
        expect(JSON.parse(strict.text).failed_records).toEqual([
          {
            index: 1,
            insert_id: "",
            field: "properties.time",
            message: "'properties.time' must be a number"
          }
        ])
        expect((yield* send(`${server.url}/import`, jsonBody([event(1), event(2), event(3)]))).status).toBe(413)
        const exact = yield* MixpanelTestServer.make({ lenient: true, maxBytes: json.length })
        expect((yield* send(`${exact.url}/track`, form(json))).status).toBe(200)
        expect(exact.requests().at(-1)?.bytes).toBe(json.length)
      })
    )
  })

  describe("lifecycle", () => {
    it("start and close from Promise code", async () => {
      const server = await MixpanelTestServer.start()
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
      const response = await fetch(`${server.url}/track`, form(JSON.stringify([event(1)])))
      expect(await response.text()).toBe("1")
      expect(server.received("events")).toEqual([event(1)])
      await server.close()
      await server.close()
      await expect(fetch(`${server.url}/track`, form(JSON.stringify([event(1)])))).rejects.toThrow()
    })

    it.effect("closing the scope closes the server", () =>
      Effect.gen(function* () {
        const url = yield* Effect.scoped(Effect.map(MixpanelTestServer.make(), (server) => server.url))
        const exit = yield* Effect.exit(Effect.tryPromise(() => fetch(`${url}/track`)))
        expect(Exit.isFailure(exit)).toBe(true)
      })
    )

    it.scoped("the handle from make has no close", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        expect("close" in server).toBe(false)
      })
    )

    it.effect("layer provides the service", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.MixpanelTestServer
        yield* send(`${server.url}/groups`, form(JSON.stringify(samples.groups)))
        expect(server.received("groups")).toEqual(samples.groups)
      }).pipe(Effect.provide(Layer.fresh(MixpanelTestServer.layer())))
    )

    it.effect("make takes the time for checkTime from the Clock", () =>
      // TestClock starts at 0, so a 2024 event is in the future
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* MixpanelTestServer.make({ checkTime: true })
          const reply = yield* send(`${server.url}/import`, jsonBody([event(1)]))
          expect(JSON.parse(reply.text).num_records_imported).toBe(0)
        })
      )
    )
  })
})
