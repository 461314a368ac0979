/**
 * `Consumer.layerDurable` over SQLite, end to end: real files, the embedded Mixpanel with faults,
 * `TestClock` for time (moved by `drive` when nothing is on the wire).
 */
import { join } from "node:path"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Context, Effect, Exit, Fiber, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { Consumer, Mixpanel } from "../../src/index.js"
import { MixpanelTestServer } from "../../src/testing.js"
import { event, indexOf, insertId, range, sendAll, wireLayer } from "../support/buffered.js"
import { capture } from "../support/logs.js"
import { durableHarness, outboxSize, storeOn, until } from "./support/consumer.js"
import { tempDir } from "./support/store.js"
import { v1Outbox } from "./support/v1.js"

const { Fault } = MixpanelTestServer

const update = (who: string, n: number) => JSON.stringify({ $token: "T", $distinct_id: who, $set: { n } })

/** Events `from` to `to` (excluded), one `send` each. */
const sendEvents = (from: number, to: number) =>
  sendAll(
    "events",
    range(from, to).map((i) => event(i))
  )

/** The harness and a file for the outbox, in a temporary directory. */
const setup = Effect.all({ h: durableHarness(), file: Effect.map(tempDir, (dir) => join(dir, "outbox.db")) })

/** A SQLite client of the test's own on `file`, closed with the scope. */
const sqliteClient = (file: string) =>
  Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
    Context.get(context, SqliteClient.SqliteClient)
  )

