/**
 * The floor: what this job costs with nothing but the job. `track` appends the event, with the fields
 * Mixpanel needs (token, distinct id, time), to an array; every 2000 events the array is
 * `JSON.stringify`-ed once and POSTed to `/import` through a keep-alive `http.Agent` that keeps at most 4
 * requests in flight, as effect-mixpanel's buffered consumer does at its defaults (`maxConcurrentRequests`
 * 4; the requests beyond wait in the agent's queue). No validation, no ids, no retry: the physical limit
 * of sending these events from this process on this machine, with the same concurrency as ours.
 */
import * as Http from "node:http"
import type { BenchEvent } from "../events.js"
import type { Client } from "../harness.js"

const batchSize = 2000

/** effect-mixpanel's default `maxConcurrentRequests`. */
const inFlight = 4

export const floor: Client = async (harness) => {
  const { n, chunkSize, sinkUrl, token } = harness.spec
  const url = new URL(sinkUrl)
  const agent = new Http.Agent({ keepAlive: true, maxSockets: inFlight })
  const requests: Array<Promise<number>> = []

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

  let batch: Array<unknown> = []
  const track = (event: BenchEvent) => {
    batch.push({
      event: event.event,
      properties: { ...event.properties, token, distinct_id: event.distinctId, time: Date.now() }
    })
    if (batch.length === batchSize) {
      requests.push(post(batch))
      batch = []
    }
  }

  harness.begin()
  for (let from = 0; from < n; from += chunkSize) {
    const to = Math.min(n, from + chunkSize)
    for (let i = from; i < to; i++) {
      const event = harness.event(i)
      if (harness.sampled(i)) {
        const start = harness.start()
        track(event)
        harness.record(start)
      } else track(event)
    }
    await harness.pause()
  }
  if (batch.length > 0) requests.push(post(batch))
  const results = await Promise.all(requests)
  harness.error(results.filter((count) => count > 0).length)
  const lost = results.reduce((sum, count) => sum + count, 0)
  agent.destroy()
  return { reportedUndelivered: lost }
}
