/**
 * The durable outbox: where a durable consumer keeps the messages it has accepted until Mixpanel has
 * them, in a database, so that a crash, a deploy's SIGKILL or an out-of-memory kill loses nothing that
 * was acknowledged.
 *
 * - `layerSqlite({ filename })`: a private SQLite file, zero setup (WAL mode; needs
 *   `@effect/sql-sqlite-node`, whose better-sqlite3 has an install script to allow).
 * - `layer()`: the application's own `SqlClient` (SQLite or PostgreSQL, e.g. `@effect/sql-pg`): a fleet of
 *   processes can share one outbox, and a message tracked inside `sql.withTransaction` commits or rolls
 *   back with the application's writes.
 *
 * Messages that can never be delivered are kept in a dead-letter table, listed by `deadLetters`, sent
 * again by `replayDeadLetters`. This module is its own entry point, `effect-mixpanel/durable`, so that
 * programs without a durable store never load an SQL package.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Overflow } from "./Consumer.js"
import { checkFilter } from "./internal/consumer/durable/deadLetters.js"
import * as Failure from "./internal/consumer/durable/failure.js"
import type * as service from "./internal/consumer/durable/service.js"
import type { DeadLetterFilter } from "./internal/consumer/durable/service.js"
import { DurableStore } from "./internal/consumer/durable/service.js"
import * as settings from "./internal/consumer/durable/settings.js"
import * as Sqlite from "./internal/consumer/durable/sqlite.js"
import * as SqlStore from "./internal/consumer/durable/sqlStore.js"
import { DeliveryFailure, type InvalidConfig, type InvalidMessage, type StoreError } from "./MixpanelError.js"

export type {
  /**
   * Which dead letters an operation applies to. Every field narrows; an empty filter means all of them.
   * `list` returns at most `limit` (default 100), the oldest first; page on with `afterId`. The accessors
   * check it first: a field that makes no sense (a negative or fractional `limit`, an invalid `Date`, more
   * than 10,000 `ids`, a misspelt key) fails with an `InvalidMessage` naming it (`filter.limit`), and no
   * dead letter is read or touched.
   *
   * @example
   * ```ts
   * import { DurableStore } from "effect-mixpanel/durable"
   *
   * const lastHour: DurableStore.DeadLetterFilter = {
   *   endpoint: "events",
   *   failedAfter: new Date(Date.now() - 60 * 60 * 1000),
   *   limit: 500
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  DeadLetterFilter,
  /**
   * What the `DurableStore` service holds: the operations the durable consumer drives (`append`, `claim`,
   * `ack`, `deadLetter`, `release`), its settings, the dead letters and the stats. Applications use the
   * accessors of this module (`deadLetters`, `replayDeadLetters`, `removeDeadLetters`, `stats`). Declared
   * beside the engine, like the tag, and exported here as itself.
   *
   * @example
   * ```ts
   * import { DurableStore } from "effect-mixpanel/durable"
   *
   * const describe = (store: DurableStore.Service) =>
   *   `${store.settings.dialect} outbox, ${store.settings.durability} durability, cap ${store.settings.capacity}`
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  Service,
  /**
   * The settings of a store, as its options resolved them (`Service.settings`): its durability, cap,
   * overflow policy, lease duration, holder id, tables and dialect.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { DurableStore } from "effect-mixpanel/durable"
   *
   * const settings: Effect.Effect<DurableStore.Settings, never, DurableStore.DurableStore> = Effect.map(
   *   DurableStore.DurableStore,
   *   (store) => store.settings
   * )
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  Settings
} from "./internal/consumer/durable/service.js"
export {
  /**
   * The durable store as a service: provide it (with `layerSqlite` or `layer`) to the durable consumer,
   * and use it for the dead letters. The tag is declared beside the engine, which must not load this
   * module's SQL packages, and exported here as itself, so that the type of a layer or effect that holds
   * it can be named from `effect-mixpanel/durable` (a project emitting declarations needs that).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { DurableStore } from "effect-mixpanel/durable"
   *
   * const program = Effect.gen(function* () {
   *   const store = yield* DurableStore.DurableStore
   *   return store.settings.durability // "commit" unless the options say otherwise
   * })
   *
   * // As a requirement of effects and layers
   * type NeedsTheStore = Effect.Effect<void, never, DurableStore.DurableStore>
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  DurableStore
} from "./internal/consumer/durable/service.js"

/**
 * When `append` (and so `Mixpanel.track`) returns:
 *
 * - `"commit"` (the default): once the message is committed to disk. Concurrent calls share one
 *   transaction (group commit), so the cost of a commit is spread over all of them.
 * - `"async"`: at once. The message is committed within `asyncInterval` (default 100 ms), or as soon as
 *   `asyncMessages` (default 1,000) messages are waiting; beyond that many, calls wait for their commit.
 *   A crash can lose the messages of that window: at most `asyncMessages`, normally those of the last
 *   `asyncInterval`.
 *
 * Inside the application's own transaction on the store's database, a message is written through that
 * transaction whatever the durability: it is committed (or rolled back) with the application's writes.
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const durability: DurableStore.Durability = "async"
 * const Store = DurableStore.layerSqlite({ filename: "./data/mixpanel.db", durability })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Durability = service.Durability

/**
 * The options of every durable store. Defaults: `durability: "commit"`, `asyncInterval: "100 millis"`,
 * `asyncMessages: 1000`, `capacity: 1_000_000`, `capacityBytes: 1 GiB`, `overflow: "dropNewest"`,
 * `leaseDuration: "30 seconds"`, `tablePrefix: "effect_mixpanel_"`, no schema, a random `holderId`.
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const options: DurableStore.Options = {
 *   durability: "commit",
 *   capacity: 500_000,
 *   overflow: "dropOldest",
 *   tablePrefix: "analytics_"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** When `append` returns; see `Durability`. Default `"commit"`. */
  readonly durability?: Durability | undefined
  /** "async": the longest a message waits for its commit, 1 millisecond to 1 hour. Default 100 milliseconds. */
  readonly asyncInterval?: Duration.DurationInput | undefined
  /** "async": the most messages waiting for their commit; beyond, calls wait for it. Default 1,000. */
  readonly asyncMessages?: number | undefined
  /** Most messages in the outbox (waiting or being sent), all endpoints and processes together. Default 1,000,000. */
  readonly capacity?: number | undefined
  /** Most bytes of messages in the outbox. Default `1024 * 1024 * 1024` (1 GiB). */
  readonly capacityBytes?: number | undefined
  /**
   * What to do when the outbox is full: `"dropNewest"` refuses the new messages (the default),
   * `"dropOldest"` deletes the oldest messages no relay is sending to make room (not inside the
   * application's transaction, where it refuses instead), `"wait"` refuses and the consumer tries again.
   */
  readonly overflow?: Overflow | undefined
  /**
   * How long a relay's claim on messages lasts without renewal. The store renews it every third of this
   * while it runs; when a process dies, its messages are sent by another after at most this long. 30
   * milliseconds to 1 day; default 30 seconds.
   */
  readonly leaseDuration?: Duration.DurationInput | undefined
  /** The prefix of the outbox's table names (letters, digits, `_`). Default `"effect_mixpanel_"`. */
  readonly tablePrefix?: string | undefined
  /** PostgreSQL: the schema of the outbox's tables, created if missing. Default: none (the `search_path`). */
  readonly schema?: string | undefined
  /** This process's name on the leases it takes (visible in the tables). Default: random. */
  readonly holderId?: string | undefined
}

