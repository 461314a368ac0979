/**
 * Identifiers made without a random call per message: a random prefix drawn once from Effect's `Random`
 * (so seeded tests are reproducible) and the clock, then a counter. Each id is unique within a process,
 * and two processes collide only if their prefixes do.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

/** A function returning a new id on each call: `prefix-counter`, at most 36 characters of `[a-z0-9-]`. */
export const makeGenerator = (prefixLength = 20): Effect.Effect<() => string> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    let prefix = start.toString(36)
    while (prefix.length < prefixLength) {
      prefix += alphabet[yield* Random.nextIntBetween(0, alphabet.length)]
    }
    prefix = prefix.slice(-prefixLength)
    let counter = 0
    return () => `${prefix}-${(counter++).toString(36)}`
  })