describe("Consumer.layerDurable on SQLite", () => {
  it.scoped("delivers events, profile updates and imports, empties the outbox, and flush waits for them", () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      const program = Effect.gen(function* () {
        yield* sendEvents(0, 300)
        yield* sendAll(
          "people",
          range(0, 50).map((i) => update(`p${i % 5}`, i))
        )
        yield* sendAll(
          "imports",
          range(300, 320).map((i) => event(i))
        )
        expect(yield* outboxSize).toBe(370)
        yield* Consumer.flush
        expect(h.server.received("events").length).toBe(300)
        expect(h.server.received("imports").length).toBe(20)
        expect(h.server.received("people").map((p) => (p.$set as { n: number }).n)).toEqual(range(0, 50))
        expect(yield* outboxSize).toBe(0)
      }).pipe(
        Effect.provide(
          h.layer(DurableStore.layerSqlite({ filename: file }), {
            maxBatchSize: 100,
            importAuth: Consumer.apiSecret("s")
          })
        )
      )
      yield* h.drive(program)
      expect(h.failures).toEqual([])
      expect(h.server.duplicates("events")).toBe(0)
    })
  )

  it.scoped.each(["commit", "async"] as const)(
    "messages read back from the file go out as sent, and a rejected one is reported and buried as sent (%s)",
    (durability) =>
      Effect.gen(function* () {
        const { file, h } = yield* setup
        // Form specials, non-ASCII and a newline escaped in the JSON: SQLite hands the claim their bytes
        const odd = "100% & a+b=c; é 😀 \n"
        const events = range(0, 40).map((i) => event(i, { odd: `${odd}${i}` }))
        const people = range(0, 10).map((i) =>
          JSON.stringify({ $token: "T", $distinct_id: `p${i}`, $set: { odd: `${odd}${i}` } })
        )
        // The first request of events is rejected for good: its batch is dead-lettered
        h.server.failOn("events", Fault.status(400))
        const program = Effect.gen(function* () {
          yield* sendAll("events", events.slice(0, 20))
          yield* sendAll("people", people)
          yield* Effect.ignore(Consumer.flush)
          yield* sendAll("events", events.slice(20))
          yield* Consumer.flush
          const buried = yield* DurableStore.deadLetters()
          expect(buried.map((letter) => letter.json)).toEqual(events.slice(0, 20))
        }).pipe(Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file, durability }))))
        yield* h.drive(program)
        expect(h.failures.map((failure) => failure.json)).toEqual(events.slice(0, 20))
        expect(h.server.received("events")).toEqual(events.slice(20).map((json) => JSON.parse(json)))
        expect(h.server.received("people")).toEqual(people.map((json) => JSON.parse(json)))
      })
  )

  it.scoped("an application's database in UTF-16 keeps its messages intact (its text is not its bytes)", () =>
    Effect.gen(function* () {
      const h = yield* durableHarness()
      const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
      // Before any table: the database's text is stored as UTF-16 from then on
      yield* sql.unsafe(`PRAGMA encoding = "UTF-16le"`)
      const events = range(0, 30).map((i) => event(i, { odd: `100% & é 😀 ${i}` }))
      const program = Effect.gen(function* () {
        yield* sendAll("events", events)
        yield* Consumer.flush
      }).pipe(Effect.provide(h.layer(storeOn(sql))))
      yield* h.drive(program)
      expect(h.failures).toEqual([])
      expect(h.server.received("events")).toEqual(events.map((json) => JSON.parse(json)))
      const [row] = yield* sql<{ readonly messages: string }>`SELECT messages FROM effect_mixpanel_outbox LIMIT 1`
      expect(row).toBeUndefined()
    })
  )

  it.scoped("what is left at shutdown stays in the file, reported as nothing; the next start sends it", () =>
    Effect.gen(function* () {
      const logs = capture()
      const { file, h } = yield* setup
      // Every request stalls: the first run delivers nothing, and its shutdown meets its deadline
      h.server.failRandomly({ rate: 1, faults: [Fault.stall] })
      const start = yield* Clock.currentTimeMillis
      yield* h.drive(
        sendEvents(0, 30).pipe(
          Effect.provide(
            h.layer(DurableStore.layerSqlite({ filename: file }), {
              flushInterval: "1 second",
              requestTimeout: "1 minute",
              shutdownTimeout: "2 seconds"
            })
          ),
          Effect.provide(logs.layer)
        )
      )
      // The shutdown ended at its deadline, by the library's clock: the line it logs last says when (the
      // test's clock may move on after it, while the harness waits for the sockets to close)
      const stay = logs.lines.find((line) => /^30 Mixpanel messages stay in the outbox/.test(line.message))
      expect(stay).toBeDefined()
      expect((stay?.at ?? Number.POSITIVE_INFINITY) - start).toBeLessThanOrEqual(2500)
      expect(h.wire.interrupted).toBeGreaterThan(0)
      expect(h.failures).toEqual([])
      h.server.stopFailing()
      // The next run sends them at start, without being asked
      yield* h.drive(
        until(Effect.sync(() => h.server.received("events").length === 30)).pipe(
          Effect.zipRight(until(Effect.map(outboxSize, (n) => n === 0))),
          Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file })))
        )
      )
      expect(new Set(h.server.received("events").map((e) => e.properties && insertId(JSON.stringify(e))))).toEqual(
        new Set(range(0, 30).map((i) => `ev-${i}`))
      )
      expect(h.failures).toEqual([])
    })
  )

  it.scoped('"async": sends committed in one transaction are all delivered, and the flush waits for them all', () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      const program = Effect.gen(function* () {
        // One at a time, each returning at once: all of them wait for the same commit
        yield* sendEvents(0, 50)
        expect(yield* outboxSize).toBe(0)
        yield* Consumer.flush
        expect(yield* outboxSize).toBe(0)
      }).pipe(
        Effect.provide(
          h.layer(DurableStore.layerSqlite({ filename: file, durability: "async", asyncInterval: "1 second" }))
        )
      )
      yield* h.drive(program)
      expect(h.server.received("events").map((e) => (e.properties as { i: number }).i)).toEqual(range(0, 50))
    })
  )

  it.scoped('"async": a flush sends what waits for its commit at once, not at the next flushInterval', () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      const program = Effect.gen(function* () {
        // Fewer than a request's worth: only a flush (or the flushInterval) sends them
        yield* sendEvents(0, 3)
        const before = yield* Clock.currentTimeMillis
        yield* Consumer.flush
        return (yield* Clock.currentTimeMillis) - before
      }).pipe(
        Effect.provide(
          h.layer(DurableStore.layerSqlite({ filename: file, durability: "async", asyncInterval: "1 minute" }), {
            flushInterval: "1 hour",
            pollInterval: "1 second"
          })
        )
      )
      // The flush waits out neither the commit's minute nor the flushInterval's hour. (While it waits for
      // the disk and the wire, `drive` may move the clock on by a poll's second or a few.)
      expect(yield* h.drive(program)).toBeLessThan(60_000)
      expect(h.server.received("events").map((e) => (e.properties as { i: number }).i)).toEqual(range(0, 3))
    })
  )

  describe("store failures", () => {
    const padded = (i: number) => event(i, { pad: "p".repeat(10_000) })

    it.scoped('"commit": a send the store cannot take fails with a StoreError; nothing it took is lost', () =>
      Effect.gen(function* () {
        const { file, h } = yield* setup
        const program = Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.sendBatch(
            "events",
            range(0, 3).map((i) => event(i))
          )
          const error = yield* Effect.flip(
            consumer.sendBatch(
              "events",
              range(3, 23).map((i) => padded(i))
            )
          )
          expect(error).toMatchObject({ _tag: "StoreError", operation: "append", reason: "DiskFull" })
          // Smaller sends still fit, and the flush is not held up by the failed one
          yield* consumer.send("events", event(30))
          yield* consumer.flush
        }).pipe(Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file, maxFileBytes: 128 * 1024 }))))
        yield* h.drive(program)
        expect(h.server.received("events").map((e) => (e.properties as { i: number }).i)).toEqual([0, 1, 2, 30])
        expect(h.failures).toEqual([])
      })
    )

    it.scoped(
      '"async": a commit that fails after the send returned is reported as StoreFailed, to the hook and the flush',
      () =>
        Effect.gen(function* () {
          const { file, h } = yield* setup
          const program = Effect.gen(function* () {
            const consumer = yield* Consumer.Consumer
            yield* consumer.send("events", event(0))
            yield* consumer.flush
            // Accepted at once; its commit fails later
            yield* consumer.sendBatch(
              "events",
              range(1, 21).map((i) => padded(i))
            )
            const error = yield* Effect.flip(consumer.flush)
            expect(error.undelivered.map((f) => [insertId(f.json), f.outcome, f.reason])).toEqual(
              range(1, 21).map((i) => [`ev-${i}`, "Dropped", "StoreFailed"])
            )
            expect(error.undelivered[0]?.detail).toMatch(/the disk is full/)
            yield* consumer.send("events", event(30))
            yield* consumer.flush
          }).pipe(
            Effect.provide(
              h.layer(DurableStore.layerSqlite({ filename: file, maxFileBytes: 128 * 1024, durability: "async" }))
            )
          )
          yield* h.drive(program)
          expect(h.server.received("events").map((e) => (e.properties as { i: number }).i)).toEqual([0, 30])
          expect(h.failures.map((f) => f.reason)).toEqual(range(1, 21).map(() => "StoreFailed"))
        })
    )

    it.scoped(
      "a claim that fails is logged; the worker waits a poll and goes on, and delivers once the store works",
      () =>
        Effect.gen(function* () {
          const logs = capture()
          const h = yield* durableHarness()
          const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
          const program = Effect.gen(function* () {
            yield* sendEvents(0, 10)
            // The leases cannot be written for a while: every claim (an INSERT of leases) fails. (In a
            // transaction: a statement outside one would join whatever transaction the store has open.)
            yield* sql.withTransaction(
              sql`CREATE TRIGGER no_claim BEFORE INSERT ON effect_mixpanel_leases BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END`
            )
            const flush = yield* Effect.fork(Consumer.flush)
            yield* Effect.sleep("5 seconds")
            expect(h.server.requests()).toEqual([])
            yield* sql.withTransaction(sql`DROP TRIGGER no_claim`)
            yield* Fiber.join(flush)
            expect(h.server.received("events").length).toBe(10)
          }).pipe(Effect.provide(h.layer(storeOn(sql), { pollInterval: "1 second" })), Effect.provide(logs.layer))
          yield* h.drive(program)
          // The failures are logged (an empty claim of another lane works, so the log says so in between),
          // and the workers wait a poll between tries: a few dozen failures in 5 s, not a spin
          const store = logs.lines.filter((line) => line.message.startsWith("Mixpanel outbox"))
          const failures = store.reduce((n, line) => n + Number(/after (\d+) failure/.exec(line.message)?.[1] ?? 0), 0)
          expect(failures).toBeGreaterThan(4)
          expect(failures).toBeLessThan(60)
          expect(store[0]?.message).toMatch(/claim failed: .*the disk is on fire/)
          expect(h.failures).toEqual([])
        })
    )

    it.scoped("an acknowledgement that fails is made again at the next poll: nothing is sent twice", () =>
      Effect.gen(function* () {
        const h = yield* durableHarness()
        const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
        const program = Effect.gen(function* () {
          const stats = DurableStore.stats
          yield* sql.withTransaction(
            sql`CREATE TRIGGER no_delete BEFORE DELETE ON effect_mixpanel_outbox BEGIN SELECT RAISE(ABORT, 'no'); END`
          )
          yield* sendEvents(0, 10)
          yield* Consumer.flush
          expect(h.server.received("events").length).toBe(10)
          // Delivered, but still in the outbox, under this relay's lease
          expect(yield* stats).toMatchObject({ messages: 10, claimed: 10 })
          yield* Effect.sleep("3 seconds")
          yield* sql.withTransaction(sql`DROP TRIGGER no_delete`)
          yield* until(Effect.map(outboxSize, (n) => n === 0))
        }).pipe(Effect.provide(h.layer(storeOn(sql), { pollInterval: "1 second" })))
        yield* h.drive(program)
        expect(h.server.requests().length).toBe(1)
        expect(h.server.receivedCount("events")).toBe(10)
      })
    )

    it.scoped("a file that cannot be opened fails the consumer's layer with a StoreError", () =>
      Effect.gen(function* () {
        const h = yield* durableHarness()
        const dir = yield* tempDir
        const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
        writeFileSync(join(dir, "outbox.db"), "not a database ".repeat(500))
        const exit = yield* Effect.exit(
          Effect.scoped(Layer.build(h.layer(DurableStore.layerSqlite({ filename: join(dir, "outbox.db") }))))
        )
        expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "StoreError", reason: "Corrupt" })))
      })
    )
  })

  describe("the outbox's cap", () => {
    it.scoped("dropNewest: what does not fit is reported as BufferFull, to the hook and the flush", () =>
      Effect.gen(function* () {
        const { file, h } = yield* setup
        const program = Effect.gen(function* () {
          yield* sendEvents(0, 8)
          const error = yield* Effect.flip(Consumer.flush)
          expect(error.undelivered.map((f) => [insertId(f.json), f.reason])).toEqual([
            ["ev-5", "BufferFull"],
            ["ev-6", "BufferFull"],
            ["ev-7", "BufferFull"]
          ])
        }).pipe(Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file, capacity: 5 }))))
        yield* h.drive(program)
        expect(h.server.received("events").length).toBe(5)
        expect(h.failures.length).toBe(3)
      })
    )

    it.scoped("wait: the send waits for room, and nothing is dropped", () =>
      Effect.gen(function* () {
        const { file, h } = yield* setup
        const program = Effect.gen(function* () {
          yield* sendEvents(0, 40)
          yield* Consumer.flush
        }).pipe(
          Effect.provide(
            h.layer(DurableStore.layerSqlite({ filename: file, capacity: 5, overflow: "wait" }), {
              maxBatchSize: 5
            })
          )
        )
        yield* h.drive(program)
        expect(h.server.received("events").length).toBe(40)
        expect(h.failures).toEqual([])
      })
    )
  })

  it.scoped("a backlog left in the outbox goes out in full requests, back to back, not one per poll", () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* DurableStore.DurableStore
          yield* store.append(
            "events",
            range(0, 2000).map((i) => event(i))
          )
        }).pipe(Effect.provide(DurableStore.layerSqlite({ filename: file })))
      )
      yield* h.drive(
        until(
          Effect.sync(() => h.server.received("events").length === 2000),
          10
        ).pipe(
          Effect.provide(
            h.layer(DurableStore.layerSqlite({ filename: file }), { maxBatchSize: 100, pollInterval: "1 hour" })
          )
        )
      )
      expect(h.server.requests().map((r) => r.items)).toEqual(range(0, 20).map(() => 100))
    })
  )

  it.scoped("an outbox of version 1 (leases on its rows) is upgraded at start, and all of it delivered", () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      yield* Effect.scoped(
        Effect.flatMap(sqliteClient(file), (sql) =>
          v1Outbox("sqlite", "effect_mixpanel_", [
            ...range(0, 30).map((i) => ({ endpoint: "events" as const, json: event(i) })),
            // A relay of the old version died holding these: their leases have run out
            ...range(30, 40).map((i) => ({
              endpoint: "events" as const,
              json: event(i),
              lease: { holder: "gone", inMillis: -1000 },
              claims: 1
            })),
            ...range(0, 10).map((i) => ({ endpoint: "people" as const, json: update("p", i) }))
          ]).pipe(Effect.provideService(SqlClient.SqlClient, sql))
        )
      )
      yield* h.drive(
        until(Effect.map(outboxSize, (n) => n === 0)).pipe(
          Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file }), { pollInterval: "100 millis" }))
        )
      )
      expect(
        h.server
          .received("events")
          .map(indexOf)
          .sort((a, b) => a - b)
      ).toEqual(range(0, 40))
      expect(h.server.received("people").map((p) => (p.$set as { n: number }).n)).toEqual(range(0, 10))
      expect(h.failures).toEqual([])
    })
  )

  it.scoped("Mixpanel.unsafe's calls go to the outbox like the Effect ones: a flush delivers them all", () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      const program = Effect.gen(function* () {
        const mixpanel = yield* Mixpanel.unsafe
        for (const i of range(0, 40)) expect(mixpanel.track(`u${i}`, "Unsafe", { i })).toBeUndefined()
        // the calls returned at once; the store has what they sent once their appends ran
        yield* until(Effect.map(outboxSize, (size) => size === 40))
        yield* Consumer.flush
        expect(
          h.server
            .received("events")
            .map((e) => (e.properties as { i: number }).i)
            .sort((a, b) => a - b)
        ).toEqual(range(0, 40))
        expect(yield* outboxSize).toBe(0)
      }).pipe(
        Effect.provide(Mixpanel.layer({ token: "T" })),
        Effect.provide(h.layer(DurableStore.layerSqlite({ filename: file }), { pollInterval: "1 hour" }))
      )
      yield* h.drive(program)
      expect(h.failures).toEqual([])
    })
  )

  describe("the transactional outbox", () => {
    it.scoped.each(["commit", "async"] as const)(
      "a track inside the application's transaction commits with it; a rollback sends nothing (%s)",
      (durability) =>
        Effect.gen(function* () {
          const h = yield* durableHarness()
          const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
          yield* sql`CREATE TABLE users (name TEXT)`
          const signUp = (name: string, fail: boolean) =>
            sql.withTransaction(
              Effect.gen(function* () {
                yield* sql`INSERT INTO users (name) VALUES (${name})`
                yield* Mixpanel.track(name, "Signed Up")
                if (fail) return yield* Effect.fail("rolled back")
              })
            )
          const program = Effect.gen(function* () {
            yield* signUp("kept", false)
            expect(yield* Effect.exit(signUp("dropped", true))).toStrictEqual(Exit.fail("rolled back"))
            // The next append takes the rolled-back one's id (SQLite hands it out again): the flush is not
            // left waiting for the message rolled back
            yield* Mixpanel.track("after", "Visited")
            yield* Consumer.flush.pipe(Effect.timeout("1 minute"))
            // A flush inside the transaction would wait for itself: it is refused
            const inside = yield* Effect.exit(sql.withTransaction(Consumer.flush))
            expect(inside._tag).toBe("Failure")
            expect(String(inside)).toMatch(/inside a transaction/)
          }).pipe(Effect.provide(Mixpanel.layer({ token: "T" })), Effect.provide(h.layer(storeOn(sql, { durability }))))
          yield* h.drive(program)
          expect(yield* sql`SELECT name FROM users`).toEqual([{ name: "kept" }])
          expect(h.server.received("events").map((e) => (e.properties as { distinct_id: string }).distinct_id)).toEqual(
            ["kept", "after"]
          )
        })
    )
  })

  it.scoped('overflow "wait" inside a transaction drops what does not fit rather than wait for itself', () =>
    Effect.gen(function* () {
      const h = yield* durableHarness()
      const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
      const program = Effect.gen(function* () {
        yield* sql.withTransaction(Effect.zipRight(Mixpanel.track("u1", "First"), Mixpanel.track("u1", "Second")))
        const error = yield* Effect.flip(Consumer.flush)
        expect(error.undelivered.map((f) => [f.reason, f.detail])).toEqual([
          ["BufferFull", "the outbox was full (overflow: wait, which cannot wait inside a transaction)"]
        ])
      }).pipe(
        Effect.provide(Mixpanel.layer({ token: "T" })),
        Effect.provide(h.layer(storeOn(sql, { capacity: 1, overflow: "wait" })))
      )
      yield* h.drive(program)
      expect(h.server.received("events").map((e) => e.event)).toEqual(["First"])
    })
  )

  it.scoped("a flush is done when another relay delivered its messages", () =>
    Effect.gen(function* () {
      const h = yield* durableHarness()
      const sql = yield* sqliteClient(join(yield* tempDir, "app.db"))
      const relay = (name: string) =>
        h.layer(storeOn(sql, { holderId: name }), {
          pollInterval: "1 second",
          flushInterval: "1 hour",
          transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-relay", name))
        })
      // Two consumers on one outbox, as two processes of a fleet
      const other = yield* Layer.build(relay("other"))
      const program = Effect.gen(function* () {
        yield* sendEvents(0, 20)
        // The other relay, idle, takes them at its next poll; this one's flush learns it from the store
        yield* Effect.sleep("2 seconds")
        yield* Consumer.flush
      }).pipe(Effect.provide(relay("mine")))
      yield* h.drive(program)
      expect(h.server.received("events").length).toBe(20)
      expect(new Set(h.server.requests().map((r) => r.headers["x-relay"]))).toEqual(new Set(["other"]))
      expect(Context.get(other, DurableStore.DurableStore)).toBeDefined()
    })
  )

  it.scoped("layerDurableConfig reads its options from Config, MIXPANEL_POLL_INTERVAL included", () =>
    Effect.gen(function* () {
      const { file, h } = yield* setup
      const layer = Consumer.layerDurableConfig().pipe(
        Layer.provide(DurableStore.layerSqlite({ filename: file })),
        Layer.provide(wireLayer(h.wire)),
        Layer.provide(
          Layer.setConfigProvider(
            ConfigProvider.fromMap(
              new Map([
                ["MIXPANEL_BASE_URL", h.server.url],
                ["MIXPANEL_MAX_BATCH_SIZE", "2"],
                ["MIXPANEL_POLL_INTERVAL", "1 hour"]
              ])
            )
          )
        )
      )
      yield* h.drive(Effect.zipRight(sendEvents(0, 5), Consumer.flush).pipe(Effect.provide(layer)))
      expect(h.server.requests().map((r) => r.items)).toEqual([2, 2, 1])
      const invalid = yield* Effect.flip(
        Effect.scoped(
          Layer.build(
            Consumer.layerDurable({ pollInterval: 0 }).pipe(
              Layer.provide(DurableStore.layerSqlite({ filename: file })),
              Layer.provide(wireLayer(h.wire))
            )
          )
        )
      )
      expect(invalid).toMatchObject({ _tag: "InvalidConfig", option: "pollInterval" })
    })
  )

  it.scoped(
    "layerDurableConfig refuses the store's variables, naming each and where it belongs, as code is refused",
    () =>
      Effect.gen(function* () {
        const { file, h } = yield* setup
        const build = <E>(
          consumer: Layer.Layer<Consumer.Consumer, E, HttpClient.HttpClient | DurableStore.DurableStore>
        ) =>
          Effect.flip(
            Effect.scoped(
              Layer.build(
                consumer.pipe(
                  Layer.provide(DurableStore.layerSqlite({ filename: file })),
                  Layer.provide(wireLayer(h.wire))
                )
              )
            )
          )
        // in code, the store's options fail the consumer's build
        expect(yield* build(Consumer.layerDurable({ capacity: 10 } as Consumer.DurableOptions))).toMatchObject({
          _tag: "InvalidConfig",
          option: "capacity",
          detail: "is the durable store's option: give it to DurableStore.layerSqlite or DurableStore.layer"
        })
        // from the environment too, where they were ignored (the store kept its cap of 1000000, dropNewest)
        for (const [variable, value, option] of [
          ["MIXPANEL_CAPACITY", "10", "capacity"],
          ["MIXPANEL_CAPACITY_BYTES", "1048576", "capacityBytes"],
          ["MIXPANEL_OVERFLOW", "wait", "overflow"]
        ] as const) {
          const error = yield* build(Consumer.layerDurableConfig()).pipe(
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([[variable, value]])))
          )
          expect(String(error)).toContain(
            `(Invalid data at ${variable}: "is the durable store's option ${option}: give it to DurableStore.layerSqlite or DurableStore.layer`
          )
        }
      })
  )
})
