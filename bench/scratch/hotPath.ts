/**
 * Scratch for issue 13 (not part of `npm run bench`): the pieces `trackCost.ts` and `prototypes.ts`
 * share. Runtimes over the real layers with a consumer or an HTTP client that costs nothing, the bench's
 * events, and a plain-JavaScript copy of the service's fast path for events (`encodeTracked` in
 * `src/internal/mixpanel.ts`), held equal to the library's output byte for byte by `checkEqual`.
 */
import { parseArgs } from "node:util"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Consumer, Message, Mixpanel } from "effect-mixpanel"
import * as Ids from "../../src/internal/ids.js"
import * as Json from "../../src/internal/json.js"
import { libraryName } from "../../src/internal/mixpanel.js"
import { version } from "../../src/internal/version.js"
import { type BenchEvent, makeEvent } from "../events.js"
import { timed } from "./measure.js"

export const token = "bench-project-token"

/** The bench's first `n` events, built once. */
export const makeEvents = (n: number): ReadonlyArray<BenchEvent> => Array.from({ length: n }, (_, i) => makeEvent(i))

/** The `i`-th of `events`, cycling. */
export const at = (events: ReadonlyArray<BenchEvent>, i: number): BenchEvent =>
  events[i % events.length] ?? makeEvent(i)

/** A consumer that takes every message and does nothing with it. */
export const NoopConsumer = Layer.succeed(Consumer.Consumer, {
  send: () => Effect.void,
  sendBatch: () => Effect.void,
  sendNow: () => Effect.void,
  flush: Effect.void
})

/** A consumer that keeps every message's JSON in `into`. */
export const capturing = (into: Array<string>) =>
  Layer.succeed(Consumer.Consumer, {
    send: (_endpoint, json) => Effect.sync(() => void into.push(json)),
    sendBatch: (_endpoint, jsons) => Effect.sync(() => void into.push(...jsons)),
    sendNow: (_endpoint, json) => Effect.sync(() => void into.push(json)),
    flush: Effect.void
  })

/** An HTTP client that answers every request with Mixpanel's `1` at once, without a network. */
export const InstantHttp = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, new Response("1"))))
)

export type Services = Mixpanel.Mixpanel | Consumer.Consumer

/** `Mixpanel.layer` over `consumer`, built. */
export const runtimeOver = async (
  consumer: Layer.Layer<Consumer.Consumer, unknown>
): Promise<ManagedRuntime.ManagedRuntime<Services, unknown>> => {
  const runtime = ManagedRuntime.make(Mixpanel.layer({ token }).pipe(Layer.provideMerge(consumer)))
  await runtime.runtime()
  return runtime
}

/** `Mixpanel.layer` over `Consumer.layerBuffered` at its defaults, over `InstantHttp`, built. */
export const bufferedRuntime = () =>
  runtimeOver(Consumer.layerBuffered({ baseUrl: "http://127.0.0.1:9" }).pipe(Layer.provide(InstantHttp)))

/** `runtime.runFork(Mixpanel.track(...))` per event, then `Consumer.flush`: the path a plain-JavaScript caller takes. */
export const runForkThenFlush =
  (runtime: ManagedRuntime.ManagedRuntime<Services, unknown>, events: ReadonlyArray<BenchEvent>) =>
  async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const e = at(events, i)
      timed(i, () => runtime.runFork(Mixpanel.track(e.distinctId, e.event, e.properties)))
    }
    await runtime.runPromise(Consumer.flush)
  }

/**
 * What a study starts from: `--n` (events a round) and `--rounds` from the command line, the events, and
 * the JSON the library writes for them (with the runtime that wrote it, to dispose of at the end).
 */
export const study = async () => {
  const { values } = parseArgs({
    options: { n: { type: "string", default: "20000" }, rounds: { type: "string", default: "5" } }
  })
  const n = Number(values.n)
  const events = makeEvents(n)
  const captured: Array<string> = []
  const capture = await runtimeOver(capturing(captured))
  await capture.runPromise(
    Effect.forEach(events, (e) => Mixpanel.track(e.distinctId, e.event, e.properties), { discard: true })
  )
  return { n, rounds: Number(values.rounds), events, captured, capture }
}

/** The service of a runtime. */
export const serviceOf = (runtime: ManagedRuntime.ManagedRuntime<Services, unknown>) =>
  runtime.runSync(Mixpanel.Mixpanel)

/** The consumer of a runtime. */
export const consumerOf = (runtime: ManagedRuntime.ManagedRuntime<Services, unknown>) =>
  runtime.runSync(Consumer.Consumer)

// ---------------------------------------------------------------------------------------------------
// the fast path, in plain JavaScript
// ---------------------------------------------------------------------------------------------------

const librarySetKeys = ["token", "distinct_id", "time", "$insert_id", "mp_lib", "$lib_version"] as const
const fixedJson = `"token":${JSON.stringify(token)}`
const libraryJson = `"mp_lib":${JSON.stringify(libraryName)},"$lib_version":${JSON.stringify(version)}`
const surelySmall = Math.floor(Message.maxMessageBytes / 3)

/** The checks of the fast path before the walk: `undefined` when the event must take the schema's path. */
export const fastPathApplies = (event: string, distinctId: string, time: number, properties: object): boolean =>
  typeof event === "string" &&
  event !== "" &&
  typeof distinctId === "string" &&
  (distinctId.length > 36 || !Message.placeholderIds.has(distinctId.toLowerCase())) &&
  Number.isFinite(time) &&
  time >= 0 &&
  Object.getPrototypeOf(properties) === Object.prototype &&
  !librarySetKeys.some((key) => key in properties)

/** The message's JSON around the walked properties' JSON (`{...}`), as `encodeTracked` writes it. */
export const assemble = (event: string, distinctId: string, time: number, insertId: string, rest: string): string =>
  `{"event":${JSON.stringify(event)},"properties":{${fixedJson},"distinct_id":${JSON.stringify(distinctId)},"time":${time},"$insert_id":"${insertId}",${libraryJson}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}}`

/** The insert-id generator the service uses (a random prefix drawn once, then a counter). */
export const makeInsertIds = (): (() => string) => Effect.runSync(Ids.makeGenerator())

/** `encodeTracked`'s fast path: the message's JSON, or `undefined` where the library takes the schema's path. */
export const makeEncoder = (nextInsertId: () => string) => {
  return (event: string, distinctId: string, time: number, properties: object): string | undefined => {
    const insertId = nextInsertId()
    if (!fastPathApplies(event, distinctId, time, properties)) return undefined
    const walked = Json.toJson(properties, "format")
    if (Json.isIssue(walked)) return undefined
    const json = assemble(event, distinctId, time, insertId, JSON.stringify(walked.value))
    return json.length <= surelySmall ? json : undefined
  }
}

/** A message's JSON with its `time` and `$insert_id` (read from the clock, drawn per service) made `X`. */
const withoutInsertId = (json: string): string =>
  json.replace(/"\$insert_id":"[^"]*"/, `"$insert_id":"X"`).replace(/"time":\d+/, `"time":"X"`)

/** Throws unless `a` and `b` are the same JSON texts but for their `time` and `$insert_id`. */
export const checkEqual = (name: string, a: ReadonlyArray<string>, b: ReadonlyArray<string>): void => {
  if (a.length !== b.length) throw new Error(`${name}: ${a.length} messages against ${b.length}`)
  for (let i = 0; i < a.length; i++) {
    if (withoutInsertId(a[i] ?? "") !== withoutInsertId(b[i] ?? "")) {
      throw new Error(`${name}: message ${i} differs:\n${a[i]}\n${b[i]}`)
    }
  }
}
