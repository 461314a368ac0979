/**
 * Seeing one batch through, the same way for every consumer: tries with the retry policy, splits in two
 * on a 413 (down to single messages), searches a request of events Mixpanel refused for some of them for
 * the ones it refuses, and tells apart the records a strict `/import` refused from the ones it imported.
 * Each part's outcome is handed to `settle` as soon as it is known, uninterruptibly: interrupted half-way
 * (at a shutdown's deadline), a batch leaves no part both settled and unsettled.
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
 * Whether `failure` is Mixpanel's refusal of some items of a request of events (a 2xx answer whose
 * `status` is 0): the answer does not say which, and Mixpanel may have kept the others. Events may be sent
 * again (Mixpanel keeps one copy per `$insert_id`), so such a request is searched for the items it refuses;
 * profile updates are not (an `$add` sent twice adds twice).
 */
const refusesSomeEvents = (failure: SendError): boolean =>
  failure._tag === "ResponseError" &&
  failure.endpoint === "events" &&
  failure.reason === "Rejected" &&
  failure.status !== undefined &&
  failure.status < 300

/** The first and the second half of `indices`. */
const halves = (indices: ReadonlyArray<number>): readonly [ReadonlyArray<number>, ReadonlyArray<number>] => {
  const half = Math.ceil(indices.length / 2)
  return [indices.slice(0, half), indices.slice(half)]
}

/** One request's outcome, with what its tries were: the failure it ended on, if it did not succeed. */
interface Tried {
  readonly failure: SendError | undefined
  readonly tries: number
  readonly elapsed: number
  readonly cutByDeadline: boolean
}

/**
 * Delivers `messages` with `send` (one request), retried by `policy`, and hands each part's outcome to
 * `settle`. Never fails: every message ends in exactly one `Part`.
 *
 * A request refused for some of its events (`refusesSomeEvents`) is searched by halves: a half that goes
 * through is delivered, a half refused again is searched in turn, down to the events refused. The search of
 * a batch makes at most 4 × log2(its size) requests (44 for 2000 events: enough to find 2 refused events,
 * and often more); a part still refused when they are spent is rejected as it stands, so that a batch every
 * event of which is refused (a rule they all break) costs those requests, not one per event.
 */
export const deliver = <R>(options: {
  readonly messages: ReadonlyArray<Sendable>
  /**
   * The request for some of the messages, called once per request (so an id made here is kept by its
   * retries); what it returns is called for each try, with the try's number from 1.
   */
  readonly send: (messages: ReadonlyArray<Sendable>) => (attempt: number) => Effect.Effect<void, SendError, R>
  readonly policy: Retry.Policy
  readonly settle: (part: Part) => Effect.Effect<void>
}): Effect.Effect<void, never, R> =>
  Effect.clockWith((clock) => {
    const { messages, policy, send, settle } = options

    /** One request for `indices`, with its retries; interrupted, it fails with the interruption. */
    const request = (indices: ReadonlyArray<number>): Effect.Effect<Tried, never, R> =>
      Effect.suspend(() => {
        const started = clock.unsafeCurrentTimeMillis()
        let tries = 0
        let cutByDeadline = false
        const retries: Retry.Policy = {
          ...policy,
          onDeadline: () => {
            cutByDeadline = true
          }
        }
        const sending = send(
          indices.length === messages.length ? messages : indices.map((i) => messages[i] as Sendable)
        )
        const once = Effect.suspend(() => sending(++tries))
        return Effect.flatMap(Effect.exit(Retry.retrying(once, retries)), (exit): Effect.Effect<Tried> => {
          const tried = { tries, elapsed: clock.unsafeCurrentTimeMillis() - started, cutByDeadline }
          if (Exit.isSuccess(exit)) return Effect.succeed({ failure: undefined, ...tried })
          const found = Cause.failureOption(exit.cause)
          // interrupted: the part stays unsettled, and whoever interrupted it knows
          if (Option.isNone(found)) return Effect.failCause(exit.cause as Cause.Cause<never>)
          return Effect.succeed({ failure: found.value, ...tried })
        })
      })

    type Restore = <A, E, R1>(effect: Effect.Effect<A, E, R1>) => Effect.Effect<A, E, R1>

    /** Requests the search for refused events may make in this batch, and has made. */
    const searchBudget = 4 * Math.ceil(Math.log2(Math.max(2, messages.length)))
    let searched = 0

    /** Whether a request that ended on `failure` goes again in halves: a 413, or events refused (within budget). */
    const splits = (failure: SendError): boolean => {
      if (failure._tag === "ResponseError" && failure.reason === "TooLarge") return true
      if (!refusesSomeEvents(failure) || searched + 2 > searchBudget) return false
      searched += 2
      return true
    }

    /** Settles `indices` by how their request ended: delivered, split in halves (`splits`), or failed. */
    const conclude = (
      indices: ReadonlyArray<number>,
      tried: Tried,
      restore: Restore
    ): Effect.Effect<void, never, R> => {
      const failure = tried.failure
      if (failure === undefined) return settle({ _tag: "Delivered", indices })
      if (indices.length > 1 && splits(failure)) {
        const [first, second] = halves(indices)
        return Effect.zipRight(restore(attempt(first)), restore(attempt(second)))
      }
      const failed: Part = {
        _tag: "Failed",
        indices,
        error: failure,
        exhausted: Retry.isTransient(failure),
        cutByDeadline: tried.cutByDeadline,
        tries: tried.tries,
        elapsed: tried.elapsed
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
    }

    const attempt = (indices: ReadonlyArray<number>): Effect.Effect<void, never, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(request(indices)), (tried) => conclude(indices, tried, restore))
      )

    return attempt(range(messages.length))
  })
