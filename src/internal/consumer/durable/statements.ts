/**
 * The outbox's SQL, for SQLite and PostgreSQL. Times are epoch milliseconds from the database's clock,
 * so that the leases of a fleet do not depend on the clocks of its machines.
 *
 * Claims are one statement that picks the oldest free messages (those with no lease, or an expired one)
 * within the item and byte limits (a running sum) and leases them. On PostgreSQL the pick is
 * `FOR UPDATE SKIP LOCKED`: two relays claiming at once take different messages, and a message locked by
 * a claim that then commits is re-checked and passed over, so nothing is claimed twice. SQLite has one
 * writer at a time, and an `UPDATE` takes the write lock before it reads.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import type { Endpoint } from "../../../Endpoint.js"
import type { Stored } from "../buffered/store.js"
import type { Tables } from "./tables.js"

/** The SQL dialects the store speaks. */
export type Dialect = "sqlite" | "pg"

/** Drivers return PostgreSQL's BIGINT as a string; everything the store counts fits in a double. */
export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value))

/** A row of the outbox as the statements return it. */
export interface OutboxRow {
  readonly id: number | string
  readonly endpoint: Endpoint
  readonly json: string
  readonly bytes: number | string
}

/** `rows` as `Stored`, in id order. */
export const toStored = (rows: ReadonlyArray<OutboxRow>): Array<Stored> =>
  rows
    .map((row) => ({ id: toNumber(row.id), endpoint: row.endpoint, json: row.json, bytes: toNumber(row.bytes) }))
    .sort((a, b) => a.id - b.id)

/** Most rows in one multi-row `INSERT` (SQLite allows 32,766 parameters, PostgreSQL 65,535). */
const maxRowsPerInsert = 512

/**
 * The row counts of the `INSERT`s that store `n` rows: powers of two, largest first, so that a handful of
 * statement texts serve every batch size and stay in the driver's prepared-statement cache.
 */
export const insertSizes = (n: number): Array<number> => {
  const sizes: Array<number> = []
  let left = n
  while (left > 0) {
    let size = maxRowsPerInsert
    while (size > left) size >>= 1
    sizes.push(size)
    left -= size
  }
  return sizes
}

