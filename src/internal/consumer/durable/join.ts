/**
 * Whether an `append` joins the caller's transaction.
 *
 * `@effect/sql` keeps the open transaction in the fiber's context (`SqlClient.TransactionConnection`, the
 * connection and the nesting depth), and every statement of any `SqlClient` runs on that connection when
 * it is there: the tag is shared by all clients. So the store must tell whether the transaction is on
 * *its* database before writing through it. It asks the connection for the outbox's instance id (a
 * random value written by the first migration), inside a savepoint so that a failed probe (no such table,
 * another dialect) leaves the caller's transaction as it was. The answer is kept per connection object:
 * SQLite's client has one connection (one probe, ever); PostgreSQL's hands out one per transaction (one
 * probe per transaction that tracks).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { instanceKey } from "./migrations.js"
import type { Tables } from "./tables.js"

/** Runs `effect` outside any transaction of the caller: the store's own work never joins one by accident. */
export const outsideTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapInputContext(effect as Effect.Effect<A, E, Exclude<R, SqlClient.TransactionConnection>>, (context) =>
    Context.omit(SqlClient.TransactionConnection)(context)
  )

/** Whether `context` holds a transaction on any database (whose it is, `make` finds out). */
export const inAnyTransaction = (context: Context.Context<never>): boolean =>
  Option.isSome(Context.getOption(context, SqlClient.TransactionConnection))

/** The instance id of the outbox that `sql` reaches (outside any transaction). */
export const instanceOf = (sql: SqlClient.SqlClient, tables: Tables) =>
  outsideTransaction(
    Effect.map(
      sql<{ readonly value: string }>`SELECT value FROM ${sql(tables.meta)} WHERE key = ${instanceKey}`,
      (rows) => rows[0]?.value
    )
  )

/** An effect telling whether the calling fiber is inside a transaction on the database of `instance`. */
export const make = (sql: SqlClient.SqlClient, tables: Tables, instance: string): Effect.Effect<boolean> => {
  const known = new WeakMap<object, boolean>()
  const probe = sql.withTransaction(
    sql<{ readonly value: string }>`SELECT value FROM ${sql(tables.meta)} WHERE key = ${instanceKey}`
  )
  return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) => {
    if (Option.isNone(transaction)) return Effect.succeed(false)
    const [connection] = transaction.value
    const cached = known.get(connection)
    if (cached !== undefined) return Effect.succeed(cached)
    return probe.pipe(
      Effect.map((rows) => rows[0]?.value === instance),
      Effect.orElseSucceed(() => false),
      Effect.catchAllDefect(() => Effect.succeed(false)),
      Effect.tap((ours) => Effect.sync(() => known.set(connection, ours)))
    )
  })
}
