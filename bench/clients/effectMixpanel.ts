/**
 * effect-mixpanel through `Consumer.layerBuffered` at its defaults (2000 messages or 2 MiB per request, 4
 * requests in flight, a buffer of 100,000 messages, Mixpanel's retry advice); only `baseUrl` points it at
 * the sink, and `onUndelivered` counts what it reports as not delivered. The layers are built once into a
 * `ManagedRuntime`, before the clock starts. Two ways to call it:
 *
 * - `runFork`: as a plain-JavaScript (or Promise-based) application calls an Effect library, one
 *   `runtime.runFork(Mixpanel.track(id, event, properties))` per event, the fiber left to finish on its
 *   own; at the end `runtime.runPromise(Consumer.flush)` and `runtime.dispose()`. The main row.
 * - `fiber`: as an Effect application calls it, a loop inside one Effect, `yield* mixpanel.track(...)`
 *   per event, then `Consumer.flush` and the runtime's disposal.
 * - `unsafe`: from plain JavaScript through the service's synchronous face, got once with
 *   `runtime.runPromise(Mixpanel.unsafe)`, then `mixpanel.track(...)` per event (no fiber per call).
 * - `runForkWaiting`: as `runFork`, each call's fiber then waiting for a commit that costs nothing, as a
 *   caller of a durable store's "commit" durability waits for its group commit (`durable/groupCommit.ts`):
 *   its resume callback joins the open batch (`Effect.async`), and the batch is resumed at the next turn
 *   of the event loop, after the burst. What that wait costs is what no "commit" caller called through
 *   `runFork` can avoid: a bound on the goal of issue 11 for "commit".
 */
import type * as HttpClient from "@effect/platform/HttpClient"
// Module imports rather than the barrels: a client process loads only what it uses (the barrels of
// `effect` and the platform packages take over a second to load, which only slows the bench down).
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Consumer, Mixpanel } from "effect-mixpanel"
import type { BenchProperties } from "../events.js"
import type { Client, Harness } from "../harness.js"

export type CallStyle = "runFork" | "fiber" | "unsafe" | "runForkWaiting"

/** The callers waiting for the free commit, resumed together at the next turn of the event loop. */
let waiting: Array<() => void> = []

const commitNow = () => {
  const batch = waiting
  waiting = []
  for (const resume of batch) resume()
}

const waitForCommit = Effect.async<void>((resume) => {
  if (waiting.length === 0) setImmediate(commitNow)
  waiting.push(() => resume(Effect.void))
})

const tick = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** `Consumer.flush` within the time left, a failure counted rather than thrown. */
const flush = (harness: Harness) =>
  Consumer.flush.pipe(
    Effect.timeout(harness.remainingMs()),
    Effect.catchAll(() => Effect.sync(() => harness.error()))
  )

/** The events from plain JavaScript, one `call` per event, then a flush. */
const fromJavaScript = async (
  harness: Harness,
  runtime: ManagedRuntime.ManagedRuntime<Mixpanel.Mixpanel | Consumer.Consumer, unknown>,
  call: (distinctId: string, event: string, properties: BenchProperties) => unknown
) => {
  const { n, chunkSize } = harness.spec
  harness.begin()
  for (let from = 0; from < n; from += chunkSize) {
    const to = Math.min(n, from + chunkSize)
    for (let i = from; i < to; i++) {
      const { distinctId, event, properties } = harness.event(i)
      if (harness.sampled(i)) {
        const start = harness.start()
        call(distinctId, event, properties)
        harness.record(start)
      } else call(distinctId, event, properties)
    }
    await harness.pause()
  }
  await runtime.runPromise(flush(harness))
}

/** The events from inside one Effect program, `yield*` per call. */
const inFiber = (harness: Harness) =>
  Effect.gen(function* () {
    const { n, chunkSize } = harness.spec
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
    yield* flush(harness)
  })

/** The consumer of a run, from the options every run sets; and, for a durable one, its bytes on disk so far. */
interface Consumed {
  readonly layer: (options: Consumer.DurableOptions) => Layer.Layer<Consumer.Consumer, unknown, HttpClient.HttpClient>
  readonly written?: () => number
}

const buffered: Consumed = { layer: Consumer.layerBuffered }

/** The client over an `HttpClient` layer, called in `style`. */
export const make =
  (http: Layer.Layer<HttpClient.HttpClient>, style: CallStyle, consumer: Consumed = buffered): Client =>
  async (harness) => {
    let undelivered = 0
    const live = Mixpanel.layer({ token: harness.spec.token }).pipe(
      Layer.provideMerge(
        consumer.layer({
          baseUrl: harness.spec.sinkUrl,
          onUndelivered: (failures) =>
            Effect.sync(() => {
              undelivered += failures.length
            })
        })
      ),
      Layer.provide(http)
    )
    const runtime = ManagedRuntime.make(live)
    // Built now, so that `runFork` finds the runtime ready and the clock does not count the layers.
    await runtime.runtime()
    const before = consumer.written?.() ?? 0
    if (style === "runFork") {
      await fromJavaScript(harness, runtime, (distinctId, event, properties) =>
        runtime.runFork(Mixpanel.track(distinctId, event, properties))
      )
    } else if (style === "runForkWaiting") {
      await fromJavaScript(harness, runtime, (distinctId, event, properties) =>
        runtime.runFork(Effect.zipRight(Mixpanel.track(distinctId, event, properties), waitForCommit))
      )
    } else if (style === "unsafe") {
      const mixpanel = await runtime.runPromise(Mixpanel.unsafe)
      await fromJavaScript(harness, runtime, (distinctId, event, properties) =>
        mixpanel.track(distinctId, event, properties)
      )
    } else await runtime.runPromise(inFiber(harness))
    const diskBytes = consumer.written === undefined ? undefined : consumer.written() - before
    await runtime.dispose()
    return { reportedUndelivered: undelivered, diskBytes }
  }

/** With `FetchHttpClient.layer` from `@effect/platform` (Node's global `fetch`). */
export const fetch = async (style: CallStyle): Promise<Client> =>
  make((await import("@effect/platform/FetchHttpClient")).layer, style)

/**
 * `Consumer.layerDurable` over a SQLite file of its own (in a temporary directory), with undici, called
 * with `runFork`. Its bytes on disk are the bytes this process wrote to storage (`/proc/self/io`, Linux;
 * WAL, checkpoints and all), so they are measured only there.
 */
export const durable = async (durability: "commit" | "async"): Promise<Client> => {
  const [{ DurableStore }, { layerUndici }, fs, os, path] = await Promise.all([
    import("effect-mixpanel/durable"),
    import("@effect/platform-node/NodeHttpClient"),
    import("node:fs"),
    import("node:os"),
    import("node:path")
  ])
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-"))
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  const store = DurableStore.layerSqlite({ filename: path.join(dir, "outbox.db"), durability })
  const written = fs.existsSync("/proc/self/io")
    ? () => Number(/write_bytes: (\d+)/.exec(fs.readFileSync("/proc/self/io", "utf8"))?.[1] ?? 0)
    : undefined
  return make(layerUndici, "runFork", {
    layer: (options) => Consumer.layerDurable(options).pipe(Layer.provide(store)),
    ...(written === undefined ? {} : { written })
  })
}

/** With `NodeHttpClient.layerUndici` from `@effect/platform-node`. */
export const undici = async (style: CallStyle): Promise<Client> =>
  make((await import("@effect/platform-node/NodeHttpClient")).layerUndici, style)
