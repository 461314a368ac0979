/**
 * Scratch for issue 13 (not part of `npm run bench`): the cheapest design changes to `track`'s hot path,
 * each prototyped here (not in `src/`) and measured against what the library does today, side by side in
 * one process, without a network.
 *
 *   node --expose-gc --import tsx \
 *     bench/scratch/prototypes.ts [--n 20000] [--rounds 5]
 *
 * 1. A synchronous facade for callers outside Effect: validates and encodes in plain JavaScript and hands
 *    the JSON to the real buffered consumer's synchronous `offer` (the body of its `send`), forking a
 *    fiber only when that returns work to do (a wait for room, a report); returns the typed error.
 * 2. Serializing per batch in the worker: the call checks (the walk) and keeps the walked properties; the
 *    worker writes the JSON when it takes the batch, per message or as one `JSON.stringify` of the batch.
 * 3. Cheaper `$insert_id`s.
 * 4. Fewer allocations in the walk (one reused walk state, no result wrapper).
 * 5. Request bodies from bytes: each message's form-escaped UTF-8 bytes made at `offer`, a body the
 *    concatenation of its messages' bytes, or each message written at `offer` into its batch's one
 *    growing `Buffer` (today: join, escape and encode per request).
 *
 * Every prototype's output is held equal to the library's, byte for byte.
 */
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import type { MixpanelError as Errors } from "effect-mixpanel"
import { Consumer, Mixpanel } from "effect-mixpanel"
import * as Json from "../../src/internal/json.js"
import * as Transport from "../../src/internal/transport.js"
import type { BenchEvent } from "../events.js"
import {
  assemble,
  at,
  bufferedRuntime,
  checkEqual,
  consumerOf,
  fastPathApplies,
  makeEncoder,
  makeInsertIds,
  runForkThenFlush,
  serviceOf,
  study,
  token
} from "./hotPath.js"
import { type Case, compare, print, record, timed } from "./measure.js"

const { n, rounds, events, captured, capture } = await study()
const time = 1_764_000_000_000

// ---------------------------------------------------------------------------------------------------
// 1. a synchronous facade
// ---------------------------------------------------------------------------------------------------

type Runtime = Awaited<ReturnType<typeof bufferedRuntime>>

/**
 * `track` for callers outside Effect, without a fiber per call: the fast path in plain JavaScript, then
 * the consumer's `send` run synchronously. Its `send` is `Effect.suspend(() => offer(...))` and `offer`
 * does its work in plain code, returning `Effect.void` unless something must wait or be reported, so the
 * prototype runs the suspended body itself (the library would expose its `offer` to the facade instead).
 * Whatever is not on the fast path goes through the service in a fiber, as today, so errors stay typed.
 */
