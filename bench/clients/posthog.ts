/**
 * `posthog-node` 5: `capture` per event, then `shutdown` (which flushes what is queued, within a timeout).
 *
 * - `tuned`: the options its docs name for volume raised: `flushAt` and `maxBatchSize` 1000 events per
 *   request, `maxQueueSize` 100,000 (the same bound as effect-mixpanel's default `capacity`).
 * - `defaults`: no options but the host (`flushAt` 20, `maxBatchSize` 100, `maxQueueSize` 10,000, which
 *   drops the oldest queued events once full).
 *
 * It sends gzipped JSON to `/batch/`, one request at a time, and retries 3 times, 3 seconds apart.
 */
import { PostHog, type PostHogOptions } from "posthog-node"
import type { Client } from "../harness.js"

const make =
  (options: PostHogOptions): Client =>
  async (harness) => {
    const { n, chunkSize, sinkUrl, token } = harness.spec
    const posthog = new PostHog(token, { ...options, host: sinkUrl })
    posthog.on("error", () => harness.error())
    harness.begin()
    for (let from = 0; from < n; from += chunkSize) {
      const to = Math.min(n, from + chunkSize)
      for (let i = from; i < to; i++) {
        // The bench's event is already the shape `capture` takes.
        const message = harness.event(i)
        if (harness.sampled(i)) {
          const start = harness.start()
          posthog.capture(message)
          harness.record(start)
        } else posthog.capture(message)
      }
      await harness.pause()
    }
    await posthog.shutdown(harness.remainingMs())
    return {}
  }

export const tuned: Client = make({ flushAt: 1000, maxBatchSize: 1000, maxQueueSize: 100_000 })

export const defaults: Client = make({})
