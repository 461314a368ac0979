/**
 * Request bodies are written into buffers lent to the HTTP client and reused once a request's 2xx answer
 * has been read. What a user could see of that: every message arrives as it was tracked, on every platform
 * client, through faults that end requests before, during and after the server read them; and a client that
 * keeps a request past its answer finds its body empty, never another request's bytes.
 */
import { HttpClient, type HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Consumer, Mixpanel } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"
import { event, harness } from "./support/buffered.js"
import { httpClients } from "./support/io.js"

const { Fault } = MixpanelTestServer

/** About 1 KB of properties that only event `i` has: bodies of 200 events are about 200 KB. */
const pad = (i: number) => `${i}:${"x".repeat(900)}:${i}`

const track = (count: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < count; i++) yield* Mixpanel.track(`u${i % 13}`, "Viewed", { i, pad: pad(i) })
  })

/** How many distinct events arrived, each checked to carry its own pad. */
const intact = (received: ReadonlyArray<Readonly<Record<string, unknown>>>): number => {
  const seen = new Set<number>()
  for (const { properties } of received) {
    const { i, pad: text } = properties as { i: number; pad: string }
    expect(text).toBe(pad(i))
    seen.add(i)
  }
  return seen.size
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array =>
  request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array()

const clients = [...httpClients, { name: "NodeHttpClient (node:http)", layer: NodeHttpClient.layer }]

describe("request bodies lent to the HTTP client", () => {
  for (const client of clients) {
    it.scoped(`on ${client.name}: every event arrives as tracked, through 503s, drops and lost answers`, () =>
      Effect.gen(function* () {
        const h = yield* harness({ token: "T" }, client.layer)
        h.server.failRandomly({
          rate: 0.3,
          seed: 5,
          lostAnswer: 0.1,
          faults: [Fault.status(503), Fault.drop]
        })
        yield* h.drive(
          track(3000).pipe(
            Effect.provide(Mixpanel.layer({ token: "T" })),
            Effect.provide(
              h.layer({ maxBatchSize: 200, maxRetries: 100, maxRetryTime: "1 hour", shutdownTimeout: "1 hour" })
            )
          )
        )
        expect(intact(h.server.received("events"))).toBe(3000)
        expect(h.failures).toEqual([])
        expect(h.server.requests().some((r) => r.fault?._tag === "LostAnswer")).toBe(true)
      })
    )
  }

  it.scoped("gzipped /import bodies: every message arrives as sent, through 503s, drops and lost answers", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      h.server.failRandomly({ rate: 0.3, seed: 7, lostAnswer: 0.1, faults: [Fault.status(503), Fault.drop] })
      const messages = Array.from({ length: 3000 }, (_, i) => event(i, { pad: pad(i) }))
      yield* h.drive(
        Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          yield* consumer.sendBatch("imports", messages)
          yield* consumer.flush
        }).pipe(
          Effect.provide(
            h.layer({
              gzip: true,
              importAuth: Consumer.projectToken("T"),
              maxBatchSize: 200,
              maxRetries: 100,
              maxRetryTime: "1 hour",
              shutdownTimeout: "1 hour"
            })
          )
        )
      )
      expect(intact(h.server.received("imports"))).toBe(3000)
      expect(h.failures).toEqual([])
      expect(h.server.requests().filter((r) => r.fault !== undefined).length).toBeGreaterThan(0)
    })
  )

  it.scoped("a request kept past its answer has its body empty or intact after a 2xx, intact after a 503", () =>
    Effect.gen(function* () {
      const h = yield* harness({ token: "T" })
      h.server.failRandomly({ rate: 0.3, seed: 2, faults: [Fault.status(503)] })
      const kept: Array<{
        readonly request: HttpClientRequest.HttpClientRequest
        readonly sent: Uint8Array
        readonly status: number
      }> = []
      const keeping = (http: HttpClient.HttpClient) =>
        HttpClient.transform(http, (effect, request) =>
          Effect.suspend(() => {
            const sent = Uint8Array.from(bodyOf(request))
            return Effect.tap(effect, (response) =>
              Effect.sync(() => kept.push({ request, sent, status: response.status }))
            )
          })
        )
      yield* h.drive(
        track(2000).pipe(
          Effect.provide(Mixpanel.layer({ token: "T" })),
          Effect.provide(
            h.layer({
              maxBatchSize: 200,
              maxRetries: 100,
              maxRetryTime: "1 hour",
              shutdownTimeout: "1 hour",
              transformClient: keeping
            })
          )
        )
      )
      expect(h.server.received("events").length).toBe(2000)
      expect(h.failures).toEqual([])
      const answered = kept.filter((k) => k.status === 200)
      const refused = kept.filter((k) => k.status === 503)
      expect(answered.length).toBe(10)
      expect(refused.length).toBeGreaterThan(0)
      // after a 2xx, a body is empty (its buffer went back to the pool) or, sent again after a failure, intact
      for (const { request, sent } of answered) {
        expect(sent.length).toBeGreaterThan(64 * 1024)
        const now = bodyOf(request)
        if (now.length > 0) expect(Uint8Array.from(now)).toEqual(sent)
      }
      expect(answered.filter(({ request }) => bodyOf(request).length === 0).length).toBeGreaterThan(0)
      for (const { request, sent } of refused) expect(Uint8Array.from(bodyOf(request))).toEqual(sent)
    })
  )
})
