/**
 * The outbox's SQL, for SQLite and PostgreSQL. Times are epoch milliseconds from the database's clock,
 * so that the leases of a fleet do not depend on the clocks of its machines.
 *
 * A message's lease is a row of its own in the leases table (`id`, `endpoint`, `holder`, `expires_at`,
 * `claims`), not columns of the message's row: a claim writes a small row instead of rewriting every
 * message it takes (hundreds of bytes each) and an index entry. A lease row lives from the message's
 * first claim until the message leaves the outbox; a release clears its holder and expiry and keeps the
 * count of claims (the dead letters report it). A message is free when no lease of it is live.
 *
 * A claim is one statement: it picks the oldest free messages within the item and byte limits (a running
 * sum) and upserts their leases. Nothing is claimed twice, on PostgreSQL for three reasons:
 *
 * - claims of one endpoint take turns across the fleet: a claim's transaction first updates the
 *   endpoint's lock row (`lockEndpoint`), and the pick, a statement begun after that, sees every lease
 *   committed before it (read committed). Without the turns, a pick whose snapshot predates another
 *   relay's claim would take that claim's messages for free, and the upsert below would turn them down:
 *   the claim would come back short while free messages wait.
 * - the upsert takes over an existing lease only if it has expired as the upsert sees it: `ON CONFLICT DO
 *   UPDATE … WHERE` checks the latest committed lease row, locked, and an insert racing another insert of
 *   the same lease waits for it, then makes that check.
 * - the pick locks the messages' rows, so that none is deleted between a claim's pick and its commit:
 *   `FOR UPDATE SKIP LOCKED` passes over those an acknowledgement or an eviction is deleting; the ordered
 *   endpoints wait for them instead (`FOR UPDATE`): a delete rolled back would leave a gap in their order.
 *
 * SQLite has one writer at a time, and a transaction that writes reads the latest state.
 *
 * A message leaves with its lease: its row is deleted first, then its lease, in one transaction. On
 * PostgreSQL a claim that held the row's lock has committed by the time the second statement begins
 * (and each statement sees what committed before it began), so no lease outlives its message. An
 * eviction (`dropOldest`) checks again, as it deletes, that nobody holds the message.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Endpoint } from "../../../Endpoint.js"
import * as Batch from "../batch.js"
import type { Stored } from "../buffered/store.js"
import type { Tables } from "./tables.js"

/** The SQL dialects the store speaks. */
export type Dialect = "sqlite" | "pg"

/** Drivers return PostgreSQL's BIGINT as a string; everything the store counts fits in a double. */
export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value))

