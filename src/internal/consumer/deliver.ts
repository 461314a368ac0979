/**
 * Seeing one batch through, the same way for every consumer: tries with the retry policy, splits in two
 * on a 413 (down to single messages), and tells apart the records a strict `/import` refused from the
 * ones it imported. Each part's outcome is handed to `settle` as soon as it is known, uninterruptibly:
 * interrupted half-way (at a shutdown's deadline), a batch leaves no part both settled and unsettled.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { FailedRecord, type InvalidConfig, type RequestError, ResponseError } from "../../MixpanelError.js"
import type { Sendable } from "./placed.js"
import * as Retry from "./retry.js"

/** The errors of one request. */
export type SendError = RequestError | ResponseError | InvalidConfig

/** The outcome of some messages of a batch, by their indices in it. */
export type Part =
  | { readonly _tag: "Delivered"; readonly indices: ReadonlyArray<number> }
  | {
      readonly _tag: "Failed"
      readonly indices: ReadonlyArray<number>
      /** The last error; a strict `/import`'s failed records are numbered by their place in the batch. */
      readonly error: SendError
      /** True when the error was transient and the retries ran out; false when it is final. */
      readonly exhausted: boolean
      /** True when the retries stopped, within their budgets, because the next would start past the deadline. */
      readonly cutByDeadline: boolean
      /** Tries made, and the time from the first to the end of the last, in milliseconds. */
      readonly tries: number
      readonly elapsed: number
    }

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * Delivers `messages` with `send` (one request), retried by `policy`, and hands each part's outcome to
 * `settle`. Never fails: every message ends in exactly one `Part`.
 */
export const deliver = <R>(options: {
  readonly messages: ReadonlyArray<Sendable>
  /** The request for some of the messages; run again for each retry (so an id made here is kept by them). */
  readonly send: (messages: ReadonlyArray<Sendable>) => Effect.Effect<void, SendError, R>
  readonly policy: Retry.Policy
  readonly settle: (part: Part) => Effect.Effect<void>
}): Effect.Effect<void, never, R> =>
  Effect.clockWith((clock) => {
    const { messages, policy, send, settle } = options
    const attempt = (indices: ReadonlyArray<number>): Effect.Effect<void, never, R> =>
      Effect.uninterruptibleMask((restore) => {
        const started = clock.unsafeCurrentTimeMillis()
        let tries = 0
        let cutByDeadline = false
        const retries: Retry.Policy = {
          ...policy,
          onDeadline: () => {
            cutByDeadline = true
          }
        }
        const request = send(
          indices.length === messages.length ? messages : indices.map((i) => messages[i] as Sendable)
        )
        const once = Effect.zipRight(
          Effect.sync(() => tries++),
          request
        )
        return Effect.flatMap(Effect.exit(restore(Retry.retrying(once, retries))), (exit) => {
          if (Exit.isSuccess(exit)) return settle({ _tag: "Delivered", indices })
          const found = Cause.failureOption(exit.cause)
          // interrupted: the part stays unsettled, and whoever interrupted it knows
          if (Option.isNone(found)) return Effect.failCause(exit.cause as Cause.Cause<never>)
          const failure = found.value
          if (failure._tag === "ResponseError" && failure.reason === "TooLarge" && indices.length > 1) {
            const half = Math.ceil(indices.length / 2)
            return Effect.zipRight(restore(attempt(indices.slice(0, half))), restore(attempt(indices.slice(half))))
          }
          const failed: Part = {
            _tag: "Failed",
            indices,
            error: failure,
            exhausted: Retry.isTransient(failure),
            cutByDeadline,
            tries,
            elapsed: clock.unsafeCurrentTimeMillis() - started
          }
          if (failure._tag === "ResponseError" && failure.failedRecords.length > 0) {
            // The records refused, numbered by their place in the whole batch; the rest were imported.
            const byPosition = new Map(failure.failedRecords.map((record) => [record.index, record]))
            const positions = indices.flatMap((_, i) => (byPosition.has(i) ? [i] : []))
            const error = new ResponseError({
              ...failure,
              failedRecords: positions.map(
                (position) =>
                  new FailedRecord({
                    ...(byPosition.get(position) as FailedRecord),
                    index: indices[position] as number
                  })
              )
            })
            const imported = indices.filter((_, i) => !byPosition.has(i))
            return Effect.zipRight(
              settle({ ...failed, error, indices: positions.map((position) => indices[position] as number) }),
              imported.length === 0 ? Effect.void : settle({ _tag: "Delivered", indices: imported })
            )
          }
          return settle(failed)
        })
      })
    return attempt(range(messages.length))
  })
