/**
 * An outbox as version 1 of the schema left it (leases on the messages' rows), written by hand, so that
 * the upgrade is tested against the old tables as they were, not against today's migration code.
 */
import { Migrator, SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Endpoint } from "../../../src/index.js"
import { wireBytes } from "../../../src/internal/consumer/batch.js"

/** The database's clock in epoch milliseconds, as the store reads it. */
export const nowSql = (dialect: "sqlite" | "pg") =>
  dialect === "pg"
    ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

/** A message of a version 1 outbox: its lease (holder, and milliseconds from now, negative when expired). */
export interface V1Message {
  readonly endpoint: Endpoint.Endpoint
  readonly json: string
  readonly lease?: { readonly holder: string; readonly inMillis: number }
  readonly claims?: number
}

/** Version 1's tables under `prefix`, migrated as the `Migrator` did, with `messages` in the outbox. */
export const v1Outbox = (dialect: "sqlite" | "pg", prefix: string, messages: ReadonlyArray<V1Message>) =>
  Effect.gen(function* () {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const [id, time] =
      dialect === "pg"
        ? ["BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT"]
        : ["INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"]
    const create = Effect.gen(function* () {
      yield* sql.unsafe(`CREATE TABLE ${prefix}outbox (id ${id}, endpoint TEXT NOT NULL, json TEXT NOT NULL,
        bytes INTEGER NOT NULL, created_at ${time} NOT NULL, lease_holder TEXT, lease_until ${time},
        claims INTEGER NOT NULL DEFAULT 0)`)
      yield* sql.unsafe(`CREATE INDEX ${prefix}outbox_claim ON ${prefix}outbox (endpoint, id)`)
      yield* sql.unsafe(
        `CREATE INDEX ${prefix}outbox_lease ON ${prefix}outbox (lease_holder) WHERE lease_holder IS NOT NULL`
      )
      yield* sql.unsafe(`CREATE TABLE ${prefix}dead_letters (id ${time} PRIMARY KEY, endpoint TEXT NOT NULL,
        json TEXT NOT NULL, bytes INTEGER NOT NULL, created_at ${time} NOT NULL, failed_at ${time} NOT NULL,
        claims INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
        status INTEGER, field TEXT)`)
      yield* sql.unsafe(`CREATE INDEX ${prefix}dead_letters_failed ON ${prefix}dead_letters (failed_at)`)
      yield* sql.unsafe(`CREATE TABLE ${prefix}leases (endpoint TEXT PRIMARY KEY, holder TEXT, claimed_at ${time})`)
      yield* sql.unsafe(`INSERT INTO ${prefix}leases (endpoint) VALUES ('people'), ('groups')`)
      yield* sql.unsafe(`CREATE TABLE ${prefix}meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`)
      yield* sql.unsafe(`INSERT INTO ${prefix}meta (key, value) VALUES ('instance', 'v1-${prefix}')`)
    })
    yield* Migrator.make({})({
      loader: Migrator.fromRecord({ "1_create_outbox": create }),
      table: `${prefix}migrations`
    })
    const now = nowSql(dialect)
    const values = dialect === "pg" ? "$1, $2, $3, $4, $5" : "?, ?, ?, ?, ?"
    for (const message of messages) {
      const until = message.lease === undefined ? "NULL" : `${now} + ${message.lease.inMillis}`
      yield* sql.unsafe(
        `INSERT INTO ${prefix}outbox (endpoint, json, bytes, lease_holder, claims, created_at, lease_until)
          VALUES (${values}, ${now}, ${until})`,
        [
          message.endpoint,
          message.json,
          wireBytes(message.endpoint, message.json),
          message.lease?.holder ?? null,
          message.claims ?? 0
        ]
      )
    }
  })
