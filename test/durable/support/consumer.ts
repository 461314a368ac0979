/**
 * The durable consumer against the embedded Mixpanel, as `support/buffered.ts` does it for the buffered
 * one: real HTTP, the store on a real database, `TestClock` moved by `drive` when nothing is on the wire.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { Consumer, type MixpanelError } from "../../../src/index.js"
import { MixpanelTestServer } from "../../../src/testing.js"
import { drive, type Wire, wireLayer } from "../../support/buffered.js"

export interface DurableHarness {
  readonly server: MixpanelTestServer.MixpanelTestServer
  readonly wire: Wire
  /** Everything `onUndelivered` received. */
  readonly failures: Array<Consumer.DeliveryFailure>
  /** The durable consumer over `store`, and the store itself, for the test. */
  readonly layer: <E, R>(
    store: Layer.Layer<DurableStore.DurableStore, E, R>,
    options?: Consumer.DurableOptions
  ) => Layer.Layer<Consumer.Consumer | DurableStore.DurableStore, E | MixpanelError.InvalidConfig, R>
  readonly drive: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
}

export const durableHarness = (serverOptions?: MixpanelTestServer.Options) =>
  Effect.gen(function* () {
    const server = yield* MixpanelTestServer.make(serverOptions)
    const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
    const failures: Array<Consumer.DeliveryFailure> = []
    const harness: DurableHarness = {
      server,
      wire,
      failures,
      layer: (store, options = {}) =>
        Consumer.layerDurable({
          baseUrl: server.url,
          onUndelivered: (batch) => Effect.sync(() => failures.push(...batch)),
          ...options
        }).pipe(Layer.provide(wireLayer(wire)), Layer.provideMerge(store)),
      drive: (effect) => drive(effect, server, wire)
    }
    return harness
  })

/** The store over the application's own client (so that tracking joins its transactions). */
export const storeOn = (sql: SqlClient.SqlClient, options: DurableStore.Options = {}) =>
  DurableStore.layer(options).pipe(Layer.provide(Layer.succeed(SqlClient.SqlClient, sql)))

/** Waits (in the test's clock) until `check` holds, looking every 100 ms, at most `tries` times. */
export const until = <E, R>(check: Effect.Effect<boolean, E, R>, tries = 600): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    for (let i = 0; i < tries; i++) {
      if (yield* check) return
      yield* Effect.sleep("100 millis")
    }
    return yield* Effect.dieMessage("the condition never held")
  })

/** The outbox's messages now. */
export const outboxSize = Effect.map(DurableStore.stats, (stats) => stats.messages)