const makeFacade = (runtime: Runtime) => {
  const service = serviceOf(runtime)
  const consumer = consumerOf(runtime)
  const clock = runtime.runSync(Effect.clock)
  const encode = makeEncoder(makeInsertIds())
  const slow = (distinctId: string, event: string, properties: object): Errors.MixpanelError | undefined =>
    runtime.runSync(
      Effect.match(service.track(distinctId, event, properties as Record<string, never>), {
        onFailure: (error) => error,
        onSuccess: () => undefined
      })
    )
  return (distinctId: string, event: string, properties: object): Errors.MixpanelError | undefined => {
    const json = encode(event, distinctId, clock.unsafeCurrentTimeMillis(), properties)
    if (json === undefined) return slow(distinctId, event, properties)
    const step = consumer.send("events", json) as Effect.Effect<void, Errors.MixpanelError> & {
      readonly commit?: () => Effect.Effect<void, Errors.MixpanelError>
    }
    const next = step.commit === undefined ? step : step.commit()
    if (next !== Effect.void) runtime.runFork(next)
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. serializing per batch
// ---------------------------------------------------------------------------------------------------

/** What the call keeps when it checks but does not serialize. */
interface Checked {
  readonly event: string
  readonly distinctId: string
  readonly time: number
  readonly insertId: string
  readonly properties: unknown
}

const check = (nextInsertId: () => string, e: BenchEvent): Checked | undefined => {
  const insertId = nextInsertId()
  if (!fastPathApplies(e.event, e.distinctId, time, e.properties)) return undefined
  const walked = Json.toJson(e.properties, "format")
  if (Json.isIssue(walked)) return undefined
  return { event: e.event, distinctId: e.distinctId, time, insertId, properties: walked.value }
}

/** The batch's messages as today's `json` strings, written when the worker takes the batch. */
const writePerMessage = (batch: ReadonlyArray<Checked>): Array<string> =>
  batch.map((m) => assemble(m.event, m.distinctId, m.time, m.insertId, JSON.stringify(m.properties)))

/** The batch's JSON array in one `JSON.stringify`, from one wire object per message. */
const writeWhole = (batch: ReadonlyArray<Checked>): string =>
  JSON.stringify(
    batch.map((m) => ({
      event: m.event,
      properties: {
        token,
        distinct_id: m.distinctId,
        time: m.time,
        $insert_id: m.insertId,
        mp_lib: "effect-mixpanel",
        $lib_version: version,
        ...(m.properties as object)
      }
    }))
  )

const { version } = await import("../../src/internal/version.js")

// ---------------------------------------------------------------------------------------------------
// 4. a walk with fewer allocations
// ---------------------------------------------------------------------------------------------------

/**
 * `Json.toJson` for the common case with one walk state reused across calls and no `{ value }` wrapper:
 * returns the value, or `failed` (the caller then runs `Json.toJson` again for the path and the detail).
 */
const failed: unique symbol = Symbol("failed")
const stack: Array<object> = []
const walkValue = (value: unknown): unknown => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value
    case "number":
      return Number.isFinite(value) ? value : failed
    case "object":
      return value === null ? null : walkObject(value)
    default:
      return failed
  }
}
const walkObject = (value: object): unknown => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? failed : Json.formatDate(value)
  if (stack.includes(value) || stack.length >= Json.maxDepth) return failed
  stack.push(value)
  let result: unknown
  if (Array.isArray(value)) {
    let copy: Array<unknown> | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const walked = walkValue(item)
      if (walked === failed) {
        result = failed
        break
      }
      if (walked !== item) {
        copy ??= value.slice()
        copy[i] = walked
      }
    }
    result ??= copy ?? value
  } else {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) result = failed
    else {
      let copy: Record<string, unknown> | undefined
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key]
        const walked = walkValue(item)
        if (walked === failed) {
          result = failed
          break
        }
        if (walked !== item) {
          copy ??= { ...value }
          copy[key] = walked
        }
      }
      result ??= copy ?? value
    }
  }
  stack.pop()
  return result
}
const walkLean = (value: unknown): unknown => {
  stack.length = 0
  return walkValue(value)
}

// ---------------------------------------------------------------------------------------------------
// 5. request bodies from bytes
// ---------------------------------------------------------------------------------------------------

const formEscapes: Readonly<Record<string, string>> = { "%": "%25", "&": "%26", "+": "%2B", "=": "%3D", ";": "%3B" }
const escapeForm = (json: string) => json.replace(/[%&+=;]/g, (c) => formEscapes[c] ?? c)
const open = Buffer.from("data=[")
const comma = Buffer.from(",")
const close = Buffer.from("]")

/** A form body from messages already escaped and encoded at `offer`. */
const bodyFromBytes = (chunks: ReadonlyArray<Buffer>): Buffer => {
  const parts: Array<Buffer> = [open]
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0) parts.push(comma)
    parts.push(chunks[i] as Buffer)
  }
  parts.push(close)
  return Buffer.concat(parts)
}

/**
 * One batch's form body, written message by message into one growing `Buffer` as they are accepted:
 * no string per request, no per-message `Buffer`, and a waiting message holds only its bytes.
 */
class BodyArena {
  private buffer = Buffer.allocUnsafe(64 * 1024)
  private length = open.copy(this.buffer, 0)
  private count = 0

