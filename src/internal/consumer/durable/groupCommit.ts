/**
 * Group commit: requests that arrive while a transaction runs are written together by the next one, so
 * the number of transactions follows the database's speed, not the number of callers.
 *
 * Requests join the open batch; one fiber (the committer) swaps it for a fresh one and runs it. A caller
 * that waits leaves its fiber's resume callback in the batch (`Effect.async`) and reads its own result by
 * position; the committer calls them all once the batch is settled. A `Deferred` (what an earlier version
 * shared among a batch's callers) costs several µs more per caller to await and resume: its await
 * registers an interruption handler, and every caller of "commit" durability waits. With a `delay`
 * ("async" durability), the committer lets a batch fill for that long unless someone `hurry`s it.
 *
 * A batch, once swapped, is run and settled without interruption; interrupting the committer only stops
 * it waiting. When the scope closes, the open batch is run one last time: nothing added is left behind.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"

/** The committer of one store. */
export interface GroupCommit<Req, Res, E> {
  /**
   * Adds `request` to the open batch. With `wait`, returns the effect that awaits its result (and the
   * batch is committed without the delay); otherwise `undefined`, and the result goes to `settled` only.
   */
  readonly add: (request: Req, wait: boolean) => Effect.Effect<Res, E> | undefined
  /** Commits the open batch without waiting out the delay. */
  readonly hurry: () => void
  /** Transactions run so far. */
  readonly transactions: () => number
  /** Whether the scope is closing (what is open then is run one last time): `add` must not be called. */
  readonly isClosed: () => boolean
}

interface Batch<Req, Res, E> {
  readonly requests: Array<Req>
  /** The callers that wait, each resumed with the exit of its own request. */
  readonly waiters: Array<(exit: Exit.Exit<ReadonlyArray<Res>, E>) => void>
}

const batch = <Req, Res, E>(): Batch<Req, Res, E> => ({ requests: [], waiters: [] })

/** A committer running `run` on each batch, forked into the current scope. */
export const make = <Req, Res, E>(options: {
  /** One transaction for a batch: a result per request, in order. */
  readonly run: (requests: ReadonlyArray<Req>) => Effect.Effect<ReadonlyArray<Res>, E>
  /** Called once per batch after it ran, before its callers resume. */
  readonly settled: (requests: ReadonlyArray<Req>, exit: Exit.Exit<ReadonlyArray<Res>, E>) => Effect.Effect<void>
  /** How long a batch nobody waits for may fill; `undefined`: commit at once. */
  readonly delay: number | undefined
}): Effect.Effect<GroupCommit<Req, Res, E>, never, Scope.Scope> =>
  Effect.gen(function* () {
    let open = batch<Req, Res, E>()
    let transactions = 0
    let closed = false
    const wake = yield* Effect.makeLatch(false)
    const hurried = yield* Effect.makeLatch(false)

    const flush = (current: Batch<Req, Res, E>) =>
      Effect.gen(function* () {
        if (current.requests.length === 0) return
        const exit = yield* Effect.exit(options.run(current.requests))
        transactions++
        yield* options.settled(current.requests, exit)
        for (const resume of current.waiters) resume(exit)
      })

    /** Swaps the open batch for a fresh one and runs it, all uninterruptibly. */
    const swap = Effect.uninterruptible(
      Effect.suspend(() => {
        wake.unsafeClose()
        hurried.unsafeClose()
        const current = open
        open = batch()
        return flush(current)
      })
    )

    const committer = Effect.gen(function* () {
      yield* wake.await
      if (options.delay !== undefined) yield* Effect.ignore(Effect.timeout(hurried.await, options.delay))
      yield* swap
    }).pipe(Effect.forever)

    // Finalizers run last-in first-out: the committer is interrupted (it finishes the batch it is
    // running), then what is open is run
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return swap
      })
    )
    yield* Effect.forkScoped(committer)

    return {
      add: (request, wait) => {
        const current = open
        const index = current.requests.push(request) - 1
        wake.unsafeOpen()
        if (!wait) return undefined
        hurried.unsafeOpen()
        // No canceler: an interrupted caller is gone, and its request is committed all the same
        return Effect.async<Res, E>((resume) => {
          current.waiters.push((exit) =>
            resume(Exit.isSuccess(exit) ? Effect.succeed(exit.value[index] as Res) : (exit as Exit.Exit<never, E>))
          )
        })
      },
      hurry: () => hurried.unsafeOpen(),
      transactions: () => transactions,
      isClosed: () => closed
    }
  })
