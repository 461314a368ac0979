/**
 * `npx tsx bench/stages.ts [--n 100000]`: where effect-mixpanel's time per event goes, stage by stage,
 * in one process and without a network. Each stage runs the bench's events through one more piece of the
 * path than the one before (or one piece alone), so that the differences name the cost of each piece:
 * the Effect call itself, the span, the schema, JSON, the whole `track`, the buffer and request building.
 *
 * Figures are nanoseconds per event, the median of 3 timed rounds after a warm-up round. They are
 * wall-clock in a single thread, and so are CPU time too (no I/O is involved).
 */

import { parseArgs } from "node:util"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import { Consumer, Message, Mixpanel } from "effect-mixpanel"
import { body } from "../src/internal/consumer/batch.js"
import { formatTime } from "../src/internal/json.js"
import { makeEvent } from "./events.js"
import { median } from "./stats.js"

const { values } = parseArgs({ options: { n: { type: "string", default: "100000" } } })
const n = Number(values.n)

interface Stage {
  readonly name: string
  readonly what: string
  /** Runs the stage over events `0..n`, returns when done. */
  readonly run: (n: number) => Promise<void>
}

/** A consumer that takes every message and does nothing with it. */
const NoopConsumer = Layer.succeed(Consumer.Consumer, {
  send: () => Effect.void,
  sendBatch: () => Effect.void,
  sendNow: () => Effect.void,
  flush: Effect.void
})

/** An HTTP client that answers every request with Mixpanel's `1` at once, without a network. */
const InstantHttp = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, new Response("1"))))
)

const token = "bench-project-token"
const tracked = Mixpanel.layer({ token })
const noopRuntime = ManagedRuntime.make(tracked.pipe(Layer.provide(NoopConsumer)))
const bufferedRuntime = ManagedRuntime.make(
  tracked.pipe(
    Layer.provideMerge(Consumer.layerBuffered({ baseUrl: "http://127.0.0.1:9" })),
    Layer.provide(InstantHttp)
  )
)

/** An Effect loop over the events, as the bench's client runs it (yielding to the event loop per 1000). */
const loop = (body: (i: number) => Effect.Effect<void, unknown, never>) => (count: number) =>
  Effect.gen(function* () {
    for (let from = 0; from < count; from += 1000) {
      const to = Math.min(count, from + 1000)
      for (let i = from; i < to; i++) yield* body(i)
      yield* Effect.yieldNow()
    }
  })

/** `Mixpanel.track` of each event, into whatever consumer the runtime provides. */
const trackEach = (count: number) =>
  Effect.flatMap(Mixpanel.Mixpanel, (mixpanel) =>
    loop((i) => {
      const { distinctId, event, properties } = makeEvent(i)
      return mixpanel.track(distinctId, event, properties)
    })(count)
  )

const encodeEvent = Schema.encodeEither(Message.Event)
const message = (i: number) => {
  const { distinctId, event, properties } = makeEvent(i)
  return {
    event,
    properties: {
      token,
      distinct_id: distinctId,
      time: 1_736_942_400_000 + i,
      $insert_id: `m3x8k2p9q7r4t6v1w5y0-${i.toString(36)}`,
      mp_lib: "effect-mixpanel",
      $lib_version: "0.1.0",
      ...properties
    }
  }
}

