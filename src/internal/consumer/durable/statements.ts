/**
 * The outbox's SQL, for SQLite and PostgreSQL. Times are epoch milliseconds from the database's clock,
 * so that the leases of a fleet do not depend on the clocks of its machines. A row of the outbox is a
 * page of messages (`pages.ts`); leases, claims and deletes are of pages.
 *
 * A page's lease is a row of its own in the leases table (`id`, `endpoint`, `holder`, `expires_at`,
 * `claims`), not columns of the page's row: a claim writes a small row instead of rewriting the page and
 * an index entry. A lease row lives from the page's first claim until the page leaves the outbox; a
 * release clears its holder and expiry and keeps the count of claims (the dead letters report it). A page
 * is free when no lease of it is live.
 *
 * A claim is one statement: it picks the oldest free pages as far as the item and byte limits go (running
 * sums of their waiting messages) and upserts their leases. Nothing is claimed twice, on PostgreSQL for
 * three reasons:
 *
 * - claims of one endpoint take turns across the fleet: a claim's transaction first updates the
 *   endpoint's lock row (`lockEndpoint`), and the pick, a statement begun after that, sees every lease
 *   committed before it (read committed). Without the turns, a pick whose snapshot predates another
 *   relay's claim would take that claim's pages for free, and the upsert below would turn them down:
 *   the claim would come back short while free pages wait.
 * - the upsert takes over an existing lease only if it has expired as the upsert sees it: `ON CONFLICT DO
 *   UPDATE … WHERE` checks the latest committed lease row, locked, and an insert racing another insert of
 *   the same lease waits for it, then makes that check.
 * - the pick locks the pages' rows, so that none is changed or deleted between a claim's pick and its
 *   commit: `FOR UPDATE SKIP LOCKED` passes over those an acknowledgement or an eviction is writing; the
 *   ordered endpoints wait for them instead (`FOR UPDATE`): a delete rolled back would leave a gap in
 *   their order. Messages leave a page (`states`, then `finishSome` or `removePages`) under the same
 *   lock.
 *
 * SQLite has one writer at a time, and a transaction that writes reads the latest state.
 *
 * A page leaves with its lease: its row is deleted first, then its lease, in one transaction. On
 * PostgreSQL a claim that held the row's lock has committed by the time the second statement begins
 * (and each statement sees what committed before it began), so no lease outlives its page. An eviction
 * (`dropOldest`) takes only free pages, locked as it picks them.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Endpoint } from "../../../Endpoint.js"
import * as Batch from "../batch.js"
import { OutboxMessage } from "./outboxMessage.js"
import * as Pages from "./pages.js"
import type { Tables } from "./tables.js"

/** The SQL dialects the store speaks. */
export type Dialect = "sqlite" | "pg"

/** Drivers return PostgreSQL's BIGINT as a string; everything the store counts fits in a double. */
export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value))

/** A page of the outbox as the statements return it (see `pages.ts`). */
export interface PageRow {
  readonly id: number | string
  readonly endpoint: Endpoint
  readonly bytes: number | string
  readonly done: string | null
  readonly lengths: string | null
  readonly sizes: string | null
  /** As text, or (SQLite's `read`) as its UTF-8 bytes. */
  readonly messages: string | Uint8Array
}

/** The waiting messages of `rows`, in id order. */
export const toStored = (rows: ReadonlyArray<PageRow>): Array<OutboxMessage> =>
  rows
    .map((row) => ({ ...row, id: toNumber(row.id), bytes: toNumber(row.bytes) }))
    .sort((a, b) => a.id - b.id)
    .flatMap(Pages.waiting)

/** What the store must know of a page before it takes messages out of it: how many, which are gone. */
export interface PageState {
  readonly id: number | string
  readonly count: number | string
  readonly done: string | null
  readonly created_at: number | string
  /** How often the page was claimed (0 before its first claim). */
  readonly claims: number | string | null
}

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

/** The columns of a page written by an insert, in the order of its parameters. */
const pageColumns = ["endpoint", "waiting", "bytes", "count", "lengths", "sizes", "messages"] as const

/**
 * The statements of one outbox, for one client and dialect. With `bytes` (SQLite whose text is UTF-8), the
 * pages' messages are written and read as their bytes.
 */
