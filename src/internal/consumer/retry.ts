/**
 * Which failures are worth another try, and the `Schedule` that spaces the tries: the server's
 * `Retry-After` when it gives one (it is Mixpanel's instruction), the consumer's backoff otherwise; a
 * budget of tries and of time; and no try that would start after a shutdown's deadline.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type { MixpanelError } from "../../MixpanelError.js"

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
export const retryAfter = (error: MixpanelError): Duration.Duration | undefined =>
  error._tag === "ResponseError" ? error.retryAfter : undefined

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

/** Mixpanel's advice: exponential from 2 s, doubling up to 60 s, plus 1 to 5 s of random jitter. */
export const mixpanelBackoff: Schedule.Schedule<unknown, unknown> = Schedule.exponential("2 seconds").pipe(
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(60))),
  Schedule.addDelayEffect(() => Effect.map(Random.nextIntBetween(1000, 5001), Duration.millis))
)

/** How a consumer retries. */
export interface Policy {
  readonly schedule: Schedule.Schedule<unknown, MixpanelError>
  /** Most retries after the first try. */
  readonly maxRetries: number
  /** No retry starts later than this after the first try. */
  readonly maxRetryTime: Duration.Duration
  /** No retry starts at or after this time (a shutdown's deadline), when there is one. */
  readonly deadline?: () => number | undefined
  /** Told when a retry within the budgets is not made because it would start at or after the deadline. */
  readonly onDeadline?: () => void
  /** Told of each retry before its wait: the error, the number of the try that failed (from 1), the wait. */
  readonly onRetry?: (error: MixpanelError, tries: number, delay: Duration.Duration) => Effect.Effect<void>
}

/**
 * The schedule of `policy` over the errors of a request: retries transient errors only, waiting the
 * server's `Retry-After` when given and the policy's delay otherwise, within its budgets.
 */
export const schedule = <E extends MixpanelError>(policy: Policy): Schedule.Schedule<unknown, E> => {
  const budget = Duration.toMillis(policy.maxRetryTime)
  let tries = 0
  return policy.schedule.pipe(
    Schedule.intersect(Schedule.recurs(policy.maxRetries)),
    Schedule.intersect(Schedule.identity<E>()),
    Schedule.whileInput((error: E) => isTransient(error)),
    Schedule.modifyDelay(([, error], delay) => retryAfter(error) ?? delay),
    Schedule.delays,
    Schedule.intersect(Schedule.elapsed),
    Schedule.checkEffect((error: E, [delay, elapsed]) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const wait = Duration.toMillis(delay)
        const deadline = policy.deadline?.()
        if (Duration.toMillis(elapsed) + wait > budget) return Effect.succeed(false)
        if (deadline !== undefined && now + wait >= deadline) {
          policy.onDeadline?.()
          return Effect.succeed(false)
        }
        tries++
        return policy.onRetry === undefined
          ? Effect.succeed(true)
          : Effect.as(policy.onRetry(error, tries, delay), true)
      })
    )
  )
}

/** `effect` retried by `policy`. */
export const retrying = <A, E extends MixpanelError, R>(
  effect: Effect.Effect<A, E, R>,
  policy: Policy
): Effect.Effect<A, E, R> => Effect.suspend(() => Effect.retry(effect, schedule<E>(policy)))
