/**
 * The delivery engine's parts on their own, without I/O: batch limits, lanes, flush accounting, the memory
 * store, the retry schedule and `deliver` (with a scripted send), and the reporter.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Deferred, Duration, Effect, Fiber, FastCheck as fc, Option, Schedule, TestClock } from "effect"
import * as Batch from "../../src/internal/consumer/batch.js"
import * as Flushes from "../../src/internal/consumer/buffered/flushes.js"
import * as Lanes from "../../src/internal/consumer/buffered/lanes.js"
import * as Memory from "../../src/internal/consumer/buffered/memory.js"
import * as Owned from "../../src/internal/consumer/buffered/owned.js"
import * as Reporter from "../../src/internal/consumer/buffered/reporter.js"
import * as Deliver from "../../src/internal/consumer/deliver.js"
import * as Pages from "../../src/internal/consumer/durable/pages.js"
import { parseRetryAfter } from "../../src/internal/consumer/ingestion.js"
import type { Sendable } from "../../src/internal/consumer/placed.js"
import * as Report from "../../src/internal/consumer/report.js"
import * as Retry from "../../src/internal/consumer/retry.js"
import { Unwritten } from "../../src/internal/consumer/unwritten.js"
import { FailedRecord, RequestError, ResponseError } from "../../src/MixpanelError.js"

const formDecode = (body: string) => new URLSearchParams(body).get("data")

/** A form's `data=` as the library means to write it, as text: only `% & + = ;` escaped. */
const formData = (json: string) =>
  `data=${json.replace(/[%&+=;]/g, (special) => `%${special.charCodeAt(0).toString(16).toUpperCase()}`)}`

describe("batch: limits counted on the body as sent", () => {
  it("a form body escapes % & + = ; and nothing else, and decodes back to the JSON", () => {
    const json = JSON.stringify({ event: "E", properties: { url: "https://x.io/?a=1&b=2+3;c=%41", name: "é" } })
    const body = Buffer.from(Batch.body("events", [json])).toString("utf8")
    expect(body).toBe(
      'data=[{"event":"E","properties":{"url":"https://x.io/?a%3D1%26b%3D2%2B3%3Bc%3D%2541","name":"é"}}]'
    )
    expect(formDecode(body)).toBe(`[${json}]`)
    expect(Buffer.byteLength(body)).toBe(Batch.bodyBytes("events", 1, Batch.wireBytes("events", json)))
  })

  it("writes any messages, specials and non-ASCII anywhere, dense or far apart, as text or as bytes, into a body that decodes back to their JSON array", () => {
    const specials = fc.constantFrom("%", "&", "+", "=", ";", "é", "😀", "\u2028", "a")
    // long runs of ASCII between the specials: an ASCII message whose specials are far apart is escaped
    // by moving those runs, any other byte by byte
    const run = fc.string({ minLength: 16, maxLength: 64, unit: fc.constantFrom("a", "{", '"', ":", "9") })
    const message = fc
      .array(fc.oneof(specials, fc.string({ unit: "binary" }), run), { maxLength: 12 })
      .map((parts) => parts.join(""))
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        const body = Batch.body("groups", messages)
        expect(Buffer.from(body).toString("utf8")).toBe(formData(`[${messages.join(",")}]`))
        expect(body.length).toBe(
          Batch.bodyBytes(
            "groups",
            messages.length,
            messages.reduce((n, m) => n + Batch.wireBytes("groups", m), 0)
          )
        )
        // The same messages as their UTF-8 bytes (as a durable store reads them back), in a Buffer or not
        let placed: Uint8Array | undefined
        Batch.place(
          "groups",
          messages.map((m, i) => (i % 2 === 0 ? Buffer.from(m) : new Uint8Array(Buffer.from(m)))),
          messages.map((m) => Batch.wireBytes("groups", m)),
          Buffer.allocUnsafe,
          messages.map(() => ({
            place: (written: Uint8Array) => {
              placed = written
            }
          }))
        )
        expect(placed).toEqual(body)
      })
    )
  })

  it("writes a body as bytes: the form text of the JSON array, or the JSON array, as UTF-8", () => {
    const messages = ['{"a":"x&y=z+1%;é"}', '{"b":2}', '{"c":"😀"}']
    const json = `[${messages.join(",")}]`
    expect(Buffer.from(Batch.body("events", messages)).toString("utf8")).toBe(formData(json))
    expect(Buffer.from(Batch.body("imports", messages)).toString("utf8")).toBe(json)
    expect(Batch.body("people", messages).length).toBe(
      Batch.bodyBytes(
        "people",
        3,
        messages.reduce((n, m) => n + Batch.wireBytes("people", m), 0)
      )
    )
  })

  it("splits 2,000 escape-heavy events into bodies under 2 MiB as sent, where their JSON alone fits one", () => {
    const messages = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ event: "Viewed", properties: { i, url: `https://example.com/?${"a=1&b=2+3&".repeat(80)}` } })
    )
    const json = `[${messages.join(",")}]`
    expect(Buffer.byteLength(json)).toBeLessThan(Batch.maxBytes)
    const batches = Batch.split("events", messages, Batch.mixpanelLimits)
    expect(batches.length).toBeGreaterThan(1)
    for (const batch of batches) {
      expect(Buffer.byteLength(formData(`[${batch.join(",")}]`))).toBeLessThanOrEqual(Batch.maxBytes)
    }
    expect(batches.flat()).toEqual(messages)
    // /import sends the JSON as it is: one request
    expect(Batch.split("imports", messages, Batch.mixpanelLimits).length).toBe(1)
  })

  it("cuts at the item limit, and lets a message too large for any batch go alone", () => {
    const batches = Batch.split("imports", ["1", "2", "3", "x".repeat(100), "5"], { maxItems: 2, maxBytes: 50 })
    expect(batches).toEqual([["1", "2"], ["3"], ["x".repeat(100)], ["5"]])
  })
})

