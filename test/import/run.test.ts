/**
 * `Import.run` over real HTTP to the embedded Mixpanel, with `TestClock` for every retry delay.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream, TestClock } from "effect"
import { Consumer, Import } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { advanceUntil, tick, untilSleeping, waitUntil } from "../support/io.js"

const token = "T"
const secret = "import-secret"

const events = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    event: "Order Placed",
    distinct_id: `c${(from + i) % 7}`,
    time: 1_700_000_000 + from + i,
    seq: from + i
  }))

const serve = (options: MixpanelTestServer.Options = {}) =>
  MixpanelTestServer.make({ token, auth: { apiSecret: secret }, ...options })

const options = (
  server: MixpanelTestServer.MixpanelTestServer,
  more: Partial<Import.Options> = {}
): Import.Options => ({
  token,
  baseUrl: server.url,
  importAuth: Consumer.apiSecret(secret),
  ...more
})

const run = <E>(entries: Stream.Stream<Import.Entry, E>, opts: Import.Options) =>
  Import.run(entries, opts).pipe(Effect.provide(FetchHttpClient.layer))

const seqs = (server: MixpanelTestServer.MixpanelTestServer) =>
  server
    .received("imports")
    .map((event) => (event.properties as { seq: number }).seq)
    .sort((a, b) => a - b)

describe("Import.run", () => {
  it.scoped("delivers every record, in batches, confirmed in order", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const reports: Array<Import.BatchReport> = []
      const summary = yield* run(
        Import.fromRecords(Stream.fromIterable(events(25)), "orders"),
        options(server, { batchSize: 10, concurrency: 3, onBatch: (report) => Effect.sync(() => reports.push(report)) })
      )
      expect(seqs(server)).toEqual(events(25).map((event) => event.seq))
      // three requests in flight at once: they may arrive in any order
      expect(
        server
          .requests()
          .map((request) => request.items)
          .sort((a, b) => b - a)
      ).toEqual([10, 10, 5])
      expect(reports.map((report) => report.through)).toEqual([
        { source: "orders", ordinal: 10 },
        { source: "orders", ordinal: 20 },
        { source: "orders", ordinal: 25 }
      ])
      expect(reports.map((report) => report.counts.delivered)).toEqual([10, 20, 25])
      expect(summary).toMatchObject({ entries: 25, messages: 25, delivered: 25, rejected: 0, complete: true })
      // gzip is on by default here, and the strict checks too
      expect(server.requests()[0]?.headers["content-encoding"]).toBe("gzip")
      expect(server.requests()[0]?.query.strict).toBe("1")
    })
  )

  it.scoped("an onBatch that throws, or an async one that rejects, is logged; the import goes on to the end", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      let calls = 0
      const onBatch = ((report: Import.BatchReport) => {
        calls++
        if (report.counts.delivered === 10) throw new Error("the dashboard is down")
        return Promise.reject(new Error("so is the database"))
      }) as unknown as Import.Options["onBatch"]
      const summary = yield* run(
        Import.fromRecords(Stream.fromIterable(events(25)), "orders"),
        options(server, { batchSize: 10, concurrency: 1, onBatch })
      )
      expect(calls).toBe(3)
      expect(summary).toMatchObject({ delivered: 25, complete: true })
      expect(seqs(server)).toEqual(events(25).map((event) => event.seq))
    })
  )

  it.scoped("reports what strict /import refuses, by source line, and delivers the rest", () =>
    Effect.gen(function* () {
      const server = yield* serve({
        rejectRecord: (_, record) =>
          (record.properties as { seq: number }).seq % 4 === 1
            ? { field: "properties.seq", message: "odd one" }
            : undefined
      })
      const summary = yield* run(Import.fromRecords(Stream.fromIterable(events(8))), options(server, { batchSize: 3 }))
      expect(seqs(server)).toEqual([0, 2, 3, 4, 6, 7])
      expect(summary.rejections).toEqual([
        expect.objectContaining({ source: "stream", line: 2, stage: "server", reason: "properties.seq: odd one" }),
        expect.objectContaining({ line: 6, stage: "server" })
      ])
      expect(summary.rejections[0]?.record).toMatchObject({ properties: { seq: 1 } })
      expect(summary).toMatchObject({ delivered: 6, rejected: 2, rejectedBy: { server: 2 }, complete: true })
    })
  )

  it.scoped("without strict, asks /import not to check each record", () =>
    Effect.gen(function* () {
      const server = yield* serve({
        rejectRecord: (_, record) => ((record.properties as { seq: number }).seq === 1 ? "refused" : undefined)
      })
      const summary = yield* run(Import.fromRecords(Stream.fromIterable(events(3))), options(server, { strict: false }))
      expect(server.requests().map((request) => [request.query.strict, request.status])).toEqual([["0", 200]])
      // Mixpanel then drops what it refuses without a word: the summary cannot know
      expect(seqs(server)).toEqual([0, 2])
      expect(summary).toMatchObject({ delivered: 3, rejected: 0 })
    })
  )

  it.scoped("halves a request refused as a whole (400, nothing kept) until every message is through", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      server.fail(MixpanelTestServer.Fault.status(400))
      const summary = yield* run(Import.fromRecords(Stream.fromIterable(events(16))), options(server))
      expect(seqs(server)).toEqual(events(16).map((event) => event.seq))
      expect(summary).toMatchObject({ delivered: 16, rejected: 0 })
      expect(server.requests().map((request) => [request.status, request.items])).toEqual([
        [400, 16],
        [200, 8],
        [200, 8]
      ])
    })
  )

  it.scoped("reports every update of an /engage request answered 0, without sending the kept ones again", () =>
    Effect.gen(function* () {
      const server = yield* serve({
        rejectRecord: (endpoint, record) =>
          endpoint === "people" && record.$distinct_id === "u5" ? "no u5" : undefined
      })
      const users = Array.from({ length: 16 }, (_, i) => ({ distinct_id: `u${i}`, plan: "pro" }))
      const summary = yield* run(
        Import.fromRecords(Stream.fromIterable(users)),
        options(server, { type: "user", batchSize: 8 })
      )
      // Mixpanel kept the valid updates of the refused request: they arrive once
      expect(server.received("people").map((update) => update.$distinct_id)).toEqual(
        users.map((user) => user.distinct_id).filter((id) => id !== "u5")
      )
      expect(server.requests().length).toBe(2)
      expect(summary.rejections.map((rejection) => rejection.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      expect(summary.rejections[5]).toMatchObject({ stage: "server", reason: expect.stringContaining("no u5") })
      expect(summary).toMatchObject({ delivered: 8, rejected: 8 })
    })
  )

  it.scoped("keeps its requests busy while a batch waits to retry, and confirms in order", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      server.fail(MixpanelTestServer.Fault.status(503))
      const reports: Array<Import.BatchReport> = []
      const fiber = yield* Effect.fork(
        run(
          Import.fromRecords(Stream.fromIterable(events(60))),
          options(server, {
            batchSize: 10,
            concurrency: 2,
            onBatch: (report) => Effect.sync(() => reports.push(report))
          })
        )
      )
      // The clock stands still: the batch refused (the first or second, both go at once) waits for its retry
      // while the five others are delivered; none after it is confirmed before it
      yield* waitUntil(() => server.received("imports").length === 50, "the other batches")
      expect(reports.length).toBeLessThanOrEqual(1)
      yield* advanceUntil(() => server.received("imports").length === 60, "1 second", "the retry")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toMatchObject({ delivered: 60, complete: true })
      expect(reports.map((report) => report.through?.ordinal)).toEqual([10, 20, 30, 40, 50, 60])
    })
  )

  it.scoped("splits a request Mixpanel finds too large", () =>
    Effect.gen(function* () {
      const server = yield* serve({ maxBytes: 1500 })
      const summary = yield* run(Import.fromRecords(Stream.fromIterable(events(20))), options(server))
      expect(seqs(server)).toEqual(events(20).map((event) => event.seq))
      expect(summary).toMatchObject({ delivered: 20, rejected: 0 })
      expect(server.requests().some((request) => request.status === 413)).toBe(true)
    })
  )

  it.scoped("retries transient failures with backoff, on the clock", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      server.fail(
        MixpanelTestServer.Fault.status(503),
        MixpanelTestServer.Fault.rateLimited(),
        MixpanelTestServer.Fault.drop
      )
      const fiber = yield* Effect.fork(run(Import.fromRecords(Stream.fromIterable(events(5))), options(server)))
      yield* advanceUntil(() => server.received("imports").length === 5, "1 second", "the retries")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toMatchObject({ delivered: 5, complete: true })
      expect(server.requests().map((request) => request.status)).toEqual([503, 429, undefined, 200])
    })
  )

  it.scoped("stops on a failure more tries cannot fix: nothing more is read or sent", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      let pulled = 0
      const records = Stream.fromIterable(events(1000)).pipe(
        Stream.rechunk(1),
        Stream.tap(() => Effect.sync(() => pulled++))
      )
      const summary = yield* run(
        Import.fromRecords(records),
        options(server, { importAuth: Consumer.apiSecret("wrong"), batchSize: 10, concurrency: 2 })
      )
      expect(summary.complete).toBe(false)
      expect(summary.stoppedBy).toMatchObject({ _tag: "ResponseError", reason: "Unauthorized" })
      expect(summary.delivered).toBe(0)
      expect(summary.undelivered).toBe(summary.messages)
      expect(pulled).toBeLessThan(100)
      expect(server.requests().length).toBeLessThanOrEqual(2)
    })
  )

  it.scoped("reads no further ahead than the batches holding their messages and two more", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      server.fail(MixpanelTestServer.Fault.stall)
      let pulled = 0
      const records = Stream.fromIterable(events(10_000)).pipe(
        Stream.rechunk(1),
        Stream.tap(() => Effect.sync(() => pulled++))
      )
      const fiber = yield* Effect.fork(
        run(Import.fromRecords(records), options(server, { type: "event", batchSize: 10, concurrency: 1 }))
      )
      yield* waitUntil(() => server.requests().length === 0 && pulled > 0, "the first pull")
      for (let i = 0; i < 2000; i++) yield* tick
      // one batch stalled in flight, one waiting for its request slot (2 × concurrency holding their
      // messages), one waiting for them, one being filled
      expect(pulled).toBeLessThanOrEqual(5 * 10)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.scoped("sends profile updates one request at a time, in order", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      server.fail(MixpanelTestServer.Fault.slow("30 millis"))
      const users = Array.from({ length: 6 }, (_, i) => ({ $distinct_id: "u1", $set: { step: i } }))
      yield* run(Import.fromRecords(Stream.fromIterable(users)), options(server, { type: "user", batchSize: 2 }))
      expect(server.received("people").map((update) => (update.$set as { step: number }).step)).toEqual([
        0, 1, 2, 3, 4, 5
      ])
    })
  )

  it.scoped("applies the mapping, then the transform: one, several, none, later, or a failure", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const rows = [
        { action: "One", ts: 1_700_000_000, who: "a" },
        { action: "Two", ts: 1_700_000_001, who: "b" },
        { action: "Skip", ts: 1_700_000_002, who: "c" },
        { action: "Later", ts: 1_700_000_003, who: "d" },
        { action: "Boom", ts: 1_700_000_004, who: "e" }
      ]
      const transform: Import.Transform = (record) => {
        switch (record.event) {
          case "Two":
            return [record, { ...record, event: "Two again" }]
          case "Skip":
            return null
          case "Later":
            return Promise.resolve({ ...record, late: true })
          case "Boom":
            throw new Error("cannot")
          default:
            return record
        }
      }
      const summary = yield* run(
        Import.fromRecords(Stream.fromIterable(rows)),
        options(server, { mapping: { event: "action", time: "ts", distinct_id: "who" }, transform })
      )
      expect(server.received("imports").map((event) => event.event)).toEqual(["One", "Two", "Two again", "Later"])
      expect(server.received("imports")[3]?.properties).toMatchObject({ distinct_id: "d", late: true })
      expect(summary).toMatchObject({ entries: 5, messages: 4, delivered: 4, skipped: 1, rejected: 1 })
      expect(summary.rejections).toEqual([
        { source: "stream", line: 5, stage: "transform", reason: "the transform failed: cannot", record: rows[4] }
      ])
    })
  )

  it.scoped("rejects a record whose transform never answers, after a minute, and imports the others", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const transform: Import.Transform = (record) =>
        record.event === "Stuck" ? new Promise(() => {}) : Promise.resolve(record)
      const records = [
        { event: "A", distinct_id: "u", time: 1_700_000_000 },
        { event: "Stuck", distinct_id: "u", time: 1_700_000_001 },
        { event: "B", distinct_id: "u", time: 1_700_000_002 }
      ]
      const fiber = yield* Effect.fork(
        run(Import.fromRecords(Stream.fromIterable(records)), options(server, { transform }))
      )
      // the transform's minute, once its timer is set; then the clock stands while the others go over HTTP
      yield* untilSleeping("60 seconds")
      expect(yield* TestClock.sleeps()).toHaveLength(1)
      yield* TestClock.adjust("60 seconds")
      const summary = yield* Fiber.join(fiber)
      expect(server.received("imports").map((event) => event.event)).toEqual(["A", "B"])
      expect(summary).toMatchObject({ delivered: 2, rejected: 1 })
      expect(summary.rejections).toMatchObject([
        { line: 2, stage: "transform", reason: "the transform did not answer within 60 seconds" }
      ])
    })
  )

  it.scoped("sends fields named like Object.prototype's members, and rejects __proto__ by name", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const members = { constructor: "c", toString: "t", valueOf: "v", hasOwnProperty: "h" }
      const records = [
        { event: "A", distinct_id: "u1", time: 1_700_000_000, ...members },
        JSON.parse('{"event":"B","distinct_id":"u1","time":1700000000,"__proto__":"p"}')
      ]
      const summary = yield* run(Import.fromRecords(Stream.fromIterable(records)), options(server))
      expect(server.received("imports").map((event) => event.properties)).toEqual([expect.objectContaining(members)])
      expect(summary).toMatchObject({ delivered: 1, rejected: 1, rejectedBy: { validation: 1 } })
      expect(summary.rejections[0]?.reason).toMatch(/^properties\.__proto__: `__proto__` cannot be a property name/)
    })
  )

  it.scoped("rejects a record that throws when read, and delivers the others", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const trap = new Proxy(
        {},
        {
          get() {
            throw new Error("getter threw")
          }
        }
      )
      // an ORM's object: a property read from the database on access
      const lazy = Object.defineProperty({ event: "A", time: 1_700_000_000 }, "distinct_id", {
        enumerable: true,
        get() {
          throw new Error("connection closed")
        }
      })
      // its name read first: the reason is that it cannot be read, not that it has no time
      const nameless = {
        get event(): string {
          throw new Error("no name")
        },
        properties: {}
      }
      const records = [...events(1), trap, lazy, nameless, ...events(1, 1)]
      // read to build the message, to apply a mapping, or before a transform
      for (const more of [{}, { mapping: { time: "time" } }, { transform: (record: unknown) => record }]) {
        server.clear()
        const summary = yield* run(Import.fromRecords(Stream.fromIterable(records)), options(server, more))
        expect(seqs(server)).toEqual([0, 1])
        expect(summary).toMatchObject({ delivered: 2, rejected: 3, rejectedBy: { validation: 3 }, complete: true })
        expect(summary.rejections.map(({ line, reason, stage }) => ({ line, stage, reason }))).toEqual([
          { line: 2, stage: "validation", reason: "the record cannot be read: getter threw" },
          { line: 3, stage: "validation", reason: "the record cannot be read: connection closed" },
          { line: 4, stage: "validation", reason: "the record cannot be read: no name" }
        ])
      }
    })
  )

  it.scoped("a dry run checks everything and sends nothing", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const summary = yield* run(Import.fromRecords(Stream.make({ event: "Ok", time: 1 }, { event: "No time" }, 42)), {
        token,
        dryRun: true
      })
      expect(server.requests()).toEqual([])
      expect(summary).toMatchObject({ dryRun: true, delivered: 1, rejected: 2, rejectedBy: { validation: 2 } })
      expect(summary.rejections.map((rejection) => rejection.reason)).toEqual([
        "properties.time: an imported event needs a time",
        "a record is a JSON object"
      ])
    })
  )

  it.effect("refuses settings that cannot work before reading anything", () =>
    Effect.gen(function* () {
      const attempts = [
        { token: "" },
        { token, importAuth: undefined },
        { token, importAuth: Consumer.apiSecret(secret), batchSize: 2001 },
        { token, importAuth: Consumer.apiSecret(secret), concurrency: 0 },
        // from JavaScript: a name every object has is not a record type
        { token, importAuth: Consumer.apiSecret(secret), type: "constructor" as Import.RecordType }
      ]
      for (const attempt of attempts) {
        const error = yield* Effect.flip(run(Stream.die("read"), attempt))
        expect(error._tag).toBe("InvalidConfig")
      }
    })
  )

  it.effect("numbers the records of a stream", () =>
    Effect.gen(function* () {
      const entries = yield* Stream.runCollect(Import.fromRecords(Stream.make("a", "b"), "src"))
      expect(Chunk.toReadonlyArray(entries)).toEqual([
        { _tag: "Record", source: "src", line: 1, ordinal: 1, record: "a" },
        { _tag: "Record", source: "src", line: 2, ordinal: 2, record: "b" }
      ])
      yield* TestClock.adjust("1 second")
    })
  )
})
