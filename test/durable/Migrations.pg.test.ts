/**
 * The outbox's migrations on PostgreSQL: a fleet's processes starting together on an empty database all
 * come up (one migrates, the others wait or try again), and the tables can live in a schema of their own.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { beforeAll, describe, expect, inject, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { freshDatabase, pgLayer } from "./support/postgres.js"
import { build, claimAll, events } from "./support/store.js"

const server = inject("postgres")
let database = ""

beforeAll(async () => {
  database = await Effect.runPromise(freshDatabase(server, "migrations"))
})

const connect = Effect.suspend(() =>
  Effect.map(Layer.build(Layer.fresh(pgLayer(server, database))), (context) => Context.get(context, PgClient.PgClient))
)

describe("migrations on PostgreSQL", () => {
  it.scopedLive("eight stores starting at once on empty tables all come up, on one schema version", () =>
    Effect.gen(function* () {
      const clients = yield* Effect.all(
        Array.from({ length: 8 }, () => connect),
        { concurrency: "unbounded" }
      )
      const stores = yield* Effect.all(
        clients.map((sql) =>
          build(DurableStore.layer({ tablePrefix: "together_" })).pipe(Effect.provideService(SqlClient.SqlClient, sql))
        ),
        { concurrency: "unbounded" }
      )
      const [first, , , , , , , last] = stores
      const [sql] = clients
      if (first === undefined || last === undefined || sql === undefined) return yield* Effect.die("eight stores")
      yield* first.append("events", events(1, 3))
      expect((yield* claimAll(last, "events")).length).toBe(3)
      expect(yield* sql`SELECT migration_id, name FROM together_migrations`).toEqual([
        { migration_id: 1, name: "create_outbox" },
        { migration_id: 2, name: "leases_apart" },
        { migration_id: 3, name: "pages_in_rows" }
      ])
    })
  )

  it.scopedLive("the tables in a schema of their own, created if missing", () =>
    Effect.gen(function* () {
      const sql = yield* connect
      const store = yield* build(DurableStore.layer({ schema: "analytics", tablePrefix: "mp_" })).pipe(
        Effect.provideService(SqlClient.SqlClient, sql)
      )
      yield* store.append("events", events(1, 2))
      const tables = yield* sql<{ readonly table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics' ORDER BY table_name`
      expect(tables.map((t) => t.table_name)).toEqual([
        "mp_dead_letters",
        "mp_leases",
        "mp_locks",
        "mp_meta",
        "mp_migrations",
        "mp_outbox"
      ])
      expect(yield* sql`SELECT SUM(waiting)::int AS n FROM analytics.mp_outbox`).toEqual([{ n: 2 }])
    })
  )
})