  append(json: string): void {
    const escaped = escapeForm(json)
    // At most 3 bytes per UTF-16 unit, and a comma.
    const room = escaped.length * 3 + 2
    if (this.length + room > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + room))
      this.buffer.copy(bigger, 0, 0, this.length)
      this.buffer = bigger
    }
    if (this.count++ > 0) this.buffer[this.length++] = 0x2c
    this.length += this.buffer.write(escaped, this.length, "utf8")
  }

  body(): Buffer {
    this.buffer[this.length] = 0x5d
    return this.buffer.subarray(0, this.length + 1)
  }
}

const arenaOf = (messages: ReadonlyArray<string>): BodyArena => {
  const arena = new BodyArena()
  for (const json of messages) arena.append(json)
  return arena
}

// ---------------------------------------------------------------------------------------------------
// equality checks
// ---------------------------------------------------------------------------------------------------

const baseUrl = new URL("http://127.0.0.1:9")
const bodyOf = (messages: ReadonlyArray<string>): Uint8Array => {
  const request = Effect.runSync(Transport.makeRequest(baseUrl, {}, "events", messages, "r"))
  const body = request.body
  if (body._tag !== "Uint8Array") throw new Error(`body is ${body._tag}`)
  return body.body
}

{
  const ids = makeInsertIds()
  const checked = events.map((e) => check(ids, e) as Checked)
  checkEqual("per message in the worker", captured, writePerMessage(checked))
  const whole = writeWhole(checked.slice(0, 2000))
  if (whole !== `[${writePerMessage(checked.slice(0, 2000)).join(",")}]`) {
    throw new Error("one JSON.stringify per batch writes other bytes")
  }
  for (const e of events.slice(0, 2000)) {
    if (
      JSON.stringify(walkLean(e.properties)) !==
      JSON.stringify((Json.toJson(e.properties, "format") as { value: unknown }).value)
    ) {
      throw new Error("the lean walk differs")
    }
  }
  const sample = captured.slice(0, 2000)
  const fromBytes = bodyFromBytes(sample.map((json) => Buffer.from(escapeForm(json))))
  if (Buffer.compare(fromBytes, Buffer.from(bodyOf(sample))) !== 0) throw new Error("the body from bytes differs")
  if (Buffer.compare(arenaOf(sample).body(), Buffer.from(bodyOf(sample))) !== 0) throw new Error("the arena differs")
}

// ---------------------------------------------------------------------------------------------------
// the cases
// ---------------------------------------------------------------------------------------------------

const buffered = await bufferedRuntime()
const facadeRuntime = await bufferedRuntime()
const facade = makeFacade(facadeRuntime)
{
  // The facade's messages on the wire are the library's.
  const bad = facade("u1", "", {})
  if (bad?._tag !== "InvalidMessage") throw new Error(`the facade let an empty event name through: ${String(bad)}`)
}

const batches = (count: number, size: number) => Math.ceil(count / size)

/** Today's request bodies: `Transport.makeRequest` per 2000 messages. */
const todayBodies: Case = {
  name: "today: makeRequest per 2000",
  what: "join 2000 strings, form escape, TextEncoder (per event)",
  run: (count) => {
    for (let b = 0; b < batches(count, 2000); b++) bodyOf(captured.slice(b * 2000, b * 2000 + 2000))
  }
}

