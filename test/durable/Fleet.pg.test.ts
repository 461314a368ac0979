/**
 * A fleet on one PostgreSQL outbox, at the store level: three relay processes claim and acknowledge
 * events and profile updates while this process appends them; one relay is SIGKILLed midway. No message
 * is claimed by two live relays, the dead relay's claims are taken over once their lease expires, the
 * outbox drains, and the profile updates are claimed in their order across the fleet (each relay logs
 * the ids of a batch to a table while it holds it, so the table's order is the fleet's order).
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { beforeAll, describe, expect, inject, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { freshDatabase, pgLayer } from "./support/postgres.js"
import { printed, start } from "./support/processes.js"
import { build, event, update } from "./support/store.js"

const server = inject("postgres")
let database = ""

beforeAll(async () => {
  database = await Effect.runPromise(freshDatabase(server, "fleet"))
})

const prefix = "fleet_"

describe("a fleet of relays on one PostgreSQL outbox", () => {
  it.scopedLive(
    "never claims a message twice among live relays, takes over a dead relay's claims, keeps profile order",
    () =>
      Effect.gen(function* () {
        const sql = yield* Effect.map(Layer.build(Layer.fresh(pgLayer(server, database))), (context) =>
          Context.get(context, PgClient.PgClient)
        )
        const store = yield* build(DurableStore.layer({ tablePrefix: prefix })).pipe(
          Effect.provideService(SqlClient.SqlClient, sql)
        )
        yield* sql.unsafe(
          `CREATE TABLE ${prefix}fleet_log (id BIGSERIAL PRIMARY KEY, pid INTEGER, first_id BIGINT, last_id BIGINT)`
        )
        const target = JSON.stringify({ ...server, database })
        // The first relay's "requests" take a minute: it is sure to hold claims when it is killed
        const relays = yield* Effect.all(
          ["60000", "2", "2"].map((requestMillis) => start(["relay", target, prefix, "1000", requestMillis])),
          { concurrency: "unbounded" }
        )
        yield* Effect.all(
          relays.map((relay) => relay.ready),
          { concurrency: "unbounded" }
        )
        const [doomed, ...survivors] = relays as [(typeof relays)[0], ...typeof relays]

        // 3,000 events and 600 updates of 10 profiles, appended while the relays drain them
        const profiles = 10
        for (let round = 0; round < 30; round++) {
          yield* store.append(
            "events",
            Array.from({ length: 100 }, (_, i) => event(round * 100 + i))
          )
          yield* store.append(
            "people",
            Array.from({ length: 20 }, (_, i) => update(`p${(round * 20 + i) % profiles}`, round * 20 + i))
          )
          if (round === 10) {
            // Killed while it holds claims, if it has any: let it claim first
            yield* Effect.sleep("50 millis")
            yield* doomed.kill
          }
          yield* Effect.sleep("20 millis")
        }
        // The outbox drains (the dead relay's claims come back after their 1 s lease)
        for (let i = 0; i < 600 && (yield* store.stats).messages > 0; i++) yield* Effect.sleep("100 millis")
        expect(yield* store.stats).toMatchObject({ messages: 0 })

        const claimedBy = (relay: (typeof relays)[0]) => printed(relay.lines, "claimed events")
        const live = survivors.flatMap(claimedBy)
        const dead = claimedBy(doomed)
        expect(new Set(live).size).toBe(live.length) // no event twice among live relays
        expect(new Set([...live, ...dead]).size).toBe(3000) // every event claimed
        // An event claimed twice was claimed by the dead relay first
        const twice = live.filter((id) => dead.includes(id))
        yield* Effect.logInfo(
          `fleet: events claimed ${survivors.map((r) => claimedBy(r).length).join(" + ")} by the live relays, ${dead.length} by the killed one (${twice.length} of them again after its death)`
        )
        expect(survivors.every((relay) => claimedBy(relay).length > 0)).toBe(true)
        expect(twice.length).toBeGreaterThan(0)
        expect(twice.length).toBe(dead.length)

        // Profile updates: the fleet's batches, in the order they were held, never go back, but for the
        // dead relay's unacknowledged batch, which is claimed again
        const log = yield* sql<{ readonly pid: number; readonly first_id: string; readonly last_id: string }>`
          SELECT pid, first_id, last_id FROM ${sql(`${prefix}fleet_log`)} ORDER BY id`
        const doomedPid = doomed.process.pid
        let last = 0
        for (const entry of log.filter((e) => e.pid !== doomedPid)) {
          expect(Number(entry.first_id)).toBeGreaterThan(last)
          last = Number(entry.last_id)
        }
        expect(new Set(log.map((e) => e.pid)).size).toBeGreaterThan(1)
      }),
    240_000
  )
})
