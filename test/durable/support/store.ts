/**
 * What the durable store's tests share: temporary directories, messages, failures, and a store built in
 * the test's scope from the public layers.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, type Scope } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { type Endpoint, MixpanelError } from "../../../src/index.js"
import type { Stored } from "../../../src/internal/consumer/buffered/store.js"
import type { Service } from "../../../src/internal/consumer/durable/service.js"

/** A temporary directory, deleted with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-mixpanel-durable-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The event JSON of test message `n`: small, distinct, with its number as `$insert_id`. */
export const event = (n: number): string => `{"event":"E${n}","properties":{"$insert_id":"${n}"}}`

/** A profile update for profile `who`, number `n`. */
export const update = (who: string, n: number): string => `{"$distinct_id":"${who}","$set":{"n":${n}}}`

/** `count` events from `from`. */
export const events = (from: number, count: number): Array<string> =>
  Array.from({ length: count }, (_, i) => event(from + i))

/** The failure a relay would dead-letter `message` with. */
export const rejected = (message: Stored, detail = "bad request") => ({
  message,
  failure: new MixpanelError.DeliveryFailure({
    endpoint: message.endpoint,
    json: message.json,
    outcome: "Rejected",
    reason: "Invalid",
    detail,
    status: 400
  })
})

/** The store `layer` builds, in the current scope. */
export const build = <E, R>(
  layer: Layer.Layer<DurableStore.DurableStore, E, R>
): Effect.Effect<Service, E, R | Scope.Scope> =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, DurableStore.DurableStore))

/** One database for a test: the application's client on it, and stores over that client. */
export interface Database {
  readonly dialect: "sqlite" | "pg"
  /** The application's client: stores built by `store` use it, so they can join its transactions. */
  readonly client: SqlClient.SqlClient
  /**
   * A connection for a second store, as another process would have. On PostgreSQL another one; on
   * SQLite the same one: better-sqlite3 waits for another connection's lock synchronously, so a second
   * connection in the same process can block the event loop (and with it the transaction it waits for)
   * for the busy timeout. Separate processes on one SQLite file are the crash test's business.
   */
  readonly other: Effect.Effect<SqlClient.SqlClient, unknown, Scope.Scope>
  /** A store over `client`, with a table prefix of this test's own. */
  readonly store: (
    options?: DurableStore.Options
  ) => Effect.Effect<Service, MixpanelError.StoreError | MixpanelError.InvalidConfig, Scope.Scope>
  /** A store over `other` connection, on the same tables as `store`. */
  readonly storeOn: (
    client: SqlClient.SqlClient,
    options?: DurableStore.Options
  ) => Effect.Effect<Service, MixpanelError.StoreError | MixpanelError.InvalidConfig, Scope.Scope>
  /** The table prefix of this test's stores. */
  readonly prefix: string
}

let prefixes = 0

/** A `Database` from a way to connect; each call gets its own table prefix. */
export const database = (
  dialect: "sqlite" | "pg",
  connect: Effect.Effect<SqlClient.SqlClient, unknown, Scope.Scope>
): Effect.Effect<Database, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* connect
    const prefix = `t${process.pid}_${prefixes++}_`
    const storeOn = (on: SqlClient.SqlClient, options: DurableStore.Options = {}) =>
      build(DurableStore.layer({ tablePrefix: prefix, ...options })).pipe(
        Effect.provideService(SqlClient.SqlClient, on)
      )
    return {
      dialect,
      client,
      other: dialect === "pg" ? connect : Effect.succeed(client),
      prefix,
      store: (options) => storeOn(client, options),
      storeOn
    }
  })

/** The ids of `messages`. */
export const ids = (messages: ReadonlyArray<{ readonly id: number }>): Array<number> => messages.map((m) => m.id)

/** Claims everything claimable of `endpoint` (up to 10,000 messages). */
export const claimAll = (store: Service, endpoint: Endpoint.Endpoint) =>
  store.claim(endpoint, { maxItems: 10_000, maxBytes: 1024 * 1024 * 1024 })