export const make = (sql: SqlClient.SqlClient, dialect: Dialect, tables: Tables, bytes: boolean) => {
  const outbox = sql(tables.outbox)
  const nowText =
    dialect === "pg"
      ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
      : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
  const now = sql.literal(nowText)
  const messagesRead = sql.literal(bytes ? "CAST(messages AS BLOB)" : "messages")
  const placeholder = dialect === "pg" ? (i: number) => `$${i}` : () => "?"
  const quote = (name: string) => `"${name.replace(/"/g, '""').replace(/\./g, '"."')}"`

  // Texts of the multi-row insert, one per row count (see `insertSizes`)
  const insertTexts = new Map<number, string>()
  const insertText = (rows: number): string => {
    let text = insertTexts.get(rows)
    if (text === undefined) {
      const width = pageColumns.length
      const values: Array<string> = []
      for (let row = 0; row < rows; row++) {
        const params = pageColumns.map((name, column) => {
          const param = placeholder(row * width + column + 1)
          // Bytes bound as a BLOB are stored as the text they encode: the cast only relabels them
          return name === "messages" && bytes ? `CAST(${param} AS TEXT)` : param
        })
        values.push(`(${params.join(", ")}, ${nowText})`)
      }
      text = `INSERT INTO ${quote(tables.outbox)} (${pageColumns.join(", ")}, created_at) VALUES ${values.join(", ")} RETURNING id`
      insertTexts.set(rows, text)
    }
    return text
  }

  /**
   * Stores `pages` (in order) and returns their messages, in order: ids are handed out in the order of the
   * values.
   */
  const insert = (pages: ReadonlyArray<Pages.NewPage>): Effect.Effect<Array<OutboxMessage>, SqlError> => {
    const statements: Array<Effect.Effect<ReadonlyArray<{ readonly id: number | string }>, SqlError>> = []
    let offset = 0
    for (const size of insertSizes(pages.length)) {
      const params: Array<unknown> = []
      for (const page of pages.slice(offset, offset + size)) {
        const row = Pages.toNewRow(page)
        params.push(row.endpoint, row.count, row.bytes, row.count, row.lengths, row.sizes, row.messages)
      }
      statements.push(sql.unsafe<{ readonly id: number | string }>(insertText(size), params))
      offset += size
    }
    return Effect.map(Effect.all(statements), (results) => {
      const ids = results
        .flat()
        .map((row) => toNumber(row.id))
        .sort((a, b) => a - b)
      const stored: Array<OutboxMessage> = []
      pages.forEach((page, i) => {
        const id = ids[i] ?? 0
        page.messages.forEach((text, index) => {
          const bytes = page.bytes[index] ?? 0
          stored.push(new OutboxMessage(Pages.messageId(id, index), page.endpoint, Pages.content(text), bytes))
        })
      })
      return stored
    })
  }

  const leases = sql(tables.leases)
  const live = sql`expires_at >= ${now}`
  /** Nobody holds a live lease on the outbox row `o`. */
  const free = sql`NOT EXISTS (SELECT 1 FROM ${leases} AS l WHERE l.id = o.id AND l.expires_at >= ${now})`

  /**
   * Leases the oldest free pages of `endpoint` as far as the limits go, returning their ids: every page
   * whose messages all fit after those before it, and the first that does not, while there is room for a
   * message of it (the claim takes what fits of it, and the rest waits under the relay's lease: see
   * `holding.ts`); with `first`, the first page whatever its size. The limits are the engine's
   * (`Batch.bodyBytes`): the request body of the messages, with its commas and brackets, is at most
   * `maxBytes`, i.e. `running + items <= maxBytes - bodyBytes(endpoint, 1, 0) + 1`, and a message takes at
   * least 2 of it (a byte and a comma). On PostgreSQL the picked rows are locked, skipping those another
   * claim holds (`skip`) or waiting for them (`wait`, the ordered endpoints, where a gap would break their
   * order).
   */
  const claim = (
    endpoint: Endpoint,
    limits: { readonly maxItems: number; readonly maxBytes: number },
    first: boolean,
    lease: { readonly holder: string; readonly leaseMillis: number; readonly lock: "skip" | "wait" }
  ) => {
    const { holder, leaseMillis, lock } = lease
    const budget = limits.maxBytes - Batch.bodyBytes(endpoint, 1, 0) + 1
    const locked =
      dialect === "sqlite" ? sql`` : lock === "skip" ? sql`FOR UPDATE OF o SKIP LOCKED` : sql`FOR UPDATE OF o`
    const picked = sql`SELECT o.id, o.waiting, o.bytes FROM ${outbox} AS o
      WHERE o.endpoint = ${endpoint} AND ${free} ORDER BY o.id LIMIT ${limits.maxItems} ${locked}`
    return sql<{ readonly id: number | string }>`INSERT INTO ${leases} AS l (id, endpoint, holder, expires_at, claims)
      SELECT id, ${endpoint}, ${holder}, ${now} + ${leaseMillis}, 1 FROM (
        SELECT id, SUM(waiting) OVER (ORDER BY id) - waiting AS items, SUM(bytes) OVER (ORDER BY id) - bytes AS running,
          ROW_NUMBER() OVER (ORDER BY id) AS n
        FROM (${picked}) AS picked
      ) AS r WHERE (r.items < ${limits.maxItems} AND r.running + r.items + 2 <= ${budget})${first ? sql` OR r.n = 1` : sql``}
      ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, claims = l.claims + 1
        WHERE l.expires_at IS NULL OR l.expires_at < ${now}
      RETURNING id`
  }

  const release = (pages: ReadonlyArray<number>, holder: string) =>
    sql`UPDATE ${leases} SET holder = NULL, expires_at = NULL WHERE holder = ${holder} AND ${sql.in("id", pages)}`

  return {
    now,
    insert,
    claim,
    /**
     * The pages `ids`, as stored; with `bytes` their messages as bytes (a BLOB: the text's own UTF-8, with
     * no string made of it).
     */
    read: (pages: ReadonlyArray<number>) =>
      sql<PageRow>`SELECT id, endpoint, bytes, done, lengths, sizes, ${messagesRead} AS messages FROM ${outbox}
        WHERE ${sql.in("id", pages)}`,
    /**
     * What the store needs of the pages `ids` before taking messages out of them, their count of claims
     * included; on PostgreSQL locked, so that two relays finishing messages of one page take turns.
     */
    states: (pages: ReadonlyArray<number>) =>
      sql<PageState>`SELECT o.id, o.count, o.done, o.created_at, l.claims FROM ${outbox} AS o
        LEFT JOIN ${leases} AS l ON l.id = o.id
        WHERE ${sql.in("o.id", pages)} ${dialect === "pg" ? sql`FOR UPDATE OF o` : sql``}`,
    /** Locks the lock row of `endpoint` until the transaction ends (claims take turns), and records who claims. */
    lockEndpoint: (endpoint: Endpoint, holder: string) =>
      sql`UPDATE ${sql(tables.locks)} SET holder = ${holder}, claimed_at = ${now} WHERE endpoint = ${endpoint}`,
    /** Whether another relay holds a live lease on a message of `endpoint`. */
    heldByOthers: (endpoint: Endpoint, holder: string) =>
      sql<{ readonly one: number }>`SELECT 1 AS one FROM ${leases}
        WHERE endpoint = ${endpoint} AND holder <> ${holder} AND ${live} LIMIT 1`,
    /**
     * Deletes the pages `ids` and their leases: their messages have all left. No rows are read back: on
     * SQLite they cost about 0.7 µs each.
     */
    removePages: (pages: ReadonlyArray<number>) =>
      Effect.zipRight(
        sql`DELETE FROM ${outbox} WHERE ${sql.in("id", pages)}`,
        sql`DELETE FROM ${leases} WHERE ${sql.in("id", pages)}`
      ),
    /** Records that the messages `done` of page `id` left it, `count` messages of `bytes` bytes more than before. */
    finishSome: (id: number, done: string, count: number, bytes: number) =>
      sql`UPDATE ${outbox} SET done = ${done}, waiting = waiting - ${count}, bytes = bytes - ${bytes} WHERE id = ${id}`,
    /** Gives back this relay's leases of `pages`. */
    release,
    releaseAll: (holder: string) => sql`UPDATE ${leases} SET holder = NULL, expires_at = NULL WHERE holder = ${holder}`,
    renew: (holder: string, leaseMillis: number) =>
      sql`UPDATE ${leases} SET expires_at = ${now} + ${leaseMillis} WHERE holder = ${holder}`,
    /** The oldest free pages of any endpoint, for `dropOldest`; locked on PostgreSQL, skipping locked ones. */
    evictable: (limit: number) =>
      sql<PageRow>`SELECT o.id, o.endpoint, o.bytes, o.done, o.lengths, o.sizes, o.messages FROM ${outbox} AS o
        WHERE ${free} ORDER BY o.id LIMIT ${limit} ${dialect === "pg" ? sql`FOR UPDATE OF o SKIP LOCKED` : sql``}`,
    size: sql<{
      readonly messages: number | string | null
      readonly bytes: number | string | null
    }>`SELECT SUM(waiting) AS messages, SUM(bytes) AS bytes FROM ${outbox}`,
    /** The waiting messages of pages under a live lease. */
    claimed: sql<{ readonly claimed: number | string | null }>`SELECT SUM(o.waiting) AS claimed FROM ${outbox} AS o
      JOIN ${leases} AS l ON l.id = o.id WHERE l.expires_at >= ${now}`,
    /** The oldest page still in the outbox (by anyone's hand), if any, and which of its messages are gone. */
    oldest: sql<{
      readonly id: number | string
      readonly done: string | null
    }>`SELECT id, done FROM ${outbox} ORDER BY id LIMIT 1`
  }
}

/** The statements of an outbox. */
export type Statements = ReturnType<typeof make>