/** The rows a statement changed, from its raw result: better-sqlite3's `changes`, pg's `rowCount`. */
export const changes = (result: unknown): number => {
  const raw = result as { readonly changes?: unknown; readonly rowCount?: unknown } | null | undefined
  return toNumber(raw?.changes ?? raw?.rowCount ?? 0)
}

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

  const leases = sql(tables.leases)
  const live = sql`expires_at >= ${now}`
  /** Nobody holds a live lease on the outbox row `o`. */
  const free = sql`NOT EXISTS (SELECT 1 FROM ${leases} AS l WHERE l.id = o.id AND l.expires_at >= ${now})`

  /**
   * Leases the oldest free messages of `endpoint` within the limits, returning their ids. The byte limit
   * is the engine's (`Batch.bodyBytes`): the request body of the messages, with its commas and brackets,
   * is at most `maxBytes`, i.e. `running + n <= maxBytes - bodyBytes(endpoint, 1, 0) + 1`. On PostgreSQL
   * the picked rows are locked, skipping those another claim holds (`skip`) or waiting for them (`wait`,
   * the ordered endpoints, where a gap would break their order).
   */
  const claim = (
    endpoint: Endpoint,
    limits: { readonly maxItems: number; readonly maxBytes: number },
    holder: string,
    leaseMillis: number,
    lock: "skip" | "wait"
  ) => {
    const budget = limits.maxBytes - Batch.bodyBytes(endpoint, 1, 0) + 1
    const locked =
      dialect === "sqlite" ? sql`` : lock === "skip" ? sql`FOR UPDATE OF o SKIP LOCKED` : sql`FOR UPDATE OF o`
    const picked = sql`SELECT o.id, o.bytes FROM ${outbox} AS o
      WHERE o.endpoint = ${endpoint} AND ${free} ORDER BY o.id LIMIT ${limits.maxItems} ${locked}`
    return sql<{ readonly id: number | string }>`INSERT INTO ${leases} AS l (id, endpoint, holder, expires_at, claims)
      SELECT id, ${endpoint}, ${holder}, ${now} + ${leaseMillis}, 1 FROM (
        SELECT id, SUM(bytes) OVER (ORDER BY id) AS running, ROW_NUMBER() OVER (ORDER BY id) AS n
        FROM (${picked}) AS picked
      ) AS r WHERE r.running + r.n <= ${budget} OR r.n = 1
      ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, claims = l.claims + 1
        WHERE l.expires_at IS NULL OR l.expires_at < ${now}
      RETURNING id`
  }

  /** Deletes the leases of `ids` (after their messages: see the module's doc), returning how often each was claimed. */
  const removeLeases = (ids: ReadonlyArray<number>) =>
    sql<{ readonly id: number | string; readonly claims: number | string }>`DELETE FROM ${leases}
      WHERE ${sql.in("id", ids)} RETURNING id, claims`

  return {
    now,
    insert,
    claim,
    /** The messages `ids`, as stored. */
    read: (ids: ReadonlyArray<number>) =>
      sql<OutboxRow>`SELECT id, endpoint, json, bytes FROM ${outbox} WHERE ${sql.in("id", ids)}`,
    /** Locks the lock row of `endpoint` until the transaction ends (claims take turns), and records who claims. */
    lockEndpoint: (endpoint: Endpoint, holder: string) =>
      sql`UPDATE ${sql(tables.locks)} SET holder = ${holder}, claimed_at = ${now} WHERE endpoint = ${endpoint}`,
    /** Whether another relay holds a live lease on a message of `endpoint`. */
    heldByOthers: (endpoint: Endpoint, holder: string) =>
      sql<{ readonly one: number }>`SELECT 1 AS one FROM ${leases}
        WHERE endpoint = ${endpoint} AND holder <> ${holder} AND ${live} LIMIT 1`,
    /**
     * Deletes the acknowledged `ids` and their leases, returning how many messages were there (an id
     * acknowledged twice, or by two relays, is gone once). No rows are read back: on SQLite they cost
     * about 0.7 µs each.
     */
    ack: (ids: ReadonlyArray<number>) =>
      Effect.zipLeft(
        Effect.map(sql`DELETE FROM ${outbox} WHERE ${sql.in("id", ids)}`.raw, changes),
        // Nothing to read back: a statement without RETURNING makes no row objects
        sql`DELETE FROM ${leases} WHERE ${sql.in("id", ids)}`
      ),
    /**
     * Deletes `ids` and their leases, returning what was there with how often each was claimed; with
     * `onlyFree`, only those nobody holds a live lease on (checked again as they are deleted).
     */
    remove: (ids: ReadonlyArray<number>, onlyFree: boolean) =>
      Effect.flatMap(
        sql<OutboxRow & { readonly created_at: number | string }>`DELETE FROM ${outbox} AS o
          WHERE ${sql.in("o.id", ids)}${onlyFree ? sql` AND ${free}` : sql``}
          RETURNING id, endpoint, json, bytes, created_at`,
        (rows) =>
          Effect.map(
            rows.length === 0 ? Effect.succeed([]) : removeLeases(rows.map((row) => toNumber(row.id))),
            (claimed) => {
              const claims = new Map(claimed.map((row) => [toNumber(row.id), toNumber(row.claims)]))
              return rows.map((row) => ({ ...row, claims: claims.get(toNumber(row.id)) ?? 0 }))
            }
          )
      ),
    release: (ids: ReadonlyArray<number>, holder: string) =>
      sql`UPDATE ${leases} SET holder = NULL, expires_at = NULL WHERE holder = ${holder} AND ${sql.in("id", ids)}`,
    releaseAll: (holder: string) => sql`UPDATE ${leases} SET holder = NULL, expires_at = NULL WHERE holder = ${holder}`,
    renew: (holder: string, leaseMillis: number) =>
      sql`UPDATE ${leases} SET expires_at = ${now} + ${leaseMillis} WHERE holder = ${holder}`,
    /** The oldest free messages of any endpoint, for `dropOldest`; locked on PostgreSQL, skipping locked ones. */
    evictable: (limit: number) =>
      sql<{ readonly id: number | string; readonly bytes: number | string }>`SELECT o.id, o.bytes FROM ${outbox} AS o
        WHERE ${free} ORDER BY o.id LIMIT ${limit} ${dialect === "pg" ? sql`FOR UPDATE OF o SKIP LOCKED` : sql``}`,
    size: sql<{
      readonly messages: number | string
      readonly bytes: number | string | null
    }>`SELECT COUNT(*) AS messages, SUM(bytes) AS bytes FROM ${outbox}`,
    claimed: sql<{ readonly claimed: number | string }>`SELECT COUNT(*) AS claimed FROM ${leases} WHERE ${live}`,
    /** The id of the oldest message still in the outbox (by anyone's hand), if any. */
    oldest: sql<{ readonly oldest: number | string | null }>`SELECT MIN(id) AS oldest FROM ${outbox}`
  }
}

/** The statements of an outbox. */
export type Statements = ReturnType<typeof make>
