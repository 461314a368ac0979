/**
 * The SQLite store killed at random instants. A child process appends events from eight fibers in
 * "commit" durability, while a relay in it claims and acknowledges them; it prints each append once it
 * has returned, and each claim before it is acknowledged. It is SIGKILLed at a random instant (in one
 * round of four while it is still opening or migrating the file), then started again on the same file,
 * twelve times. At the end every append that returned is in the file,
 * or was claimed by the relay (and perhaps acknowledged), and the file is intact.
 */
import { join } from "node:path"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { printed, random, start } from "./support/processes.js"
import { tempDir } from "./support/store.js"

const rounds = 12

describe("a process killed while appending", () => {
  it.scopedLive(
    "loses no append that returned: SIGKILL at 12 random instants",
    () =>
      Effect.gen(function* () {
        const file = join(yield* tempDir, "outbox.db")
        const seed = Date.now() % 1_000_000
        const next = random(seed)
        yield* Effect.logInfo(`crash test seed ${seed}`)
        const appended = new Set<string>()
        const claimed = new Set<string>()
        let startup = 2000
        for (let round = 0; round < rounds; round++) {
          yield* Effect.scoped(
            Effect.gen(function* () {
              const started = Date.now()
              const child = yield* start(["append", file, `r${round}`])
              if (round % 4 === 1) {
                // Killed anywhere from start-up (opening the file, migrating it) to its first appends
                yield* Effect.sleep(Math.floor(next() * 2 * startup))
              } else {
                yield* child.ready
                startup = Date.now() - started
                // From its first append on (on a loaded machine the first commit can take a while)
                for (let i = 0; i < 200 && printed(child.lines, "appended").length === 0; i++) {
                  yield* Effect.sleep("50 millis")
                }
                yield* Effect.sleep(Math.floor(50 + next() * 600))
              }
              yield* child.kill
              const mine = printed(child.lines, "appended")
              // The file opens again after every kill, and the rounds that got going made progress
              if (round % 4 !== 1) expect(mine.length, child.stderr.join("")).toBeGreaterThan(0)
              for (const id of mine) appended.add(id)
              for (const id of printed(child.lines, "claimed events")) claimed.add(id)
            })
          )
        }
        const sql = yield* Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
          Context.get(context, SqliteClient.SqliteClient)
        )
        expect(yield* sql`PRAGMA integrity_check`).toEqual([{ integrity_check: "ok" }])
        // The pages left, their messages as NDJSON (those already acknowledged are still in a page's text,
        // which is only sure to hold the rest: enough to tell that nothing was lost)
        const rows = yield* sql<{ readonly messages: string }>`SELECT messages FROM effect_mixpanel_outbox`
        const stored = new Set(
          rows.flatMap((row) => [...row.messages.matchAll(/"\$insert_id":"([^"]+)"/g)].map((match) => match[1]))
        )
        const lost = [...appended].filter((id) => !stored.has(id) && !claimed.has(id))
        expect(lost).toEqual([])
        // Both paths were exercised: some messages acknowledged, some still waiting
        expect(claimed.size).toBeGreaterThan(0)
        expect(stored.size).toBeGreaterThan(0)
        yield* Effect.logInfo(
          `crash test: ${appended.size} appends returned over ${rounds} kills; ${claimed.size} claimed by the relay, ${rows.length} left in the outbox`
        )
      }),
    180_000
  )
})
