/**
 * The durable stores' options as Schemas, one rule per option (as the consumers' options are), and their
 * defaults (stated once, here and in `DurableStore.Options`). A layer decodes its options once, when it is
 * built, so that a bad setting is an `InvalidConfig` at start-up that names the option and never quotes
 * its value.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import type { Overflow } from "../../../Consumer.js"
import type { Durability } from "../../../DurableStore.js"
import type { Endpoint } from "../../../Endpoint.js"
import type { InvalidConfig } from "../../../MixpanelError.js"
import * as Options from "../../options.js"
import { wireBytes } from "../batch.js"
import { rules as consumerRules } from "../options.js"
import type { Resolved } from "./service.js"
import type * as Sqlite from "./sqlite.js"
import * as Tables from "./tables.js"

/** The defaults, as `DurableStore.Options` states them. */
export const defaults = {
  durability: "commit" as Durability,
  asyncInterval: Duration.millis(100),
  asyncMessages: 1000,
  capacity: 1_000_000,
  capacityBytes: 1024 * 1024 * 1024,
  overflow: "dropNewest" as Overflow,
  leaseDuration: Duration.seconds(30)
}

const identifier = Options.string(Tables.invalidName)

/** The rule of each option of every store (`DurableStore.Options`) and of `layerSqlite`'s own. */
export const rules = {
  durability: Options.literal("commit", "async"),
  asyncInterval: Options.duration("1 millis", "1 hour"),
  asyncMessages: Options.integer(1),
  capacity: Options.integer(1),
  capacityBytes: Options.integer(1),
  overflow: consumerRules.overflow,
  leaseDuration: Options.duration("30 millis", "1 day"),
  tablePrefix: identifier,
  schema: identifier,
  holderId: Options.string((id) => (id.length >= 1 && id.length <= 200 ? undefined : "must be 1 to 200 characters")),
  // An empty name or ":memory:" is a database that goes with its connection: an outbox that keeps nothing
  // through a crash. A NUL ends the name where SQLite reads it, so the file would be another than the one named
  filename: Options.string((filename) =>
    filename === "" || filename === ":memory:"
      ? "must name a file: an empty name or :memory: is a temporary database, which keeps nothing through a crash"
      : filename.includes("\0")
        ? "must not contain a NUL character"
        : // better-sqlite3 takes the name as a path: `file:x.db?mode=ro` would be a directory `file:` and a file of that name
          /^file:/i.test(filename)
          ? "must be a path, not a URI: SQLite's URI parameters are not read here"
          : undefined
  ),
  synchronous: Options.literal("full", "normal"),
  // Below it, not even the outbox's empty tables fit (the open fails as if the disk were full)
  maxFileBytes: Options.integer(64 * 1024)
}

const storeFields = {
  durability: Schema.optional(rules.durability.option),
  asyncInterval: Schema.optional(rules.asyncInterval.option),
  asyncMessages: Schema.optional(rules.asyncMessages.option),
  capacity: Schema.optional(rules.capacity.option),
  capacityBytes: Schema.optional(rules.capacityBytes.option),
  overflow: Schema.optional(rules.overflow.option),
  leaseDuration: Schema.optional(rules.leaseDuration.option),
  tablePrefix: Schema.optional(rules.tablePrefix.option),
  schema: Schema.optional(rules.schema.option),
  holderId: Schema.optional(rules.holderId.option)
}

const StoreSchema = Schema.Struct(storeFields)

const SqliteSchema = Schema.Struct({
  ...storeFields,
  // PostgreSQL's: SQLite would read it as an attached database's name, and fail at the first statement
  schema: Schema.optional(
    Schema.Undefined.annotations({
      message: () => "is PostgreSQL's: a SQLite file has no schemas (tablePrefix keeps the outbox's tables apart)"
    })
  ),
  filename: rules.filename.option,
  synchronous: Schema.optional(rules.synchronous.option),
  maxFileBytes: Schema.optional(rules.maxFileBytes.option)
})

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0")

const millis = (duration: Duration.Duration) => Math.round(Duration.toMillis(duration))

/** The bytes of a message in a request body, as `Stored.bytes` counts them (form escapes included). */
export const defaultMeasure: (endpoint: Endpoint, json: string) => number = wireBytes

/** Decoded options with their defaults. */
const resolve = (options: Schema.Struct.Type<typeof storeFields>, label: string): Effect.Effect<Resolved> =>
  Effect.gen(function* () {
    return {
      durability: options.durability ?? defaults.durability,
      asyncInterval: millis(options.asyncInterval ?? defaults.asyncInterval),
      asyncMessages: options.asyncMessages ?? defaults.asyncMessages,
      capacity: options.capacity ?? defaults.capacity,
      capacityBytes: options.capacityBytes ?? defaults.capacityBytes,
      overflow: options.overflow ?? defaults.overflow,
      leaseDuration: millis(options.leaseDuration ?? defaults.leaseDuration),
      holder: options.holderId ?? `${hex(yield* Random.nextInt)}${hex(yield* Random.nextInt)}`,
      tables: Tables.make({ prefix: options.tablePrefix, schema: options.schema }),
      label,
      measure: defaultMeasure
    }
  })

const decodeStore = Options.decoder(StoreSchema)

/** `DurableStore.Options` checked, with their defaults. */
export const store = (options: unknown): Effect.Effect<Resolved, InvalidConfig> =>
  Effect.flatMap(decodeStore(options ?? {}), (options) => resolve(options, "sql"))

const decodeSqlite = Options.decoder(SqliteSchema)

/** `DurableStore.SqliteOptions` checked, with their defaults: the store's settings and the file's. */
export const sqlite = (
  options: unknown
): Effect.Effect<{ readonly store: Resolved; readonly file: Omit<Sqlite.Options, "busyTimeout"> }, InvalidConfig> =>
  Effect.flatMap(decodeSqlite(options ?? {}), (options) =>
    Effect.map(resolve(options, options.filename), (store) => ({
      store,
      file: {
        filename: options.filename,
        synchronous: options.synchronous ?? (store.durability === "commit" ? "full" : "normal"),
        maxFileBytes: options.maxFileBytes
      }
    }))
  )
