/**
 * The outbox's schema, as versioned migrations run by `@effect/sql`'s `Migrator` into its own table
 * (`<prefix>migrations`), on SQLite and PostgreSQL alike.
 *
 * A fleet starts its processes at once, so two of them may migrate the same database together. On
 * PostgreSQL the `Migrator` locks its table for the length of its transaction, but creating that table
 * (or the schema) races; on SQLite a second writer can lose the upgrade from reader to writer and the
 * `Migrator` then assumes the other one is migrating. Either way the loser tries again shortly, and the
 * store only starts once the database says the latest version is in place.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Failure from "./failure.js"
import type { Tables } from "./tables.js"

/** The version this code needs; the database may be newer (a later migration keeps what this code uses). */
export const latest = 3

/** The id that tells this outbox's database apart from any other (see `join.ts`). */
export const instanceKey = "instance"

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0")

/** The client of a migration, and the column type of ids and times in its dialect. */
const client = Effect.map(SqlClient.SqlClient, (sql) => {
  const withoutTransforms = sql.withoutTransforms()
  const time = withoutTransforms.onDialectOrElse({
    pg: () => withoutTransforms.literal("BIGINT"),
    orElse: () => withoutTransforms.literal("INTEGER")
  })
  return { sql: withoutTransforms, time }
})

/**
 * Migration 1: the outbox (each message's lease on its row), its dead letters, the ordered endpoints'
 * lock rows and the instance id.
 */
const createOutbox = (tables: Tables) =>
  Effect.gen(function* () {
    const { sql, time } = yield* client
    const index = (name: string) => sql(`${tables.prefix}${name}`)
    const id = sql.onDialectOrElse({
      pg: () => sql.literal("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
      orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
    })
    // AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted last row, and a relay acknowledging
    // a stale id after a lease takeover would then delete a message that was never sent.
    yield* sql`CREATE TABLE ${sql(tables.outbox)} (
      id ${id},
      endpoint TEXT NOT NULL,
      json TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      created_at ${time} NOT NULL,
      lease_holder TEXT,
      lease_until ${time},
      claims INTEGER NOT NULL DEFAULT 0
    )`
    yield* sql`CREATE INDEX ${index("outbox_claim")} ON ${sql(tables.outbox)} (endpoint, id)`
    yield* sql`CREATE INDEX ${index("outbox_lease")} ON ${sql(tables.outbox)} (lease_holder) WHERE lease_holder IS NOT NULL`
    yield* sql`CREATE TABLE ${sql(tables.deadLetters)} (
      id ${time} PRIMARY KEY,
      endpoint TEXT NOT NULL,
      json TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      created_at ${time} NOT NULL,
      failed_at ${time} NOT NULL,
      claims INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      reason TEXT NOT NULL,
      detail TEXT NOT NULL,
      status INTEGER,
      field TEXT
    )`
    yield* sql`CREATE INDEX ${index("dead_letters_failed")} ON ${sql(tables.deadLetters)} (failed_at)`
    // Named `<prefix>locks` since migration 2
    yield* sql`CREATE TABLE ${sql(tables.leases)} (
      endpoint TEXT PRIMARY KEY,
      holder TEXT,
      claimed_at ${time}
    )`
    yield* sql`INSERT INTO ${sql(tables.leases)} (endpoint) VALUES ('people'), ('groups')`
    yield* sql`CREATE TABLE ${sql(tables.meta)} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`
    const instance = `${hex(yield* Random.nextInt)}${hex(yield* Random.nextInt)}${hex(yield* Random.nextInt)}`
    yield* sql`INSERT INTO ${sql(tables.meta)} (key, value) VALUES (${instanceKey}, ${instance})`
  })

/**
 * Migration 2: the leases leave the outbox's rows for a table of their own (see `statements.ts`), which
 * takes the name `<prefix>leases`; the lock rows, one for every endpoint now, move to `<prefix>locks`.
 * The leases held at the upgrade and the counts of claims move with them. A process of version 1's code
 * on the upgraded tables still appends, and its claims fail (they set the outbox's lease columns).
 */
const leasesApart = (tables: Tables) =>
  Effect.gen(function* () {
    const { sql, time } = yield* client
    yield* sql`DROP TABLE ${sql(tables.leases)}`
    yield* sql`CREATE TABLE ${sql(tables.locks)} (
      endpoint TEXT PRIMARY KEY,
      holder TEXT,
      claimed_at ${time}
    )`
    yield* sql`INSERT INTO ${sql(tables.locks)} (endpoint) VALUES ('events'), ('imports'), ('people'), ('groups')`
    yield* sql`CREATE TABLE ${sql(tables.leases)} (
      id ${time} PRIMARY KEY,
      endpoint TEXT NOT NULL,
      holder TEXT,
      expires_at ${time},
      claims INTEGER NOT NULL
    )`
    yield* sql`INSERT INTO ${sql(tables.leases)} (id, endpoint, holder, expires_at, claims)
      SELECT id, endpoint, lease_holder, lease_until, claims FROM ${sql(tables.outbox)}
      WHERE lease_holder IS NOT NULL OR claims > 0`
    // Index names are qualified by the schema the index is in (its table's), never by the table
    const leaseIndex = `${tables.prefix}outbox_lease`
    yield* sql`DROP INDEX ${sql(tables.schema === undefined ? leaseIndex : `${tables.schema}.${leaseIndex}`)}`
    for (const column of ["lease_holder", "lease_until", "claims"]) {
      yield* sql`ALTER TABLE ${sql(tables.outbox)} DROP COLUMN ${sql(column)}`
    }
  })

/**
 * Migration 3: a row of the outbox holds a page of messages (see `pages.ts`), its lease and its lock row
 * as before; each message of an older version becomes a page of one, with the same id (its lease and
 * count of claims stay its page's). The ids of pages go on above every id the outbox and its dead letters
 * held, so that the messages' new ids (a page's id × 65,536 + its index) never meet an old dead letter's.
 * The `json` column becomes `messages`: a process of an earlier version on upgraded tables fails its
 * appends and claims (logged) rather than sending a page as one message.
 *
 * SQLite writes the table anew, with the pages' text last: it keeps a large value in overflow pages, and
 * a column after one is read by walking them. PostgreSQL keeps large values apart (TOAST) and alters the
 * table in place.
 */
const pagesInRows = (tables: Tables) =>
  Effect.gen(function* () {
    const { sql, time } = yield* client
    const outbox = sql(tables.outbox)
    const dialect = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })
    if (dialect === "pg") {
      yield* sql`ALTER TABLE ${outbox} RENAME COLUMN json TO messages`
      yield* sql`ALTER TABLE ${outbox} ADD COLUMN waiting INTEGER NOT NULL DEFAULT 1,
        ADD COLUMN count INTEGER NOT NULL DEFAULT 1, ADD COLUMN done TEXT, ADD COLUMN lengths TEXT,
        ADD COLUMN sizes TEXT`
      yield* sql`ALTER TABLE ${outbox} ALTER COLUMN waiting DROP DEFAULT, ALTER COLUMN count DROP DEFAULT`
      return
    }
    const pages = sql(`${tables.outbox}_pages`)
    yield* sql`CREATE TABLE ${pages} (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      endpoint TEXT NOT NULL,
      waiting INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      count INTEGER NOT NULL,
      created_at ${time} NOT NULL,
      done TEXT,
      lengths TEXT,
      sizes TEXT,
      messages TEXT NOT NULL
    )`
    yield* sql`INSERT INTO ${pages} (id, endpoint, waiting, bytes, count, created_at, messages)
      SELECT id, endpoint, 1, bytes, 1, created_at, json FROM ${outbox}`
    const [row] = yield* sql<{
      readonly next: number | string | null
    }>`SELECT seq AS next FROM sqlite_sequence WHERE name = ${tables.outbox}`
    yield* sql`DROP TABLE ${outbox}`
    yield* sql`ALTER TABLE ${pages} RENAME TO ${outbox}`
    yield* sql`DELETE FROM sqlite_sequence WHERE name = ${tables.outbox}`
    yield* sql`INSERT INTO sqlite_sequence (name, seq) VALUES (${tables.outbox}, ${Number(row?.next ?? 0)})`
    yield* sql`CREATE INDEX ${sql(`${tables.prefix}outbox_claim`)} ON ${outbox} (endpoint, id)`
  })

