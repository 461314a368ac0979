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
 *   child.ts consumer <sqlite file> <server url> <tag> <sends>
 *                                             `Consumer.layerDurable` over the file, to the test server:
 *                                             4 fibers send events, profile updates (profile `<tag>:p<k>`,
 *                                             `$set.n` increasing) and imports; prints `sent <id>` after
 *                                             each send returns; after `<sends>` sends each (0: forever),
 *                                             waits until the outbox is empty, prints `drained`, and exits
 *   child.ts fleet <pg json> <server url> <tag> <sends>
 *                                             the same over PostgreSQL (a fleet shares the outbox)
 *
 * Lines are written with `writeSync`, so a line printed is a line the parent gets, even if the process
 * is killed right after.
 */
import { writeSync } from "node:fs"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schedule } from "effect"
import { DurableStore } from "../../../src/durable.js"
import { Consumer, type Endpoint } from "../../../src/index.js"
import type { Service } from "../../../src/internal/consumer/durable/service.js"
import { type Connection, pgLayer } from "./postgres.js"

const say = (line: string) => Effect.sync(() => writeSync(1, `${line}\n`))

const idOf = (json: string): string => /"\$insert_id":"([^"]+)"/.exec(json)?.[1] ?? /"n":(\d+)/.exec(json)?.[1] ?? json

const [mode, target = "", tag = "", lease = "1000", requestMillis = "2"] = process.argv.slice(2)
// The consumer modes: <target> <server url> <tag> <sends>
const [, , url = "", sender = "", sends = "0"] = process.argv.slice(2)

/** The messages of sender `k`'s `n`-th round: an event, a profile update, and every third round an import. */
const messages = (k: number, n: number): ReadonlyArray<readonly [Endpoint.Endpoint, string, string]> => {
  const seq = Date.now() * 1000 + n // increasing across the runs of a test, for the profiles' order
  const time = 1_732_780_800_000 + n
  const who = `${sender}:p${k}`
  const props = { token: "T", distinct_id: who, time }
  const insertId = (kind: string) => `${sender}-${kind}${k}-${n}`
  const event = (name: string, id: string) => JSON.stringify({ event: name, properties: { ...props, $insert_id: id } })
  const list: Array<readonly [Endpoint.Endpoint, string, string]> = [
    ["events", insertId("e"), event("E", insertId("e"))],
    ["people", `${who}=${seq}`, JSON.stringify({ $token: "T", $distinct_id: who, $set: { n: seq } })]
  ]
  if (n % 3 === 0) list.push(["imports", insertId("i"), event("I", insertId("i"))])
  return list
}

/** The durable consumer to the test server, fast retries, requests marked with this process. */
const durableConsumer = () =>
  Consumer.layerDurable({
    baseUrl: url,
    importAuth: Consumer.projectToken("T"),
    maxBatchSize: 40,
    flushInterval: "100 millis",
    pollInterval: "200 millis",
    maxRetries: 1000,
    maxRetryTime: "1 hour",
    retrySchedule: Schedule.spaced("20 millis"),
    requestTimeout: "2 seconds",
    transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-relay", String(process.pid)))
  }).pipe(Layer.provide(FetchHttpClient.layer))

/** Sends until `sends` rounds per sender are done (forever with 0), then waits for the outbox to drain. */
const sending = (rounds: number) =>
  Effect.gen(function* () {
    const consumer = yield* Consumer.Consumer
    yield* say("ready")
    const sender = (k: number) =>
      Effect.gen(function* () {
        for (let n = 0; rounds === 0 || n < rounds; n++) {
          for (const [endpoint, id, json] of messages(k, n)) {
            yield* consumer.send(endpoint, json)
            yield* say(`sent ${id}`)
          }
        }
      })
    yield* Effect.all(
      Array.from({ length: 4 }, (_, k) => sender(k)),
      { concurrency: "unbounded", discard: true }
    )
    while ((yield* DurableStore.stats).messages > 0) yield* Effect.sleep("100 millis")
    yield* say("drained")
  })

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

const program = (): Effect.Effect<void, unknown> => {
  switch (mode) {
    case "append":
      return appending
    case "relay":
      return Effect.provide(relaying, postgres())
    case "consumer":
      return sending(Number(sends)).pipe(
        Effect.provide(durableConsumer()),
        Effect.provide(DurableStore.layerSqlite({ filename: target, leaseDuration: "1 second" }))
      )
    default: {
      const connection = JSON.parse(target) as Connection & { readonly database: string }
      return sending(Number(sends)).pipe(
        Effect.provide(durableConsumer()),
        Effect.provide(
          DurableStore.layer({ tablePrefix: "fleet_", leaseDuration: "1 second" }).pipe(
            Layer.provide(pgLayer(connection, connection.database))
          )
        )
      )
    }
  }
}

Effect.runPromise(program()).catch((error) => {
  writeSync(2, `child failed: ${String(error)}\n`)
  process.exit(1)
})
