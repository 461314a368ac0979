/**
 * A process using the durable store, for the tests that kill processes. Run with `node --import tsx`.
 *
 *   child.ts append <sqlite file> <tag>        appends events from 8 fibers ("commit" durability) and
 *                                             relays them (claim, ack); prints `appended <ids>` after each
 *                                             append returns and `claimed <ids>` before each ack
 *   child.ts relay <pg json> <prefix> <lease> <request ms>
 *                                             claims and acks events and people updates from a PostgreSQL
 *                                             outbox; logs each people batch to `<prefix>fleet_log` while
 *                                             it holds it; prints `claimed <ids>` before each ack
 *
 * Lines are written with `writeSync`, so a line printed is a line the parent gets, even if the process
 * is killed right after.
 */
import { writeSync } from "node:fs"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { DurableStore } from "../../../src/durable.js"
import type { Service } from "../../../src/internal/consumer/durable/service.js"
import { type Connection, pgLayer } from "./postgres.js"

const say = (line: string) => Effect.sync(() => writeSync(1, `${line}\n`))

const idOf = (json: string): string => /"\$insert_id":"([^"]+)"/.exec(json)?.[1] ?? /"n":(\d+)/.exec(json)?.[1] ?? json

const [mode, target = "", tag = "", lease = "1000", requestMillis = "2"] = process.argv.slice(2)

const relay = (
  store: Service,
  endpoint: "events" | "people",
  log: (ids: ReadonlyArray<number>) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    const claimed = yield* store.claim(endpoint, { maxItems: 25, maxBytes: 1_000_000 })
    if (claimed.length === 0) return yield* Effect.sleep("5 millis")
    yield* log(claimed.map((m) => m.id))
    yield* say(`claimed ${endpoint} ${claimed.map((m) => idOf(m.json)).join(" ")}`)
    yield* Effect.sleep(Number(requestMillis)) // a request to Mixpanel
    yield* store.ack(claimed)
  }).pipe(Effect.forever)

const appending = Effect.gen(function* () {
  const store = yield* DurableStore.DurableStore
  yield* say("ready")
  const worker = (w: number) =>
    Effect.gen(function* () {
      for (let n = 0; ; n++) {
        const count = 1 + (n % 3)
        const ids = Array.from({ length: count }, (_, i) => `${tag}-${w}-${n}-${i}`)
        yield* store.append(
          "events",
          ids.map((id) => `{"event":"E","properties":{"$insert_id":"${id}"}}`)
        )
        yield* say(`appended ${ids.join(" ")}`)
      }
    })
  yield* Effect.all([...Array.from({ length: 8 }, (_, w) => worker(w)), relay(store, "events", () => Effect.void)], {
    concurrency: "unbounded",
    discard: true
  })
}).pipe(Effect.provide(DurableStore.layerSqlite({ filename: target })))

const relaying = Effect.gen(function* () {
  const store = yield* DurableStore.DurableStore
  const sql = yield* SqlClient.SqlClient
  yield* say("ready")
  const log = (ids: ReadonlyArray<number>) =>
    Effect.orDie(
      sql`INSERT INTO ${sql(`${tag}fleet_log`)} (pid, first_id, last_id) VALUES (${process.pid}, ${ids[0] ?? 0}, ${ids[ids.length - 1] ?? 0})`
    )
  yield* Effect.all([relay(store, "events", () => Effect.void), relay(store, "people", log)], {
    concurrency: "unbounded",
    discard: true
  })
})

const postgres = (): Layer.Layer<DurableStore.DurableStore | SqlClient.SqlClient, unknown> => {
  const connection = JSON.parse(target) as Connection & { readonly database: string }
  return DurableStore.layer({ tablePrefix: tag, leaseDuration: Number(lease) }).pipe(
    Layer.provideMerge(pgLayer(connection, connection.database))
  )
}

Effect.runPromise(mode === "append" ? appending : Effect.provide(relaying, postgres())).catch((error) => {
  writeSync(2, `child failed: ${String(error)}\n`)
  process.exit(1)
})
