/** The buffered consumer against a real HTTP server with faults, under `TestClock` (see `support/buffered.ts`). */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Config, ConfigProvider, Context, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import { Consumer, Mixpanel } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"

import {
  depth,
  drive,
  event,
  harness,
  indexOf,
  insertId,
  metric,
  range,
  sendAll,
  type Wire,
  wireLayer
} from "./support/buffered.js"
import { capture } from "./support/logs.js"

const { Fault } = MixpanelTestServer

// ---------------------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------------------

describe("Consumer.layerBuffered", () => {
  it.scoped("sends a tracked event as it was at the call, whatever the caller does to its objects after", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const cart = { items: ["a", "b"], total: 12.5, at: new Date(Date.UTC(2025, 0, 15)) }
      const properties: Record<string, unknown> = { plan: "pro", cart }
      const program = Effect.gen(function* () {
        yield* Mixpanel.track("u1", "Checked Out", properties as never)
        // the event waits in the buffer, unwritten, while the caller changes and breaks what it passed
        properties.plan = "free"
        properties.extra = 10n
        cart.items.push("c")
        cart.total = Number.NaN
        cart.at.setUTCFullYear(1999)
        yield* Consumer.flush
      }).pipe(Effect.provide(Mixpanel.layer({ token: "T" })), Effect.provide(h.layer()))
      yield* h.drive(program)

      const [received] = h.server.received("events")
      expect(received?.properties).toMatchObject({
        plan: "pro",
        cart: { items: ["a", "b"], total: 12.5, at: "2025-01-15T00:00:00" }
      })
      expect(received?.properties).not.toHaveProperty("extra")
      expect(h.failures).toEqual([])
    })
  )

  it.scoped("10,000 events through a server failing 30% of requests arrive exactly once, with an empty report", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.failRandomly({
        rate: 0.3,
        seed: 3,
        faults: [
          Fault.status(500),
          Fault.status(502),
          Fault.status(503),
          Fault.rateLimited(),
          Fault.rateLimited(2),
          Fault.drop,
          Fault.stall
        ]
      })
      const program = Effect.gen(function* () {
        for (let i = 0; i < 10_000; i++) yield* Mixpanel.track(`u${i % 50}`, "Played", { i })
      }).pipe(
        Effect.provide(Mixpanel.layer({ token: "T" })),
        Effect.provide(
          h.layer({ maxBatchSize: 100, maxRetries: 100, maxRetryTime: "1 hour", shutdownTimeout: "1 hour" })
        )
      )
      yield* h.drive(program)

      const received = h.server.received("events")
      expect(received.length).toBe(10_000)
      expect(new Set(received.map((e) => (e.properties as { $insert_id: string }).$insert_id)).size).toBe(10_000)
      expect(new Set(received.map(indexOf))).toEqual(new Set(range(0, 10_000)))
      expect(h.server.duplicates("events")).toBe(0)
      expect(h.failures).toEqual([])

      const requests = h.server.requests()
      const faults = new Set(
        requests.flatMap((r) =>
          r.fault === undefined
            ? []
            : [r.fault._tag === "Status" ? `${r.fault.status}${r.fault.retryAfter ? "+RA" : ""}` : r.fault._tag]
        )
      )
      expect(faults).toEqual(new Set(["500", "502", "503", "429", "429+RA", "Drop", "Stall"]))
      // every faulted batch was retried under its request id, and no delivered batch was sent again
      const ok = requests.filter((r) => r.status === 200).map((r) => r.headers["x-request-id"])
      expect(new Set(ok).size).toBe(ok.length)
      for (const r of requests) if (r.fault !== undefined) expect(ok).toContain(r.headers["x-request-id"])
    })
  )

  describe("server down for the whole run", () => {
    const capacity = 1000
    for (const overflow of ["dropNewest", "dropOldest", "wait"] as const) {
      it.scoped(
        `memory stays bounded, ${overflow} applies, every message is reported, shutdown meets its deadline`,
        () =>
          Effect.gen(function* () {
            const h = yield* harness()
            h.server.failRandomly({ rate: 1, seed: 1, faults: [Fault.status(503), Fault.drop, Fault.stall] })
            const depths: Array<number> = []
            const messages = range(0, 5000).map((i) => event(i))
            const program = Effect.gen(function* () {
              const consumer = yield* Consumer.Consumer
              const producer = yield* Effect.forkDaemon(
                Effect.forEach(
                  messages,
                  (m, i) =>
                    Effect.zipRight(
                      consumer.send("events", m),
                      i % 100 === 0
                        ? Effect.flatMap(depth("events"), (d) => Effect.sync(() => depths.push(d)))
                        : Effect.void
                    ),
                  { discard: true }
                )
              )
              for (let s = 0; s < 60; s++) {
                yield* Effect.sleep("1 second")
                depths.push(yield* depth("events"))
              }
              return producer
            }).pipe(
              Effect.provide(
                h.layer({
                  capacity,
                  overflow,
                  maxBatchSize: 100,
                  maxConcurrentRequests: 2,
                  flushInterval: "1 second",
                  maxRetryTime: "20 seconds",
                  shutdownTimeout: "30 seconds"
                })
              )
            )
            const start = yield* Clock.currentTimeMillis
            const producer = yield* h.drive(program)
            const elapsed = (yield* Clock.currentTimeMillis) - start
            yield* h.drive(Fiber.join(producer))

            expect(h.server.received("events")).toEqual([])
            expect(Math.max(...depths)).toBe(capacity)
            expect(yield* depth("events")).toBe(0)
            // 60 s of program, then the drain: within its 30 s deadline
            expect(elapsed).toBeLessThanOrEqual(90_000)

            // every message is in the report exactly once, with a reason
            const ids = h.failures.map((f) => insertId(f.json))
            expect(ids.length).toBe(5000)
            expect(new Set(ids)).toEqual(new Set(messages.map(insertId)))
            const reasons = new Set(h.failures.map((f) => `${f.outcome}/${f.reason}`))
            const bufferFull = new Set(h.failures.filter((f) => f.reason === "BufferFull").map((f) => insertId(f.json)))
            expect(reasons.has("Dropped/RetriesExhausted")).toBe(true)
            for (const f of h.failures) expect(f.endpoint).toBe("events")
            switch (overflow) {
              case "dropNewest":
                // the first `capacity` were taken in; every later one was refused
                expect(bufferFull).toEqual(new Set(range(capacity, 5000).map((i) => `ev-${i}`)))
                break
              case "dropOldest":
                // as many dropped, but the newest were kept
                expect(bufferFull.size).toBe(5000 - capacity)
                for (const i of range(4200, 5000)) expect(bufferFull.has(`ev-${i}`)).toBe(false)
                break
              case "wait":
                expect(bufferFull.size).toBe(0)
                expect(reasons.has("Dropped/Closed") || reasons.has("Undelivered/Shutdown")).toBe(true)
                break
            }
            for (const reason of reasons) {
              expect([
                "Dropped/BufferFull",
                "Dropped/RetriesExhausted",
                "Dropped/Closed",
                "Undelivered/Shutdown"
              ]).toContain(reason)
            }
          })
      )
    }

    it.scoped("a request stalled at the deadline is interrupted and its messages reported", () =>
      Effect.gen(function* () {
        const h = yield* harness()
        h.server.fail(Fault.stall)
        const start = yield* Clock.currentTimeMillis
        yield* h.drive(
          sendAll("events", [event(1), event(2)]).pipe(
            Effect.provide(h.layer({ requestTimeout: "1 minute", shutdownTimeout: "5 seconds" }))
          )
        )
        expect((yield* Clock.currentTimeMillis) - start).toBe(5000)
        expect(h.wire.interrupted).toBe(1)
        expect(h.failures.map((f) => [insertId(f.json), f.outcome, f.reason])).toEqual([
          ["ev-1", "Undelivered", "Shutdown"],
          ["ev-2", "Undelivered", "Shutdown"]
        ])
      })
    )
  })

  it.scoped("413 splits a batch down to the message that is too large; later batches go at full size", () =>
    Effect.gen(function* () {
      const h = yield* harness({ maxBytes: 4096 })
      const big = event(50, { blob: "x".repeat(5000) })
      const first = range(0, 100).map((i) => (i === 50 ? big : event(i)))
      const program = Effect.gen(function* () {
        const consumer = yield* Consumer.Consumer
        yield* consumer.sendBatch("events", first)
        const error = yield* Effect.flip(consumer.flush)
        const split = h.server.requests()
        yield* consumer.sendBatch(
          "events",
          range(100, 130).map((i) => event(i))
        )
        yield* consumer.flush
        return { error, split }
      }).pipe(Effect.provide(h.layer()))
      const { error, split } = yield* h.drive(program)

      expect(error._tag).toBe("DeliveryError")
      if (error._tag !== "DeliveryError") return
      expect(error.undelivered.map((f) => [insertId(f.json), f.outcome, f.reason, f.status])).toEqual([
        ["ev-50", "Rejected", "TooLarge", 413]
      ])
      expect(h.failures).toEqual(error.undelivered)
      // 100 → 50 + 50 → ... every 413 held the big message, down to the big message alone; the server
      // counts the form body as sent, `data=` and the JSON array (these messages need no escapes)
      const tooLarge = split.filter((r) => r.status === 413)
      expect(tooLarge[0]?.bytes).toBe("data=".length + first.reduce((n, m) => n + Buffer.byteLength(m) + 1, 1))
      expect(tooLarge.at(-1)?.bytes).toBe("data=".length + Buffer.byteLength(big) + 2)
      expect(new Set(tooLarge.map((r) => r.headers["x-request-id"])).size).toBe(tooLarge.length)
      const delivered = split.filter((r) => r.status === 200).reduce((n, r) => n + r.items, 0)
      expect(delivered).toBe(99)
      // the next flush is one request of 30, not the size the split ended at
      expect(
        h.server
          .requests()
          .slice(split.length)
          .map((r) => [r.items, r.status])
      ).toEqual([[30, 200]])
      expect(new Set(h.server.received("events").map(indexOf))).toEqual(new Set(range(0, 130).filter((i) => i !== 50)))
    })
  )

  it.scoped(
    "events refused for some of them (200, status 0): the request is searched by halves for the one refused",
    () =>
      Effect.gen(function* () {
        const refuse = (refused: (i: number) => boolean) => (_: unknown, record: MixpanelTestServer.JsonObject) =>
          refused((record.properties as { i: number }).i) ? "refused by the test" : undefined
        const run = (refused: (i: number) => boolean) =>
          Effect.gen(function* () {
            const h = yield* harness({ rejectRecord: refuse(refused) })
            yield* h.drive(
              Effect.gen(function* () {
                yield* sendAll(
                  "events",
                  range(0, 16).map((i) => event(i))
                )
                yield* Effect.exit(Consumer.flush)
              }).pipe(Effect.provide(h.layer({ flushInterval: "1 hour" })))
            )
            return {
              requests: h.server.requests().length,
              received: [...new Set(h.server.received("events").map(indexOf))].sort((a, b) => a - b),
              failures: h.failures.map((f) => [insertId(f.json), f.outcome, f.reason])
            }
          })
        // one refused event among 16: found in 1 + 2 × 4 requests, the other 15 delivered
        const one = yield* run((i) => i === 5)
        expect(one.failures).toEqual([["ev-5", "Rejected", "Invalid"]])
        expect(one.received).toEqual(range(0, 16).filter((i) => i !== 5))
        expect(one.requests).toBeLessThanOrEqual(9)
        // two refused events, one in each half: both found, the other 14 delivered
        const two = yield* run((i) => i === 3 || i === 11)
        expect(two.failures).toEqual([
          ["ev-3", "Rejected", "Invalid"],
          ["ev-11", "Rejected", "Invalid"]
        ])
        expect(two.received).toEqual(range(0, 16).filter((i) => i !== 3 && i !== 11))
        // every event refused: the search stops when its 4 × log2(16) requests are spent (not 31 in all)
        const all = yield* run(() => true)
        expect(all.failures.map(([id]) => id).sort()).toEqual(
          range(0, 16)
            .map((i) => `ev-${i}`)
            .sort()
        )
        expect(all.requests).toBe(1 + 16)
      })
  )

  it.scoped("profile updates refused (200, status 0) are rejected as a whole: an update is never sent twice", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      h.server.failOn("people", Fault.body('{"status":0,"error":"bad data"}'))
      const updates = range(0, 4).map((i) => JSON.stringify({ $token: "T", $distinct_id: `u${i}`, $add: { n: 1 } }))
      yield* h.drive(
        Effect.gen(function* () {
          yield* sendAll("people", updates)
          yield* Effect.exit(Consumer.flush)
        }).pipe(Effect.provide(h.layer({ flushInterval: "1 hour" })))
      )
      expect(h.server.requests().length).toBe(1)
      expect(h.failures.map((f) => [f.outcome, f.reason])).toEqual(range(0, 4).map(() => ["Rejected", "Invalid"]))
    })
  )

  it.scoped("a message over maxBatchBytes is rejected alone, before sending; its batch goes out", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const big = event(1, { blob: "é".repeat(600) }) // 1200 bytes of UTF-8, though fewer characters
      const error = yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.sendBatch("events", [event(0), big, event(2)])
          return yield* Effect.flip(consumer.flush)
        }).pipe(Effect.provide(h.layer({ maxBatchBytes: 1024 })))
      )
      expect(error._tag === "DeliveryError" && error.undelivered).toEqual(h.failures)
      expect(h.failures.map((f) => [insertId(f.json), f.outcome, f.reason])).toEqual([["ev-1", "Rejected", "TooLarge"]])
      expect(h.server.received("events").map(indexOf)).toEqual([0, 2])
      expect(h.server.requests().length).toBe(1)
    })
  )

  it.scoped("strict /import: failed records are rejected with the server's reason, the rest imported once", () =>
    Effect.gen(function* () {
      const h = yield* harness({
        token: "T",
        auth: { token: "T" },
        rejectRecord: (_, record) =>
          (record.properties as { bad?: boolean }).bad === true
            ? { field: "properties.bad", message: "bad is bad" }
            : undefined
      })
      h.server.failOn("imports", Fault.status(503))
      const bad = new Set([3, 7, 15])
      const messages = range(0, 20).map((i) => event(i, bad.has(i) ? { bad: true } : {}))
      const delivered = metric("mixpanel_messages_delivered", { endpoint: "imports" })
      const rejected = metric("mixpanel_messages_rejected", { endpoint: "imports", reason: "FailedRecord" })
      const delivered0 = yield* delivered
      const rejected0 = yield* rejected
      const error = yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.sendBatch("imports", messages)
          const error = yield* Effect.flip(consumer.flush)
          yield* Effect.sleep("10 minutes") // nothing more is sent
          return error
        }).pipe(Effect.provide(h.layer({ importAuth: Consumer.projectToken("T") })))
      )
      expect(error._tag).toBe("DeliveryError")
      if (error._tag !== "DeliveryError") return
      expect(
        error.undelivered.map((f) => [insertId(f.json), f.outcome, f.reason, f.detail, f.field, f.status])
      ).toEqual([3, 7, 15].map((i) => [`ev-${i}`, "Rejected", "FailedRecord", "bad is bad", "properties.bad", 400]))
      expect(h.failures).toEqual(error.undelivered)
      expect(h.server.received("imports").map(indexOf)).toEqual(range(0, 20).filter((i) => !bad.has(i)))
      expect(h.server.duplicates("imports")).toBe(0)
      const requests = h.server.requests()
      expect(requests.map((r) => [r.status, r.query.strict])).toEqual([
        [503, "1"],
        [400, "1"]
      ])
      expect(requests[0]?.headers["x-request-id"]).toBe(requests[1]?.headers["x-request-id"])
      expect((yield* delivered) - delivered0).toBe(17)
      expect((yield* rejected) - rejected0).toBe(3)
    })
  )

  it.scoped("profile and group updates keep their order under retries, whatever the concurrency", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      h.server.failRandomly({
        rate: 0.4,
        seed: 11,
        faults: [Fault.status(503), Fault.rateLimited(1), Fault.drop, Fault.stall, Fault.status(500)]
      })
      const people = range(0, 200).map((i) =>
        JSON.stringify(
          i % 2 === 0
            ? { $token: "T", $distinct_id: `u${i % 5}`, $time: i, $set: { step: i } }
            : { $token: "T", $distinct_id: `u${i % 5}`, $time: i, $unset: ["step"], step: i }
        )
      )
      const groups = range(0, 60).map((i) =>
        JSON.stringify({ $token: "T", $group_key: "company", $group_id: `c${i % 3}`, $time: i, $set: { step: i } })
      )
      yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          for (let i = 0; i < 200; i++) {
            yield* consumer.send("people", people[i] ?? "")
            if (i < 60) yield* consumer.send("groups", groups[i] ?? "")
          }
        }).pipe(
          Effect.provide(
            h.layer({
              maxBatchSize: 7,
              maxConcurrentRequests: 8,
              maxRetries: 100,
              maxRetryTime: "1 hour",
              shutdownTimeout: "1 hour"
            })
          )
        )
      )
      const step = (item: MixpanelTestServer.JsonObject) =>
        (item.$set as { step?: number } | undefined)?.step ?? (item.step as number)
      expect(h.server.received("people").map(step)).toEqual(range(0, 200))
      expect(h.server.received("groups").map(step)).toEqual(range(0, 60))
      expect(h.failures).toEqual([])
      expect(h.server.requests().some((r) => r.fault !== undefined && r.endpoint === "people")).toBe(true)
    })
  )

  it.scoped("concurrent flushes share the work; a flush waits only for what was sent before it", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const result = yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* sendAll(
            "events",
            range(0, 10).map((i) => event(i))
          )
          const both = yield* Effect.all([consumer.flush, consumer.flush], { concurrency: 2 })
          const afterShared = h.server.requests().length

          // a flush that began before a send does not wait for it
          yield* sendAll("events", [event(10)])
          const flushing = yield* Effect.fork(consumer.flush)
          yield* Effect.yieldNow() // the flush has begun
          yield* sendAll("events", [event(11)])
          yield* Fiber.join(flushing)
          const receivedAtFlush = h.server.received("events").map(indexOf)
          yield* consumer.flush

          // both fail alike when their messages are rejected
          h.server.fail(Fault.status(400))
          yield* sendAll("events", [event(12), event(13)])
          const errors = yield* Effect.all([Effect.flip(consumer.flush), Effect.flip(consumer.flush)], {
            concurrency: 2
          })
          return { both, afterShared, receivedAtFlush, errors }
        }).pipe(Effect.provide(h.layer({ flushInterval: "1 hour" })))
      )
      expect(result.both).toEqual([undefined, undefined])
      expect(result.afterShared).toBe(1)
      // what was sent before the flush had arrived when it returned (what came after may have gone along)
      expect(result.receivedAtFlush).toEqual(expect.arrayContaining(range(0, 11)))
      expect(h.server.received("events").map(indexOf)).toEqual(range(0, 12))
      expect(result.errors[0]).toBe(result.errors[1])
      const [error] = result.errors
      expect(error._tag === "DeliveryError" && error.undelivered.map((f) => [insertId(f.json), f.reason])).toEqual([
        ["ev-12", "Invalid"],
        ["ev-13", "Invalid"]
      ])
      expect(error.message).toBe("2 messages not delivered (2 Rejected/Invalid)")
    })
  )

  it.scoped("a flush lists what failed since the previous flush, also before it began", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.fail(Fault.status(400))
      const [first, second] = yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* sendAll("events", [event(0), event(1)])
          yield* Effect.sleep("11 seconds") // the periodic flush sent them at 10 s: 400
          yield* sendAll("events", [event(2), event(3), event(4), event(5)]) // capacity 3: event 5 is dropped
          const first = yield* Effect.flip(consumer.flush)
          const second = yield* Effect.exit(consumer.flush) // nothing new since
          return [first, second] as const
        }).pipe(Effect.provide(h.layer({ capacity: 3 })))
      )
      expect(first._tag === "DeliveryError" && first.undelivered.map((f) => `${insertId(f.json)} ${f.reason}`)).toEqual(
        ["ev-0 Invalid", "ev-1 Invalid", "ev-5 BufferFull"]
      )
      expect(first._tag === "DeliveryError" && first.omitted).toBe(0)
      expect(Exit.isSuccess(second)).toBe(true)
      expect(h.server.received("events").map(indexOf)).toEqual([2, 3, 4])
      expect(h.server.requests().map((r) => r.status)).toEqual([400, 200])
    })
  )

  it.scoped("alias goes out at once, without waiting for a flush", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      const seen = yield* h.drive(
        Effect.gen(function* () {
          yield* Mixpanel.track("u1", "Signed Up")
          yield* Mixpanel.track("u1", "Played")
          yield* Mixpanel.alias("new-id", "u1")
          return h.server.received("events").map((e) => e.event)
        }).pipe(Effect.provide(Mixpanel.layer({ token: "T" })), Effect.provide(h.layer({ flushInterval: "1 hour" })))
      )
      expect(seen).toEqual(["$create_alias"])
      expect(h.server.received("events").map((e) => e.event)).toEqual(["$create_alias", "Signed Up", "Played"])
    })
  )

  it.scoped("the periodic flush sends what waits; closing the scope sends what the timer has not", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const before = yield* h.drive(
        Effect.gen(function* () {
          yield* sendAll(
            "events",
            range(0, 3).map((i) => event(i))
          )
          yield* Effect.sleep("10 seconds")
          const afterTimer = h.server.received("events").length
          yield* sendAll(
            "events",
            range(3, 10).map((i) => event(i))
          )
          yield* Effect.sleep("5 seconds")
          return [afterTimer, h.server.received("events").length]
        }).pipe(Effect.provide(h.layer()))
      )
      expect(before).toEqual([3, 3])
      expect(h.server.received("events").map(indexOf)).toEqual(range(0, 10))
      expect(h.server.requests().map((r) => r.items)).toEqual([3, 7])
      expect(yield* Clock.currentTimeMillis).toBe(15_000)
    })
  )

  it.scoped("retries stop at maxRetries, and at maxRetryTime", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.failRandomly({ rate: 1, faults: [Fault.status(503)] })
      yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(1))
          yield* Effect.flip(consumer.flush)
        }).pipe(Effect.provide(h.layer({ maxRetries: 2 })))
      )
      expect(h.server.requests().length).toBe(3)
      yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(2))
          yield* Effect.flip(consumer.flush)
        }).pipe(Effect.provide(h.layer({ retrySchedule: Schedule.spaced("10 seconds"), maxRetryTime: "35 seconds" })))
      )
      // tries at 0, 10, 20, 30 s; the one at 40 s would be past the 35 s budget
      expect(h.server.requests().length).toBe(3 + 4)
      expect(h.failures.map((f) => [insertId(f.json), f.outcome, f.reason, f.status])).toEqual([
        ["ev-1", "Dropped", "RetriesExhausted", 503],
        ["ev-2", "Dropped", "RetriesExhausted", 503]
      ])
      expect(h.failures[0]?.detail).toMatch(/^gave up after 3 tries/)
    })
  )

  it.scoped("a message reported undelivered reads as it was tracked, specials and non-ASCII included", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      h.server.failRandomly({ rate: 1, faults: [Fault.status(503)] })
      const properties = { url: "https://x.io/?a=1&b=2+3;c=%41", name: "é😀", note: "100% = all; a+b & c" }
      const error = yield* h.drive(
        Effect.gen(function* () {
          yield* Mixpanel.track("u1", "Viewed", properties)
          yield* Mixpanel.peopleSet("u1", properties)
          return yield* Effect.flip(Consumer.flush)
        }).pipe(Effect.provide(Mixpanel.layer({ token: "T" })), Effect.provide(h.layer({ maxRetries: 1 })))
      )
      expect(h.server.requests().length).toBe(4) // two tries of each request: the second sends the same body
      // the two endpoints' lanes report in either order
      const failures = [...h.failures].sort((a, b) => a.endpoint.localeCompare(b.endpoint))
      expect(failures.map((f) => [f.endpoint, f.reason])).toEqual([
        ["events", "RetriesExhausted"],
        ["people", "RetriesExhausted"]
      ])
      const [tracked, updated] = failures.map((f) => JSON.parse(f.json))
      expect(tracked.properties).toMatchObject(properties)
      expect(updated.$set).toEqual(properties)
      expect(error._tag === "DeliveryError" && error.undelivered.map((f) => f.json).sort()).toEqual(
        h.failures.map((f) => f.json).sort()
      )
    })
  )

  it.scoped("a failing hook is logged, and does not hold up delivery, flush, or the next reports", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
      const logs = capture()
      server.fail(Fault.status(400), Fault.status(400))
      let calls = 0
      const exits = yield* drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(1))
          const first = yield* Effect.exit(consumer.flush)
          yield* consumer.send("events", event(2))
          const second = yield* Effect.exit(consumer.flush)
          return [first, second]
        }).pipe(
          Effect.provide(
            Consumer.layerBuffered({
              baseUrl: server.url,
              onUndelivered: () =>
                Effect.zipRight(
                  Effect.sync(() => calls++),
                  Effect.fail("disk full")
                )
            }).pipe(Layer.provide(wireLayer(wire)))
          ),
          Effect.provide(logs.layer)
        ),
        server,
        wire
      )
      expect(exits.map(Exit.isFailure)).toEqual([true, true])
      expect(calls).toBe(2)
      expect(
        logs.lines.filter((line) => line.level === "ERROR" && line.message.includes("onUndelivered hook failed")).length
      ).toBe(2)
    })
  )

  it.scoped("a hook written as an async function is awaited; its rejection is logged, and stops nothing", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
      const logs = capture()
      server.fail(Fault.status(400), Fault.status(400))
      const seen: Array<string> = []
      // As a JavaScript caller writes it: the type asks for an Effect
      const onUndelivered = (async (failures: ReadonlyArray<Consumer.DeliveryFailure>) => {
        await Promise.resolve()
        seen.push(...failures.map((f) => insertId(f.json)))
        if (seen.length > 1) throw new Error("could not write the file")
      }) as unknown as Consumer.OnUndelivered
      const exits = yield* drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(1))
          const first = yield* Effect.exit(consumer.flush)
          // The hook has run to its end when the flush returns
          expect(seen).toEqual(["ev-1"])
          yield* consumer.send("events", event(2))
          const second = yield* Effect.exit(consumer.flush)
          yield* consumer.send("events", event(3))
          const third = yield* Effect.exit(consumer.flush)
          return [first, second, third]
        }).pipe(
          Effect.provide(
            Consumer.layerBuffered({ baseUrl: server.url, onUndelivered }).pipe(Layer.provide(wireLayer(wire)))
          ),
          Effect.provide(logs.layer)
        ),
        server,
        wire
      )
      expect(exits.map(Exit.isFailure)).toEqual([true, true, false])
      expect(seen).toEqual(["ev-1", "ev-2"])
      expect(server.received("events").map((e) => insertId(JSON.stringify(e)))).toEqual(["ev-3"])
      expect(logs.lines.filter((line) => line.level === "ERROR")).toEqual([
        expect.objectContaining({
          message: "the onUndelivered hook failed; the 1 messages it was given are only counted and logged",
          cause: expect.stringContaining("Error: could not write the file")
        })
      ])
    })
  )

  it.scoped("a hook that never finishes holds a flush for a minute at most, and the next flush not at all", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
      const logs = capture()
      server.fail(Fault.status(400))
      const waited = yield* drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(1))
          const start = yield* Clock.currentTimeMillis
          expect(Exit.isFailure(yield* Effect.exit(consumer.flush))).toBe(true)
          const afterFirst = yield* Clock.currentTimeMillis
          yield* consumer.send("events", event(2))
          yield* consumer.flush
          return [afterFirst - start, (yield* Clock.currentTimeMillis) - afterFirst]
        }).pipe(
          Effect.provide(
            Consumer.layerBuffered({ baseUrl: server.url, onUndelivered: () => Effect.never }).pipe(
              Layer.provide(wireLayer(wire))
            )
          ),
          Effect.provide(logs.layer)
        ),
        server,
        wire
      )
      expect(waited[0]).toBeGreaterThanOrEqual(60_000)
      expect(waited[0]).toBeLessThan(70_000)
      expect(waited[1]).toBeLessThan(10_000)
      expect(logs.lines.filter((line) => line.level === "ERROR").map((line) => line.message)).toEqual([
        expect.stringMatching(
          /^the onUndelivered hook did not finish within 1m; the 1 messages it was given are only counted and logged/
        )
      ])
    })
  )

  describe("what each answer leads to", () => {
    type Row = {
      readonly name: string
      readonly fault: MixpanelTestServer.Fault
    } & (
      | { readonly action: "retry" | "split" }
      | { readonly action: "pause"; readonly atLeast: number }
      | { readonly action: "reject"; readonly reason: Consumer.DeliveryReason }
    )
    const table: ReadonlyArray<Row> = [
      { name: "500", fault: Fault.status(500), action: "retry" },
      { name: "502", fault: Fault.status(502), action: "retry" },
      { name: "503", fault: Fault.status(503), action: "retry" },
      { name: "504", fault: Fault.status(504), action: "retry" },
      { name: "408", fault: Fault.status(408), action: "retry" },
      { name: "a dropped connection", fault: Fault.drop, action: "retry" },
      { name: "a stall (no answer within requestTimeout)", fault: Fault.stall, action: "retry" },
      { name: "429", fault: Fault.rateLimited(), action: "pause", atLeast: 3000 },
      { name: "429 with Retry-After: 30", fault: Fault.rateLimited(30), action: "pause", atLeast: 30_000 },
      {
        name: "503 with Retry-After: 20",
        fault: Fault.status(503, { retryAfter: 20 }),
        action: "pause",
        atLeast: 20_000
      },
      { name: "413", fault: Fault.status(413), action: "split" },
      { name: "400", fault: Fault.status(400), action: "reject", reason: "Invalid" },
      // events refused for some of them: the halves go again, and these are not refused
      { name: '200 {"status":0}', fault: Fault.body('{"status":0,"error":"bad data"}'), action: "split" },
      { name: "401", fault: Fault.status(401), action: "reject", reason: "Unauthorized" },
      { name: "403", fault: Fault.status(403), action: "reject", reason: "Unauthorized" },
      { name: "404", fault: Fault.status(404), action: "reject", reason: "UnexpectedStatus" },
      { name: "501", fault: Fault.status(501), action: "reject", reason: "UnexpectedStatus" },
      { name: "505", fault: Fault.status(505), action: "reject", reason: "UnexpectedStatus" },
      {
        name: "200 with a body Mixpanel never sends",
        fault: Fault.body("garbage"),
        action: "reject",
        reason: "Malformed"
      }
    ]
    for (const row of table) {
      it.scoped(`${row.name} → ${row.action}`, () =>
        Effect.gen(function* () {
          const h = yield* harness()
          h.server.fail(row.fault)
          // batch A (events 0, 1) goes at once and takes the fault; batch B (2, 3) is ready a second later
          yield* h.drive(
            Effect.gen(function* () {
              yield* sendAll("events", [event(0), event(1)])
              yield* Effect.sleep("1 second")
              yield* sendAll("events", [event(2), event(3)])
              yield* Effect.exit(Consumer.flush)
            }).pipe(Effect.provide(h.layer({ maxBatchSize: 2, maxConcurrentRequests: 2 })))
          )
          const log = h.wire.log
          const a = log[0]?.requestId
          const triesOfA = log.filter((r) => r.requestId === a)
          const b = log.find((r) => r.at >= 1000 && r.requestId !== a)
          const received = h.server.received("events").map(indexOf).sort()
          switch (row.action) {
            case "retry":
              expect(triesOfA.length).toBe(2)
              expect(b?.at).toBe(1000)
              expect(received).toEqual([0, 1, 2, 3])
              expect(h.failures).toEqual([])
              break
            case "pause":
              expect(triesOfA.length).toBe(2)
              expect(triesOfA[1]?.at).toBeGreaterThanOrEqual(row.atLeast)
              // B was ready at 1 s, but the endpoint was paused
              expect(b?.at).toBeGreaterThanOrEqual(row.atLeast)
              expect(received).toEqual([0, 1, 2, 3])
              expect(h.failures).toEqual([])
              break
            case "split": {
              expect(triesOfA.length).toBe(1)
              const halves = h.server.requests().filter((r) => r.headers["x-request-id"] !== a && r.items === 1)
              expect(halves.length).toBe(2)
              expect(new Set(halves.map((r) => r.headers["x-request-id"])).size).toBe(2)
              expect(received).toEqual([0, 1, 2, 3])
              expect(h.failures).toEqual([])
              break
            }
            case "reject":
              expect(triesOfA.length).toBe(1)
              expect(b?.at).toBe(1000)
              expect(received).toEqual([2, 3])
              expect(h.failures.map((f) => [insertId(f.json), f.outcome, f.reason])).toEqual([
                ["ev-0", "Rejected", row.reason],
                ["ev-1", "Rejected", row.reason]
              ])
              break
          }
        })
      )
    }
  })

  it.scoped("the hook may send: what it sends is handled after it returns", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
      server.fail(Fault.status(400))
      const seen: Array<string> = []
      const layer = Layer.unwrapEffect(
        Effect.sync(() => {
          let consumer: Consumer.Consumer["Type"] | undefined
          const live = Consumer.layerBuffered({
            baseUrl: server.url,
            maxBatchBytes: 1024,
            onUndelivered: (failures) =>
              Effect.suspend(() => {
                seen.push(...failures.map((f) => `${insertId(f.json)} ${f.reason}`))
                // sends a message too large to be accepted: refused, and reported to this very hook
                return seen.length === 1 && consumer !== undefined
                  ? consumer.send("events", event(9, { blob: "x".repeat(2000) }))
                  : Effect.void
              })
          })
          return Layer.tap(live, (context) => Effect.sync(() => (consumer = Context.get(context, Consumer.Consumer))))
        })
      ).pipe(Layer.provide(wireLayer(wire)))
      const exit = yield* drive(
        Effect.gen(function* () {
          yield* sendAll("events", [event(1)])
          return yield* Effect.exit(Consumer.flush)
        }).pipe(Effect.provide(layer)),
        server,
        wire
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(seen).toEqual(["ev-1 Invalid", "ev-9 TooLarge"])
    })
  )

  it.effect("options are checked when the layer is built", () =>
    Effect.gen(function* () {
      const build = (options: Consumer.BufferedOptions) =>
        Effect.flip(Effect.scoped(Layer.build(Consumer.layerBuffered(options)))).pipe(
          Effect.provide(FetchHttpClient.layer),
          Effect.map((error) => error.option)
        )
      expect(yield* build({ maxBatchSize: 2001 })).toBe("maxBatchSize")
      expect(yield* build({ capacity: 0 })).toBe("capacity")
      expect(yield* build({ maxBatchBytes: 4096, capacityBytes: 1024 })).toBe("capacityBytes")
      expect(yield* build({ flushInterval: 0 })).toBe("flushInterval")
      // a nanosecond (a bigint is nanoseconds) would keep a core busy flushing nothing
      expect(yield* build({ flushInterval: 1n })).toBe("flushInterval")
      expect(yield* build({ overflow: "drop" as Consumer.Overflow })).toBe("overflow")
      // a misspelt option is not ignored, and the error says which option it is nearest to
      const misspelt = { maxBatchsize: 100 }
      expect(yield* build(misspelt as Consumer.BufferedOptions)).toBe("maxBatchsize")
      const message = (options: Consumer.BufferedOptions) =>
        Effect.flip(Effect.scoped(Layer.build(Consumer.layerBuffered(options)))).pipe(
          Effect.provide(FetchHttpClient.layer),
          Effect.map((error) => error.message)
        )
      expect(yield* message(misspelt as Consumer.BufferedOptions)).toBe(
        "invalid option `maxBatchsize`: is not an option here: did you mean maxBatchSize?"
      )
      expect(yield* message({ flushIntrval: "1 second" } as Consumer.BufferedOptions)).toBe(
        "invalid option `flushIntrval`: is not an option here: did you mean flushInterval?"
      )
      // nothing near enough: no guess
      expect(yield* message({ batch: 10 } as Consumer.BufferedOptions)).toBe(
        "invalid option `batch`: is not an option here: misspelt?"
      )
    })
  )

  it.scoped("layerBufferedConfig reads its options from Config", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const layer = Consumer.layerBufferedConfig({
        baseUrl: Config.string("MIXPANEL_URL"),
        maxBatchSize: Config.integer("MIXPANEL_MAX_BATCH_SIZE"),
        overflow: Config.literal("wait", "dropNewest", "dropOldest")("MIXPANEL_OVERFLOW")
      }).pipe(
        Layer.provide(wireLayer(h.wire)),
        Layer.provide(
          Layer.setConfigProvider(
            ConfigProvider.fromMap(
              new Map([
                ["MIXPANEL_URL", h.server.url],
                ["MIXPANEL_MAX_BATCH_SIZE", "2"],
                ["MIXPANEL_OVERFLOW", "wait"]
              ])
            )
          )
        )
      )
      yield* h.drive(
        sendAll(
          "events",
          range(0, 5).map((i) => event(i))
        ).pipe(Effect.provide(layer))
      )
      expect(h.server.requests().map((r) => r.items)).toEqual([2, 2, 1])
    })
  )

  it.scoped("an /import without importAuth fails the send at once", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      const error = yield* Effect.flip(sendAll("imports", [event(1)]).pipe(Effect.provide(h.layer())))
      expect(error._tag).toBe("InvalidConfig")
    })
  )
})