/** The migrations of `tables`, for `Migrator.fromRecord`. */
const migrations = (tables: Tables) => ({
  "1_create_outbox": createOutbox(tables),
  "2_leases_apart": leasesApart(tables),
  "3_pages_in_rows": pagesInRows(tables)
})

/** The outbox's schema version in the database, 0 before the first migration. */
const version = (tables: Tables) =>
  Effect.flatMap(SqlClient.SqlClient, (client) => {
    const sql = client.withoutTransforms()
    return Effect.map(
      sql<{
        readonly version: number | string | null
      }>`SELECT MAX(migration_id) AS version FROM ${sql(tables.migrations)}`,
      (rows) => Number(rows[0]?.version ?? 0)
    )
  })

class Behind {
  readonly _tag = "Behind"
  constructor(readonly version: number) {}
}

/**
 * Brings the outbox of `tables` to the `latest` version and returns the version found after, trying
 * again (for about 5 seconds) while another process migrates the same database.
 */
export const migrate = (tables: Tables): Effect.Effect<number, Failure.Failure<"open">, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    if (tables.schema !== undefined) yield* sql`CREATE SCHEMA IF NOT EXISTS ${sql(tables.schema)}`
    // In a fiber of its own, awaited rather than joined: the Migrator annotates its logs, and that leaves
    // entries in its fiber's FiberRefs. In the fiber that builds the layer, a runtime built from the layer
    // would keep them, and every fork on that runtime would copy them (about 10% more per fork, measured)
    const migrator = yield* Effect.fork(
      Migrator.make({})({ loader: Migrator.fromRecord(migrations(tables)), table: tables.migrations })
    )
    yield* Effect.flatten(Fiber.await(migrator))
    const found = yield* version(tables)
    if (found < latest) return yield* Effect.fail(new Behind(found))
    return found
  }).pipe(
    Effect.catchAllDefect((defect) => Effect.fail(defect)),
    Effect.retry({
      schedule: Schedule.exponential("20 millis", 1.6).pipe(Schedule.intersect(Schedule.recurs(10))),
      while: (error) => error instanceof Behind || Failure.reasonOf(error) === "Busy"
    }),
    Effect.mapError((error) =>
      error instanceof Behind
        ? Failure.make(
            "open",
            "Schema",
            `the outbox tables are at version ${error.version}, and another process kept migrating them`
          )
        : Failure.fromCause("open", error)
    )
  )
