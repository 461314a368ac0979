/**
 * An integration test of the HTTP path: the buffered consumer against the embedded Mixpanel, which
 * fails the first request. Real time (`it.live`) with short retry delays, so no clock needs moving.
 */
import { FetchHttpClient } from "@effect/platform"
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

it.live("delivers through a flaky Mixpanel", () =>
  Effect.gen(function* () {
    const server = yield* MixpanelTestServer.make()
    server.fail(MixpanelTestServer.Fault.status(503))
    const MixpanelLive = Mixpanel.layer({ token: "T" }).pipe(
      Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url, retrySchedule: Schedule.spaced("10 millis") })),
      Layer.provide(FetchHttpClient.layer)
    )
    // Providing the layer to one effect closes it afterwards, and closing delivers what it holds.
    yield* Mixpanel.track("u1", "Signed Up").pipe(Effect.provide(MixpanelLive))
    expect(server.received("events")).toHaveLength(1)
    expect(server.requests().map((request) => request.status)).toEqual([503, 200])
  }).pipe(Effect.scoped)
)
