/**
 * `npm run demo`: a short program that uses every kind of operation, sent through the buffered consumer
 * to the embedded Mixpanel (`MixpanelTestServer`), then a report of what the server received, per
 * endpoint, and whether it matches what was sent.
 *
 * `npm run demo -- --faults` (or `DEMO_FAULTS=1`) makes the server fail 30% of requests (5xx, 429 with and
 * without Retry-After, dropped connections, stalls) and shows that everything still arrives.
 *
 * `npm run demo -- --real` sends the same program to Mixpanel itself, to the project of `MIXPANEL_TOKEN`
 * (and `MIXPANEL_REGION` = US, EU or IN, optional); `/import` then authenticates with the project token.
 * The program deletes a profile and aliases and merges identities in that project, so only the flag
 * leaves the embedded server: a `MIXPANEL_TOKEN` in the shell alone is ignored.
 */
import { pathToFileURL } from "node:url"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { Config, Console, Effect, Either, Layer, type Redacted, Schedule } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

/** What a product's backend might send in a few seconds of its life. */
const program = Effect.gen(function* () {
  const now = new Date()
  yield* Mixpanel.track("user-42", "Signed Up", { plan: "pro", referrer: "newsletter", at: now })
  yield* Mixpanel.trackBatch(
    Array.from({ length: 25 }, (_, i) => ({
      distinctId: `user-${i}`,
      event: "Page Viewed",
      properties: { path: `/docs/${i}`, durationMs: 100 + i, tags: ["docs"], experiment: { id: "e1", arm: i % 2 } }
    }))
  )
  yield* Mixpanel.importEvent("user-42", "Legacy Purchase", now.getTime() - 30 * 24 * 3600 * 1000, { amount: 19.99 })
  yield* Mixpanel.alias("ada@example.com", "user-42")
  yield* Mixpanel.merge("user-42", "device-7f3a")
  yield* Mixpanel.peopleSet("user-42", { $name: "Ada Lovelace", plan: "pro" }, { $ip: "203.0.113.7" })
  yield* Mixpanel.peopleSetOnce("user-42", { "First Seen": now })
  yield* Mixpanel.peopleIncrement("user-42", { logins: 1 })
  yield* Mixpanel.peopleAppend("user-42", { devices: "laptop" })
  yield* Mixpanel.peopleUnion("user-42", { interests: ["math", "engines"] })
  yield* Mixpanel.peopleRemove("user-42", { interests: "engines" })
  yield* Mixpanel.peopleUnset("user-42", ["legacy_flag"])
  yield* Mixpanel.peopleTrackCharge("user-42", 49, { sku: "pro-monthly" })
  yield* Mixpanel.peopleClearCharges("user-17")
  yield* Mixpanel.peopleDelete("user-99")
  yield* Mixpanel.groupSet("company", "acme", { name: "Acme", seats: 12 })
  yield* Mixpanel.groupSetOnce("company", "acme", { founded: 1999 })
  yield* Mixpanel.groupUnion("company", "acme", { plans: ["pro"] })
  yield* Mixpanel.groupRemove("company", "acme", { plans: "free" })
  yield* Mixpanel.groupUnset("company", "acme", ["legacy"])
  yield* Mixpanel.groupDelete("company", "defunct-co")
  // Waits until everything above is delivered (or fails with what was not); closing the layer would too.
  yield* Consumer.flush
})

/** Every message the consumer could not deliver, as the application's own hook would see it. */
const report: Consumer.OnUndelivered = (failures) =>
  Console.error(
    `${failures.length} messages not delivered: ${failures.map((f) => `${f.reason} (${f.detail})`).join("; ")}`
  )

/** A consumer that remembers the JSON of every message on its way to `inner`, to compare at the end. */
const remembering = (sent: Map<Consumer.Endpoint, Array<string>>) =>
  Layer.effect(
    Consumer.Consumer,
    Effect.map(Consumer.Consumer, (inner) => {
      const keep = (endpoint: Consumer.Endpoint, messages: ReadonlyArray<string>) => {
        const list = sent.get(endpoint) ?? []
        list.push(...messages)
        sent.set(endpoint, list)
      }
      return {
        send: (endpoint, message) =>
          Effect.zipRight(
            Effect.sync(() => keep(endpoint, [message])),
            inner.send(endpoint, message)
          ),
        sendBatch: (endpoint, messages) =>
          Effect.zipRight(
            Effect.sync(() => keep(endpoint, messages)),
            inner.sendBatch(endpoint, messages)
          ),
        sendNow: (endpoint, message) =>
          Effect.zipRight(
            Effect.sync(() => keep(endpoint, [message])),
            inner.sendNow(endpoint, message)
          ),
        flush: inner.flush
      }
    })
  )

const endpoints: ReadonlyArray<Consumer.Endpoint> = ["events", "imports", "people", "groups"]

/** Where the demo sends, from its command-line flags and the token in the environment (if any). */
export type Target =
  | { readonly _tag: "Embedded"; readonly faults: boolean; readonly ignoredToken: boolean }
  | { readonly _tag: "Mixpanel"; readonly token: Redacted.Redacted }

