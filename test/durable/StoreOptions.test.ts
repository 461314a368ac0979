/**
 * The durable stores' options, as an untyped caller may give them: every bad one is an `InvalidConfig`
 * naming it when the layer is built, before any file is touched, and never quoting its value.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import { Consumer } from "effect-mixpanel"
import { DurableStore } from "effect-mixpanel/durable"
import { build, tempDir } from "./support/store.js"

/** Each option of every store with values it must refuse. */
const badStoreOptions: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
  ["durability", ["sometimes", 5, null]],
  ["asyncInterval", ["soon", 0, -5, Number.NaN, "Infinity", { millis: 1 }]],
  ["asyncMessages", [0, 1.5, "10", Number.NaN]],
  ["capacity", [-1, 0, 2.5, "big", Number.POSITIVE_INFINITY]],
  ["capacityBytes", [0, "1 GiB", Number.NaN]],
  ["overflow", [5, "dropAll"]],
  ["leaseDuration", [0, "29 millis", "forever", "2 days"]],
  ["tablePrefix", [5, "", 'x"; DROP TABLE y; --', "9lives"]],
  ["schema", [5, "a b"]],
  ["holderId", [5, "", "h".repeat(201)]]
]

/** `layerSqlite`'s own options with values it must refuse. */
const badSqliteOptions: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
  ["filename", [5, null, { path: "x.db" }]],
  ["synchronous", ["off", "FULL", true]],
  ["maxFileBytes", ["big", Number.NaN, -1, 1, 1.5, Number.POSITIVE_INFINITY]]
]

/** The failure of building `layer`, which must be an `InvalidConfig` naming `option`, never quoting `value`. */
const refuses = <R>(layer: Layer.Layer<DurableStore.DurableStore, unknown, R>, option: string, value: unknown) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(Effect.scoped(build(layer)))
    expect(error, `${option}: ${String(value)}`).toMatchObject({ _tag: "InvalidConfig", option })
    if (typeof value === "string" && value.length > 2) expect(String(error)).not.toContain(value)
  })

/** A SQLite client of the test's own in memory, for `DurableStore.layer`. */
const client = Effect.map(Layer.build(SqliteClient.layer({ filename: ":memory:" })), (context) =>
  Context.get(context, SqliteClient.SqliteClient)
)

describe("the durable stores' options", () => {
  it.scopedLive("layerSqlite: every bad option is an InvalidConfig naming it, and no file is made", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir, "dir", "outbox.db")
      for (const [option, values] of [...badStoreOptions, ...badSqliteOptions]) {
        for (const value of values) {
          yield* refuses(DurableStore.layerSqlite({ filename: file, [option]: value } as never), option, value)
        }
      }
      expect(existsSync(file)).toBe(false)
    })
  )

  it.scopedLive("layerSqlite without options, or without a filename: an InvalidConfig naming filename", () =>
    Effect.gen(function* () {
      const layerSqlite = DurableStore.layerSqlite as (options?: unknown) => ReturnType<typeof DurableStore.layerSqlite>
      yield* refuses(layerSqlite(), "filename", undefined)
      yield* refuses(layerSqlite({}), "filename", undefined)
      yield* refuses(layerSqlite({ capacity: 5 }), "filename", undefined)
    })
  )

  it.scopedLive("layerSqlite refuses a filename that a NUL would cut short, and makes no file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* refuses(DurableStore.layerSqlite({ filename: join(dir, "outbox\u0000.db") }), "filename", undefined)
      expect(readdirSync(dir)).toEqual([])
    })
  )

  it.scopedLive("layerSqlite refuses an empty filename and :memory:, which would not be durable", () =>
    Effect.gen(function* () {
      for (const filename of ["", ":memory:"]) {
        const error = yield* Effect.flip(Effect.scoped(build(DurableStore.layerSqlite({ filename }))))
        expect(error).toMatchObject({ _tag: "InvalidConfig", option: "filename" })
        expect(error.message).toContain("temporary database")
      }
    })
  )

  it.scopedLive(
    "layerSqlite refuses a URI for a filename and a schema (PostgreSQL's), saying why, and makes no file",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        // the error, or `undefined` where the store was built (never the store itself: printing it takes minutes)
        const failure = (options: DurableStore.SqliteOptions) =>
          Effect.map(Effect.either(Effect.scoped(build(DurableStore.layerSqlite(options)))), (built) =>
            Either.isLeft(built) ? built.left : undefined
          )
        expect(yield* failure({ filename: `file:${join(dir, "u.db")}?mode=ro` })).toMatchObject({
          _tag: "InvalidConfig",
          option: "filename",
          detail: "must be a path, not a URI: SQLite's URI parameters are not read here"
        })
        const schema = { filename: join(dir, "outbox.db"), schema: "analytics" } as DurableStore.SqliteOptions
        expect(yield* failure(schema)).toMatchObject({
          _tag: "InvalidConfig",
          option: "schema",
          detail: "is PostgreSQL's: a SQLite file has no schemas (tablePrefix keeps the outbox's tables apart)"
        })
        expect(readdirSync(dir)).toEqual([])
      })
  )

  it.scopedLive("layer: every bad option is an InvalidConfig naming it", () =>
    Effect.gen(function* () {
      const sql = yield* client
      for (const [option, values] of badStoreOptions) {
        for (const value of values) {
          yield* refuses(
            DurableStore.layer({ [option]: value } as never).pipe(
              Layer.provide(Layer.succeed(SqlClient.SqlClient, sql))
            ),
            option,
            value
          )
        }
      }
    })
  )

  it.scopedLive("Consumer.layerDurable refuses the store's options, which it would drop", () =>
    Effect.gen(function* () {
      const store = DurableStore.layerSqlite({ filename: join(yield* tempDir, "outbox.db") })
      for (const [option, value] of [
        ["capacity", 5],
        ["capacityBytes", 1024 * 1024],
        ["overflow", "wait"]
      ] as const) {
        const error = yield* Effect.flip(
          Effect.scoped(
            Layer.build(
              Consumer.layerDurable({ [option]: value } as Consumer.DurableOptions).pipe(
                Layer.provide(store),
                Layer.provide(FetchHttpClient.layer)
              )
            )
          )
        )
        expect(error).toMatchObject({ _tag: "InvalidConfig", option })
        expect(error.message).toContain("DurableStore.layerSqlite")
      }
    })
  )

  it.scopedLive("good options at their limits build", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const store = yield* build(
        DurableStore.layerSqlite({
          filename: join(dir, "outbox.db"),
          durability: "async",
          asyncInterval: "1 hour",
          asyncMessages: 1,
          capacity: 1,
          capacityBytes: 1,
          overflow: "wait",
          leaseDuration: "30 millis",
          tablePrefix: "a",
          holderId: "h".repeat(200),
          synchronous: "full",
          maxFileBytes: 64 * 1024
        })
      )
      expect(store.settings).toMatchObject({ asyncInterval: 3_600_000, leaseDuration: 30, holder: "h".repeat(200) })
    })
  )
})
