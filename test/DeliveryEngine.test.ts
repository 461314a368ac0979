/**
 * What the first delivery engine got wrong, each found by using it as a new user would: every test here
 * failed on that engine. Real HTTP to the embedded Mixpanel (or to a closed port), `TestClock` for time.
 */
import * as Net from "node:net"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Deferred, Effect, Exit, Fiber, Layer, TestClock } from "effect"
import { Consumer, Mixpanel } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"
import { drive, event, harness, range, sendAll, turn } from "./support/buffered.js"
import { accounted, capture } from "./support/logs.js"

const { Fault } = MixpanelTestServer

/** A loopback port nothing listens on any more: connections to it are refused at once. */
const closedPort = Effect.promise(
  () =>
    new Promise<string>((resolve) => {
      const server = Net.createServer()
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as Net.AddressInfo
        server.close(() => resolve(`http://127.0.0.1:${port}`))
      })
    })
)

describe("the delivery engine", () => {
  it.scoped("1. a slow onUndelivered hook holds up no send and no worker", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.failOn("people", Fault.status(400), Fault.status(400), Fault.status(400), Fault.status(400))
      const gate = yield* Deferred.make<void>()
      let hookCalls = 0
      const layer = Consumer.layerBuffered({
        baseUrl: h.server.url,
        capacity: 10,
        maxBatchSize: 1,
        // a hook that does not return until the test lets it
        onUndelivered: () =>
          Effect.zipRight(
            Effect.sync(() => hookCalls++),
            Deferred.await(gate)
          )
      }).pipe(Layer.provide(FetchHttpClient.layer))
      const work = Effect.gen(function* () {
        const consumer = yield* Consumer.Consumer
        // four profile updates, each rejected: the one people worker must not wait for the hook between them
        yield* sendAll(
          "people",
          range(0, 4).map((i) => JSON.stringify({ $token: "T", $distinct_id: `u${i}`, $set: { i } }))
        )
        for (let i = 0; i < 2000 && h.server.requests().length < 4; i++) yield* turn
        const requestsWhileHookBlocked = h.server.requests().length
        // the buffer is full of nothing: the server is up; fill it past capacity with events that wait
        const sends = yield* Effect.fork(
          Effect.forEach(range(0, 30), (i) => consumer.send("events", event(i)), { discard: true })
        )
        for (let i = 0; i < 50 && sends.unsafePoll() === null; i++) yield* turn
        const sendsDone = sends.unsafePoll() !== null
        yield* Deferred.succeed(gate, undefined)
        return { requestsWhileHookBlocked, sendsDone }
      }).pipe(Effect.provide(layer))
      const result = yield* drive(work, h.server, h.wire)
      expect(result.requestsWhileHookBlocked).toBe(4)
      expect(result.sendsDone).toBe(true)
      expect(hookCalls).toBeGreaterThan(0)
    })
  )

  it.scoped("2. every message dropped is counted in the logs, also when the scope closes at once", () =>
    Effect.gen(function* () {
      const logs = capture()
      const baseUrl = yield* closedPort
      yield* Effect.scoped(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          for (const i of range(0, 20)) yield* consumer.send("events", event(i))
        }).pipe(
          Effect.provide(
            Consumer.layerBuffered({ baseUrl, capacity: 10, shutdownTimeout: 0 }).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
          )
        )
      ).pipe(Effect.provide(logs.layer))
      expect(accounted(logs.lines, "BufferFull")).toBe(10)
      expect(accounted(logs.lines, "Shutdown")).toBe(10)
    })
  )

  it.scoped("3. closing with overflow wait meets the deadline, in a few log lines, after a burst", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.failRandomly({ rate: 1, seed: 1, faults: [Fault.status(503)] })
      const logs = capture()
      let reported = 0
      let hookCalls = 0
      const start = yield* Clock.currentTimeMillis
      yield* drive(
        Effect.scoped(
          Effect.gen(function* () {
            const consumer = yield* Consumer.Consumer
            // a producer of 20,000 messages, stuck on a full buffer
            yield* Effect.forkDaemon(
              Effect.forEach(range(0, 20_000), (i) => consumer.send("events", event(i)), { discard: true })
            )
            yield* Effect.sleep("1 second")
          }).pipe(
            Effect.provide(
              Consumer.layerBuffered({
                baseUrl: h.server.url,
                capacity: 10,
                overflow: "wait",
                shutdownTimeout: "10 seconds",
                onUndelivered: (failures) =>
                  Effect.sync(() => {
                    hookCalls++
                    reported += failures.length
                  })
              }).pipe(Layer.provide(FetchHttpClient.layer))
            )
          )
        ).pipe(Effect.provide(logs.layer)),
        h.server,
        h.wire
      )
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(elapsed).toBeLessThanOrEqual(1000 + 10_000 + 500)
      expect(logs.lines.filter((line) => line.level === "WARN").length).toBeLessThan(20)
      // the hook is handed failures in bulk, not one call per refused send
      expect(hookCalls).toBeLessThan(reported / 100)
      // every message the producer sent is in the logs' counts: refused, undelivered, or given up
      const reasons = ["Closed", "Shutdown", "RetriesExhausted"]
      expect(reported).toBe(reasons.reduce((n, reason) => n + accounted(logs.lines, reason), 0))
      expect(reported).toBeGreaterThan(0)
    })
  )

  it.scoped("4. Retry-After is honoured as given, not added to the backoff", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.fail(Fault.rateLimited(1))
      yield* h.drive(
        Effect.gen(function* () {
          yield* sendAll("events", [event(0)])
          yield* Consumer.flush
        }).pipe(Effect.provide(h.layer()))
      )
      const [first, second] = h.wire.log
      expect(second && first && second.at - first.at).toBe(1000)
      expect(h.server.received("events").length).toBe(1)
    })
  )

  it.scoped("5. a network failure names the host and the system error, and keeps its cause", () =>
    Effect.gen(function* () {
      const baseUrl = yield* closedPort
      const error = yield* Effect.flip(
        Mixpanel.track("u1", "E").pipe(
          Effect.provide(Mixpanel.layer({ token: "T" })),
          Effect.provide(Consumer.layerDirect({ baseUrl, maxRetries: 0 })),
          Effect.provide(FetchHttpClient.layer)
        )
      )
      expect(error._tag).toBe("RequestError")
      if (error._tag !== "RequestError") return
      expect(error.message).toContain(`POST ${new URL(baseUrl).host}/track`)
      expect(error.message).toContain("ECONNREFUSED")
      expect(error.cause).toBeDefined()
    })
  )

  it.scoped("6. the direct consumer splits on 413 and counts the body as sent", () =>
    Effect.gen(function* () {
      // events full of `&`, `=` and `+`, which a form body escapes to three bytes each
      const events = range(0, 100).map((i) => ({
        distinctId: `u${i}`,
        event: "Viewed",
        properties: { url: `https://example.com/?a=1&b=2+3&c=${"&=+".repeat(60)}`, i }
      }))
      const server = yield* MixpanelTestServer.make({ token: "T", maxBytes: 16 * 1024 })
      yield* Mixpanel.trackBatch(events).pipe(
        Effect.provide(Mixpanel.layer({ token: "T" })),
        Effect.provide(Consumer.layerDirect({ baseUrl: server.url, maxRetries: 0 })),
        Effect.provide(FetchHttpClient.layer)
      )
      expect(server.received("events").length).toBe(100)
      expect(server.requests().some((r) => r.status === 413)).toBe(true)
    })
  )

  it.scoped(
    "7. a long wait says so: the first failed try is a warning naming host and cause; flush takes a deadline",
    () =>
      Effect.gen(function* () {
        const logs = capture()
        const baseUrl = yield* closedPort
        const exit = yield* Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.send("events", event(0))
          const flushing = yield* Effect.fork(Consumer.flushWithin("5 seconds"))
          for (let i = 0; i < 100 && !logs.lines.some((l) => l.level === "WARN"); i++) yield* turn
          yield* TestClock.adjust("5 seconds")
          return yield* Fiber.await(flushing)
        }).pipe(
          Effect.provide(
            Consumer.layerBuffered({ baseUrl, shutdownTimeout: 0 }).pipe(Layer.provide(FetchHttpClient.layer))
          ),
          Effect.provide(logs.layer)
        )
        const warning = logs.lines.find((line) => line.level === "WARN")
        expect(warning?.message).toContain(new URL(baseUrl).host)
        expect(warning?.message).toContain("ECONNREFUSED")
        expect(Exit.isFailure(exit) && Cause.isTimeoutException(Cause.squash(exit.cause))).toBe(true)
      })
  )

  it.scoped("a retry cut short by the shutdown's deadline is undelivered at shutdown, not retries exhausted", () =>
    Effect.gen(function* () {
      const baseUrl = yield* closedPort
      const failures: Array<Consumer.DeliveryFailure> = []
      // Closed without a flush: the shutdown's try is refused, and the next one (2 s and 1 to 5 s of jitter
      // away) would begin after the 3-second deadline, with 9 retries left
      yield* Effect.gen(function* () {
        const consumer = yield* Consumer.Consumer
        yield* consumer.send("events", event(0))
      }).pipe(
        Effect.provide(
          Consumer.layerBuffered({
            baseUrl,
            shutdownTimeout: "3 seconds",
            onUndelivered: (batch) => Effect.sync(() => failures.push(...batch))
          }).pipe(Layer.provide(FetchHttpClient.layer))
        )
      )
      expect(failures.map(({ outcome, reason }) => ({ outcome, reason }))).toEqual([
        { outcome: "Undelivered", reason: "Shutdown" }
      ])
      expect(failures[0]?.detail).toContain("ECONNREFUSED")
    })
  )

  it.scoped(
    "10,000 events through 10% lost answers and the other faults: every $insert_id arrives, duplicates only from lost answers",
    () =>
      Effect.gen(function* () {
        const h = yield* harness()
        h.server.failRandomly({
          rate: 0.2,
          seed: 11,
          lostAnswer: 0.1,
          faults: [
            Fault.status(503),
            Fault.status(502),
            Fault.rateLimited(),
            Fault.rateLimited(1),
            Fault.drop,
            Fault.stall
          ]
        })
        yield* h.drive(
          Effect.gen(function* () {
            for (let i = 0; i < 10_000; i++) yield* Mixpanel.track(`u${i % 50}`, "Played", { i })
          }).pipe(
            Effect.provide(Mixpanel.layer({ token: "T" })),
            Effect.provide(
              h.layer({ maxBatchSize: 100, maxRetries: 100, maxRetryTime: "1 hour", shutdownTimeout: "1 hour" })
            )
          )
        )
        const received = h.server.received("events")
        const ids = new Set(received.map((e) => (e.properties as { $insert_id: string }).$insert_id))
        expect(ids.size).toBe(10_000)
        expect(received.length).toBe(10_000)
        expect(h.failures).toEqual([])
        // a duplicate comes only from a request whose answer was lost: it was sent again under its id
        const requests = h.server.requests()
        const lost = requests.filter((r) => r.fault?._tag === "LostAnswer")
        expect(lost.length).toBeGreaterThan(0)
        const lostItems = lost.reduce((n, r) => n + r.items, 0)
        expect(h.server.duplicates("events")).toBe(lostItems)
        for (const r of lost) {
          expect(
            requests.filter((other) => other.headers["x-request-id"] === r.headers["x-request-id"]).length
          ).toBeGreaterThan(1)
        }
      })
  )

  it.scoped("a rejected message from alias is reported and fails the call", () =>
    Effect.gen(function* () {
      const h = yield* harness()
      h.server.fail(Fault.status(400))
      const error = yield* h.drive(
        Effect.flip(Mixpanel.alias("a", "b")).pipe(
          Effect.provide(Mixpanel.layer({ token: "T" })),
          Effect.provide(h.layer())
        )
      )
      expect(error._tag).toBe("ResponseError")
      expect(h.failures.map((f) => [f.outcome, f.reason])).toEqual([["Rejected", "Invalid"]])
    })
  )
})
