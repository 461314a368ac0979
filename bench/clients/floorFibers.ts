/**
 * The floor called as the main row calls effect-mixpanel: each `track` call is
 * `runtime.runFork(Effect.sync(() => track(event)))` on a `ManagedRuntime` of no services, built before the
 * clock starts. `runFork` runs the fiber at once, so the event is tracked within the call, as ours is. What
 * the row adds to the floor is the least a fiber per call costs: the lowest any Effect library called this
 * way can reach, and a bound on the goals of issue 13 for the `runFork` row.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { Client } from "../harness.js"
import { make } from "./floor.js"

export const floorInFibers: Client = async (harness) => {
  const runtime = ManagedRuntime.make(Layer.empty)
  await runtime.runtime()
  try {
    return await make((track, event) => {
      runtime.runFork(Effect.sync(() => track(event)))
    })(harness)
  } finally {
    await runtime.dispose()
  }
}
