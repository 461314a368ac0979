/**
 * Helpers for tests that drive real HTTP on loopback under `TestClock`: time moves only when a test says
 * so, and real I/O gets to progress by yielding to the event loop, never by sleeping.
 */
import { FetchHttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Clock, Duration, Effect, TestClock } from "effect"

/** One turn of Node's event loop, so that sockets can be read and written. */
export const tick: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Yields to the event loop until `predicate` holds; dies after `turns` turns (a hung test, not a slow one). */
export const waitUntil = (predicate: () => boolean, what = "condition", turns = 20_000): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < turns; i++) {
      if (predicate()) return
      yield* tick
    }
    return yield* Effect.dieMessage(`waited ${turns} event-loop turns for ${what}`)
  })

/**
 * Yields to the event loop until some fiber sleeps on `TestClock` until at least `delay` from now: the
 * moment a retry delay or a timer has been scheduled and moving the clock will wake it.
 */
export const untilSleeping = (delay: Duration.DurationInput, turns = 20_000): Effect.Effect<void> =>
  Effect.gen(function* () {
    const millis = Duration.toMillis(delay)
    for (let i = 0; i < turns; i++) {
      const now = yield* Clock.currentTimeMillis
      if (Chunk.some(yield* TestClock.sleeps(), (end) => end >= now + millis)) return
      yield* tick
    }
    return yield* Effect.dieMessage(`waited ${turns} event-loop turns for a sleep of ${Duration.format(delay)}`)
  })

/**
 * Moves `TestClock` forward by `step` at a time, letting I/O progress between steps, until `predicate`
 * holds. For waiting out backoff delays whose exact length is jittered.
 */
export const advanceUntil = (
  predicate: () => boolean,
  step: Duration.DurationInput = "1 second",
  what = "condition",
  steps = 1000
): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < steps; i++) {
      for (let turn = 0; turn < 50; turn++) {
        if (predicate()) return
        yield* tick
      }
      yield* TestClock.adjust(step)
    }
    return yield* Effect.dieMessage(`advanced the clock ${steps} times for ${what}`)
  })

/** The HTTP clients the library is tested with: Fetch, and Node's undici. */
export const httpClients = [
  { name: "FetchHttpClient", layer: FetchHttpClient.layer },
  { name: "NodeHttpClient (undici)", layer: NodeHttpClient.layerUndici }
] as const