describe("lanes", () => {
  const limits = { maxItems: 3, maxBytes: 1000 }
  it("are ready when a full request waits, or when asked to drain until empty", () => {
    const lane = Lanes.make("events")
    Lanes.appended(lane, 2, 20)
    expect(Lanes.ready(lane, limits)).toBe(false)
    Lanes.appended(lane, 1, 10)
    expect(Lanes.ready(lane, limits)).toBe(true)
    Lanes.claimed(lane, 3, 30)
    expect(Lanes.ready(lane, limits)).toBe(false)
    Lanes.appended(lane, 1, 10)
    Lanes.drain(lane)
    expect(Lanes.ready(lane, limits)).toBe(true)
    Lanes.claimed(lane, 1, 10)
    expect(lane.draining).toBe(false)
  })

  it("are ready on bytes alone", () => {
    const lane = Lanes.make("imports")
    Lanes.appended(lane, 1, 999)
    expect(Lanes.ready(lane, limits)).toBe(true)
  })

  it("take an empty claim as an empty lane (a shared store also holds others' messages)", () => {
    const lane = Lanes.make("events")
    Lanes.appended(lane, 5, 50)
    Lanes.drain(lane)
    Lanes.claimed(lane, 0, 0)
    expect([lane.waiting, lane.draining]).toEqual([0, false])
  })
})

