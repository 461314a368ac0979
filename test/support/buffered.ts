/**
 * The buffered consumer against a real HTTP server (`MixpanelTestServer`) with faults, under `TestClock`.
 *
 * Real I/O and a fake clock meet in `drive`: it runs the program on a fiber and, while that fiber is not
 * done, yields to the event loop; once no request is on the wire except those the server is stalling on
 * purpose, it moves the clock to the next sleep (a retry, a timeout, the periodic flush, a deadline). So
 * time only passes when nothing real is happening, and a request never times out because a test was slow.
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Chunk, Clock, Effect, Fiber, Layer, Metric, MetricState, TestClock } from "effect"
import { Consumer, type MixpanelError } from "../../src/index.js"
import { MixpanelTestServer } from "../../src/testing.js"

// ---------------------------------------------------------------------------------------------------
// harness
// ---------------------------------------------------------------------------------------------------

/** What the client side saw: requests on the wire now, requests interrupted, and when each one started. */
export interface Wire {
  inFlight: number
  interrupted: number
  readonly log: Array<{ readonly at: number; readonly requestId: string; readonly path: string }>
}

export const wireLayer = (
  wire: Wire,
  platform: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer
): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.transform(client, (effect, request) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => {
          wire.inFlight++
          wire.log.push({ at, requestId: request.headers["x-request-id"] ?? "", path: new URL(request.url).pathname })
          return effect.pipe(
            Effect.onInterrupt(() => Effect.sync(() => wire.interrupted++)),
            Effect.ensuring(Effect.sync(() => wire.inFlight--))
          )
        })
      )
    )
  ).pipe(Layer.provide(platform))

export const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

const timersPhase = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

/** Runs `effect` to its end, moving the `TestClock` only while no real request is in progress. */
export const drive = <A, E>(
  effect: Effect.Effect<A, E>,
  server: MixpanelTestServer.MixpanelTestServer | undefined,
  wire: Wire
): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    let quiet = 0
    while (fiber.unsafePoll() === null) {
      yield* turn
      const stalled = server === undefined ? 0 : server.requests().filter((r) => r.fault?._tag === "Stall").length
      quiet = wire.inFlight <= Math.max(0, stalled - wire.interrupted) ? quiet + 1 : 0
      if (quiet >= 10) {
        quiet = 0
        // And a timers phase: Effect's scheduler hands long runs of work to `setTimeout`, which the turns
        // above can all come before (a shutdown's last steps, under load); the clock moves only if the
        // program is still waiting then
        yield* timersPhase
        if (fiber.unsafePoll() !== null || wire.inFlight > Math.max(0, stalled - wire.interrupted)) continue
        const now = yield* Clock.currentTimeMillis
        const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
        const next = sleeps.length === 0 ? now + 1000 : Math.min(...sleeps)
        yield* TestClock.adjust(Math.max(1, next - now))
      }
    }
    return yield* Fiber.join(fiber)
  })

export interface Harness {
  readonly server: MixpanelTestServer.MixpanelTestServer
  readonly wire: Wire
  /** Everything `onUndelivered` received. */
  readonly failures: Array<Consumer.DeliveryFailure>
  readonly layer: (options?: Consumer.BufferedOptions) => Layer.Layer<Consumer.Consumer, MixpanelError.InvalidConfig>
  readonly drive: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
}

/** A test server, and buffered consumers on `platform` (Fetch unless given) that send to it. */
export const harness = (
  serverOptions?: MixpanelTestServer.Options,
  platform: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer
) =>
  Effect.gen(function* () {
    const server = yield* MixpanelTestServer.make(serverOptions)
    const wire: Wire = { inFlight: 0, interrupted: 0, log: [] }
    const failures: Array<Consumer.DeliveryFailure> = []
    const harness: Harness = {
      server,
      wire,
      failures,
      layer: (options = {}) =>
        Consumer.layerBuffered({
          baseUrl: server.url,
          onUndelivered: (batch) => Effect.sync(() => failures.push(...batch)),
          ...options
        }).pipe(Layer.provide(wireLayer(wire, platform))),
      drive: (effect) => drive(effect, server, wire)
    }
    return harness
  })

export const T0 = 1_732_780_800_000

/** An event as JSON, with `$insert_id` `ev-<i>`. */
export const event = (i: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    event: "Played",
    properties: { token: "T", distinct_id: `u${i % 7}`, time: T0 + i, $insert_id: `ev-${i}`, i, ...extra }
  })

export const insertId = (json: string): string =>
  (JSON.parse(json) as { properties: { $insert_id: string } }).properties.$insert_id

export const indexOf = (item: MixpanelTestServer.JsonObject): number => (item.properties as { i: number }).i

export const sendAll = (endpoint: Consumer.Endpoint, messages: ReadonlyArray<string>) =>
  Effect.flatMap(Consumer.Consumer, (consumer) =>
    Effect.forEach(messages, (m) => consumer.send(endpoint, m), { discard: true })
  )

export const range = (from: number, to: number): Array<number> => Array.from({ length: to - from }, (_, i) => from + i)

/** A counter's count or a gauge's value, by name and exact tags, as a metrics exporter reads them. */
export const metric = (name: string, tags: Record<string, string>): Effect.Effect<number> =>
  Effect.map(Metric.snapshot, (pairs) => {
    let total = 0
    for (const { metricKey, metricState } of pairs) {
      if (metricKey.name !== name || metricKey.tags.length !== Object.keys(tags).length) continue
      if (!metricKey.tags.every((label) => tags[label.key] === label.value)) continue
      if (MetricState.isCounterState(metricState)) total += Number(metricState.count)
      else if (MetricState.isGaugeState(metricState)) total += Number(metricState.value)
    }
    return total
  })

export const depth = (endpoint: Consumer.Endpoint) => metric("mixpanel_buffer_depth", { endpoint })
