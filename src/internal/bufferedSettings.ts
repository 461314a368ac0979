/**
 * The options of `Consumer.layerBuffered`: their defaults (as `BufferedOptions` documents them), and their
 * checks, made once when the layer is built so that a bad setting fails at start-up.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type { BufferedOptions, Overflow } from "../Consumer.js"
import { InvalidConfig, type MixpanelError } from "../MixpanelError.js"
import { maxItems } from "./batch.js"

/** The defaults of `BufferedOptions`, as its documentation states them. */
export const defaults = {
  maxBatchSize: maxItems,
  maxBatchBytes: 2 * 1024 * 1024,
  flushInterval: Duration.seconds(10),
  capacity: 100_000,
  capacityBytes: 64 * 1024 * 1024,
  overflow: "dropNewest" as Overflow,
  maxConcurrentRequests: 4,
  maxRetries: 10,
  maxRetryTime: Duration.minutes(5),
  shutdownTimeout: Duration.seconds(10)
}

/** Mixpanel's advice: exponential from 2 s, doubling up to 60 s, plus 1 to 5 s of random jitter. */
export const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("2 seconds").pipe(
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(60))),
  Schedule.addDelayEffect(() => Effect.map(Random.nextIntBetween(1000, 5001), Duration.millis))
)

/** The options, checked, with their defaults filled in. */
export interface Settings {
  readonly maxBatchSize: number
  readonly maxBatchBytes: number
  readonly flushInterval: Duration.Duration
  readonly capacity: number
  readonly capacityBytes: number
  readonly overflow: Overflow
  readonly maxConcurrentRequests: number
  readonly retrySchedule: Schedule.Schedule<unknown, MixpanelError>
  readonly maxRetries: number
  readonly maxRetryTime: number
  readonly shutdownTimeout: Duration.Duration
}

const integer = (
  option: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER
): Effect.Effect<number, InvalidConfig> => {
  if (value === undefined) return Effect.succeed(fallback)
  return Number.isInteger(value) && value >= min && value <= max
    ? Effect.succeed(value)
    : new InvalidConfig({
        option,
        detail:
          max === Number.MAX_SAFE_INTEGER
            ? `must be an integer of at least ${min}`
            : `must be an integer from ${min} to ${max}`
      })
}

const duration = (
  option: string,
  value: Duration.DurationInput | undefined,
  fallback: Duration.Duration,
  positive: boolean
): Effect.Effect<Duration.Duration, InvalidConfig> => {
  if (value === undefined) return Effect.succeed(fallback)
  const decoded = Duration.decodeUnknown(value)
  if (Option.isNone(decoded) || !Duration.isFinite(decoded.value)) {
    return new InvalidConfig({ option, detail: "must be a finite duration" })
  }
  if (positive && !Duration.greaterThan(decoded.value, Duration.zero)) {
    return new InvalidConfig({ option, detail: "must be longer than zero" })
  }
  return Effect.succeed(decoded.value)
}

const overflows: ReadonlyArray<Overflow> = ["wait", "dropNewest", "dropOldest"]

/** Checks the options once, when the layer is built, so that a bad setting fails at start-up. */
export const resolve = <R>(options: BufferedOptions<R>): Effect.Effect<Settings, InvalidConfig> =>
  Effect.gen(function* () {
    const maxBatchSize = yield* integer("maxBatchSize", options.maxBatchSize, defaults.maxBatchSize, 1, maxItems)
    const maxBatchBytes = yield* integer("maxBatchBytes", options.maxBatchBytes, defaults.maxBatchBytes, 3)
    const capacity = yield* integer("capacity", options.capacity, defaults.capacity, 1)
    const capacityBytes = yield* integer(
      "capacityBytes",
      options.capacityBytes,
      Math.max(defaults.capacityBytes, maxBatchBytes),
      maxBatchBytes
    )
    const maxConcurrentRequests = yield* integer(
      "maxConcurrentRequests",
      options.maxConcurrentRequests,
      defaults.maxConcurrentRequests,
      1
    )
    const maxRetries = yield* integer("maxRetries", options.maxRetries, defaults.maxRetries, 0)
    const overflow = options.overflow ?? defaults.overflow
    if (!overflows.includes(overflow)) {
      return yield* new InvalidConfig({ option: "overflow", detail: `must be one of ${overflows.join(", ")}` })
    }
    return {
      maxBatchSize,
      maxBatchBytes,
      capacity,
      capacityBytes,
      maxConcurrentRequests,
      maxRetries,
      overflow,
      flushInterval: yield* duration("flushInterval", options.flushInterval, defaults.flushInterval, true),
      maxRetryTime: Duration.toMillis(
        yield* duration("maxRetryTime", options.maxRetryTime, defaults.maxRetryTime, false)
      ),
      shutdownTimeout: yield* duration("shutdownTimeout", options.shutdownTimeout, defaults.shutdownTimeout, false),
      retrySchedule: options.retrySchedule ?? defaultRetrySchedule
    }
  })
