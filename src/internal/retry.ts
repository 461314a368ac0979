/**
 * Which failures are worth another try, and the schedule that spaces the tries: exponential backoff with
 * jitter, never sooner than the server's `Retry-After`.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { MixpanelError } from "../MixpanelError.js"

/**
 * Transport errors, timeouts, 408, 429, and 5xx other than 501 (not implemented) and 505 (HTTP version
 * not supported) may pass on another try. Nothing else will.
 */
export const isTransient = (error: MixpanelError): boolean => {
  switch (error._tag) {
    case "RequestError":
      return true
    case "ResponseError":
      return (
        error.status === 408 ||
        error.status === 429 ||
        (error.status >= 500 && error.status !== 501 && error.status !== 505)
      )
    default:
      return false
  }
}

/** The server's `Retry-After`, if the error carries one. */
export const retryAfter = (error: MixpanelError): Duration.Duration =>
  error._tag === "ResponseError" && error.retryAfter !== undefined ? error.retryAfter : Duration.zero

/** Exponential backoff from `base`, doubling, each delay jittered (×0.8–1.2) and capped at `max`. */
export const backoff = (
  base: Duration.DurationInput,
  max: Duration.DurationInput
): Schedule.Schedule<Duration.Duration, unknown> => {
  const cap = Duration.decode(max)
  return Schedule.exponential(base).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap))
  )
}

/**
 * Retries `effect` on transient errors by `schedule`, at most `times` more tries, waiting at least each
 * error's `Retry-After`.
 */
export const retryTransient = <A, E extends MixpanelError, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly schedule: Schedule.Schedule<unknown, E>; readonly times: number }
): Effect.Effect<A, E, R> =>
  Effect.retry(
    effect,
    options.schedule.pipe(
      Schedule.intersect(Schedule.recurs(options.times)),
      Schedule.intersect(Schedule.identity<E>()),
      Schedule.modifyDelay(([, error], delay) => Duration.max(delay, retryAfter(error))),
      Schedule.whileInput((error: E) => isTransient(error))
    )
  )
