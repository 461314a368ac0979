/**
 * The PostgreSQL store when the server goes away: a server of this file's own (the suite's shared one
 * must stay up), stopped and started again under a running store. Calls fail with typed `Unavailable`
 * failures and one log line while it is down, nothing acknowledged is lost, and the store recovers by
 * itself when the server is back, without being rebuilt.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, Schedule } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { Consumer } from "../../src/index.js"
import type { Late } from "../../src/internal/consumer/durable/service.js"
import { MixpanelTestServer } from "../../src/testing.js"
import { range, event as tracked } from "../support/buffered.js"
import { durableHarness, storeOn } from "./support/consumer.js"
import { freshDatabase, pgLayer, type Server, startPostgres } from "./support/postgres.js"
import { build, claimAll, events } from "./support/store.js"

let server: Server

beforeAll(async () => {
  server = await startPostgres()
}, 120_000)

afterAll(async () => {
  await server?.destroy()
})

const client = (database: string) =>
  Effect.map(
    Layer.build(Layer.fresh(pgLayer(server.connection, database, { connectTimeout: "2 seconds" }))),
    (context) => Context.get(context, PgClient.PgClient)
  )

/** The server stopped for the scope, started again when it closes (also when the test fails). */
const outage = Effect.acquireRelease(
  Effect.promise(() => server.stop()),
  () => Effect.promise(() => server.start())
)

const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
  })
  return { lines, logger: Logger.replace(Logger.defaultLogger, logger) }
}

describe("the PostgreSQL store when the server stops and starts again", () => {
  it.scopedLive(
    "calls fail with Unavailable while it is down; then it recovers, having lost nothing acknowledged",
    () => {
      const { lines, logger } = capture()
      return Effect.gen(function* () {
        const sql = yield* client(yield* freshDatabase(server.connection, "restart"))
        const store = yield* build(DurableStore.layer({ leaseDuration: "600 millis" })).pipe(
          Effect.provideService(SqlClient.SqlClient, sql)
        )
        const before = yield* store.append("events", events(1, 100))
        expect(before.stored.length).toBe(100)

        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* outage
            const append = yield* Effect.exit(store.append("events", events(101, 10)))
            expect(append).toStrictEqual(
              Exit.fail(expect.objectContaining({ _tag: "StoreFailure", operation: "append", reason: "Unavailable" }))
            )
            const claim = yield* Effect.exit(claimAll(store, "events"))
            expect(claim).toStrictEqual(
              Exit.fail(expect.objectContaining({ operation: "claim", reason: "Unavailable" }))
            )
            yield* Effect.sleep("1 second") // the lease renewal fails too, every 200 ms
            // One line for the whole outage, whichever operation failed first
            expect(lines.filter((line) => line.startsWith("ERROR"))).toEqual([
              expect.stringMatching(/^ERROR Mixpanel outbox \(sql\): \w+ failed: the database cannot be reached/)
            ])
          })
        )
        const after = yield* store.append("events", events(111, 10))
        expect(after.stored.length).toBe(10)
        expect(lines.filter((line) => line.startsWith("INFO"))).toEqual([
          expect.stringMatching(/^INFO Mixpanel outbox \(sql\): works again after \d+ failure/)
        ])
        const claimed = yield* claimAll(store, "events")
        expect(claimed.map((m) => m.json)).toEqual([...events(1, 100), ...events(111, 10)])
      }).pipe(Effect.provide(logger))
    }
  )

  it.scopedLive("async appends lost to the outage are reported through onLate, never dropped silently", () =>
    Effect.gen(function* () {
      const sql = yield* client(yield* freshDatabase(server.connection, "late"))
      const store = yield* build(DurableStore.layer({ durability: "async", asyncInterval: "300 millis" })).pipe(
        Effect.provideService(SqlClient.SqlClient, sql)
      )
      const late: Array<Late> = []
      yield* store.onLate((outcomes) => Effect.sync(() => late.push(...outcomes)))
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* outage
          const appended = yield* store.append("events", events(1, 5))
          expect(appended.pending.length).toBe(5)
          yield* Effect.sleep("1 second")
        })
      )
      expect(late).toEqual([
        expect.objectContaining({
          _tag: "Failed",
          endpoint: "events",
          messages: events(1, 5),
          failure: expect.objectContaining({ reason: "Unavailable" })
        })
      ])
    })
  )

  it.scopedLive("a store built while the server is down fails at build with Unavailable", () =>
    Effect.gen(function* () {
      const sql = yield* client(yield* freshDatabase(server.connection, "down"))
      const exit = yield* Effect.scoped(
        Effect.zipRight(
          outage,
          Effect.exit(Effect.scoped(build(DurableStore.layer()).pipe(Effect.provideService(SqlClient.SqlClient, sql))))
        )
      )
      expect(exit).toStrictEqual(
        Exit.fail(expect.objectContaining({ _tag: "StoreError", operation: "open", reason: "Unavailable" }))
      )
    })
  )

  it.scopedLive(
    "through the consumer: sends fail with a StoreError while it is down, the relay waits; then everything accepted is delivered",
    () => {
      const logs = capture()
      return Effect.gen(function* () {
        const h = yield* durableHarness()
        const sql = yield* client(yield* freshDatabase(server.connection, "consumer"))
        // Mixpanel is down first: what is sent before the outage waits in the outbox through it
        h.server.failRandomly({ rate: 1, faults: [MixpanelTestServer.Fault.status(503)] })
        yield* Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.sendBatch(
            "events",
            range(1, 51).map((i) => tracked(i))
          )
          yield* Effect.scoped(
            Effect.gen(function* () {
              yield* outage
              h.server.stopFailing()
              const error = yield* Effect.flip(consumer.send("events", tracked(51)))
              expect(error).toMatchObject({ _tag: "StoreError", operation: "append", reason: "Unavailable" })
              // The workers' claims fail: nothing goes out, and nothing crashes
              yield* Effect.sleep("1500 millis")
            })
          )
          yield* consumer.sendBatch(
            "events",
            range(52, 62).map((i) => tracked(i))
          )
          yield* consumer.flush
        }).pipe(
          Effect.provide(
            h.layer(storeOn(sql), {
              pollInterval: "200 millis",
              retrySchedule: Schedule.spaced("100 millis"),
              maxRetries: 1000,
              maxRetryTime: "1 minute"
            })
          )
        )
        const received = h.server.received("events").map((e) => (e.properties as { i: number }).i)
        expect(new Set(received)).toEqual(new Set([...range(1, 51), ...range(52, 62)]))
        expect(h.server.duplicates("events")).toBe(0)
        expect(h.failures).toEqual([])
        expect(logs.lines.some((line) => line.startsWith("ERROR") && line.includes("cannot be reached"))).toBe(true)
      }).pipe(Effect.provide(logs.logger))
    }
  )
})
