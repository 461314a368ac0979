/**
 * A sign-up service whose analytics commit with its own writes (the transactional outbox). The
 * application's database is SQLite (`@effect/sql-sqlite-node`); the durable store keeps its outbox in the
 * same database, through the application's own `SqlClient`, so `Mixpanel.track` inside
 * `sql.withTransaction` is written by that transaction: a sign-up that fails (the e-mail is taken) rolls
 * back its user row and its "Signed Up" event together. The relay sends what was committed, and a crash
 * loses nothing committed: the next start sends it.
 *
 * `npx tsx examples/transactional-outbox.ts` signs up three users (one twice) against the embedded Mixpanel.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { DurableStore } from "effect-mixpanel/durable"
import { MixpanelTestServer } from "effect-mixpanel/testing"

// The service: one transaction for the user row and the event.
const signUp = (email: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`INSERT INTO users (email) VALUES (${email})`
        yield* Mixpanel.track(email, "Signed Up", { source: "example" })
      })
    )
  }).pipe(
    Effect.tap(() => Effect.log(`signed up ${email}`)),
    Effect.catchTag("SqlError", () => Effect.log(`${email} is taken: nothing was written, nothing is sent`))
  )

const main = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "outbox-example-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  // An embedded Mixpanel on loopback, so this runs anywhere; in production leave out `baseUrl`.
  const server = yield* MixpanelTestServer.make()

  // The application's database; the store builds its outbox tables in it.
  const Database = SqliteClient.layer({ filename: join(dir, "app.db") })
  const MixpanelLive = Mixpanel.layer({ token: "YOUR_PROJECT_TOKEN" }).pipe(
    Layer.provideMerge(Consumer.layerDurable({ baseUrl: server.url })),
    Layer.provide(DurableStore.layer()),
    Layer.provide(FetchHttpClient.layer),
    Layer.provideMerge(Database)
  )

  yield* Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE users (email TEXT PRIMARY KEY)`
    for (const email of ["ada@example.com", "grace@example.com", "ada@example.com", "alan@example.com"]) {
      yield* signUp(email)
    }
    // Outside any transaction: wait until the relay has delivered what was committed.
    yield* Consumer.flush
    const users = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM users`
    const sent = server.received("events").map((event) => (event.properties as { distinct_id: string }).distinct_id)
    console.log(`${users[0]?.n} users, ${sent.length} "Signed Up" events at Mixpanel: ${sent.join(", ")}`)
  }).pipe(Effect.provide(MixpanelLive))
})

Effect.runPromise(Effect.scoped(main))