describe("flushes", () => {
  const failure = (json: string) => Report.failure("events", json, "Rejected", "Invalid", "bad")
  it("complete a flush when its epoch and every one before it are settled, with their failures", () => {
    const flushes = Flushes.make({ failures: 10, bytes: 1000 })
    Flushes.accepted(flushes, 2)
    const first = Flushes.close(flushes)
    Flushes.accepted(flushes, 1)
    const second = Flushes.close(flushes)
    expect([first, second]).toEqual([0, 1])
    Flushes.settled(flushes, 1, 1)
    expect(Flushes.completed(flushes)).toEqual([]) // epoch 0 still pending
    Flushes.failed(flushes, [failure("a")], 0)
    Flushes.settled(flushes, 0, 2)
    const done = Flushes.completed(flushes)
    expect(done.map((e) => [e.id, e.failures.length])).toEqual([
      [0, 1],
      [1, 0]
    ])
  })

  it("share a flush with nothing new with the one still going, and keep failures within their cap", () => {
    const flushes = Flushes.make({ failures: 1, bytes: 1000 })
    Flushes.accepted(flushes, 1)
    expect(Flushes.close(flushes)).toBe(0)
    expect(Flushes.close(flushes)).toBe(0)
    Flushes.failed(flushes, [failure("a"), failure("b")], 0)
    Flushes.settled(flushes, 0, 1)
    const [epoch] = Flushes.completed(flushes)
    expect([epoch?.failures.length, epoch?.omitted]).toEqual([1, 1])
    expect(Flushes.close(flushes)).toBe(undefined)
  })
})

describe("owned: the epochs of a consumer's messages in a durable store", () => {
  const message = (page: number, index: number) => ({
    id: Pages.messageId(page, index),
    endpoint: "events" as const,
    json: "{}",
    bytes: 2
  })

  it("hands each message's epoch back once, and forgets a page once all of its messages had theirs", () => {
    const owned = Owned.make()
    Owned.add(owned, [message(3, 0), message(3, 1), message(4, 0)], 1)
    Owned.add(owned, [message(3, 2)], 2)
    expect(owned.size).toBe(4)
    expect(Owned.take(owned, message(3, 2))).toBe(2)
    expect(Owned.take(owned, message(3, 2))).toBeUndefined()
    expect(Owned.take(owned, message(9, 0))).toBeUndefined()
    // A store that keeps the epoch hands it back itself
    expect(Owned.take(owned, { ...message(9, 0), epoch: 7 })).toBe(7)
    expect(Owned.take(owned, message(3, 0))).toBe(1)
    expect(Owned.take(owned, message(3, 1))).toBe(1)
    expect([owned.size, [...owned.pages.keys()]]).toEqual([1, [4]])
  })

  it("passed: the messages below the store's oldest left it, counted by epoch; all of them once it is empty", () => {
    const owned = Owned.make()
    Owned.add(owned, [message(1, 0), message(1, 1), message(2, 0)], 1)
    Owned.add(owned, [message(2, 1), message(5, 0)], 2)
    expect(Owned.passed(owned, Pages.messageId(2, 1))).toEqual(new Map([[1, 3]]))
    expect(Owned.take(owned, message(1, 0))).toBeUndefined()
    expect(owned.size).toBe(2)
    expect(Owned.passed(owned, undefined)).toEqual(new Map([[2, 2]]))
    expect([owned.size, owned.pages.size]).toEqual([0, 0])
  })
})

