/**
 * `@segment/analytics-node` 3: `track` per event, then `closeAndFlush` (within a timeout).
 *
 * - `tuned`: `flushAt` 1000 (its batches are also capped at 480 KB, about 700 of these events);
 * - `defaults`: `flushAt` 15, every full batch sent at once, with no limit on requests in flight.
 *
 * It POSTs JSON to `/v1/batch` with `fetch`, and retries up to 10 times with backoff from 500 ms.
 */
import { Analytics, type AnalyticsSettings } from "@segment/analytics-node"
import type { Client } from "../harness.js"

const make =
  (settings: Omit<AnalyticsSettings, "writeKey">): Client =>
  async (harness) => {
    const { n, chunkSize, sinkUrl, token } = harness.spec
    const analytics = new Analytics({ ...settings, writeKey: token, host: sinkUrl, path: "/v1/batch" })
    analytics.on("error", () => harness.error())
    // The events in the shape the SDK takes, before the clock starts (see `harness.ts`).
    const events = Array.from({ length: n }, (_, i) => {
      const { distinctId, event, properties } = harness.event(i)
      return { userId: distinctId, event, properties }
    })
    harness.begin()
    for (let from = 0; from < n; from += chunkSize) {
      const to = Math.min(n, from + chunkSize)
      for (let i = from; i < to; i++) {
        const message = events[i] as (typeof events)[number]
        if (harness.sampled(i)) {
          const start = harness.start()
          analytics.track(message)
          harness.record(start)
        } else analytics.track(message)
      }
      await harness.pause()
    }
    await analytics.closeAndFlush({ timeout: harness.remainingMs() })
    return {}
  }

export const tuned: Client = make({ flushAt: 1000 })

export const defaults: Client = make({})
