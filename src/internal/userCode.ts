/**
 * What a user's function returned, as this library takes it. Its type asks for an `Effect`, but a
 * JavaScript caller (or a cast) may hand over an `async` function: its promise is awaited, and its
 * rejection is a failure like any other, never an unhandled rejection that stops the process. A function
 * that returns nothing has done its work when it returns.
 */
import * as Effect from "effect/Effect"

/** Whether `value` is a promise, or any thenable: what an `async` function returns. */
export const isPromise = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/**
 * The effect of calling `call`, a user's function: its effect, its promise awaited (a rejection fails with
 * what it was rejected with), or nothing. A throw is a defect.
 */
export const run = <E, R>(call: () => Effect.Effect<void, E, R>): Effect.Effect<void, unknown, R> =>
  Effect.suspend(() => {
    const result: unknown = call()
    if (Effect.isEffect(result)) return result as Effect.Effect<void, E, R>
    if (isPromise(result)) {
      return Effect.tryPromise({ try: () => Promise.resolve(result), catch: (error) => error }).pipe(Effect.asVoid)
    }
    return Effect.void
  })
