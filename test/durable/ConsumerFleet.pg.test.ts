/**
 * A fleet of durable consumers on one PostgreSQL outbox, end to end: three processes send events,
 * profile updates and imports through `Consumer.layerDurable` to the embedded Mixpanel in this process,
 * which fails requests at random and loses answers; each relays whatever the outbox holds. One process
 * is SIGKILLed midway; the others drain the outbox, its messages included once their leases run out.
 * Every message whose send returned arrives; a message arrives twice only when a request carrying it lost
 * its answer or came from the killed process (the same `$insert_id`, which Mixpanel drops); each
 * profile's updates arrive in order.
 */
import { beforeAll, describe, expect, inject, it } from "@effect/vitest"
import { Effect } from "effect"
import { MixpanelTestServer } from "../../src/testing.js"
import { freshDatabase } from "./support/postgres.js"
import { printed, start } from "./support/processes.js"

const { Fault } = MixpanelTestServer

const postgres = inject("postgres")
let database = ""

beforeAll(async () => {
  database = await Effect.runPromise(freshDatabase(postgres, "consumer_fleet"))
})

const idOf = (item: MixpanelTestServer.JsonObject) => (item.properties as { $insert_id: string }).$insert_id
const updateOf = (item: MixpanelTestServer.JsonObject) =>
  `${item.$distinct_id as string}=${(item.$set as { n: number }).n}`

describe("a fleet of durable consumers on one PostgreSQL outbox", () => {
  it.scopedLive(
    "delivers everything once but for lost answers and the killed relay's requests, in each profile's order",
    () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({
          failRandomly: {
            rate: 0.1,
            faults: [Fault.status(503), Fault.drop, Fault.rateLimited(0)],
            lostAnswer: 0.1,
            seed: 11
          }
        })
        const target = JSON.stringify({ ...postgres, database })
        const fleet = yield* Effect.all(
          ["a", "b", "c"].map((tag, i) => start(["fleet", target, server.url, tag, i === 0 ? "0" : "150"])),
          { concurrency: "unbounded" }
        )
        yield* Effect.all(
          fleet.map((child) => child.ready),
          { concurrency: "unbounded" }
        )
        const [doomed, ...survivors] = fleet as [(typeof fleet)[0], ...typeof fleet]
        // Killed midway: while it sends, relays, and holds claims
        yield* Effect.sleep("1500 millis")
        yield* doomed.kill
        for (let i = 0; i < 900 && !survivors.every((child) => child.lines.includes("drained")); i++) {
          yield* Effect.sleep("100 millis")
        }
        for (const child of survivors) expect(child.lines, child.stderr.join("")).toContain("drained")

        const sent = fleet.flatMap((child) => printed(child.lines, "sent"))
        const events = [...server.received("events"), ...server.received("imports")]
        const people = server.received("people")
        const received = new Set([...events.map(idOf), ...people.map(updateOf)])
        expect(sent.filter((id) => !received.has(id))).toEqual([])

        // Duplicates: only from requests whose answer was lost, or sent by the killed process
        const duplicates =
          server.duplicates("events") +
          server.duplicates("imports") +
          people.length -
          new Set(people.map(updateOf)).size
        const doomedPid = String(doomed.process.pid)
        const excused = server
          .requests()
          .filter((r) => r.fault?._tag === "LostAnswer" || r.headers["x-relay"] === doomedPid)
          .reduce((n, r) => n + r.items, 0)
        expect(duplicates).toBeLessThanOrEqual(excused)

        // Each relay sent requests; the killed one's messages were delivered by the others
        const relays = new Set(server.requests().map((r) => r.headers["x-relay"]))
        for (const child of survivors) expect(relays.has(String(child.process.pid))).toBe(true)
        expect(printed(doomed.lines, "sent").length).toBeGreaterThan(0)

        // Each profile's updates, first arrivals, in order
        const firsts = new Map<string, Array<number>>()
        const seen = new Set<string>()
        for (const update of people) {
          if (seen.has(updateOf(update))) continue
          seen.add(updateOf(update))
          const who = update.$distinct_id as string
          firsts.set(who, [...(firsts.get(who) ?? []), (update.$set as { n: number }).n])
        }
        for (const [who, values] of firsts) expect([who, values]).toEqual([who, [...values].sort((a, b) => a - b)])

        yield* Effect.logInfo(
          `consumer fleet: ${sent.length} messages sent by 3 processes (one killed), all received; ${duplicates} duplicates, ${excused} excused by lost answers and the killed relay; ${server.requests().length} requests`
        )
      }),
    240_000
  )
})