describe("the memory store", () => {
  const limits = { maxItems: 10, maxBytes: 10_000 }
  it.effect("hands out messages in order per endpoint, within the batch limits", () =>
    Effect.gen(function* () {
      const store = Memory.make({ capacity: 100, capacityBytes: 10_000, overflow: "dropNewest" })
      yield* store.append("events", ["1", "2", "3"], 0)
      yield* store.append("people", ["a"], 0)
      const batch = yield* store.claim("events", { maxItems: 2, maxBytes: 10_000 })
      expect(batch.map((m) => m.json)).toEqual(["1", "2"])
      expect((yield* store.claim("events", limits)).map((m) => m.json)).toEqual(["3"])
      expect((yield* store.claim("people", limits)).map((m) => [m.json, m.epoch])).toEqual([["a", 0]])
      expect(store.held().messages).toBe(4)
      yield* store.ack(batch)
      expect(store.held().messages).toBe(2)
    })
  )

  it.effect(
    "writes a message appended unwritten when a claim reaches it, and cuts the batch on the bytes written",
    () =>
      Effect.gen(function* () {
        class Text extends Unwritten {
          writes = 0
          constructor(
            readonly text: string,
            readonly size: number
          ) {
            super()
          }
          write() {
            this.writes++
            return this.text
          }
        }
        const texts = [0, 1, 2].map((i) => new Text(`{"i":${i},"s":"${"a".repeat(600)}"}`, 10))
        const store = Memory.make({ capacity: 100, capacityBytes: 10_000, overflow: "dropNewest" })
        yield* store.append("imports", texts, 0)
        expect(texts.map((t) => t.writes)).toEqual([0, 0, 0])
        // 10 bytes each as counted, 610 as written: two fit a body of 1,300 bytes, three do not
        const batch = yield* store.claim("imports", { maxItems: 10, maxBytes: 1300 })
        expect(batch.map((m) => m.json)).toEqual([texts[0]?.text, texts[1]?.text])
        expect(texts.map((t) => t.writes)).toEqual([1, 1, 1])
        expect(store.held()).toEqual({ messages: 3, bytes: 30 })
        expect((yield* store.claim("imports", limits)).map((m) => m.json)).toEqual([texts[2]?.text])
        expect(texts.map((t) => t.writes)).toEqual([1, 1, 1])
      })
  )

  it.effect("dropNewest refuses what does not fit; dropOldest evicts the oldest waiting, never a claimed one", () =>
    Effect.gen(function* () {
      const newest = Memory.make({ capacity: 2, capacityBytes: 10_000, overflow: "dropNewest" })
      const a = yield* newest.append("events", ["1", "2", "3"], 0)
      expect([a.stored.length, a.refused]).toEqual([2, ["3"]])

      const oldest = Memory.make({ capacity: 2, capacityBytes: 10_000, overflow: "dropOldest" })
      yield* oldest.append("events", ["1"], 0)
      yield* oldest.append("people", ["a"], 0)
      const claimed = yield* oldest.claim("events", limits)
      const b = yield* oldest.append("events", ["2"], 0)
      expect([b.stored.map((m) => m.json), b.evicted.map((m) => m.json)]).toEqual([["2"], ["a"]])
      const c = yield* oldest.append("events", ["3"], 0)
      expect([c.evicted.map((m) => m.json), claimed.map((m) => m.json)]).toEqual([["2"], ["1"]])
      // what is in flight alone fills the store: the new message is refused
      yield* oldest.claim("events", limits)
      const d = yield* oldest.append("events", ["4"], 0)
      expect(d.refused).toEqual(["4"])
    })
  )

  it.effect("counts bytes as sent: form escapes count three bytes", () =>
    Effect.gen(function* () {
      const store = Memory.make({ capacity: 100, capacityBytes: 10, overflow: "dropNewest" })
      const appended = yield* store.append("events", ["&&&&"], 0)
      expect(appended.refused).toEqual(["&&&&"])
      const imports = yield* store.append("imports", ["&&&&"], 0)
      expect(imports.stored.length).toBe(1)
    })
  )
})