const facadeCases: ReadonlyArray<Case> = [
  {
    name: "today: runFork(Mixpanel.track) + flush",
    what: "runtime.runFork per event into layerBuffered (instant HTTP), then Consumer.flush",
    run: runForkThenFlush(buffered, events)
  },
  {
    name: "today: in a fiber, yield* track + flush",
    what: "the same calls from inside one Effect (an Effect application's way)",
    run: (count) =>
      buffered.runPromise(
        Effect.gen(function* () {
          const service = yield* Mixpanel.Mixpanel
          for (let i = 0; i < count; i++) {
            const e = at(events, i)
            if (i % 4 !== 0) yield* service.track(e.distinctId, e.event, e.properties)
            else {
              // timed by hand: `timed` takes a plain function
              const start = process.hrtime.bigint()
              yield* service.track(e.distinctId, e.event, e.properties)
              record(Number(process.hrtime.bigint() - start))
            }
          }
          yield* Consumer.flush
        })
      )
  },
  {
    name: "1+2c+5c. checks in the call, JSON in a worker",
    what: "a sketch of all three: the call checks and appends a record; per 2000, JSON written into one Buffer",
    run: async (count) => {
      const ids = makeInsertIds()
      let open: Array<Checked> = []
      const ready: Array<Array<Checked>> = []
      for (let i = 0; i < count; i++) {
        timed(i, () => {
          const checked = check(ids, at(events, i))
          if (checked === undefined) throw new Error("not on the fast path")
          open.push(checked)
          if (open.length === 2000) {
            ready.push(open)
            open = []
          }
        })
      }
      if (open.length > 0) ready.push(open)
      // the worker's side, after the calls (no engine bookkeeping, no HTTP)
      for (const batch of ready) arenaOf(writePerMessage(batch)).body()
    }
  },
  {
    name: "1. sync facade + flush",
    what: "validate + encode in plain JS, the consumer's offer run synchronously, no fiber per call",
    run: async (count) => {
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        timed(i, () => facade(e.distinctId, e.event, e.properties))
      }
      await facadeRuntime.runPromise(Consumer.flush)
    }
  }
]

const serializeCases: ReadonlyArray<Case> = [
  {
    name: "today: the call encodes (walk + stringify)",
    what: "per call: checks, $insert_id, walk, JSON.stringify, the text around",
    run: (count) => {
      const encode = makeEncoder(makeInsertIds())
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        encode(e.event, e.distinctId, time, e.properties)
      }
    }
  },
  todayBodies,
  {
    name: "2. the call checks only (walk, keeps it)",
    what: "per call: checks, $insert_id, walk; a record of 5 fields kept",
    run: (count) => {
      const ids = makeInsertIds()
      for (let i = 0; i < count; i++) check(ids, at(events, i))
    }
  },
  {
    name: "2a. worker: JSON per message, then body",
    what: "per batch: the text of each message as today, then join, escape, bytes",
    run: (count) => {
      const ids = makeInsertIds()
      const checked = events.slice(0, Math.min(count, 2000)).map((e) => check(ids, e) as Checked)
      for (let b = 0; b < batches(count, 2000); b++) bodyOf(writePerMessage(checked))
    }
  },
  {
    name: "2b. worker: one JSON.stringify per batch, body",
    what: "per batch: one wire object per message, one JSON.stringify, escape, bytes",
    run: (count) => {
      const ids = makeInsertIds()
      const checked = events.slice(0, Math.min(count, 2000)).map((e) => check(ids, e) as Checked)
      for (let b = 0; b < batches(count, 2000); b++) {
        new TextEncoder().encode(Transport.formData(writeWhole(checked)))
      }
    }
  },
  {
    name: "2c. worker: JSON per message into the Buffer",
    what: "per batch: the text of each message as today, escaped and written into one Buffer (5c)",
    run: (count) => {
      const ids = makeInsertIds()
      const checked = events.slice(0, Math.min(count, 2000)).map((e) => check(ids, e) as Checked)
      for (let b = 0; b < batches(count, 2000); b++) arenaOf(writePerMessage(checked)).body()
    }
  }
]

const idCases: ReadonlyArray<Case> = [
  {
    name: "3. today: prefix-counter in base 36",
    what: "prefix, a dash and the counter in base 36",
    run: (count) => {
      const next = makeInsertIds()
      for (let i = 0; i < count; i++) next()
    }
  },
  {
    name: "3a. prefix + decimal counter",
    what: "prefix, a dash and the counter in decimal",
    run: (count) => {
      const prefix = "m3x8k2p9q7r4t6v1w5y0"
      let counter = 0
      for (let i = 0; i < count; i++) `${prefix}-${counter++}`
    }
  },
  {
    name: "3b. crypto.randomUUID()",
    what: "what most SDKs use",
    run: (count) => {
      for (let i = 0; i < count; i++) randomUUID()
    }
  }
]

