/**
 * What the durable store alone achieves (not a test: nothing is asserted). For each setup, `callers`
 * fibers append `n` bench events (about 560 bytes each) one per call, and the script reports the calls
 * per second, the caller's p50 and p99 latency, the transactions the group committer ran, and the disk
 * bytes per event. The in-memory buffered consumer's `send` runs the same way, as the reference.
 *
 *   npx tsx scripts/measure-durable-store.ts [n] [callers] [--pg]
 *
 * `--pg` adds PostgreSQL (an embedded server, started and stopped by the script).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { FetchHttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Context, Effect, Layer } from "effect"
import { makeEvent } from "../bench/events.js"
import { DurableStore } from "../src/durable.js"
import { Consumer } from "../src/index.js"
import type { Service } from "../src/internal/consumer/durable/service.js"
import { MixpanelTestServer } from "../src/testing.js"
import { freshDatabase, pgLayer, startPostgres } from "../test/durable/support/postgres.js"

const args = process.argv.slice(2).filter((arg) => !arg.startsWith("--"))
const n = Number(args[0] ?? 50_000)
const callers = Number(args[1] ?? 64)
const withPg = process.argv.includes("--pg")

/** The `i`-th event as the Mixpanel service would encode it. */
const json = (i: number): string => {
  const event = makeEvent(i)
  return JSON.stringify({
    event: event.event,
    properties: {
      token: "0123456789abcdef0123456789abcdef",
      distinct_id: event.distinctId,
      time: 1736942400000 + i,
      $insert_id: `bench-${i.toString(36).padStart(8, "0")}`,
      ...event.properties,
      signed_up_at: event.properties.signed_up_at.toISOString().slice(0, 19),
      viewed_at: event.properties.viewed_at.toISOString().slice(0, 19)
    }
  })
}
const events = Array.from({ length: n }, (_, i) => json(i))

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

interface Row {
  readonly setup: string
  readonly eventsPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly transactions?: number
  readonly bytesPerEvent?: number
  /** The relay's side: claiming (2,000 at a time) and acknowledging everything appended. */
  readonly drainedPerSecond?: number
}

/** Claims and acknowledges everything of `events`, as the relay would; events per second. */
const drain = (store: Service) =>
  Effect.gen(function* () {
    const started = performance.now()
    let count = 0
    for (;;) {
      const claimed = yield* store.claim("events", { maxItems: 2000, maxBytes: 2 * 1024 * 1024 })
      if (claimed.length === 0) break
      yield* store.ack(claimed)
      count += claimed.length
    }
    return count / ((performance.now() - started) / 1000)
  })