describe("retries", () => {
  const transient = new ResponseError({ endpoint: "events", reason: "ServerError", status: 503, undelivered: [] })
  const rateLimited = (seconds: number) =>
    new ResponseError({
      endpoint: "events",
      reason: "RateLimited",
      status: 429,
      undelivered: [],
      retryAfter: Duration.seconds(seconds)
    })
  const policy: Retry.Policy = {
    schedule: Schedule.spaced("10 seconds"),
    maxRetries: 3,
    maxRetryTime: Duration.minutes(1)
  }

  it("reads Retry-After as seconds or as a date", () => {
    expect(parseRetryAfter("3", 0)).toEqual(Duration.seconds(3))
    expect(parseRetryAfter(new Date(5000).toUTCString(), 2000)).toEqual(Duration.millis(3000))
    expect(parseRetryAfter("soon", 0)).toBe(undefined)
  })

  /** The delays the policy waits for `errors` in turn, read from the schedule; none after it stops. */
  const delays = (errors: ReadonlyArray<ResponseError | RequestError>, p: Retry.Policy = policy) =>
    Effect.gen(function* () {
      const out: Array<number> = []
      let i = 0
      const fiber = yield* Effect.fork(
        Effect.retry(
          Effect.suspend(() => {
            const error = errors[i++]
            return error === undefined ? Effect.void : Effect.fail(error)
          }),
          Retry.schedule(p)
        ).pipe(Effect.either)
      )
      while (fiber.unsafePoll() === null) {
        const next = Option.getOrUndefined(Chunk.head(yield* TestClock.sleeps()))
        if (next === undefined) {
          yield* Effect.yieldNow()
          continue
        }
        const now = yield* Clock.currentTimeMillis
        out.push(next - now)
        yield* TestClock.adjust(next - now)
      }
      return { delays: out, result: yield* Fiber.join(fiber) }
    })

  it.effect("wait the server's Retry-After as given, the schedule's delay otherwise", () =>
    Effect.gen(function* () {
      const { delays: waits } = yield* delays([transient, rateLimited(1), transient])
      expect(waits).toEqual([10_000, 1_000, 10_000])
    })
  )

  it.effect("never retry what is not transient, and stop at maxRetries", () =>
    Effect.gen(function* () {
      const rejected = new ResponseError({ endpoint: "events", reason: "Rejected", status: 400, undelivered: [] })
      expect((yield* delays([rejected])).delays).toEqual([])
      const many = Array.from({ length: 10 }, () => transient)
      const { delays: waits, result } = yield* delays(many)
      expect(waits.length).toBe(3)
      expect(result._tag).toBe("Left")
    })
  )

  it.effect("start no retry past maxRetryTime, nor past a deadline", () =>
    Effect.gen(function* () {
      const many = Array.from({ length: 10 }, () => transient)
      const short = yield* delays(many, { ...policy, maxRetries: 100, maxRetryTime: Duration.seconds(25) })
      expect(short.delays).toEqual([10_000, 10_000])
      const start = yield* Clock.currentTimeMillis
      const deadline = yield* delays(many, { ...policy, maxRetries: 100, deadline: () => start + 15_000 })
      expect(deadline.delays).toEqual([10_000])
    })
  )
})