const walkCases: ReadonlyArray<Case> = [
  {
    name: "4. today: Json.toJson(properties)",
    what: "a walk state and a path array per call, a { value } wrapper",
    run: (count) => {
      for (let i = 0; i < count; i++) Json.toJson(at(events, i).properties, "format")
    }
  },
  {
    name: "4a. lean walk",
    what: "one reused walk state, the value returned as it is",
    run: (count) => {
      for (let i = 0; i < count; i++) walkLean(at(events, i).properties)
    }
  }
]

const bodyCases: ReadonlyArray<Case> = [
  todayBodies,
  {
    name: "5a. at offer: escape + Buffer.from per message",
    what: "the work moved into the call (per event)",
    run: (count) => {
      for (let i = 0; i < count; i++) Buffer.from(escapeForm(captured[i % captured.length] ?? ""))
    }
  },
  {
    name: "5b. per batch: Buffer.concat of the messages",
    what: "the body from the messages' bytes (per event)",
    run: (count) => {
      const chunks = captured.slice(0, 2000).map((json) => Buffer.from(escapeForm(json)))
      for (let b = 0; b < batches(count, 2000); b++) bodyFromBytes(chunks)
    }
  },
  {
    name: "5c. at offer: escape + write into the batch's Buffer",
    what: "each message written into its batch's one growing Buffer; the body a view of it",
    run: (count) => {
      for (let b = 0; b < batches(count, 2000); b++) arenaOf(captured.slice(b * 2000, b * 2000 + 2000)).body()
    }
  }
]

const title = (what: string) => `${what}: ${n.toLocaleString("en-US")} events a round, medians of ${rounds} rounds`
print(title("1. synchronous facade"), await compare(facadeCases, n, rounds))
print(title("2. serializing per batch"), await compare(serializeCases, n, rounds))
print(title("3. $insert_id"), await compare(idCases, n, rounds))
print(title("4. the walk"), await compare(walkCases, n, rounds))
print(title("5. request bodies"), await compare(bodyCases, n, rounds))

// What a queued message holds while it waits: today a JSON string, with 2 a record and the walked copy.
const retained = async (make: () => unknown): Promise<number> => {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  // Small Buffers live in pooled ArrayBuffers, outside the JavaScript heap.
  const used = () => {
    const usage = process.memoryUsage()
    return usage.heapUsed + usage.arrayBuffers
  }
  const before = used()
  const kept = make()
  gc?.()
  const after = used()
  if (kept === undefined) throw new Error("nothing kept")
  return (after - before) / n
}
const ids = makeInsertIds()
const encode = makeEncoder(makeInsertIds())
console.log(`\nheld per waiting message, after a GC (the events themselves are the caller's, held anyway):`)
// `offer` measures each message with `Buffer.byteLength`, which flattens the JSON's rope in place.
const flattened = (json: string | undefined) => {
  Buffer.byteLength(json ?? "")
  return json
}
console.log(
  `  today, its JSON string:           ${(await retained(() => events.map((e) => flattened(encode(e.event, e.distinctId, time, e.properties))))).toFixed(0)} B`
)
console.log(
  `  2, the checked record:            ${(await retained(() => events.map((e) => check(ids, e)))).toFixed(0)} B`
)
console.log(
  `  5a, its escaped UTF-8 bytes:      ${(await retained(() => captured.map((json) => Buffer.from(escapeForm(json))))).toFixed(0)} B`
)
console.log(
  `  5c, its bytes in the batch's body: ${(await retained(() => Array.from({ length: batches(n, 2000) }, (_, b) => arenaOf(captured.slice(b * 2000, b * 2000 + 2000))))).toFixed(0)} B`
)

await Promise.all([buffered.dispose(), facadeRuntime.dispose(), capture.dispose()])