/**
 * The options of `layerSqlite`: `Options`, and where the file is.
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const options: DurableStore.SqliteOptions = {
 *   filename: "/var/lib/my-service/mixpanel.db",
 *   maxFileBytes: 2 * 1024 * 1024 * 1024
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SqliteOptions extends Omit<Options, "schema"> {
  /**
   * The database file's path, created with its directory if missing. Not `""` or `":memory:"`: SQLite's
   * temporary databases keep nothing through a crash; not a `file:` URI. There is no `schema` option on
   * SQLite (`tablePrefix` keeps the outbox's tables apart).
   */
  readonly filename: string
  /**
   * When SQLite syncs to disk: `"full"` at every commit (the default under "commit" durability: a
   * message survives a power cut once `append` returned), `"normal"` at checkpoints only (the default
   * under "async": it survives a crash of the process, not of the machine).
   */
  readonly synchronous?: "full" | "normal" | undefined
  /** A limit on the file's size, at least 64 KiB; beyond it, appends fail with a `DiskFull` error. Default: none. */
  readonly maxFileBytes?: number | undefined
}

/**
 * A message that will never be delivered, as the store keeps it: the `DeliveryFailure` (endpoint, JSON,
 * outcome, reason, detail, status, field) with its id in the store, when it was first stored, when it
 * failed, and how many times a relay claimed it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const report = DurableStore.deadLetters({ reason: "Unauthorized" }).pipe(
 *   Effect.flatMap((letters) =>
 *     Effect.forEach(letters, (letter) =>
 *       Effect.logWarning(`#${letter.id} ${letter.endpoint} failed at ${letter.failedAt.toISOString()}: ${letter.detail}`)
 *     )
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class DeadLetter extends DeliveryFailure.extend<DeadLetter>("effect-mixpanel/DeadLetter")({
  id: Schema.Number,
  createdAt: Schema.DateFromSelf,
  failedAt: Schema.DateFromSelf,
  claims: Schema.Number
}) {}

/**
 * How full the store is: messages and bytes in the outbox (waiting or being sent), the messages a relay
 * holds under a live lease, and the dead letters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const backlog = Effect.map(DurableStore.stats, (stats) => stats.messages - stats.claimed)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly messages: number
  readonly bytes: number
  readonly claimed: number
  readonly deadLetters: number
}

/**
 * The durable store over the `SqlClient` the application provides: SQLite, or PostgreSQL for a fleet
 * of processes sharing one outbox. Building the layer creates or migrates the outbox's tables
 * (`<prefix>outbox`, `<prefix>leases`, `<prefix>dead_letters`, `<prefix>locks`, `<prefix>meta`, and
 * `<prefix>migrations`, the schema version); it fails with a `StoreError` when the database cannot be
 * reached or written.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const Database = PgClient.layer({ url: Redacted.make("postgres://app@db/app") })
 *
 * // One outbox for the fleet, in the application's database
 * const Store = DurableStore.layer({ durability: "commit" }).pipe(Layer.provide(Database))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<DurableStore, StoreError | InvalidConfig, SqlClient.SqlClient> =>
  Layer.scoped(
    DurableStore,
    Effect.flatMap(settings.store(options), (resolved) =>
      Effect.mapError(SqlStore.make(resolved), Failure.toStoreError)
    )
  )

/**
 * The durable store in a private SQLite file: zero setup. The file and its directory are created if
 * missing; the database runs in WAL mode. Needs `@effect/sql@^0.52` and `@effect/sql-sqlite-node@^0.53`
 * installed, and better-sqlite3's install script allowed (it fetches or builds the native binary).
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const Store = DurableStore.layerSqlite({ filename: "./data/mixpanel.db" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<DurableStore, StoreError | InvalidConfig> =>
  Layer.scoped(
    DurableStore,
    Effect.gen(function* () {
      const { file, store } = yield* settings.sqlite(options)
      const { beyondLimit, sql } = yield* Sqlite.open({ ...file, busyTimeout: 5000 })
      return yield* Effect.provideService(SqlStore.make(store, beyondLimit), SqlClient.SqlClient, sql)
    }).pipe(Effect.mapError((error) => (error._tag === "StoreFailure" ? Failure.toStoreError(error) : error)))
  )

/** Runs `f` on the store with `filter` checked (`checkFilter`): a bad filter fails before any statement. */
const withFilter = <A, E>(
  operation: string,
  filter: DeadLetterFilter,
  f: (store: service.Service, checked: DeadLetterFilter) => Effect.Effect<A, E>
): Effect.Effect<A, E | InvalidMessage, DurableStore> =>
  Effect.flatMap(DurableStore, (store) =>
    Effect.flatMap(checkFilter(operation, filter), (checked) => f(store, checked))
  )