/** `--real` (and a token) for Mixpanel itself; anything else, the embedded Mixpanel. */
export const chooseTarget = (
  args: ReadonlyArray<string>,
  token: Redacted.Redacted | undefined,
  faultsFromEnv = false
): Either.Either<Target, string> => {
  const faults = args.includes("--faults") || faultsFromEnv
  if (!args.includes("--real")) return Either.right({ _tag: "Embedded", faults, ignoredToken: token !== undefined })
  if (token === undefined) return Either.left("--real sends to your Mixpanel project: set MIXPANEL_TOKEN to its token")
  if (faults) return Either.left("--faults is for the embedded Mixpanel; leave it out with --real")
  return Either.right({ _tag: "Mixpanel", token })
}

const againstTestServer = (faultsRequested: boolean) =>
  Effect.gen(function* () {
    const token = "demo-project-token"
    const server = yield* MixpanelTestServer.make({ token, auth: { token } })
    yield* Console.log(`Embedded Mixpanel listening on ${server.url}`)
    if (faultsRequested) {
      const { Fault } = MixpanelTestServer
      server.failRandomly({
        rate: 0.3,
        seed: 7,
        faults: [
          Fault.status(500),
          Fault.status(503),
          Fault.rateLimited(),
          Fault.rateLimited(1),
          Fault.drop,
          Fault.stall
        ]
      })
      yield* Console.log("Faults on: 30% of requests fail (5xx, 429, dropped connections, stalls).")
    }
    yield* Console.log("")
    const sent = new Map<Consumer.Endpoint, Array<string>>()
    const consumer = Consumer.layerBuffered({
      baseUrl: server.url,
      importAuth: Consumer.projectToken(token),
      onUndelivered: report,
      // Short waits so that the demo with faults takes seconds; the defaults follow Mixpanel's advice (2 s to 60 s).
      requestTimeout: "1 second",
      retrySchedule: Schedule.exponential("50 millis").pipe(Schedule.jittered),
      maxRetries: 20,
      // Small batches, so that a short program makes enough requests for the faults to show.
      maxBatchSize: 5
    })
    yield* program.pipe(
      Effect.provide(
        Mixpanel.layer({ token }).pipe(Layer.provideMerge(remembering(sent).pipe(Layer.provide(consumer))))
      )
    )

    let allMatch = true
    for (const endpoint of endpoints) {
      const expected = (sent.get(endpoint) ?? []).map((json) => JSON.parse(json) as unknown)
      const received = server.received(endpoint)
      // Events may arrive in any order (alias goes ahead of the buffer); profile updates must keep theirs.
      const inOrder = endpoint === "people" || endpoint === "groups"
      const text = (messages: ReadonlyArray<unknown>) => {
        const texts = messages.map((m) => JSON.stringify(m))
        return JSON.stringify(inOrder ? texts : texts.sort())
      }
      const matches = text(received) === text(expected)
      allMatch &&= matches
      yield* Console.log(
        `${endpoint.padEnd(8)} sent ${String(expected.length).padStart(3)}  received ${String(received.length).padStart(3)}  ${matches ? "match" : "MISMATCH"}`
      )
      if (received[0] !== undefined) yield* Console.log(`         e.g. ${JSON.stringify(received[0]).slice(0, 150)}…`)
    }
    const requests = server.requests()
    const failed = requests.filter((r) => r.fault !== undefined).length
    const duplicates = endpoints.reduce((n, endpoint) => n + server.duplicates(endpoint), 0)
    yield* Console.log(
      `\n${requests.length} HTTP requests${faultsRequested ? ` (${failed} failed on purpose, then retried)` : ""}; ` +
        `${duplicates} duplicates removed by $insert_id, as Mixpanel does.`
    )
    yield* Console.log(allMatch ? "Everything sent was received." : "Some messages did not arrive as sent.")
    if (!allMatch) return yield* Effect.fail("the server did not receive what was sent")
  })

const againstMixpanel = (token: Redacted.Redacted) =>
  Effect.gen(function* () {
    const region = yield* Config.literal("US", "EU", "IN")("MIXPANEL_REGION").pipe(Config.withDefault("US" as const))
    yield* Console.log(`Sending to Mixpanel (${region})…`)
    yield* program.pipe(
      Effect.provide(
        Mixpanel.layer({ token }).pipe(
          Layer.provideMerge(
            Consumer.layerBuffered({ region, importAuth: Consumer.projectToken(token), onUndelivered: report })
          )
        )
      )
    )
    yield* Console.log("Mixpanel accepted every message. Look for user-42 in your project.")
  })

/** The demo, given its command-line arguments; the `HttpClient` comes from the caller. */
export const main = (args: ReadonlyArray<string>): Effect.Effect<void, unknown, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const token = yield* Config.option(Config.redacted("MIXPANEL_TOKEN"))
    const faultsFromEnv = yield* Config.boolean("DEMO_FAULTS").pipe(Config.withDefault(false))
    const target = yield* chooseTarget(args, token._tag === "Some" ? token.value : undefined, faultsFromEnv)
    if (target._tag === "Mixpanel") return yield* againstMixpanel(target.token)
    if (target.ignoredToken)
      yield* Console.log("MIXPANEL_TOKEN is set, and ignored: `npm run demo -- --real` sends to that project.")
    yield* againstTestServer(target.faults)
  }).pipe(Effect.scoped)

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const failed = (error: unknown) =>
    Effect.sync(() => {
      console.error(String(error))
      process.exitCode = 1
    })
  main(process.argv.slice(2)).pipe(
    Effect.provide(FetchHttpClient.layer),
    Effect.catchAll(failed),
    Effect.catchAllDefect(failed),
    Effect.runFork
  )
}
