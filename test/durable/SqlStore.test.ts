/**
 * The durable store against real SQLite files (better-sqlite3 under `@effect/sql-sqlite-node`), one per
 * test, in a temporary directory.
 */
import { join } from "node:path"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { contract } from "./support/contract.js"
import { database, tempDir } from "./support/store.js"

const sqlite = Effect.gen(function* () {
  const file = join(yield* tempDir, "outbox.db")
  const connect = Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
    Context.get(context, SqliteClient.SqliteClient)
  )
  return yield* database("sqlite", connect)
})

describe("SqlStore on SQLite", () => {
  contract(sqlite)
})
