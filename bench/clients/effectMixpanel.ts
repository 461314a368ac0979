/**
 * effect-mixpanel: `Mixpanel.track` per event through `Consumer.layerBuffered`, then `Consumer.flush`
 * and the close of the layer's scope, as an Effect application does at the end of a batch job or at
 * shutdown. The consumer runs at its defaults (2000 messages or 2 MiB per request, 4 requests in flight,
 * a buffer of 100,000 messages, Mixpanel's retry advice); only `baseUrl` points it at the sink, and
 * `onUndelivered` counts what it reports as not delivered.
 *
 * The caller is an Effect program, as in an application: each call is `yield* mixpanel.track(...)`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
// Module imports rather than the barrels: a client process loads only what it uses (the barrels of
// `effect` and the platform packages take over a second to load, which only slows the bench down).
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Consumer, Mixpanel } from "effect-mixpanel"
import type { Client } from "../harness.js"

const tick = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** The client over an `HttpClient` layer. */
export const make =
  (http: Layer.Layer<HttpClient.HttpClient>): Client =>
  async (harness) => {
    const { n, chunkSize, sinkUrl, token } = harness.spec
    let undelivered = 0
    const live = Mixpanel.layer({ token }).pipe(
      Layer.provideMerge(
        Consumer.layerBuffered({
          baseUrl: sinkUrl,
          onUndelivered: (failures) =>
            Effect.sync(() => {
              undelivered += failures.length
            })
        })
      ),
      Layer.provide(http)
    )
    const runtime = ManagedRuntime.make(live)
    await runtime.runPromise(Effect.void)

    const program = Effect.gen(function* () {
      const mixpanel = yield* Mixpanel.Mixpanel
      harness.begin()
      for (let from = 0; from < n; from += chunkSize) {
        const to = Math.min(n, from + chunkSize)
        for (let i = from; i < to; i++) {
          const { distinctId, event, properties } = harness.event(i)
          if (harness.sampled(i)) {
            const start = harness.start()
            yield* mixpanel.track(distinctId, event, properties)
            harness.record(start)
          } else yield* mixpanel.track(distinctId, event, properties)
        }
        harness.sampleMemory()
        yield* tick
      }
      yield* Consumer.flush.pipe(
        Effect.timeout(harness.remainingMs()),
        Effect.catchAll(() => Effect.sync(() => harness.error()))
      )
    })
    await runtime.runPromise(program)
    await runtime.dispose()
    return { reportedUndelivered: undelivered }
  }

/** With `FetchHttpClient.layer` from `@effect/platform` (Node's global `fetch`). */
export const fetch = async (): Promise<Client> => make((await import("@effect/platform/FetchHttpClient")).layer)

/** With `NodeHttpClient.layerUndici` from `@effect/platform-node`. */
export const undici = async (): Promise<Client> =>
  make((await import("@effect/platform-node/NodeHttpClient")).layerUndici)
