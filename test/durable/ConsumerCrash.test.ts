/**
 * The durable consumer killed at random instants, end to end. A child process sends events, profile
 * updates and imports through `Consumer.layerDurable` over one SQLite file, to the embedded Mixpanel in
 * this process, which fails requests at random and loses answers; it prints each message once its send
 * has returned. It is SIGKILLed at 20 random instants (one round in four while it is still starting:
 * opening, migrating, draining what the last round left), then started again on the same file. A last
 * round sends nothing and waits for the outbox to drain. At the end every message whose send returned is
 * at the server, each profile's updates arrived in order (a batch whose answer was lost or whose relay
 * was killed may arrive twice, never behind a later one), nothing is in the dead letters, and the outbox
 * is empty.
 */
import { join } from "node:path"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { MixpanelTestServer } from "../../src/testing.js"
import { printed, random, start } from "./support/processes.js"
import { tempDir } from "./support/store.js"

const { Fault } = MixpanelTestServer

const rounds = 20

const idOf = (item: MixpanelTestServer.JsonObject) => (item.properties as { $insert_id: string }).$insert_id

describe("the durable consumer killed at random instants", () => {
  it.scopedLive(
    "loses nothing it accepted and keeps each profile's order: SIGKILL at 20 random instants, then a drain",
    () =>
      Effect.gen(function* () {
        const file = join(yield* tempDir, "outbox.db")
        const seed = Date.now() % 1_000_000
        const next = random(seed)
        yield* Effect.logInfo(`consumer crash test seed ${seed}`)
        const server = yield* MixpanelTestServer.make({
          failRandomly: {
            rate: 0.15,
            faults: [Fault.status(503), Fault.status(500), Fault.drop, Fault.rateLimited(0)],
            lostAnswer: 0.1,
            seed
          }
        })
        const sent = new Set<string>()
        let startup = 2000
        for (let round = 0; round <= rounds; round++) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const last = round === rounds
              const began = Date.now()
              const child = yield* start(["consumer", file, server.url, `r${round}`, last ? "1" : "0"])
              if (last) {
                // A last round: one message per sender, then the drain of everything left
                for (let i = 0; i < 600 && !child.lines.includes("drained"); i++) yield* Effect.sleep("100 millis")
                expect(child.lines, child.stderr.join("")).toContain("drained")
              } else if (round % 4 === 1) {
                yield* Effect.sleep(Math.floor(next() * 1.5 * startup))
              } else {
                yield* child.ready
                startup = Date.now() - began
                yield* Effect.sleep(Math.floor(100 + next() * 700))
              }
              yield* child.kill
              for (const id of printed(child.lines, "sent")) sent.add(id)
            })
          )
        }

        const sql = yield* Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
          Context.get(context, SqliteClient.SqliteClient)
        )
        expect(yield* sql`SELECT COUNT(*) AS n FROM effect_mixpanel_outbox`).toEqual([{ n: 0 }])
        expect(yield* sql`SELECT COUNT(*) AS n FROM effect_mixpanel_dead_letters`).toEqual([{ n: 0 }])

        const received = new Set([
          ...server.received("events").map(idOf),
          ...server.received("imports").map(idOf),
          ...server.received("people").map((p) => `${p.$distinct_id as string}=${(p.$set as { n: number }).n}`)
        ])
        const lost = [...sent].filter((id) => !received.has(id))
        expect(lost).toEqual([])

        // Each profile's updates arrived in order: a value arrives again only with a batch sent again
        const firsts = new Map<string, Array<number>>()
        const counted = new Set<string>()
        for (const update of server.received("people")) {
          const key = `${update.$distinct_id as string}=${(update.$set as { n: number }).n}`
          if (counted.has(key)) continue
          counted.add(key)
          const list = firsts.get(update.$distinct_id as string) ?? []
          list.push((update.$set as { n: number }).n)
          firsts.set(update.$distinct_id as string, list)
        }
        for (const [who, values] of firsts) expect([who, values]).toEqual([who, [...values].sort((a, b) => a - b)])

        const faults = server.requests().filter((r) => r.fault !== undefined).length
        yield* Effect.logInfo(
          `consumer crash test: ${sent.size} messages sent over ${rounds} kills, all received; ${server.requests().length} requests, ${faults} with a fault; ${server.duplicates("events")} duplicate events`
        )
        expect(sent.size).toBeGreaterThan(500)
        expect(faults).toBeGreaterThan(0)
      }),
    300_000
  )
})
