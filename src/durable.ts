/**
 * The `effect-mixpanel/durable` entry: the durable outbox, on SQLite or any `@effect/sql` client. Its SQL
 * packages are optional peer dependencies: install `@effect/sql` and `@effect/sql-sqlite-node` (SQLite)
 * or `@effect/sql-pg` (PostgreSQL). The main entry never imports this one.
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const Store = DurableStore.layerSqlite({ filename: "./data/mixpanel.db" })
 * ```
 *
 * @since 0.1.0
 */

/**
 * The durable outbox: its layers, dead letters and errors.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const program = Effect.map(DurableStore.stats, (stats) => stats.messages)
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as DurableStore from "./DurableStore.js"