/**
 * The dead letters matching `filter`, the oldest first (at most `filter.limit`, default 100).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const unauthorized = DurableStore.deadLetters({ reason: "Unauthorized", limit: 10 })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const deadLetters = (
  filter: DeadLetterFilter = {}
): Effect.Effect<ReadonlyArray<DeadLetter>, StoreError | InvalidMessage, DurableStore> =>
  withFilter("DurableStore.deadLetters", filter, (store, checked) =>
    store.deadLetters.list(checked).pipe(
      Effect.map((rows) =>
        rows.map(
          (row) =>
            new DeadLetter({
              id: row.id,
              endpoint: row.endpoint,
              json: row.json,
              outcome: row.outcome,
              reason: row.reason,
              detail: row.detail,
              ...(row.status === undefined ? {} : { status: row.status }),
              ...(row.field === undefined ? {} : { field: row.field }),
              createdAt: new Date(row.createdAt),
              failedAt: new Date(row.failedAt),
              claims: row.claims
            })
        )
      ),
      Effect.mapError(Failure.toStoreError)
    )
  )

/**
 * Moves the dead letters matching `filter` back to the outbox, at its end, to be sent again (the same
 * JSON: events keep their `$insert_id`). Returns how many. The outbox's cap does not apply: this is an
 * operator's decision.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * // After fixing the credentials: send again what failed for want of them
 * const replayed = DurableStore.replayDeadLetters({ reason: "Unauthorized" }).pipe(
 *   Effect.tap((count) => Effect.logInfo(`${count} messages sent again`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const replayDeadLetters = (
  filter: DeadLetterFilter = {}
): Effect.Effect<number, StoreError | InvalidMessage, DurableStore> =>
  withFilter("DurableStore.replayDeadLetters", filter, (store, checked) =>
    Effect.mapError(store.deadLetters.replay(checked), Failure.toStoreError)
  )

/**
 * Deletes the dead letters matching `filter` for good. Returns how many.
 *
 * @example
 * ```ts
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const monthAgo = new Date(Date.now() - 30 * 24 * 60 * 60 * 1000)
 * const purged = DurableStore.removeDeadLetters({ failedBefore: monthAgo })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const removeDeadLetters = (
  filter: DeadLetterFilter = {}
): Effect.Effect<number, StoreError | InvalidMessage, DurableStore> =>
  withFilter("DurableStore.removeDeadLetters", filter, (store, checked) =>
    Effect.mapError(store.deadLetters.remove(checked), Failure.toStoreError)
  )

/**
 * How full the store is now (counted from the tables).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableStore } from "effect-mixpanel/durable"
 *
 * const report = DurableStore.stats.pipe(
 *   Effect.tap((stats) => Effect.logInfo(`${stats.messages} messages waiting, ${stats.deadLetters} dead letters`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Stats, StoreError, DurableStore> = Effect.flatMap(DurableStore, (store) =>
  Effect.mapError(store.stats, Failure.toStoreError)
)
