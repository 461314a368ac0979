/**
 * The dead-letter table: messages that will never be delivered, kept with the reason they failed, until
 * someone looks at them. `list` pages through them (oldest first), `replay` moves them back to the end of
 * the outbox (same JSON, so events keep their `$insert_id`), `remove` deletes them.
 *
 * The same, by hand (SQLite and PostgreSQL; the default prefix):
 *
 * ```sql
 * SELECT id, endpoint, reason, detail, status, field, failed_at FROM effect_mixpanel_dead_letters
 *   WHERE reason = 'Unauthorized' ORDER BY id LIMIT 100;
 * ```
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Endpoint } from "../../../Endpoint.js"
import * as Endpoints from "../../../Endpoint.js"
import { type DeliveryFailure, DeliveryOutcome, DeliveryReason, InvalidMessage } from "../../../MixpanelError.js"
import { isValidDate } from "../../json.js"
import * as Options from "../../options.js"
import type { Stored } from "../buffered/store.js"
import * as Pages from "./pages.js"
import type { DeadLetterFilter, DeadLetterRow } from "./service.js"
import { type PageState, type Statements, toNumber } from "./statements.js"
import type { Tables } from "./tables.js"

/** A row of the dead-letter table as the driver returns it. */
interface Row {
  readonly id: number | string
  readonly endpoint: Endpoint
  readonly json: string
  readonly bytes: number | string
  readonly created_at: number | string
  readonly failed_at: number | string
  readonly claims: number | string
  readonly outcome: DeliveryOutcome
  readonly reason: DeliveryReason
  readonly detail: string
  readonly status: number | string | null
  readonly field: string | null
}

const fromRow = (row: Row): DeadLetterRow => ({
  id: toNumber(row.id),
  endpoint: row.endpoint,
  json: row.json,
  bytes: toNumber(row.bytes),
  createdAt: toNumber(row.created_at),
  failedAt: toNumber(row.failed_at),
  claims: toNumber(row.claims),
  outcome: row.outcome,
  reason: row.reason,
  detail: row.detail,
  status: row.status === null ? undefined : toNumber(row.status),
  field: row.field ?? undefined
})

/** Most ids a filter names: every one is a parameter of the statement (SQLite takes 32,766 at most). */
export const maxIds = 10_000

const date = Schema.declare(isValidDate, { message: () => "must be a valid Date" })

/** A filter as callers write it, from JavaScript too: a misspelt key, a negative limit, an invalid date refused. */
const Filter = Schema.Struct({
  ids: Schema.optional(
    Schema.Array(Options.integer(0).option).pipe(
      Schema.filter((ids) => ids.length <= maxIds || `must name at most ${maxIds} ids: page through more`)
    )
  ),
  endpoint: Schema.optional(Options.literal(...Endpoints.Endpoint.literals).option),
  outcome: Schema.optional(Options.literal(...DeliveryOutcome.literals).option),
  reason: Schema.optional(Options.literal(...DeliveryReason.literals).option),
  failedAfter: Schema.optional(date),
  failedBefore: Schema.optional(date),
  afterId: Schema.optional(Options.integer(0).option),
  limit: Schema.optional(Options.integer(0).option)
})

const decodeFilter = Options.decoder(Filter, "filter")

/**
 * `filter` checked for `operation` (`DurableStore.removeDeadLetters`): a bad one is an `InvalidMessage`
 * naming its field, never a statement that reads it otherwise (SQLite's `LIMIT -1` is no limit: a remove of
 * "at most -1" dead letters removed them all).
 */
export const checkFilter = (operation: string, filter: unknown): Effect.Effect<DeadLetterFilter, InvalidMessage> =>
  Effect.mapError(
    decodeFilter(filter),
    (invalid) => new InvalidMessage({ operation, field: invalid.option, detail: invalid.detail })
  )