/** `concurrency` fibers calling `send` with `perCall` of the `count` first events; latency of every call, in µs. */
const drive = (
  send: (messages: ReadonlyArray<string>) => Effect.Effect<unknown, unknown>,
  count: number,
  concurrency: number,
  perCall = 1
) =>
  Effect.gen(function* () {
    const calls = Math.ceil(count / perCall)
    const latencies = new Float64Array(calls)
    let next = 0
    const caller = Effect.gen(function* () {
      while (next < calls) {
        const call = next++
        const start = performance.now()
        yield* send(events.slice(call * perCall, Math.min(count, (call + 1) * perCall)))
        latencies[call] = (performance.now() - start) * 1000
      }
    })
    const started = performance.now()
    yield* Effect.all(
      Array.from({ length: concurrency }, () => caller),
      { concurrency: "unbounded", discard: true }
    )
    const seconds = (performance.now() - started) / 1000
    latencies.sort()
    return { eventsPerSecond: count / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
  })

const rows: Array<Row> = []
const report = (row: Row) =>
  Effect.sync(() => {
    rows.push(row)
    const extra = [
      row.transactions === undefined ? "" : `${row.transactions} transactions`,
      row.bytesPerEvent === undefined ? "" : `${row.bytesPerEvent.toFixed(0)} B/event on disk`,
      row.drainedPerSecond === undefined ? "" : `relay drains ${Math.round(row.drainedPerSecond)} events/s`
    ]
      .filter((s) => s !== "")
      .join(", ")
    console.log(
      `${row.setup.padEnd(44)} ${Math.round(row.eventsPerSecond).toString().padStart(8)} events/s  p50 ${row.p50.toFixed(1).padStart(8)} µs  p99 ${row.p99.toFixed(1).padStart(9)} µs  ${extra}`
    )
  })

/** The reference: the in-memory buffered consumer's `send`, delivering to the embedded Mixpanel meanwhile. */
const memory = Effect.gen(function* () {
  const server = yield* MixpanelTestServer.make()
  const consumer = yield* Effect.map(
    Layer.build(
      Consumer.layerBuffered({ baseUrl: server.url, capacity: n + 1 }).pipe(Layer.provide(FetchHttpClient.layer))
    ),
    (context) => Context.get(context, Consumer.Consumer)
  )
  const result = yield* drive((messages) => consumer.sendBatch("events", messages), n, callers)
  yield* report({ setup: `memory (layerBuffered send), ${callers} callers`, ...result })
}).pipe(Effect.scoped)

const fileBytes = (file: string) =>
  [file, `${file}-wal`].reduce((total, path) => {
    try {
      return total + statSync(path).size
    } catch {
      return total
    }
  }, 0)

/** Appends through a SQLite store, then measures the file (after a checkpoint folds the WAL in). */
const sqlite = (setup: string, options: DurableStore.SqliteOptions, count: number, concurrency: number, batch = 1) =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "measure-durable-"))
    const file = join(dir, "outbox.db")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const store = yield* Effect.map(
          Layer.build(DurableStore.layerSqlite({ ...options, filename: file })),
          (context) => Context.get(context, DurableStore.DurableStore)
        ) as Effect.Effect<Service, unknown, never>
        const before = store.commits()
        const result = yield* drive((messages) => store.append("events", messages), count, concurrency, batch)
        if (options.durability === "async") yield* Effect.sleep("300 millis")
        const transactions = store.commits() - before
        const peak = fileBytes(file)
        const sql = yield* Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
          Context.get(context, SqliteClient.SqliteClient)
        )
        yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
        const [row] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM effect_mixpanel_outbox`
        const bytesPerEvent = fileBytes(file) / (row?.n ?? 1)
        yield* report({ setup, ...result, transactions, bytesPerEvent, drainedPerSecond: yield* drain(store) })
        console.log(`${"".padEnd(44)} (peak file + WAL during the run: ${(peak / 1024 / 1024).toFixed(1)} MiB)`)
      })
    )
    rmSync(dir, { recursive: true, force: true })
  })

const postgres = Effect.gen(function* () {
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => startPostgres()),
    (s) => Effect.promise(() => s.destroy())
  )
  const database = yield* freshDatabase(server.connection, "measure")
  for (const durability of ["commit", "async"] as const) {
    yield* Effect.scoped(
      Effect.gen(function* () {
        const store = yield* Effect.map(
          Layer.build(
            DurableStore.layer({ durability, tablePrefix: `m_${durability}_` }).pipe(
              Layer.provide(pgLayer(server.connection, database))
            )
          ),
          (context) => Context.get(context, DurableStore.DurableStore)
        )
        const before = store.commits()
        const result = yield* drive((messages) => store.append("events", messages), n, callers)
        if (durability === "async") yield* Effect.sleep("300 millis")
        const transactions = store.commits() - before
        const drainedPerSecond = yield* drain(store)
        yield* report({
          setup: `PostgreSQL ${durability}, ${callers} callers`,
          ...result,
          transactions,
          drainedPerSecond
        })
      })
    )
  }
}).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  console.log(
    `n = ${n} events of ~${Math.round(events.reduce((t, e) => t + e.length, 0) / n)} bytes; load average ${loadavg()[0]?.toFixed(2)}`
  )
  yield* memory
  yield* sqlite(`SQLite commit (FULL), ${callers} callers`, { filename: "", durability: "commit" }, n, callers)
  yield* sqlite(`SQLite commit (FULL), ${callers * 8} callers`, { filename: "", durability: "commit" }, n, callers * 8)
  yield* sqlite(
    `SQLite commit (NORMAL), ${callers} callers`,
    { filename: "", durability: "commit", synchronous: "normal" },
    n,
    callers
  )
  yield* sqlite(`SQLite async, ${callers} callers`, { filename: "", durability: "async" }, n, callers)
  yield* sqlite(`SQLite commit (FULL), 1 caller`, { filename: "", durability: "commit" }, Math.min(n, 2000), 1)
  yield* sqlite(
    `SQLite commit (FULL), ${callers} callers, 100 events/call`,
    { filename: "", durability: "commit" },
    n,
    callers,
    100
  )
  if (withPg) yield* postgres
  console.log(`load average at the end ${loadavg()[0]?.toFixed(2)}`)
})

Effect.runPromise(main.pipe(Effect.provideService(SqlClient.SafeIntegers, false))).catch((error) => {
  console.error(error)
  process.exit(1)
})
