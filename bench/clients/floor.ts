/**
 * The floor: what this job costs with nothing but the job. `track` appends the event, with the fields
 * Mixpanel needs (token, distinct id, time), to an array; every 2000 events the array joins a queue of
 * batches. At most 4 requests are in flight, as effect-mixpanel's buffered consumer keeps at its defaults
 * (`maxConcurrentRequests` 4): when one ends, the next batch is `JSON.stringify`-ed (once, as a whole) and
 * POSTed to `/import` through a keep-alive `http.Agent`. A batch waits as objects, not as text, as ours
 * waits as messages: the floor's memory is that of the job too. No validation, no ids, no retry: the
 * physical limit of sending these events from this process on this machine, with our concurrency.
 */
import * as Http from "node:http"
import type { BenchEvent } from "../events.js"
import type { Client } from "../harness.js"

const batchSize = 2000

/** effect-mixpanel's default `maxConcurrentRequests`. */
const inFlight = 4

/** The floor, each `track` call made through `call` (the floor itself calls it directly). */
export const make =
  (call: (track: (event: BenchEvent) => void, event: BenchEvent) => void): Client =>
  async (harness) => {
    const { n, chunkSize, sinkUrl, token } = harness.spec
    const url = new URL(sinkUrl)
    const agent = new Http.Agent({ keepAlive: true, maxSockets: inFlight })

    /** Resolves with the number of events the sink did not accept. */
    const post = (events: ReadonlyArray<unknown>): Promise<number> => {
      const body = JSON.stringify(events)
      return new Promise((resolve) => {
        const request = Http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: "/import",
            method: "POST",
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
          },
          (response) => {
            response.resume()
            response.on("end", () => resolve(response.statusCode === 200 ? 0 : events.length))
          }
        )
        request.on("error", () => resolve(events.length))
        request.end(body)
      })
    }

    const ready: Array<ReadonlyArray<unknown>> = []
    let active = 0
    let lost = 0
    let failedRequests = 0
    let idle: (() => void) | undefined
    /** Starts requests for waiting batches while fewer than `inFlight` are running. */
    const pump = (): void => {
      while (active < inFlight) {
        const next = ready.shift()
        if (next === undefined) {
          if (active === 0) idle?.()
          return
        }
        active++
        void post(next).then((count) => {
          active--
          lost += count
          if (count > 0) failedRequests++
          pump()
        })
      }
    }

    let batch: Array<unknown> = []
    const track = (event: BenchEvent) => {
      batch.push({
        event: event.event,
        // Mixpanel's fields first: added after a spread of 13 properties, V8 gives every copy a map of its
        // own, a copy then costs about 10 µs instead of 2 and its JSON a tenth more (docs/benchmarks.md)
        properties: { token, distinct_id: event.distinctId, time: Date.now(), ...event.properties }
      })
      if (batch.length === batchSize) {
        ready.push(batch)
        batch = []
        pump()
      }
    }

    harness.begin()
    for (let from = 0; from < n; from += chunkSize) {
      const to = Math.min(n, from + chunkSize)
      for (let i = from; i < to; i++) {
        const event = harness.event(i)
        if (harness.sampled(i)) {
          const start = harness.start()
          call(track, event)
          harness.record(start)
        } else call(track, event)
      }
      await harness.pause()
    }
    if (batch.length > 0) ready.push(batch)
    await new Promise<void>((resolve) => {
      idle = resolve
      pump()
    })
    harness.error(failedRequests)
    agent.destroy()
    return { reportedUndelivered: lost }
  }

export const floor: Client = make((track, event) => track(event))
