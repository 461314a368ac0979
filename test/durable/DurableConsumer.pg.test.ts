/**
 * `Consumer.layerDurable` over PostgreSQL (the suite's server, a database of this file's own), the
 * application's own client: tracking inside the application's transaction, and two consumers on one
 * outbox. Real time: the store and the relay wait on a real server.
 */
import { PgClient } from "@effect/sql-pg"
import { beforeAll, describe, expect, inject, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer } from "effect"
import { Consumer, Mixpanel } from "../../src/index.js"
import { event, range } from "../support/buffered.js"
import { durableHarness, storeOn } from "./support/consumer.js"
import { freshDatabase, pgLayer } from "./support/postgres.js"

const server = inject("postgres")
let name = ""

beforeAll(async () => {
  name = await Effect.runPromise(freshDatabase(server, "consumer"))
})

const connect = Effect.suspend(() =>
  Effect.map(Layer.build(Layer.fresh(pgLayer(server, name))), (context) => Context.get(context, PgClient.PgClient))
)

describe("Consumer.layerDurable on PostgreSQL", () => {
  it.scopedLive("a track inside the application's transaction commits with it; a rollback sends nothing", () =>
    Effect.gen(function* () {
      const h = yield* durableHarness()
      const sql = yield* connect
      yield* sql`CREATE TABLE users (name TEXT)`
      const signUp = (who: string, fail: boolean) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO users (name) VALUES (${who})`
            yield* Mixpanel.track(who, "Signed Up")
            yield* Mixpanel.peopleSet(who, { plan: "pro" })
            if (fail) return yield* Effect.fail("rolled back")
          })
        )
      yield* Effect.gen(function* () {
        yield* signUp("kept", false)
        expect(yield* Effect.exit(signUp("dropped", true))).toStrictEqual(Exit.fail("rolled back"))
        yield* Mixpanel.track("after", "Visited")
        yield* Consumer.flush.pipe(Effect.timeout("30 seconds"))
        const inside = yield* Effect.exit(sql.withTransaction(Consumer.flush))
        expect(String(inside)).toMatch(/inside a transaction/)
      }).pipe(
        Effect.provide(Mixpanel.layer({ token: "T" })),
        Effect.provide(h.layer(storeOn(sql, { tablePrefix: "tx_" }), { pollInterval: "100 millis" }))
      )
      expect(yield* sql`SELECT name FROM users`).toEqual([{ name: "kept" }])
      expect(h.server.received("events").map((e) => (e.properties as { distinct_id: string }).distinct_id)).toEqual([
        "kept",
        "after"
      ])
      expect(h.server.received("people").map((p) => p.$distinct_id)).toEqual(["kept"])
      expect(yield* sql`SELECT COUNT(*)::int AS n FROM tx_outbox`).toEqual([{ n: 0 }])
    })
  )

  it.scopedLive("a request goes out when a full batch waits, and only a full one: workers claim in turn", () =>
    Effect.gen(function* () {
      const h = yield* durableHarness()
      const sql = yield* connect
      yield* Effect.gen(function* () {
        const consumer = yield* Consumer.Consumer
        yield* consumer.sendBatch(
          "events",
          range(0, 3).map((i) => event(i))
        )
        yield* Effect.sleep("300 millis")
        yield* consumer.send("events", event(3))
        yield* Effect.sleep("300 millis")
        expect(h.server.requests().map((r) => r.items)).toEqual([2, 2])
      }).pipe(
        Effect.provide(h.layer(storeOn(sql, { tablePrefix: "turns_" }), { maxBatchSize: 2, maxConcurrentRequests: 8 }))
      )
    })
  )
})
