/**
 * An integration test under `TestClock`: the buffered consumer's default retry delays (seconds, with
 * jitter) pass in no time, because the test moves the clock, and lets the real I/O on loopback progress
 * between moves by yielding to Node's event loop. No sleeps.
 */
import { FetchHttpClient } from "@effect/platform"
import { expect, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

/** One turn of Node's event loop, so that sockets can be read and written. */
const tick = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Moves `TestClock` by `step` at a time, letting I/O progress between steps, until `done()` holds. */
const advanceUntil = (done: () => boolean, step: Duration.DurationInput = "1 second", steps = 1000) =>
  Effect.gen(function* () {
    for (let i = 0; i < steps; i++) {
      for (let turn = 0; turn < 50; turn++) {
        if (done()) return
        yield* tick
      }
      yield* TestClock.adjust(step)
    }
    return yield* Effect.dieMessage(`moved the clock ${steps} times, and it still does not hold`)
  })

it.scoped("retries after a 503, on the default schedule, without waiting for it", () =>
  Effect.gen(function* () {
    const server = yield* MixpanelTestServer.make()
    server.fail(MixpanelTestServer.Fault.status(503))
    const MixpanelLive = Mixpanel.layer({ token: "T" }).pipe(
      Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url })),
      Layer.provide(FetchHttpClient.layer)
    )
    yield* Effect.gen(function* () {
      yield* Mixpanel.track("u1", "Signed Up")
      const flush = yield* Effect.fork(Consumer.flush)
      yield* advanceUntil(() => server.received("events").length === 1)
      yield* Fiber.join(flush)
    }).pipe(Effect.provide(MixpanelLive))
    expect(server.requests().map((request) => request.status)).toEqual([503, 200])
  })
)