/** The dead letters of one outbox. */
export const make = (sql: SqlClient.SqlClient, statements: Statements, tables: Tables) => {
  const table = sql(tables.deadLetters)

  const where = (filter: DeadLetterFilter): Statement.Fragment => {
    const clauses: Array<Statement.Fragment> = []
    if (filter.ids !== undefined) clauses.push(filter.ids.length === 0 ? sql`1 = 0` : sql.in("id", filter.ids))
    if (filter.endpoint !== undefined) clauses.push(sql`endpoint = ${filter.endpoint}`)
    if (filter.outcome !== undefined) clauses.push(sql`outcome = ${filter.outcome}`)
    if (filter.reason !== undefined) clauses.push(sql`reason = ${filter.reason}`)
    if (filter.failedAfter !== undefined) clauses.push(sql`failed_at >= ${filter.failedAfter.getTime()}`)
    if (filter.failedBefore !== undefined) clauses.push(sql`failed_at < ${filter.failedBefore.getTime()}`)
    if (filter.afterId !== undefined) clauses.push(sql`id > ${filter.afterId}`)
    return sql.and(clauses)
  }

  /** The ids matching `filter`, oldest first, at most `filter.limit`. */
  const matching = (filter: DeadLetterFilter) =>
    filter.limit === undefined
      ? sql`SELECT id FROM ${table} WHERE ${where(filter)}`
      : sql`SELECT id FROM ${table} WHERE ${where(filter)} ORDER BY id LIMIT ${filter.limit}`

  const take = (filter: DeadLetterFilter) =>
    Effect.map(sql<Row>`DELETE FROM ${table} WHERE id IN (${matching(filter)}) RETURNING *`, (rows) =>
      rows.map(fromRow).sort((a, b) => a.id - b.id)
    )

  return {
    list: (filter: DeadLetterFilter) =>
      Effect.map(
        sql<Row>`SELECT * FROM ${table} WHERE ${where(filter)} ORDER BY id LIMIT ${filter.limit ?? 100}`,
        (rows) => rows.map(fromRow)
      ),
    /** Moves the matching dead letters to the end of the outbox; returns the messages stored. */
    replay: (filter: DeadLetterFilter) =>
      sql.withTransaction(
        Effect.flatMap(take(filter), (rows) => {
          const { pages } = Pages.paginate(rows)
          return pages.length === 0 ? Effect.succeed([]) : statements.insert(pages)
        })
      ),
    remove: (filter: DeadLetterFilter) => Effect.map(take(filter), (rows) => rows.length),
    count: Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${table}`, (rows) =>
      toNumber(rows[0]?.n ?? 0)
    ),
    /**
     * Writes the dead letters of `gone`, messages just taken out of the outbox (their pages' `states` as
     * they were), with their failures.
     */
    bury: (
      gone: ReadonlyArray<Stored>,
      states: ReadonlyMap<number, PageState>,
      failures: ReadonlyArray<{ readonly message: Stored; readonly failure: DeliveryFailure }>
    ) =>
      Effect.gen(function* () {
        if (gone.length === 0) return
        const byId = new Map(failures.map(({ failure, message }) => [message.id, failure]))
        const [now] = yield* sql<{ readonly now: number | string }>`SELECT ${statements.now} AS now`
        const failedAt = toNumber(now?.now ?? 0)
        yield* sql`INSERT INTO ${table} ${sql.insert(
          gone.map((message) => {
            const failure = byId.get(message.id)
            const state = states.get(Pages.pageOf(message.id))
            return {
              id: message.id,
              endpoint: message.endpoint,
              json: message.json,
              bytes: message.bytes,
              created_at: toNumber(state?.created_at ?? failedAt),
              failed_at: failedAt,
              claims: toNumber(state?.claims ?? 0),
              outcome: failure?.outcome ?? "Rejected",
              reason: failure?.reason ?? "Invalid",
              detail: failure?.detail ?? "",
              status: failure?.status ?? null,
              field: failure?.field ?? null
            }
          })
        )}`
      })
  }
}
