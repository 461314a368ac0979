/**
 * Where the messages that were not delivered go: a metric for each at once, a log line per endpoint,
 * outcome and reason (the first at once, then one summary per interval, never a line per message), and
 * the user's `onUndelivered` hook, run by one fiber of its own. Reporting never waits: `send` and the
 * workers hand failures over and go on. When the hook falls behind, failures past a bound are not queued
 * for it but still counted and logged; `drained` lets a flush wait until the hook has seen what came before.
 * A call of the hook that has not finished within `hookTimeout` is interrupted (a promise is no longer
 * waited for), so that no flush waits on user code for ever.
 */
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { OnUndelivered } from "../../../Consumer.js"
import type { DeliveryFailure } from "../../../MixpanelError.js"
import * as UserCode from "../../userCode.js"
import * as Report from "../report.js"

/** Most failures queued for the hook; the rest are counted and logged only. */
export const maxQueued = 100_000

/** Most failures handed to the hook in one call. */
export const maxPerCall = 10_000

/** How long one call of the hook may take. */
export const hookTimeout = Duration.minutes(1)

interface Group {
  readonly first: DeliveryFailure
  count: number
  logged: number
}

/** The reporter of one consumer. */
export interface Reporter {
  /** Takes failures in: counted now, logged and handed to the hook by the reporter's fiber. */
  readonly report: (failures: ReadonlyArray<DeliveryFailure>) => void
  /** Completes when every failure reported before it has been handed to the hook (at once without one). */
  readonly drained: Effect.Effect<void>
  /** Logs the failures of the interval not logged yet, one line per endpoint, outcome and reason. */
  readonly summary: Effect.Effect<void>
  /** The reporter's fiber: logs new kinds of failure at once and runs the hook. */
  readonly run: Effect.Effect<never>
  /** Failures the hook never saw: it fell behind, or the consumer shut down first. */
  readonly missed: () => number
}

const key = (failure: DeliveryFailure) => `${failure.endpoint}/${failure.outcome}/${failure.reason}`

const annotations = (first: DeliveryFailure, n: number) => ({
  package: "effect-mixpanel",
  "mixpanel.endpoint": first.endpoint,
  "mixpanel.outcome": first.outcome,
  "mixpanel.reason": first.reason,
  "mixpanel.messages": n,
  ...(first.status === undefined ? {} : { "mixpanel.status": first.status })
})

export const make = <R>(hook: OnUndelivered<R> | undefined, context: Context.Context<R>): Effect.Effect<Reporter> =>
  Effect.map(Effect.makeLatch(false), (wake) => {
    const groups = new Map<string, Group>()
    let queue: Array<DeliveryFailure> = []
    let reported = 0
    let handled = 0
    let missed = 0
    const waiters: Array<{ readonly upTo: number; readonly done: Deferred.Deferred<void> }> = []

    /** Lets go the flushes waiting for what the hook has now seen. */
    const release = Effect.suspend(() => {
      const done = waiters.filter((waiter) => waiter.upTo <= handled)
      if (done.length === 0) return Effect.void
      waiters.splice(0, waiters.length, ...waiters.filter((waiter) => waiter.upTo > handled))
      return Effect.forEach(done, (waiter) => Deferred.succeed(waiter.done, undefined), { discard: true })
    })

    const report = (failures: ReadonlyArray<DeliveryFailure>): void => {
      if (failures.length === 0) return
      Report.count(failures)
      for (const failure of failures) {
        const k = key(failure)
        const group = groups.get(k)
        if (group === undefined) groups.set(k, { first: failure, count: 1, logged: 0 })
        else group.count++
      }
      reported += failures.length
      if (hook === undefined) {
        handled += failures.length
      } else {
        const room = Math.max(0, maxQueued - queue.length)
        for (let i = 0; i < failures.length && i < room; i++) queue.push(failures[i] as DeliveryFailure)
        const over = failures.length - Math.min(room, failures.length)
        missed += over
        handled += over
      }
      wake.unsafeOpen()
    }

    const log = (first: DeliveryFailure, n: number, since: string) =>
      Effect.logWarning(
        `${n === 1 ? "1 Mixpanel message" : `${n} Mixpanel messages`} ${Report.verbs[first.outcome]} (${first.reason})${since}: ${first.detail}`
      ).pipe(Effect.annotateLogs(annotations(first, n)))

    /** The first failures of each kind in this interval, at once. */
    const logNew = Effect.suspend(() => {
      const lines: Array<Effect.Effect<void>> = []
      for (const group of groups.values()) {
        if (group.logged === 0 && group.count > 0) {
          lines.push(log(group.first, group.count, ""))
          group.logged = group.count
        }
      }
      return Effect.all(lines, { discard: true })
    })

    const summary = Effect.suspend(() => {
      const lines: Array<Effect.Effect<void>> = []
      for (const group of groups.values()) {
        if (group.count > group.logged)
          lines.push(log(group.first, group.count - group.logged, " since the last report"))
      }
      groups.clear()
      return Effect.all(lines, { discard: true })
    })

    const runHook = (failures: Arr.NonEmptyReadonlyArray<DeliveryFailure>): Effect.Effect<void> =>
      hook === undefined
        ? Effect.void
        : UserCode.run(() => hook(failures)).pipe(
            Effect.provide(context),
            Effect.timeout(hookTimeout),
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.interrupt
                : Effect.logError(
                    `the onUndelivered hook ${
                      Cause.failureOption(cause).pipe(Option.exists(Cause.isTimeoutException))
                        ? `did not finish within ${Duration.format(hookTimeout)}`
                        : "failed"
                    }; the ${failures.length} messages it was given are only counted and logged`,
                    cause
                  )
            ),
            Effect.ensuring(
              Effect.suspend(() => {
                handled += failures.length
                return release
              })
            )
          )

    const step: Effect.Effect<void> = Effect.gen(function* () {
      yield* wake.await
      wake.unsafeClose()
      yield* logNew
      while (queue.length > 0) {
        const batch = queue.length <= maxPerCall ? queue : queue.slice(0, maxPerCall)
        queue = queue.length <= maxPerCall ? [] : queue.slice(maxPerCall)
        if (Arr.isNonEmptyReadonlyArray(batch)) yield* runHook(batch)
      }
      yield* release
    })

    const drained = Effect.suspend(() => {
      if (handled >= reported) return Effect.void
      const upTo = reported
      return Effect.flatMap(Deferred.make<void>(), (done) => {
        waiters.push({ upTo, done })
        return Deferred.await(done)
      })
    })

    return {
      report,
      drained,
      summary,
      run: Effect.forever(step),
      missed: () => missed + queue.length
    }
  })