/** The statements of one outbox, for one client and dialect. */
export const make = (sql: SqlClient.SqlClient, dialect: Dialect, tables: Tables) => {
  const outbox = sql(tables.outbox)
  const nowText =
    dialect === "pg"
      ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
      : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
  const now = sql.literal(nowText)
  const placeholder = dialect === "pg" ? (i: number) => `$${i}` : () => "?"
  const quote = (name: string) => `"${name.replace(/"/g, '""').replace(/\./g, '"."')}"`

  // Texts of the multi-row insert, one per row count (see `insertSizes`)
  const insertTexts = new Map<number, string>()
  const insertText = (rows: number): string => {
    let text = insertTexts.get(rows)
    if (text === undefined) {
      const values: Array<string> = []
      for (let row = 0; row < rows; row++) {
        const p = row * 3
        values.push(`(${placeholder(p + 1)}, ${placeholder(p + 2)}, ${placeholder(p + 3)}, ${nowText})`)
      }
      text = `INSERT INTO ${quote(tables.outbox)} (endpoint, json, bytes, created_at) VALUES ${values.join(", ")} RETURNING id`
      insertTexts.set(rows, text)
    }
    return text
  }

  /** Stores `messages` (in order) and returns their ids, ascending: ids are handed out in the order of the values. */
  const insert = (
    messages: ReadonlyArray<{ readonly endpoint: Endpoint; readonly json: string; readonly bytes: number }>
  ): Effect.Effect<Array<number>, SqlError> => {
    const statements: Array<Effect.Effect<ReadonlyArray<{ readonly id: number | string }>, SqlError>> = []
    let offset = 0
    for (const size of insertSizes(messages.length)) {
      const params: Array<unknown> = []
      for (const message of messages.slice(offset, offset + size))
        params.push(message.endpoint, message.json, message.bytes)
      statements.push(sql.unsafe<{ readonly id: number | string }>(insertText(size), params))
      offset += size
    }
    return Effect.map(Effect.all(statements), (results) =>
      results
        .flat()
        .map((row) => toNumber(row.id))
        .sort((a, b) => a - b)
    )
  }

  const free = sql`(lease_until IS NULL OR lease_until < ${now})`

  /** Claims the oldest free messages of `endpoint` within the limits; `skipLocked` on PostgreSQL. */
  const claim = (
    endpoint: Endpoint,
    limits: { readonly maxItems: number; readonly maxBytes: number },
    holder: string,
    leaseMillis: number,
    skipLocked: boolean
  ) => {
    const picked = sql`SELECT id, bytes FROM ${outbox} WHERE endpoint = ${endpoint} AND ${free} ORDER BY id LIMIT ${limits.maxItems}`
    const ranked = (from: Statement.Fragment) =>
      sql`SELECT id, SUM(bytes) OVER (ORDER BY id) AS running, ROW_NUMBER() OVER (ORDER BY id) AS n FROM (${from}) AS picked`
    return dialect === "pg"
      ? sql<OutboxRow>`UPDATE ${outbox} AS o
          SET lease_holder = ${holder}, lease_until = ${now} + ${leaseMillis}, claims = o.claims + 1
          FROM (${ranked(skipLocked ? sql`${picked} FOR UPDATE SKIP LOCKED` : picked)}) AS r
          WHERE o.id = r.id AND (r.running <= ${limits.maxBytes} OR r.n = 1)
          RETURNING o.id, o.endpoint, o.json, o.bytes`
      : sql<OutboxRow>`UPDATE ${outbox}
          SET lease_holder = ${holder}, lease_until = ${now} + ${leaseMillis}, claims = claims + 1
          WHERE id IN (SELECT id FROM (${ranked(picked)}) WHERE running <= ${limits.maxBytes} OR n = 1)
          RETURNING id, endpoint, json, bytes`
  }

  return {
    now,
    free,
    insert,
    claim,
    /** Locks the lock row of an ordered endpoint until the transaction ends, and records who claims. */
    lockEndpoint: (endpoint: Endpoint, holder: string) =>
      sql`UPDATE ${sql(tables.leases)} SET holder = ${holder}, claimed_at = ${now} WHERE endpoint = ${endpoint}`,
    /** Whether another relay holds a live lease on a message of `endpoint`. */
    heldByOthers: (endpoint: Endpoint, holder: string) =>
      sql<{ readonly one: number }>`SELECT 1 AS one FROM ${outbox}
        WHERE endpoint = ${endpoint} AND lease_holder <> ${holder} AND lease_until >= ${now} LIMIT 1`,
    /** Deletes `ids`, returning what was there (an id acknowledged twice, or by two relays, is gone once). */
    remove: (ids: ReadonlyArray<number>) =>
      sql<OutboxRow & { readonly created_at: number | string; readonly claims: number | string }>`DELETE FROM ${outbox}
        WHERE ${sql.in("id", ids)} RETURNING id, endpoint, json, bytes, created_at, claims`,
    release: (ids: ReadonlyArray<number>, holder: string) =>
      sql`UPDATE ${outbox} SET lease_holder = NULL, lease_until = NULL WHERE lease_holder = ${holder} AND ${sql.in("id", ids)}`,
    releaseAll: (holder: string) =>
      sql`UPDATE ${outbox} SET lease_holder = NULL, lease_until = NULL WHERE lease_holder = ${holder}`,
    renew: (holder: string, leaseMillis: number) =>
      sql`UPDATE ${outbox} SET lease_until = ${now} + ${leaseMillis} WHERE lease_holder = ${holder}`,
    /** The oldest free messages of any endpoint, for `dropOldest`; locked on PostgreSQL, skipping locked ones. */
    evictable: (limit: number) =>
      dialect === "pg"
        ? sql<{ readonly id: number | string; readonly bytes: number | string }>`SELECT id, bytes FROM ${outbox}
            WHERE ${free} ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`
        : sql<{ readonly id: number | string; readonly bytes: number | string }>`SELECT id, bytes FROM ${outbox}
            WHERE ${free} ORDER BY id LIMIT ${limit}`,
    size: sql<{
      readonly messages: number | string
      readonly bytes: number | string | null
    }>`SELECT COUNT(*) AS messages, SUM(bytes) AS bytes FROM ${outbox}`,
    claimed: sql<{ readonly claimed: number | string }>`SELECT COUNT(*) AS claimed FROM ${outbox}
      WHERE lease_holder IS NOT NULL AND lease_until >= ${now}`,
    /** The id of the oldest message still in the outbox (by anyone's hand), if any. */
    oldest: sql<{ readonly oldest: number | string | null }>`SELECT MIN(id) AS oldest FROM ${outbox}`
  }
}

/** The statements of an outbox. */
export type Statements = ReturnType<typeof make>
