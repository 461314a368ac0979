/**
 * The durable store's options: defaults (stated once, here and in `DurableStore.Options`) and checks,
 * made when the layer is built so that a bad setting is an `InvalidConfig` at start-up.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type { Overflow } from "../../../Consumer.js"
import type { Durability, Options } from "../../../DurableStore.js"
import type { Endpoint } from "../../../Endpoint.js"
import { InvalidConfig } from "../../../MixpanelError.js"
import { wireBytes } from "../batch.js"
import type { Resolved } from "./service.js"
import * as Tables from "./tables.js"

/** The defaults, as `DurableStore.Options` states them. */
export const defaults = {
  durability: "commit" as Durability,
  asyncInterval: Duration.millis(100),
  asyncMessages: 1000,
  capacity: 1_000_000,
  capacityBytes: 1024 * 1024 * 1024,
  overflow: "dropNewest" as Overflow,
  leaseDuration: Duration.seconds(30)
}

const invalid = (option: string, detail: string) => Effect.fail(new InvalidConfig({ option, detail }))

const positiveInteger = (option: string, value: number | undefined, fallback: number) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isSafeInteger(value) && value >= 1
      ? Effect.succeed(value)
      : invalid(option, "must be an integer of at least 1")

/** A duration in whole milliseconds, at least `min`. */
const millis = (
  option: string,
  value: Duration.DurationInput | undefined,
  fallback: Duration.Duration,
  min: number
) => {
  const decoded = value === undefined ? Option.some(fallback) : Duration.decodeUnknown(value)
  if (Option.isNone(decoded) || !Duration.isFinite(decoded.value)) return invalid(option, "must be a finite duration")
  const ms = Math.round(Duration.toMillis(decoded.value))
  return ms >= min ? Effect.succeed(ms) : invalid(option, `must be at least ${min} ms`)
}

const oneOf = <A extends string>(option: string, value: A | undefined, fallback: A, allowed: ReadonlyArray<A>) =>
  value === undefined
    ? Effect.succeed(fallback)
    : allowed.includes(value)
      ? Effect.succeed(value)
      : invalid(option, `must be one of ${allowed.join(", ")}`)

const name = (option: string, value: string | undefined) => {
  if (value === undefined) return Effect.succeed(undefined)
  const problem = Tables.invalidName(value, option)
  return problem === undefined ? Effect.succeed(value) : invalid(option, problem)
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0")

/** The bytes of a message in a request body, as `Stored.bytes` counts them (form escapes included). */
export const defaultMeasure: (endpoint: Endpoint, json: string) => number = wireBytes

/** Checks `options` and fills in the defaults. */
export const resolve = (options: Options, label: string): Effect.Effect<Resolved, InvalidConfig> =>
  Effect.gen(function* () {
    const prefix = yield* name("tablePrefix", options.tablePrefix)
    const schema = yield* name("schema", options.schema)
    const holder = options.holderId ?? `${hex(yield* Random.nextInt)}${hex(yield* Random.nextInt)}`
    if (holder === "" || holder.length > 200) return yield* invalid("holderId", "must be 1 to 200 characters")
    return {
      durability: yield* oneOf("durability", options.durability, defaults.durability, ["commit", "async"]),
      asyncInterval: yield* millis("asyncInterval", options.asyncInterval, defaults.asyncInterval, 1),
      asyncMessages: yield* positiveInteger("asyncMessages", options.asyncMessages, defaults.asyncMessages),
      capacity: yield* positiveInteger("capacity", options.capacity, defaults.capacity),
      capacityBytes: yield* positiveInteger("capacityBytes", options.capacityBytes, defaults.capacityBytes),
      overflow: yield* oneOf("overflow", options.overflow, defaults.overflow, ["wait", "dropNewest", "dropOldest"]),
      leaseDuration: yield* millis("leaseDuration", options.leaseDuration, defaults.leaseDuration, 30),
      holder,
      tables: Tables.make({ prefix, schema }),
      label,
      measure: defaultMeasure
    }
  })
