/**
 * What every durable store must do, whatever its database: the same tests run against real SQLite files
 * (`SqlStore.test.ts`) and a real PostgreSQL server (`SqlStore.pg.test.ts`).
 */

import { readFileSync } from "node:fs"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import type { Scope } from "effect"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { MixpanelError } from "../../../src/index.js"
import * as Batch from "../../../src/internal/consumer/batch.js"
import type { Stored } from "../../../src/internal/consumer/buffered/store.js"
import * as Pages from "../../../src/internal/consumer/durable/pages.js"
import type { Late } from "../../../src/internal/consumer/durable/service.js"
import { claimAll, type Database, event, events, ids, rejected, update } from "./store.js"
import { v1Outbox } from "./v1.js"

const all = { maxItems: 10_000, maxBytes: 1024 * 1024 * 1024 }

/** The SQL block of docs/durable.md's dead letters: what failed, and a replay by hand. */
const documentedSql =
  /The same in SQL[^`]*```sql\n([\s\S]*?)```/.exec(readFileSync("docs/durable.md", "utf8"))?.[1] ?? ""

/**
 * Counts the messages in one of the test's tables from the application's connection: the outbox's wait
 * in pages (`waiting` each), the dead letters are one per row.
 */
const rows = (db: Database, table: "outbox" | "dead_letters") =>
  Effect.map(
    db.client.unsafe<{ readonly n: number | string | null }>(
      table === "outbox"
        ? `SELECT SUM(waiting) AS n FROM ${db.prefix}outbox`
        : `SELECT COUNT(*) AS n FROM ${db.prefix}dead_letters`
    ),
    (result) => Number(result[0]?.n ?? 0)
  )

export const contract = (open: Effect.Effect<Database, unknown, Scope.Scope>) => {
  describe("append, claim, ack", () => {
    it.scopedLive("claims the oldest messages in append order, within the item and byte limits", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store()
        const first = yield* store.append("events", events(1, 3))
        const second = yield* store.append("events", events(4, 2))
        expect(first.stored.map((m) => m.json)).toEqual(events(1, 3))
        expect(ids(second.stored)[0]).toBeGreaterThan(ids(first.stored)[2] ?? Number.POSITIVE_INFINITY)
        expect(first.refused).toEqual([])

        const batch = yield* store.claim("events", { maxItems: 2, maxBytes: 1_000_000 })
        expect(batch.map((m) => m.json)).toEqual(events(1, 2))
        // The byte limit is a request body's, as the engine counts it (`bytes`, the commas, the brackets):
        // a byte short of two messages' body, one goes; the body of two exactly, two of the next three
        const size = event(3).length
        const two = Batch.bodyBytes("events", 2, 2 * size)
        const tight = yield* store.claim("events", { maxItems: 10, maxBytes: two - 1 })
        expect(tight.map((m) => m.json)).toEqual([event(3)])
        yield* store.release(tight)
        const next = yield* store.claim("events", { maxItems: 10, maxBytes: two })
        expect(next.map((m) => m.json)).toEqual([event(3), event(4)])
        expect(next.every((m) => m.bytes === size)).toBe(true)
        // The first message always goes, whatever its size
        const last = yield* store.claim("events", { maxItems: 10, maxBytes: 1 })
        expect(last.map((m) => m.json)).toEqual([event(5)])
        // Everything is claimed: nothing more
        expect(yield* claimAll(store, "events")).toEqual([])
        // Other endpoints are apart
        expect(yield* claimAll(store, "imports")).toEqual([])

        yield* store.ack(batch)
        yield* store.ack(batch) // twice: a no-op
        expect(yield* rows(db, "outbox")).toBe(3)
        yield* store.release(next)
        const again = yield* claimAll(store, "events")
        expect(again.map((m) => m.json)).toEqual([event(3), event(4)])
        yield* store.ack([...again, ...last])
        expect(yield* rows(db, "outbox")).toBe(0)
        expect(yield* store.stats).toEqual({ messages: 0, bytes: 0, claimed: 0, deadLetters: 0 })
      })
    )

    it.scopedLive(
      "what a claim's limits leave of a page stays with its relay: its next claim hands it out first, nobody else's",
      () =>
        Effect.gen(function* () {
          const db = yield* open
          const a = yield* db.store()
          const b = yield* db.storeOn(yield* db.other)
          yield* a.append("events", events(1, 3)) // one page
          yield* a.append("events", [event(4)]) // another
          const first = yield* a.claim("events", { maxItems: 2, maxBytes: 1_000_000 })
          expect(first.map((m) => m.json)).toEqual(events(1, 2))
          // Event 3 is under `a`'s lease with its page: `b` gets the next page only
          expect((yield* claimAll(b, "events")).map((m) => m.json)).toEqual([event(4)])
          const third = yield* a.claim("events", all)
          expect(third.map((m) => m.json)).toEqual([event(3)])
          // Given back while events 1 and 2 are out: it waits for `a`'s next claim
          yield* a.release(third)
          expect(yield* claimAll(b, "events")).toEqual([])
          yield* a.ack(first)
          expect(yield* rows(db, "outbox")).toBe(2)
          expect(yield* claimAll(b, "events")).toEqual([])
          const again = yield* a.claim("events", all)
          expect(again.map((m) => m.json)).toEqual([event(3)])
          // Given back with nothing else of its page out: the page is free, and `b` takes what is left of it
          yield* a.release(again)
          expect((yield* claimAll(b, "events")).map((m) => m.json)).toEqual([event(3)])
        })
    )

    it.scopedLive("keeps the messages across a restart of the store, claimed ones freed when it closed", () =>
      Effect.gen(function* () {
        const db = yield* open
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* db.store()
            yield* store.append("events", events(1, 4))
            yield* store.claim("events", { maxItems: 2, maxBytes: 1_000_000 })
          })
        )
        const store = yield* db.store()
        expect((yield* claimAll(store, "events")).map((m) => m.json)).toEqual(events(1, 4))
      })
    )
  })

  describe("the cap", () => {
    it.scopedLive("dropNewest refuses what does not fit, as a prefix, by messages and by bytes", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacity: 5, capacityBytes: 10 * event(10).length })
        const a = yield* store.append("events", events(10, 3))
        expect(a.refused).toEqual([])
        const b = yield* store.append("events", events(13, 4))
        expect(b.stored.map((m) => m.json)).toEqual(events(13, 2))
        expect(b.refused).toEqual(events(15, 2))
        expect(b.evicted).toEqual([])
        expect(yield* rows(db, "outbox")).toBe(5)
        // Room comes back with acks
        yield* store.ack(yield* store.claim("events", { maxItems: 2, maxBytes: 1_000_000 }))
        const c = yield* store.append("events", events(20, 3))
        expect(c.stored.length).toBe(2)
        expect(c.refused).toEqual([event(22)])
      })
    )

    it.scopedLive("appends committed together share the room by bytes, in order, and leave the rest counted", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacity: 100, capacityBytes: 3 * event(10).length })
        const results = yield* Effect.forEach(events(10, 5), (json) => store.append("events", [json]), {
          concurrency: "unbounded"
        })
        expect(results.map((r) => r.stored.length)).toEqual([1, 1, 1, 0, 0])
        expect(results.map((r) => r.refused.length)).toEqual([0, 0, 0, 1, 1])
        expect((yield* store.append("events", [event(20)])).refused).toEqual([event(20)])
      })
    )

    it.scopedLive("an acknowledgement made twice frees its room once", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacity: 3 })
        yield* store.append("events", events(1, 2))
        const first = yield* store.claim("events", { maxItems: 2, maxBytes: 1_000_000 })
        yield* store.ack(first)
        yield* store.append("events", events(3, 2))
        // Already gone: the store still holds two, and has room for one
        yield* store.ack(first)
        const c = yield* store.append("events", events(5, 3))
        expect(c.stored.map((m) => m.json)).toEqual([event(5)])
        expect(c.refused).toEqual(events(6, 2))
      })
    )

    it.scopedLive("once one message does not fit, the ones after it are refused too (a retry keeps their order)", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacityBytes: 2 * event(10).length + 1 })
        const d = yield* store.append("imports", [event(30), "x".repeat(200), event(31)])
        expect(d.stored.map((m) => m.json)).toEqual([event(30)])
        expect(d.refused).toEqual(["x".repeat(200), event(31)])
      })
    )

    it.scopedLive("wait refuses too (the consumer tries again)", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacity: 2, overflow: "wait" })
        const a = yield* store.append("people", [update("a", 1), update("a", 2), update("a", 3)])
        expect(a.refused).toEqual([update("a", 3)])
      })
    )

    it.scopedLive("dropOldest evicts the oldest messages no relay holds, and refuses when all are held", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ capacity: 4, overflow: "dropOldest" })
        // Two appends, two pages (a relay holds a page whole, even the part of it a claim's limits left out)
        yield* store.append("events", [event(1)])
        yield* store.append("events", [event(2)])
        yield* store.append("people", [update("a", 3), update("a", 4)])
        const held = yield* store.claim("events", { maxItems: 1, maxBytes: 1_000_000 }) // event 1 is in flight
        const a = yield* store.append("events", events(5, 2))
        expect(a.stored.map((m) => m.json)).toEqual(events(5, 2))
        expect(a.refused).toEqual([])
        // event 1 is claimed: the oldest free ones are event 2 and the first update
        expect(a.evicted.map((m) => m.json)).toEqual([event(2), update("a", 3)])
        expect(a.evicted[1]?.endpoint).toBe("people")
        expect(yield* rows(db, "outbox")).toBe(4)

        yield* store.claim("people", all)
        yield* claimAll(store, "events")
        const b = yield* store.append("events", [event(9)])
        expect(b.evicted).toEqual([])
        expect(b.refused).toEqual([event(9)])
        yield* store.ack(held)
        const c = yield* store.append("events", [event(10)])
        expect(c.stored.length).toBe(1)
      })
    )

    it.scopedLive("counts what another process did at its periodic recount, and recounts before refusing", () =>
      Effect.gen(function* () {
        const db = yield* open
        // Recounts every third of the lease, with its renewal
        const mine = yield* db.store({ capacity: 6, leaseDuration: "150 millis" })
        const theirs = yield* db.storeOn(yield* db.other, { capacity: 6 })
        yield* theirs.append("events", events(1, 4))
        yield* Effect.sleep("200 millis")
        const a = yield* mine.append("events", events(10, 4))
        expect(a.stored.length).toBe(2)
        expect(a.refused.length).toBe(2)
        expect(yield* rows(db, "outbox")).toBe(6)
        // The other process delivers its four: `mine` still counts six, recounts instead of refusing
        yield* theirs.ack(yield* theirs.claim("events", { maxItems: 4, maxBytes: 1_000_000 }))
        const b = yield* mine.append("events", events(20, 3))
        expect(b.stored.length).toBe(3)
      })
    )
  })

  describe("group commit", () => {
    it.scopedLive("concurrent appends share transactions, and each one returns once it is committed", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store()
        const before = store.commits()
        const results = yield* Effect.forEach(
          Array.from({ length: 2000 }, (_, i) => i),
          (i) => store.append("events", [event(i)]),
          { concurrency: "unbounded" }
        )
        const transactions = store.commits() - before
        expect(results.every((r) => r.stored.length === 1 && r.pending.length === 0)).toBe(true)
        expect(new Set(results.map((r) => r.stored[0]?.id)).size).toBe(2000)
        expect(yield* rows(db, "outbox")).toBe(2000)
        // 2,000 appends in a handful of transactions, not 2,000
        expect(transactions).toBeLessThan(50)
        yield* Effect.logInfo(`group commit: 2000 concurrent appends in ${transactions} transactions`)
      })
    )

    it.scopedLive(
      "an append interrupted while it waits for its commit: the others resume, its message is committed",
      () =>
        Effect.gen(function* () {
          const db = yield* open
          const store = yield* db.store()
          // An application transaction holds the commit back on SQLite (one connection); on PostgreSQL the
          // commit may come first, and the outcome is the same
          const hold = yield* Deferred.make<void>()
          const holding = yield* Deferred.make<void>()
          const app = yield* Effect.fork(
            db.client.withTransaction(Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(hold)))
          )
          yield* Deferred.await(holding)
          const appends = yield* Effect.forEach(
            Array.from({ length: 5 }, (_, i) => i),
            (i) => Effect.fork(store.append("events", [event(i)])),
            { concurrency: "unbounded" }
          )
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          const [first, ...rest] = appends
          if (first !== undefined) yield* Fiber.interrupt(first)
          yield* Deferred.succeed(hold, undefined)
          yield* Fiber.join(app)
          const results = yield* Effect.forEach(rest, Fiber.join)
          expect(results.map((r) => r.stored.map((m) => m.json))).toEqual([1, 2, 3, 4].map((i) => [event(i)]))
          expect(yield* rows(db, "outbox")).toBe(5)
        })
    )

    it.scopedLive("async: appends return at once; the commit follows within the interval; outcomes go to onLate", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ durability: "async", asyncInterval: "200 millis", capacity: 3 })
        const late: Array<Late> = []
        yield* store.onLate((outcomes) => Effect.sync(() => late.push(...outcomes)))
        const a = yield* store.append("events", events(1, 2))
        expect(a.pending).toEqual(events(1, 2))
        expect(a.stored).toEqual([])
        // The early check refuses what clearly does not fit
        const b = yield* store.append("events", events(3, 3))
        expect(b.pending).toEqual([event(3)])
        expect(b.refused).toEqual(events(4, 2))
        expect(yield* rows(db, "outbox")).toBe(0)
        yield* Effect.sleep("400 millis")
        expect(yield* rows(db, "outbox")).toBe(3)
        expect(late.map((l) => (l._tag === "Committed" ? l.appended.stored.map((m) => m.json) : []))).toEqual([
          events(1, 2),
          [event(3)]
        ])
      })
    )

    it.scopedLive("async: beyond asyncMessages the caller waits for its commit; a full window commits at once", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store({ durability: "async", asyncInterval: "1 hour", asyncMessages: 3 })
        const a = yield* store.append("events", events(1, 2))
        expect(a.pending.length).toBe(2)
        // The third message fills the window: the committer does not wait the hour
        const b = yield* store.append("events", events(3, 2))
        expect(b.pending).toEqual([])
        expect(b.stored.map((m) => m.json)).toEqual(events(3, 2))
        expect(yield* rows(db, "outbox")).toBe(4)
      })
    )

    it.scopedLive("async: what is waiting is committed when the store closes", () =>
      Effect.gen(function* () {
        const db = yield* open
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* db.store({ durability: "async", asyncInterval: "1 hour" })
            yield* store.append("events", events(1, 3))
            expect(yield* rows(db, "outbox")).toBe(0)
          })
        )
        expect(yield* rows(db, "outbox")).toBe(3)
      })
    )

    it.scopedLive("a closed store refuses appends with a Closed failure", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* Effect.scoped(db.store())
        const exit = yield* Effect.exit(store.append("events", [event(1)]))
        expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "StoreFailure", reason: "Closed" })))
      })
    )
  })

  describe("the application's transaction", () => {
    it.scopedLive("an append inside sql.withTransaction commits with it, and rolls back with it", () =>
      Effect.gen(function* () {
        const db = yield* open
        const sql = db.client
        const store = yield* db.store()
        yield* sql.unsafe(`CREATE TABLE ${db.prefix}users (name TEXT)`)
        const signUp = (name: string, fail: boolean) =>
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql.unsafe(`INSERT INTO ${db.prefix}users (name) VALUES ('${name}')`)
              const appended = yield* store.append("events", [`{"event":"Signed Up","properties":{"name":"${name}"}}`])
              expect(appended.stored.length).toBe(1)
              if (fail) return yield* Effect.fail("rolled back")
            })
          )
        yield* signUp("kept", false)
        yield* Effect.exit(signUp("dropped", true))
        const claimed = yield* claimAll(store, "events")
        expect(claimed.map((m) => m.json)).toEqual(['{"event":"Signed Up","properties":{"name":"kept"}}'])
        // Not group-committed: the transactions did not go through the committer
        expect(store.commits()).toBe(0)
      })
    )

    it.scopedLive("an uncommitted append is not claimed; it is once the transaction commits", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store()
        const relay = yield* db.storeOn(yield* db.other)
        const inside = yield* Deferred.make<void>()
        const proceed = yield* Deferred.make<void>()
        const transaction = yield* Effect.fork(
          db.client.withTransaction(
            Effect.gen(function* () {
              yield* store.append("events", [event(1)])
              yield* Deferred.succeed(inside, undefined)
              yield* Deferred.await(proceed)
            })
          )
        )
        yield* Deferred.await(inside)
        if (db.dialect === "pg") {
          // (SQLite's single writer would make the relay wait for the transaction)
          expect(yield* claimAll(relay, "events")).toEqual([])
        }
        yield* Deferred.succeed(proceed, undefined)
        yield* Fiber.join(transaction)
        expect((yield* claimAll(relay, "events")).map((m) => m.json)).toEqual([event(1)])
      })
    )
  })

  describe("leases", () => {
    it.scopedLive("two relays on separate connections never claim the same message", () =>
      Effect.gen(function* () {
        const db = yield* open
        const a = yield* db.store()
        const b = yield* db.storeOn(yield* db.other)
        yield* a.append("events", events(1, 3000))
        const claims = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 === 0 ? a : b).claim("events", { maxItems: 100, maxBytes: 1_000_000 })
          ),
          { concurrency: "unbounded" }
        )
        // Claims of one relay at once all lease pages of their own; what their limits left rests with it
        const rests = yield* Effect.all([claimAll(a, "events"), claimAll(b, "events")])
        const claimed = [...claims, ...rests].flatMap(ids)
        expect(claimed.length).toBe(3000)
        expect(new Set(claimed).size).toBe(3000)
      })
    )

    it.scopedLive("leases are renewed while the store runs, and a dead relay's expired leases are taken over", () =>
      Effect.gen(function* () {
        const db = yield* open
        const live = yield* db.store({ leaseDuration: "300 millis" })
        const other = yield* db.storeOn(yield* db.other, { leaseDuration: "300 millis" })
        yield* live.append("events", events(1, 2))
        const held = yield* claimAll(live, "events")
        expect(held.length).toBe(2)
        yield* Effect.sleep("800 millis")
        // Renewed: still held by `live`
        expect(yield* claimAll(other, "events")).toEqual([])

        // A relay that died holding a claim: its lease is in the table, and nobody renews it
        yield* live.append("events", [event(3)])
        yield* db.client.unsafe(
          `INSERT INTO ${db.prefix}leases (id, endpoint, holder, expires_at, claims)
            SELECT id, endpoint, 'dead', ${db.dialect === "pg" ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)" : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"} + 300, 1
            FROM ${db.prefix}outbox WHERE messages = '${event(3)}'`
        )
        expect(yield* claimAll(other, "events")).toEqual([])
        yield* Effect.sleep("400 millis")
        expect((yield* claimAll(other, "events")).map((m) => m.json)).toEqual([event(3)])
      })
    )

    it.scopedLive("an ordered endpoint is claimed by one relay at a time, in order", () =>
      Effect.gen(function* () {
        const db = yield* open
        const a = yield* db.store()
        const b = yield* db.storeOn(yield* db.other)
        yield* a.append("people", [update("p", 1), update("p", 2)])
        yield* a.append("people", [update("p", 3), update("p", 4)])
        yield* a.append("events", events(1, 2))
        const first = yield* a.claim("people", { maxItems: 2, maxBytes: 1_000_000 })
        expect(first.map((m) => m.json)).toEqual([update("p", 1), update("p", 2)])
        // While `a` holds people updates, `b` gets none (it would send 3 before 1 and 2 are through)
        expect(yield* b.claim("people", all)).toEqual([])
        // Events are not ordered: `b` takes them
        expect((yield* claimAll(b, "events")).length).toBe(2)
        yield* a.ack(first)
        expect((yield* b.claim("people", all)).map((m) => m.json)).toEqual([update("p", 3), update("p", 4)])
        expect(yield* a.claim("people", all)).toEqual([])
      })
    )

    it.scopedLive("concurrent claims of an ordered endpoint from two relays: one of them gets it all", () =>
      Effect.gen(function* () {
        const db = yield* open
        const a = yield* db.store()
        const b = yield* db.storeOn(yield* db.other)
        yield* a.append(
          "groups",
          Array.from({ length: 50 }, (_, i) => update("g", i))
        )
        const [x, y] = yield* Effect.all(
          [
            a.claim("groups", { maxItems: 10, maxBytes: 1_000_000 }),
            b.claim("groups", { maxItems: 10, maxBytes: 1_000_000 })
          ],
          {
            concurrency: "unbounded"
          }
        )
        expect([x.length, y.length].sort()).toEqual([0, 10])
      })
    )
  })

  describe("upgrade", () => {
    it.scopedLive(
      "an outbox of version 1: its messages, leases and counts of claims carry over to pages; no id comes back",
      () =>
        Effect.gen(function* () {
          const db = yield* open
          yield* v1Outbox(db.dialect, db.prefix, [
            ...events(1, 3).map((json) => ({ endpoint: "events" as const, json })),
            // Claimed twice by a relay that died: its lease has run out
            { endpoint: "events", json: event(4), lease: { holder: "gone", inMillis: -1000 }, claims: 2 },
            // Held by a relay of the old version, still running: nobody else takes it until its lease runs out
            { endpoint: "events", json: event(5), lease: { holder: "old", inMillis: 600 }, claims: 1 },
            { endpoint: "people", json: update("p", 1) },
            { endpoint: "people", json: update("p", 2) },
            { endpoint: "events", json: event(99) }
          ]).pipe(Effect.provideService(SqlClient.SqlClient, db.client))
          // The last message was delivered before the upgrade: its id is never handed out again
          const [last] = yield* db.client.unsafe<{ readonly id: number | string }>(
            `SELECT MAX(id) AS id FROM ${db.prefix}outbox`
          )
          yield* db.client.unsafe(`DELETE FROM ${db.prefix}outbox WHERE id = ${Number(last?.id)}`)
          const store = yield* db.store()
          expect(
            yield* db.client.unsafe(`SELECT migration_id, name FROM ${db.prefix}migrations ORDER BY migration_id`)
          ).toEqual([
            { migration_id: 1, name: "create_outbox" },
            { migration_id: 2, name: "leases_apart" },
            { migration_id: 3, name: "pages_in_rows" }
          ])
          expect(yield* store.stats).toMatchObject({ messages: 7, claimed: 1 })
          const claimed = yield* claimAll(store, "events")
          expect(claimed.map((m) => m.json)).toEqual(events(1, 4))
          expect(claimed.every((m) => m.bytes === Batch.wireBytes("events", m.json))).toBe(true)
          expect((yield* claimAll(store, "people")).map((m) => m.json)).toEqual([update("p", 1), update("p", 2)])
          yield* Effect.sleep("700 millis")
          const taken = yield* claimAll(store, "events")
          expect(taken.map((m) => m.json)).toEqual([event(5)])
          // The counts of claims went on from version 1's
          yield* store.deadLetter([rejected(claimed[3] as never), rejected(taken[0] as never)])
          expect((yield* store.deadLetters.list({})).map((l) => [l.json, l.claims])).toEqual([
            [event(4), 3],
            [event(5), 2]
          ])
          yield* store.ack(claimed.slice(0, 3))
          expect(yield* store.stats).toMatchObject({ messages: 2, claimed: 2, deadLetters: 2 })
          const fresh = yield* store.append("events", [event(6)])
          expect(Pages.pageOf(fresh.stored[0]?.id ?? 0)).toBeGreaterThan(Number(last?.id))
        })
    )
  })

  describe("dead letters", () => {
    it.scopedLive("docs/durable.md's SQL: a replay by hand puts dead letters back, and the relay claims them", () =>
      Effect.gen(function* () {
        const db = yield* open
        const store = yield* db.store()
        yield* store.append("events", events(1, 3))
        const claimed = yield* claimAll(store, "events")
        const unauthorized = (message: Stored) => {
          const { failure } = rejected(message)
          return { message, failure: new MixpanelError.DeliveryFailure({ ...failure, reason: "Unauthorized" }) }
        }
        yield* store.deadLetter([unauthorized(claimed[0] as Stored), rejected(claimed[1] as Stored)])
        yield* store.ack([claimed[2] as Stored])
        // The statements of the docs' SQL block, on this test's tables, in one transaction (as there)
        const statements = documentedSql
          .replaceAll("effect_mixpanel_", db.prefix)
          .split(";")
          .map((statement) => statement.replace(/--.*$/gm, "").trim())
          .filter((statement) => statement !== "" && statement !== "BEGIN" && statement !== "COMMIT")
        expect(statements).toHaveLength(3)
        const [failed] = yield* db.client.withTransaction(
          Effect.forEach(statements, (statement) => db.client.unsafe<{ readonly reason?: string }>(statement))
        )
        expect((failed ?? []).map((row) => row.reason)).toEqual(["Unauthorized", "Invalid"])
        expect((yield* store.deadLetters.list({})).map((l) => l.json)).toEqual([event(2)])
        expect(yield* store.stats).toMatchObject({ messages: 1 })
        expect((yield* claimAll(store, "events")).map((m) => [m.json, m.bytes])).toEqual([
          [event(1), Batch.wireBytes("events", event(1))]
        ])
      })
    )

    it.scopedLive(
      "dead-lettered messages leave the outbox with their reason; they can be listed, replayed, removed",
      () =>
        Effect.gen(function* () {
          const db = yield* open
          const store = yield* db.store()
          yield* store.append("events", events(1, 4))
          const claimed = yield* claimAll(store, "events")
          yield* store.deadLetter([rejected(claimed[0] as never), rejected(claimed[2] as never, "still bad")])
          yield* store.ack([claimed[1] as never])
          expect(yield* rows(db, "outbox")).toBe(1)

          const letters = yield* store.deadLetters.list({})
          expect(letters.map((l) => [l.id, l.json, l.reason, l.outcome, l.detail, l.status, l.claims])).toEqual([
            [claimed[0]?.id, event(1), "Invalid", "Rejected", "bad request", 400, 1],
            [claimed[2]?.id, event(3), "Invalid", "Rejected", "still bad", 400, 1]
          ])
          expect((yield* store.deadLetters.list({ afterId: claimed[0]?.id })).map((l) => l.json)).toEqual([event(3)])
          expect(yield* store.deadLetters.list({ reason: "Unauthorized" })).toEqual([])
          expect(yield* store.deadLetters.list({ failedBefore: new Date(letters[0]?.failedAt ?? 0) })).toEqual([])

          expect(yield* store.deadLetters.replay({ ids: [claimed[0]?.id ?? 0] })).toBe(1)
          yield* store.release([claimed[3] as never])
          const again = yield* claimAll(store, "events")
          // Replayed at the end of the outbox, with a new id
          expect(again.map((m) => m.json)).toEqual([event(4), event(1)])
          expect(again[1]?.id).toBeGreaterThan(claimed[3]?.id ?? Number.POSITIVE_INFINITY)
          expect(yield* store.deadLetters.remove({})).toBe(1)
          expect(yield* store.stats).toMatchObject({ messages: 2, claimed: 2, deadLetters: 0 })
        })
    )
  })
}