describe("deliver", () => {
  const noRetry: Retry.Policy = { schedule: Schedule.stop, maxRetries: 0, maxRetryTime: Duration.zero }
  const tooLarge = (n: number) =>
    new ResponseError({ endpoint: "events", reason: "TooLarge", status: 413, undelivered: [], serverError: `${n}` })

  it.effect("splits on 413 down to the message too large, in order, settling each part once", () =>
    Effect.gen(function* () {
      const sent: Array<ReadonlyArray<Sendable>> = []
      const parts: Array<Deliver.Part> = []
      yield* Deliver.deliver({
        messages: ["a", "b", "BIG", "d"],
        send: (messages) => () =>
          Effect.suspend(() => {
            sent.push(messages)
            return messages.includes("BIG") ? Effect.fail(tooLarge(messages.length)) : Effect.void
          }),
        policy: noRetry,
        settle: (part) => Effect.sync(() => parts.push(part))
      })
      expect(sent).toEqual([["a", "b", "BIG", "d"], ["a", "b"], ["BIG", "d"], ["BIG"], ["d"]])
      expect(parts.map((p) => [p._tag, p.indices])).toEqual([
        ["Delivered", [0, 1]],
        ["Failed", [2]],
        ["Delivered", [3]]
      ])
    })
  )

  it.effect("settles a strict /import's refused records apart from the imported ones", () =>
    Effect.gen(function* () {
      const parts: Array<Deliver.Part> = []
      yield* Deliver.deliver({
        messages: ["a", "b", "c"],
        send: () => () =>
          Effect.fail(
            new ResponseError({
              endpoint: "imports",
              reason: "Rejected",
              status: 400,
              undelivered: [],
              failedRecords: [new FailedRecord({ index: 1, detail: "bad" })]
            })
          ),
        policy: noRetry,
        settle: (part) => Effect.sync(() => parts.push(part))
      })
      expect(parts.map((p) => [p._tag, p.indices])).toEqual([
        ["Failed", [1]],
        ["Delivered", [0, 2]]
      ])
      const failed = parts[0]
      expect(
        failed?._tag === "Failed" && failed.error._tag === "ResponseError" && failed.error.failedRecords[0]?.index
      ).toBe(1)
    })
  )

  it.effect("a part interrupted mid-flight stays unsettled", () =>
    Effect.gen(function* () {
      const parts: Array<Deliver.Part> = []
      const gate = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deliver.deliver({
          messages: ["a"],
          send: () => () => Deferred.await(gate),
          policy: noRetry,
          settle: (part) => Effect.sync(() => parts.push(part))
        })
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      expect(parts).toEqual([])
    })
  )

  it.effect("counts the tries of a part whose retries ran out", () =>
    Effect.gen(function* () {
      const parts: Array<Deliver.Part> = []
      const error = new RequestError({ endpoint: "events", reason: "Transport", detail: "down", undelivered: [] })
      yield* Deliver.deliver({
        messages: ["a"],
        send: () => () => Effect.fail(error),
        policy: { schedule: Schedule.spaced("1 second"), maxRetries: 2, maxRetryTime: Duration.minutes(1) },
        settle: (part) => Effect.sync(() => parts.push(part))
      }).pipe(
        Effect.fork,
        Effect.tap(() => TestClock.adjust("10 seconds")),
        Effect.flatMap(Fiber.join)
      )
      const [part] = parts
      expect(part?._tag === "Failed" && [part.exhausted, part.tries, part.elapsed]).toEqual([true, 3, 2000])
    })
  )
})

describe("the reporter", () => {
  const failures = (n: number) =>
    Array.from({ length: n }, (_, i) => Report.failure("events", `${i}`, "Dropped", "BufferFull", "full"))

  it.scoped("hands failures to the hook in bulk; drained waits for the hook, report never does", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const seen: Array<number> = []
      const context = yield* Effect.context<never>()
      const reporter = yield* Reporter.make(
        (batch) =>
          Effect.zipRight(
            Deferred.await(gate),
            Effect.sync(() => seen.push(batch.length))
          ),
        context
      )
      yield* Effect.forkScoped(reporter.run)
      reporter.report(failures(3))
      reporter.report(failures(2))
      const drained = yield* Effect.fork(reporter.drained)
      yield* Effect.yieldNow()
      expect(drained.unsafePoll()).toBe(null)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(drained)
      expect(seen.reduce((a, b) => a + b, 0)).toBe(5)
      expect(seen.length).toBeLessThanOrEqual(2)
    })
  )

  it.scoped("a failing hook is logged and the next reports still reach it", () =>
    Effect.gen(function* () {
      let calls = 0
      const context = yield* Effect.context<never>()
      const reporter = yield* Reporter.make(
        () =>
          Effect.suspend(() => {
            calls++
            return calls === 1 ? Effect.dieMessage("the hook broke") : Effect.void
          }),
        context
      )
      yield* Effect.forkScoped(reporter.run)
      reporter.report(failures(1))
      yield* reporter.drained
      reporter.report(failures(1))
      yield* reporter.drained
      expect(calls).toBe(2)
    })
  )

  it.scoped("past its bound, failures are counted as missed, not queued", () =>
    Effect.gen(function* () {
      const context = yield* Effect.context<never>()
      const reporter = yield* Reporter.make(() => Effect.never, context)
      reporter.report(failures(Reporter.maxQueued + 5))
      expect(reporter.missed()).toBe(Reporter.maxQueued + 5)
    })
  )
})
