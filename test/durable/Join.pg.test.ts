/**
 * `append` joins the caller's transaction only when it is on the store's own database. `@effect/sql`
 * keeps the open transaction in the fiber's context for every client alike, so a transaction on another
 * database (another PostgreSQL database, or another kind of database) must neither carry the store's
 * writes nor be disturbed by the store's probe of it.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { beforeAll, describe, expect, inject, it } from "@effect/vitest"
import type { Scope } from "effect"
import { Context, Effect, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import type { Service } from "../../src/internal/consumer/durable/service.js"
import { freshDatabase, pgLayer } from "./support/postgres.js"
import { build, claimAll, event, tempDir } from "./support/store.js"

const server = inject("postgres")
let app = ""
let outbox = ""

beforeAll(async () => {
  app = await Effect.runPromise(freshDatabase(server, "app"))
  outbox = await Effect.runPromise(freshDatabase(server, "outbox"))
})

const connect = (database: string) =>
  Effect.map(Layer.build(Layer.fresh(pgLayer(server, database))), (context) => Context.get(context, PgClient.PgClient))

/** In a transaction of `sql`: a row, an append, another row; rolled back when `fail`. */
const signUp = (sql: SqlClient.SqlClient, store: Service, n: number, fail: boolean) =>
  sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`INSERT INTO users (n) VALUES (${n})`
      const appended = yield* store.append("events", [event(n)])
      expect(appended.stored.length).toBe(1)
      yield* sql`INSERT INTO users (n) VALUES (${n + 1000})`
      if (fail) return yield* Effect.fail("rolled back")
    })
  )

const check = (sql: SqlClient.SqlClient, store: Effect.Effect<Service, unknown, Scope.Scope>) =>
  Effect.gen(function* () {
    yield* sql`CREATE TABLE IF NOT EXISTS users (n INTEGER)`
    yield* sql`DELETE FROM users`
    const outboxStore = yield* store
    yield* signUp(sql, outboxStore, 1, false)
    yield* Effect.exit(signUp(sql, outboxStore, 2, true))
    // The application's transaction went on after the store's probe, and committed or rolled back whole
    expect((yield* sql<{ readonly n: number }>`SELECT n FROM users ORDER BY n`).map((row) => row.n)).toEqual([1, 1001])
    // The store wrote on its own: the rolled-back append stays
    expect((yield* claimAll(outboxStore, "events")).map((m) => m.json)).toEqual([event(1), event(2)])
    expect(outboxStore.commits()).toBe(2)
  })

describe("append inside a transaction on another database", () => {
  it.scopedLive("another PostgreSQL database, with an outbox of its own: not joined, the transaction undisturbed", () =>
    Effect.gen(function* () {
      const sql = yield* connect(app)
      const other = yield* connect(outbox)
      // The application's database has an outbox too (same tables, another instance id): not the store's
      yield* Effect.scoped(
        build(DurableStore.layer({ tablePrefix: "join_" })).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      )
      yield* check(
        sql,
        build(DurableStore.layer({ tablePrefix: "join_" })).pipe(Effect.provideService(SqlClient.SqlClient, other))
      )
    })
  )

  it.scopedLive("a SQLite store under a PostgreSQL transaction: not joined", () =>
    Effect.gen(function* () {
      const sql = yield* connect(app)
      const file = `${yield* tempDir}/outbox.db`
      yield* check(sql, build(DurableStore.layerSqlite({ filename: file })))
    })
  )
})
