/**
 * `mixpanel` (mixpanel-node 0.24), Mixpanel's official Node SDK, pointed at the sink over plain HTTP with
 * its keep-alive agent (its default).
 *
 * - `trackBatch`: `track_batch` on each burst of events. The SDK splits a list into requests of 50 (its
 *   hard cap) and sends them all at once; it has no retries.
 * - `track`: `track` per event, one GET with base64 JSON in the URL each, as its README shows.
 */
import Mixpanel from "mixpanel"
import type { BenchEvent } from "../events.js"
import type { Client, Harness } from "../harness.js"

const init = (harness: Harness) => {
  const url = new URL(harness.spec.sinkUrl)
  return Mixpanel.init(harness.spec.token, { host: url.host, protocol: "http" })
}

const toMixpanel = (event: BenchEvent): Mixpanel.Event => ({
  event: event.event,
  properties: { ...event.properties, distinct_id: event.distinctId }
})

/** Resolves once `expected` callbacks have come back. */
const completions = (expected: number) => {
  let done = 0
  let resolve: () => void = () => {}
  const all = new Promise<void>((r) => {
    resolve = r
  })
  if (expected === 0) resolve()
  return {
    all,
    complete: () => {
      if (++done === expected) resolve()
    }
  }
}

export const trackBatch: Client = async (harness) => {
  const { n, chunkSize } = harness.spec
  const mixpanel = init(harness)
  const { all, complete } = completions(Math.ceil(n / chunkSize))
  const callback: Mixpanel.BatchCallback = (errors) => {
    if (errors !== undefined && errors !== null) harness.error(errors.length)
    complete()
  }
  // The events in the shape the SDK takes, before the clock starts (see `harness.ts`).
  const bursts: Array<Array<Mixpanel.Event>> = []
  for (let from = 0; from < n; from += chunkSize) {
    const events: Array<Mixpanel.Event> = []
    for (let i = from; i < Math.min(n, from + chunkSize); i++) events.push(toMixpanel(harness.event(i)))
    bursts.push(events)
  }
  harness.begin()
  for (const events of bursts) {
    // Few calls, each for a whole burst: every one is timed.
    const start = harness.start()
    mixpanel.track_batch(events, callback)
    harness.record(start)
    await harness.pause()
  }
  await all
  return { eventsPerCall: chunkSize }
}

export const track: Client = async (harness) => {
  const { n, chunkSize } = harness.spec
  const mixpanel = init(harness)
  const { all, complete } = completions(n)
  let failed = 0
  const callback: Mixpanel.Callback = (error) => {
    if (error !== undefined) {
      failed++
      harness.error()
    }
    complete()
  }
  const events = Array.from({ length: n }, (_, i) => toMixpanel(harness.event(i)))
  harness.begin()
  for (let from = 0; from < n; from += chunkSize) {
    const to = Math.min(n, from + chunkSize)
    for (let i = from; i < to; i++) {
      const { event, properties } = events[i] as Mixpanel.Event
      if (harness.sampled(i)) {
        const start = harness.start()
        mixpanel.track(event, properties, callback)
        harness.record(start)
      } else mixpanel.track(event, properties, callback)
    }
    await harness.pause()
  }
  await all
  return { reportedUndelivered: failed }
}
