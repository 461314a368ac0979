/**
 * Scratch for issue 13 (not part of `npm run bench`): where the time and the allocations of one
 * `runtime.runFork(Mixpanel.track(...))` go, piece by piece, in one process and without a network.
 *
 *   node --expose-gc --import tsx \
 *     bench/scratch/trackCost.ts [--n 20000] [--rounds 5]
 *
 * Each case adds one piece to the one before it or runs one piece alone, so that the differences name
 * the cost of each piece: the fiber `runFork` makes, the accessor, the service's operation, the encoding
 * (walk, `JSON.stringify`, the text around it, the `$insert_id`), the buffered consumer's `send`, the
 * request bodies, and the workers with an HTTP client that answers at once. The HTTP client's own cost
 * (undici, sockets) is not here: `npm run bench:profile` measures it in a real run.
 */
import * as Effect from "effect/Effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import * as Json from "../../src/internal/json.js"
import * as Transport from "../../src/internal/transport.js"
import {
  assemble,
  at,
  bufferedRuntime,
  checkEqual,
  consumerOf,
  makeEncoder,
  makeInsertIds,
  NoopConsumer,
  runForkThenFlush,
  runtimeOver,
  serviceOf,
  study
} from "./hotPath.js"
import { type Case, compare, print } from "./measure.js"

const { n, rounds, events, captured, capture } = await study()

const noop = await runtimeOver(NoopConsumer)
const noopService = serviceOf(noop)
const buffered = await bufferedRuntime()
const bufferedService = serviceOf(buffered)
const bufferedConsumer = consumerOf(buffered)

// The copy of the fast path, held equal to what the library writes.
const encode = makeEncoder(makeInsertIds())
const time = 1_764_000_000_000
const copied = events.map((e) => encode(e.event, e.distinctId, time, e.properties) ?? "")
checkEqual("fast-path copy", captured, copied)

const walked = events.map((e) => {
  const result = Json.toJson(e.properties, "format")
  if (Json.isIssue(result)) throw new Error(result.detail)
  return result.value
})
const rests = walked.map((value) => JSON.stringify(value))
const ids = makeInsertIds()
const baseUrl = new URL("http://127.0.0.1:9")
const batch = captured.slice(0, 2000)

/** `body` over events `0..count`, then the consumer's flush. */
const thenFlush = async (runtime: typeof buffered, body: (count: number) => void | Promise<void>, count: number) => {
  await body(count)
  await runtime.runPromise(Consumer.flush)
}

const cases: ReadonlyArray<Case> = [
  {
    name: "runFork(Effect.void)",
    what: "the fiber: FiberRefs for the fork, a FiberRuntime, its run loop and exit",
    run: (count) => {
      for (let i = 0; i < count; i++) noop.runFork(Effect.void)
    }
  },
  {
    name: "runFork(Mixpanel tag)",
    what: "+ the accessor's lookup of the service (Effect.flatMap(Mixpanel, ...))",
    run: (count) => {
      for (let i = 0; i < count; i++) noop.runFork(Effect.flatMap(Mixpanel.Mixpanel, () => Effect.void))
    }
  },
  {
    name: "runFork(Mixpanel.track), no-op consumer",
    what: "+ the service: operation, clock, encoding, consumer.send returning Effect.void",
    run: (count) => {
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        noop.runFork(Mixpanel.track(e.distinctId, e.event, e.properties))
      }
    }
  },
  {
    name: "runFork(service.track), no-op consumer",
    what: "the same without the accessor (the service taken once)",
    run: (count) => {
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        noop.runFork(noopService.track(e.distinctId, e.event, e.properties))
      }
    }
  },
  {
    name: "in a fiber: yield* service.track, no-op",
    what: "the service's work per call inside one fiber (no fork)",
    run: (count) =>
      noop.runPromise(
        Effect.gen(function* () {
          for (let i = 0; i < count; i++) {
            const e = at(events, i)
            yield* noopService.track(e.distinctId, e.event, e.properties)
          }
        })
      )
  },
  {
    name: "encode: plain-JS copy of the fast path",
    what: "checks + $insert_id + walk + JSON.stringify + the text around it, no Effect",
    run: (count) => {
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        encode(e.event, e.distinctId, time, e.properties)
      }
    }
  },
  {
    name: "encode: $insert_id",
    what: "nextInsertId(): prefix + counter in base 36",
    run: (count) => {
      for (let i = 0; i < count; i++) ids()
    }
  },
  {
    name: "encode: walk",
    what: "Json.toJson(properties, 'format'): the checks, dates formatted (a copy of the object)",
    run: (count) => {
      for (let i = 0; i < count; i++) Json.toJson(at(events, i).properties, "format")
    }
  },
  {
    name: "encode: JSON.stringify",
    what: "JSON.stringify of the walked properties",
    run: (count) => {
      for (let i = 0; i < count; i++) JSON.stringify(walked[i % walked.length])
    }
  },
  {
    name: "encode: text around",
    what: "the message's JSON around the properties' JSON (template, 2 small stringify, slice)",
    run: (count) => {
      for (let i = 0; i < count; i++) {
        const e = at(events, i)
        assemble(e.event, e.distinctId, time, "m3x8k2p9q7r4t6v1w5y0-1a2b", rests[i % rests.length] ?? "{}")
      }
    }
  },
  {
    name: "consumer.send in a fiber, + flush",
    what: "pre-encoded JSON into layerBuffered; workers, request bodies, instant HTTP",
    run: (count) =>
      thenFlush(
        buffered,
        (c) =>
          buffered.runPromise(
            Effect.gen(function* () {
              for (let i = 0; i < c; i++) yield* bufferedConsumer.send("events", captured[i % captured.length] ?? "")
            })
          ),
        count
      )
  },
  {
    name: "request bodies: makeRequest per 2000",
    what: "Transport.makeRequest: join, form escape, UTF-8 bytes (per event)",
    run: (count) => {
      for (let done = 0; done < count; done += 2000) {
        Effect.runSync(Transport.makeRequest(baseUrl, {}, "events", batch, "r"))
      }
    }
  },
  {
    name: "runFork(Mixpanel.track), buffered, + flush",
    what: "the whole runFork path into layerBuffered, instant HTTP",
    run: runForkThenFlush(buffered, events)
  },
  {
    name: "in a fiber: service.track, buffered, + flush",
    what: "the whole in-fiber path into layerBuffered, instant HTTP",
    run: (count) =>
      thenFlush(
        buffered,
        (c) =>
          buffered.runPromise(
            Effect.gen(function* () {
              for (let i = 0; i < c; i++) {
                const e = at(events, i)
                yield* bufferedService.track(e.distinctId, e.event, e.properties)
              }
            })
          ),
        count
      )
  }
]

print(
  `track's cost by piece: ${n.toLocaleString("en-US")} events a round, medians of ${rounds} rounds`,
  await compare(cases, n, rounds)
)
await Promise.all([noop.dispose(), buffered.dispose(), capture.dispose()])