const stages: ReadonlyArray<Stage> = [
  {
    name: "generate",
    what: "makeEvent(i): building the bench's event (every client pays this)",
    run: async (count) => {
      for (let i = 0; i < count; i++) makeEvent(i)
    }
  },
  {
    name: "effect call",
    what: "yield* Effect.void per event in Effect.gen: the price of an Effect API per call",
    run: (count) => Effect.runPromise(loop(() => Effect.void)(count))
  },
  {
    name: "effect call + clock",
    what: "yield* Effect.flatMap(Clock.currentTimeMillis, ...), as track reads the time",
    run: (count) => Effect.runPromise(loop(() => Effect.flatMap(Clock.currentTimeMillis, () => Effect.void))(count))
  },
  {
    name: "effect call + span",
    what: "yield* Effect.withSpan(Effect.void, name, { attributes }), as track traces itself",
    run: (count) =>
      Effect.runPromise(
        loop(() => Effect.withSpan(Effect.void, "Mixpanel.track", { attributes: { endpoint: "events" } }))(count)
      )
  },
  {
    name: "effect call + span, no stack",
    what: "the same span with captureStackTrace: false",
    run: (count) =>
      Effect.runPromise(
        loop(() =>
          Effect.withSpan(Effect.void, "Mixpanel.track", {
            attributes: { endpoint: "events" },
            captureStackTrace: false
          })
        )(count)
      )
  },
  {
    name: "effect call + span, tracer off",
    what: "the span under Effect.withTracerEnabled(false)",
    run: (count) =>
      Effect.runPromise(
        loop(() => Effect.withSpan(Effect.void, "Mixpanel.track", { attributes: { endpoint: "events" } }))(count).pipe(
          Effect.withTracerEnabled(false)
        )
      )
  },
  {
    name: "2 dates, toISOString().slice(0, 19)",
    what: "the seed's date format as json.ts wrote it before be4db3c, for the 2 dates of an event",
    run: async (count) => {
      for (let i = 0; i < count; i++) {
        const { properties } = makeEvent(i)
        properties.signed_up_at.toISOString().slice(0, 19)
        properties.viewed_at.toISOString().slice(0, 19)
      }
    }
  },
  {
    name: "2 dates, by hand",
    what: "json.ts's formatTime (the civil date reckoned from the time, one string of character codes)",
    run: async (count) => {
      for (let i = 0; i < count; i++) {
        const { properties } = makeEvent(i)
        formatTime(properties.signed_up_at.getTime())
        formatTime(properties.viewed_at.getTime())
      }
    }
  },
  {
    name: "schema encode",
    what: "Schema.encodeEither(Message.Event) of the full message (walk, date formatting, checks)",
    run: async (count) => {
      for (let i = 0; i < count; i++) {
        const encoded = encodeEvent(message(i))
        if (Either.isLeft(encoded)) throw new Error(String(encoded.left))
      }
    }
  },
  {
    name: "schema encode + JSON",
    what: "the same, then JSON.stringify of the encoded message",
    run: async (count) => {
      for (let i = 0; i < count; i++) {
        const encoded = encodeEvent(message(i))
        if (Either.isLeft(encoded)) throw new Error(String(encoded.left))
        JSON.stringify(encoded.right)
      }
    }
  },
  {
    name: "JSON only",
    what: "JSON.stringify of the raw message, Dates and all (what the floor does per event)",
    run: async (count) => {
      for (let i = 0; i < count; i++) JSON.stringify(message(i))
    }
  },
  {
    name: "track, no-op consumer",
    what: "yield* Mixpanel.track(...) with a consumer that drops the JSON: the whole service",
    run: (count) => noopRuntime.runPromise(trackEach(count))
  },
  {
    name: "track, no-op consumer, tracer off",
    what: "the same under Effect.withTracerEnabled(false)",
    run: (count) => noopRuntime.runPromise(trackEach(count).pipe(Effect.withTracerEnabled(false)))
  },
  {
    name: "track, layerBuffered, instant HTTP",
    what: "yield* Mixpanel.track(...) into layerBuffered (defaults), then flush; the HttpClient answers at once",
    run: (count) =>
      bufferedRuntime.runPromise(
        Effect.flatMap(Mixpanel.Mixpanel, (mixpanel) =>
          loop((i) => {
            const { distinctId, event, properties } = makeEvent(i)
            return mixpanel.track(distinctId, event, properties)
          })(count)
        ).pipe(Effect.zipRight(Consumer.flush))
      )
  },
  {
    name: "Consumer.send, layerBuffered, instant HTTP",
    what: "pre-encoded messages into layerBuffered, then flush: the buffer, the requests, the responses",
    run: (count) =>
      bufferedRuntime.runPromise(
        Effect.flatMap(Consumer.Consumer, (consumer) =>
          loop((i) => consumer.send("events", encodedMessages[i % encodedMessages.length] ?? "{}"))(count)
        ).pipe(Effect.zipRight(Consumer.flush))
      )
  },
  {
    name: "body: join + encodeURIComponent + bytes",
    what: "a 2000-message form body as transport.ts built it before 984c7ca: data=<encodeURIComponent(JSON)>, then UTF-8",
    run: async (count) => {
      for (let done = 0; done < count; done += 2000) {
        encoder.encode(`data=${encodeURIComponent(`[${encodedMessages.join(",")}]`)}`)
      }
    }
  },
  {
    name: "body: minimal form escape, in the bytes",
    what: "the form body as batch.ts writes it: each message as UTF-8 into one buffer, only % & + = ; escaped there",
    run: async (count) => {
      for (let done = 0; done < count; done += 2000) body("events", encodedMessages)
    }
  },
  {
    name: "body: join + bytes (JSON body)",
    what: "the batch as an application/json body, as Mixpanel's current /track reference shows it",
    run: async (count) => {
      for (let done = 0; done < count; done += 2000) encoder.encode(`[${encodedMessages.join(",")}]`)
    }
  }
]

const encoder = new TextEncoder()

/** 2000 messages as the service encodes them. */
const encodedMessages: ReadonlyArray<string> = Array.from({ length: 2000 }, (_, i) => {
  const encoded = encodeEvent(message(i))
  if (Either.isLeft(encoded)) throw new Error(String(encoded.left))
  return JSON.stringify(encoded.right)
})

const time = async (stage: Stage): Promise<number> => {
  const started = performance.now()
  await stage.run(n)
  return ((performance.now() - started) * 1e6) / n
}

console.log(`ns per event, median of 3 rounds of ${n.toLocaleString("en-US")} events (after one warm-up round)\n`)
for (const stage of stages) {
  await time(stage)
  const rounds: Array<number> = []
  for (let round = 0; round < 3; round++) rounds.push(await time(stage))
  const ns = median(rounds) ?? Number.NaN
  console.log(`${ns.toFixed(0).padStart(8)} ns  ${stage.name.padEnd(42)} ${stage.what}`)
}
await noopRuntime.dispose()
await bufferedRuntime.dispose()
