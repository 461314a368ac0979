/**
 * `Consumer.layerBuffered`: the delivery engine.
 *
 * - Each endpoint has a lane: the batch being filled (`open`), the batches ready to go (`ready`) and the
 *   batches in flight (taken by a worker, until their outcome is known). `send` appends to the open batch
 *   in plain synchronous code (JavaScript runs one fiber at a time, so nothing else touches the state in
 *   between) and wakes the lane's workers only when a batch is full: no fiber and no queue per message.
 * - Workers, one per allowed request in flight (`maxConcurrentRequests` for events and imports, one for
 *   profile and group updates so that their order holds), take ready batches and see each through:
 *   retries, pauses after a 429, 413 splits, partial failures.
 * - Every message sent belongs to an epoch, the time between two flushes; `flush` closes the current
 *   epoch, waits until every message of it and of the epochs before has an outcome, and fails with the
 *   failures of its epoch (kept up to the capacity). Flushes with nothing sent in between share one wait.
 * - The user's `onUndelivered` hook runs on a reporter fiber of its own, one call at a time; a message is
 *   settled (and a flush waiting for it released) only after the hook has seen it.
 * - Closing the layer's scope drains within `shutdownTimeout`, then interrupts what is still running and
 *   reports what is left. The drain is registered before the periodic flush fiber is forked (finalizers
 *   run last in, first out), and the workers live in a scope closed after the drain.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Scope from "effect/Scope"
import type { BufferedOptions, OnUndelivered, Service } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import * as Endpoints from "../Endpoint.js"
import {
  DeliveryError,
  type DeliveryFailure,
  InvalidConfig,
  type MixpanelError,
  RequestError,
  type ResponseError
} from "../MixpanelError.js"
import * as Settings from "./bufferedSettings.js"
import * as Report from "./deliveryReport.js"
import * as Direct from "./directConsumer.js"
import * as Ids from "./ids.js"
import { utf8Length } from "./json.js"
import * as Retry from "./retry.js"
import * as Transport from "./transport.js"

/** `sendNow` is `layerDirect`'s send: its retry policy too. */
const directRetry = Direct.defaultRetry

// ---------------------------------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------------------------------

/** Messages sent together, and the state of their tries. */
interface Batch {
  readonly messages: Array<string>
  /** Sum of the UTF-8 sizes of `messages`; the request's JSON is `size + messages.length + 1` bytes. */
  size: number
  readonly epoch: number
  /** When the batch was opened, in the order of all batches: `dropOldest` drops from the lowest. */
  readonly seq: number
  /** Kept across the retries of this batch; a split gives each half its own. */
  requestId: string | undefined
  tries: number
  firstTry: number
  notBefore: number
  scheduleState: Option.Option<unknown>
}

interface Lane {
  readonly endpoint: Endpoint
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  readonly workers: number
  open: Batch | undefined
  ready: Array<Batch>
  readonly inFlight: Set<Batch>
  /** No request of this endpoint starts before this time (after a 429 or a `Retry-After`). */
  pausedUntil: number
  wake: Deferred.Deferred<void>
}

/**
 * The messages sent between two flushes: how many were accepted, how many of those still wait for an
 * outcome, and the ones not delivered (kept for the flush that closes the epoch, up to the capacity).
 */
interface Epoch {
  readonly id: number
  accepted: number
  pending: number
  readonly failures: Array<DeliveryFailure>
  omitted: number
  retainedBytes: number
  /** Set by the flush that closed the epoch; done when it and every epoch before it are settled. */
  flushed: Deferred.Deferred<void, DeliveryError> | undefined
}

const newEpoch = (id: number): Epoch => ({
  id,
  accepted: 0,
  pending: 0,
  failures: [],
  omitted: 0,
  retainedBytes: 0,
  flushed: undefined
})

/**
 * Failures on their way to the hook, from messages sent in `epoch` (`undefined` for `sendNow`, whose
 * caller gets the error); `settles` messages of `epoch` are settled once the hook has seen them.
 */
interface Reported {
  readonly failures: NonEmptyReadonlyArray<DeliveryFailure>
  readonly epoch: number | undefined
  readonly settles: number
}

interface QueuedReport extends Reported {
  readonly done: Deferred.Deferred<void>
}

const add = <A>(list: Array<A> | undefined, item: A): Array<A> => {
  if (list === undefined) return [item]
  list.push(item)
  return list
}

const requestBytes = (batch: Batch) => batch.size + batch.messages.length + 1

const signal = (): Deferred.Deferred<void> => Deferred.unsafeMake<void>(FiberId.none)

const fire = (deferred: Deferred.Deferred<void>): void => {
  Deferred.unsafeDone(deferred, Exit.void)
}

type Step = "done" | "retry"

// ---------------------------------------------------------------------------------------------------
// the engine
// ---------------------------------------------------------------------------------------------------

export const make = <R>(
  options: BufferedOptions<R>
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.gen(function* () {
    const settings = yield* Settings.resolve(options)
    const transport = yield* Transport.make(options)
    const nextRequestId = yield* Ids.makeGenerator()
    const clock = yield* Effect.clock
    const context: Context.Context<R> = yield* Effect.context<R>()
    const hook: OnUndelivered<R> | undefined = options.onUndelivered
    // A scope of our own, closed in order whatever the strategy of the layer's: first the periodic flush,
    // then the drain, then the workers and the reporter (which the drain needs).
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const workerScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)

    const { capacity, capacityBytes, maxBatchBytes, maxBatchSize, overflow } = settings
    const noImportAuth =
      options.importAuth === undefined
        ? new InvalidConfig({
            option: "importAuth",
            detail: "/import needs credentials: a service account, the project's API secret, or the project token"
          })
        : undefined

    const lanes: Record<Endpoint, Lane> = {
      events: makeLane("events", settings.maxConcurrentRequests),
      people: makeLane("people", 1),
      groups: makeLane("groups", 1),
      imports: makeLane("imports", settings.maxConcurrentRequests)
    }
    const laneList = Endpoints.all.map((endpoint) => lanes[endpoint])

    let closed = false
    let deadline: number | undefined
    const shuttingDown = signal()
    let held = 0
    let heldBytes = 0
    let inFlightMessages = 0
    let inFlightBytes = 0
    let nextSeq = 0
    let room: Deferred.Deferred<void> | undefined
    let dropWarned = false
    let droppedSinceTick = 0

    let current: Epoch = newEpoch(0)
    /** The epochs closed by a flush and not settled yet, then the current one. */
    const epochs: Array<Epoch> = [current]

    // --- buffer --------------------------------------------------------------------------------------

    const wake = (lane: Lane): void => {
      const deferred = lane.wake
      lane.wake = signal()
      fire(deferred)
    }

    const closeOpen = (lane: Lane): void => {
      const batch = lane.open
      if (batch === undefined) return
      lane.open = undefined
      lane.ready.push(batch)
      wake(lane)
    }

    const closeAll = (): void => {
      for (const lane of laneList) closeOpen(lane)
    }

    const newBatch = (messages: Array<string>, size: number, epoch: number, seq: number): Batch => ({
      messages,
      size,
      epoch,
      seq,
      requestId: undefined,
      tries: 0,
      firstTry: 0,
      notBefore: 0,
      scheduleState: Option.none()
    })

    const append = (lane: Lane, message: string, size: number): void => {
      let batch = lane.open
      if (batch !== undefined && requestBytes(batch) + size + 1 > maxBatchBytes) {
        closeOpen(lane)
        batch = undefined
      }
      if (batch === undefined) {
        batch = newBatch([], 0, current.id, nextSeq++)
        lane.open = batch
      }
      batch.messages.push(message)
      batch.size += size
      held++
      heldBytes += size
      current.accepted++
      current.pending++
      if (batch.messages.length >= maxBatchSize) closeOpen(lane)
    }

    const hasRoom = (size: number): boolean => held < capacity && heldBytes + size <= capacityBytes

    /** Frees the room of messages that left the buffer, and lets a waiting `send` try again. */
    const release = (lane: Lane, messages: number, bytes: number): void => {
      held -= messages
      heldBytes -= bytes
      Report.metrics.bufferDepth.unsafeModify(-messages, lane.labels)
      Report.metrics.bufferBytes.unsafeModify(-bytes, lane.labels)
      if (room !== undefined) {
        const deferred = room
        room = undefined
        fire(deferred)
      }
    }

    const waitForRoom: Effect.Effect<void> = Effect.suspend(() => {
      if (closed) return Effect.void
      room ??= signal()
      return Deferred.await(room)
    })

    /** The lane whose oldest waiting message is the oldest of all, if any message is waiting. */
    const oldestLane = (): Lane | undefined => {
      let oldest: Lane | undefined
      let seq = Number.POSITIVE_INFINITY
      for (const lane of laneList) {
        const head = lane.ready[0] ?? lane.open
        if (head !== undefined && head.seq < seq) {
          oldest = lane
          seq = head.seq
        }
      }
      return oldest
    }

    /** `dropOldest`: drops waiting messages, oldest first, until `size` more bytes fit; false if they cannot. */
    const evict = (
      size: number,
      victims: Array<{ readonly lane: Lane; readonly json: string; readonly epoch: number }>
    ) => {
      if (inFlightMessages + 1 > capacity || inFlightBytes + size > capacityBytes) return false
      while (!hasRoom(size)) {
        const lane = oldestLane()
        const batch = lane?.ready[0] ?? lane?.open
        const json = batch?.messages.shift()
        if (lane === undefined || batch === undefined || json === undefined) return false
        const bytes = utf8Length(json)
        batch.size -= bytes
        if (batch.messages.length === 0) {
          if (lane.ready[0] === batch) lane.ready.shift()
          else lane.open = undefined
        }
        release(lane, 1, bytes)
        victims.push({ lane, json, epoch: batch.epoch })
      }
      return true
    }

    // --- epochs and flushes ---------------------------------------------------------------------------

    /** Completes the flushes whose epoch, and every epoch before it, has no message left without an outcome. */
    const completeFlushes = (): void => {
      while (epochs.length > 1) {
        const head = epochs[0] as Epoch
        if (head.pending > 0) return
        epochs.shift()
        if (head.flushed !== undefined) {
          Deferred.unsafeDone(
            head.flushed,
            head.failures.length === 0 && head.omitted === 0
              ? Exit.void
              : Exit.fail(new DeliveryError({ undelivered: head.failures, omitted: head.omitted }, true))
          )
        }
      }
    }

    const epochOf = (id: number): Epoch | undefined => {
      for (const epoch of epochs) if (epoch.id === id) return epoch
      return undefined
    }

    const settle = (id: number, messages: number): void => {
      const epoch = epochOf(id)
      if (epoch !== undefined) epoch.pending -= messages
      completeFlushes()
    }

    /** Keeps the failures for the flush of their epoch, as many as the buffer could hold; counts the rest. */
    const apply = (report: Reported): void => {
      if (report.epoch === undefined) return
      const epoch = epochOf(report.epoch)
      if (epoch !== undefined) {
        for (const failure of report.failures) {
          const bytes = utf8Length(failure.json)
          if (epoch.failures.length < capacity && epoch.retainedBytes + bytes <= capacityBytes) {
            epoch.failures.push(failure)
            epoch.retainedBytes += bytes
          } else {
            epoch.omitted++
          }
        }
      }
      if (report.settles > 0) settle(report.epoch, report.settles)
    }

    // --- the reporter --------------------------------------------------------------------------------

    const reports: Array<QueuedReport> = []
    let reporterWake = signal()
    let reporterStopping = false
    let reporterStopped = false
    /** The fiber running the hook right now: what it sends and fails is queued, not waited for. */
    let hookFiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
    const hookLock = Effect.unsafeMakeSemaphore(1)

    /** Hands one report to the hook, then settles it; whatever the hook does, the report is settled. */
    const runHook = (report: QueuedReport): Effect.Effect<void> =>
      Effect.withFiberRuntime<unknown, unknown, R>((fiber) => {
        hookFiber = fiber
        return hook === undefined ? Effect.void : hook(report.failures)
      }).pipe(
        Effect.provide(context),
        Effect.catchAllCause((cause) =>
          Effect.logError("the onUndelivered hook failed; the messages it was given are only in the logs", cause)
        ),
        Effect.ensuring(
          Effect.sync(() => {
            hookFiber = undefined
            apply(report)
            fire(report.done)
          })
        ),
        Effect.uninterruptible
      )

    /** Runs the hook on every queued report, one call at a time. */
    const drain: Effect.Effect<void> = Effect.suspend(() => {
      const report = reports.shift()
      return report === undefined ? Effect.void : Effect.zipRight(runHook(report), drain)
    })
    const drainLocked = Effect.uninterruptible(hookLock.withPermits(1)(drain))

    const reporter: Effect.Effect<void> = Effect.gen(function* () {
      while (true) {
        if (reports.length > 0) {
          yield* drainLocked
          continue
        }
        if (reporterStopping) {
          reporterStopped = true
          return
        }
        yield* Deferred.await(reporterWake)
      }
    })

    /**
     * Counts the failures, hands them to the hook and settles `settles` messages of `epoch` once it has
     * seen them. Without a hook it all happens at once. With one, the report is queued for the reporter
     * fiber at once (so interrupting the caller loses nothing) and the returned effect waits for the hook;
     * after shutdown, the caller runs the hook itself; from the hook itself, nothing waits.
     */
    const conclude = (report: Reported): Effect.Effect<void> => {
      Report.count(report.failures)
      if (hook === undefined) {
        apply(report)
        return Effect.void
      }
      const done = signal()
      reports.push({ ...report, done })
      const self = Fiber.getCurrentFiber()
      if (hookFiber !== undefined && Option.isSome(self) && self.value === hookFiber) return Effect.void
      if (reporterStopped) return drainLocked
      const wakeReporter = reporterWake
      reporterWake = signal()
      fire(wakeReporter)
      return Deferred.await(done)
    }

    /** The outcome of a batch that leaves the engine: delivered but for `failures`. */
    const finish = (
      lane: Lane,
      batch: Batch,
      failures: ReadonlyArray<DeliveryFailure>,
      requestId?: string
    ): Effect.Effect<void> => {
      const n = batch.messages.length
      if (lane.inFlight.delete(batch)) {
        inFlightMessages -= n
        inFlightBytes -= batch.size
      }
      release(lane, n, batch.size)
      if (n > failures.length) Report.metrics.delivered.unsafeUpdate(n - failures.length, lane.labels)
      if (!Arr.isNonEmptyReadonlyArray(failures)) {
        settle(batch.epoch, n)
        return Effect.void
      }
      // `conclude` runs now: from here the failures are the reporter's, whatever happens to this fiber
      const reported = conclude({ failures, epoch: batch.epoch, settles: n })
      return Effect.zipRight(Report.log(failures, requestId), reported)
    }

    const abandon = (lane: Lane, batch: Batch, detail: string): Effect.Effect<void> =>
      finish(lane, batch, Report.failures(lane.endpoint, batch.messages, "Undelivered", "Shutdown", detail))

    // --- sending -------------------------------------------------------------------------------------

    const request = (lane: Lane, batch: Batch, requestId: string) =>
      transport.send(lane.endpoint, batch.messages, requestId).pipe(
        Effect.withSpan("Mixpanel.request", {
          root: true,
          kind: "client",
          attributes: {
            endpoint: lane.endpoint,
            messages: batch.messages.length,
            bytes: requestBytes(batch),
            attempt: batch.tries,
            request_id: requestId
          }
        })
      )

    /** A 413 on several messages: the halves go back to the front of the lane, in order. */
    const split = (lane: Lane, batch: Batch): Effect.Effect<void> => {
      const half = Math.ceil(batch.messages.length / 2)
      const halves = [batch.messages.slice(0, half), batch.messages.slice(half)].map((messages) => {
        let size = 0
        for (const message of messages) size += utf8Length(message)
        return newBatch(messages, size, batch.epoch, batch.seq)
      })
      lane.inFlight.delete(batch)
      inFlightMessages -= batch.messages.length
      inFlightBytes -= batch.size
      lane.ready.unshift(...halves)
      wake(lane)
      return Effect.logDebug(`request too large: splitting ${batch.messages.length} messages in two`).pipe(
        Effect.annotateLogs({ "mixpanel.endpoint": lane.endpoint, "mixpanel.request_id": batch.requestId ?? "" })
      )
    }

    const retryOrGiveUp = (
      lane: Lane,
      batch: Batch,
      error: RequestError | ResponseError,
      requestId: string
    ): Effect.Effect<Step> =>
      Effect.flatMap(
        Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          const state = Option.getOrElse(batch.scheduleState, () => settings.retrySchedule.initial)
          return Effect.map(settings.retrySchedule.step(now, error, state), (step) => [now, step] as const)
        }),
        ([now, [state, , decision]]) => {
          batch.scheduleState = Option.some(state)
          const retryAfter = Duration.toMillis(Retry.retryAfter(error))
          const delay = ScheduleDecision.isDone(decision)
            ? undefined
            : Math.max(ScheduleIntervals.start(decision.intervals) - now, retryAfter, 0)
          // The server asked this endpoint to slow down: no batch of it goes out before the wait is over.
          if (error._tag === "ResponseError" && (error.status === 429 || error.retryAfter !== undefined)) {
            lane.pausedUntil = Math.max(lane.pausedUntil, now + (delay ?? retryAfter))
          }
          if (
            delay === undefined ||
            batch.tries > settings.maxRetries ||
            now + delay - batch.firstTry > settings.maxRetryTime
          ) {
            const failures = Report.exhausted(lane.endpoint, batch.messages, error, batch.tries, now - batch.firstTry)
            return Effect.as(finish(lane, batch, failures, requestId), "done")
          }
          if (deadline !== undefined && now + delay >= deadline) {
            return Effect.as(
              abandon(
                lane,
                batch,
                `the next try would start after the shutdown deadline; last: ${Report.describe(error)}`
              ),
              "done"
            )
          }
          batch.notBefore = now + delay
          Report.metrics.retried.unsafeUpdate(batch.messages.length, lane.labels)
          return Effect.logDebug(
            `request failed (${Report.describe(error)}); retrying in ${Duration.format(Duration.millis(delay))}`
          ).pipe(
            Effect.annotateLogs({ "mixpanel.endpoint": lane.endpoint, "mixpanel.request_id": requestId }),
            Effect.as("retry" as const)
          )
        }
      )

    /** What to do once a request has ended. Runs uninterruptibly: an outcome, once known, is recorded. */
    const afterRequest = (
      lane: Lane,
      batch: Batch,
      requestId: string,
      started: number,
      exit: Exit.Exit<unknown, MixpanelError>
    ): Effect.Effect<Step> => {
      Report.metrics.batchSize.unsafeUpdate(batch.messages.length, lane.labels)
      Report.metrics.requestLatency.unsafeUpdate(clock.unsafeCurrentTimeMillis() - started, lane.labels)
      if (Exit.isSuccess(exit)) return Effect.as(finish(lane, batch, []), "done")
      // Interrupted at the shutdown deadline: the batch stays in flight, and the shutdown reports it.
      if (Cause.isInterruptedOnly(exit.cause)) return Effect.succeed("done")
      const failure = Cause.failureOption(exit.cause)
      if (Option.isNone(failure)) {
        // A defect of the HTTP client: retried like a transport error, and logged in full.
        const error = new RequestError({
          endpoint: lane.endpoint,
          reason: "Transport",
          detail: "unexpected defect in the HTTP client",
          undelivered: []
        })
        return Effect.zipRight(
          Effect.logError("Mixpanel request died", exit.cause),
          retryOrGiveUp(lane, batch, error, requestId)
        )
      }
      const error = failure.value
      if (error._tag === "ResponseError" || error._tag === "RequestError") {
        if (Retry.isTransient(error)) return retryOrGiveUp(lane, batch, error, requestId)
        if (error._tag === "ResponseError" && error.reason === "TooLarge" && batch.messages.length > 1) {
          return Effect.as(split(lane, batch), "done")
        }
      }
      return Effect.as(finish(lane, batch, Report.rejections(lane.endpoint, batch.messages, error), requestId), "done")
    }

    const attempt = (lane: Lane, batch: Batch): Effect.Effect<Step> =>
      Effect.uninterruptibleMask((restore) => {
        const started = clock.unsafeCurrentTimeMillis()
        if (batch.tries === 0) batch.firstTry = started
        batch.tries++
        batch.requestId ??= nextRequestId()
        const requestId = batch.requestId
        return Effect.flatMap(Effect.exit(restore(request(lane, batch, requestId))), (exit) =>
          afterRequest(lane, batch, requestId, started, exit)
        )
      })

    /** Sees one batch through: waits out its retry delay and the lane's pause, tries, and again. */
    const deliver = (lane: Lane, batch: Batch): Effect.Effect<void> =>
      Effect.gen(function* () {
        while (true) {
          const now = clock.unsafeCurrentTimeMillis()
          const until = Math.max(batch.notBefore, lane.pausedUntil)
          if (until > now) {
            if (deadline !== undefined && until >= deadline) {
              return yield* abandon(lane, batch, "the next try would start after the shutdown deadline")
            }
            const wait = Effect.sleep(Duration.millis(until - now))
            // A shutdown wakes the wait so that a retry it cannot see through is given up at once.
            yield* deadline === undefined ? Effect.raceFirst(wait, Deferred.await(shuttingDown)) : wait
            continue
          }
          if ((yield* attempt(lane, batch)) === "done") return
        }
      })

    const worker = (lane: Lane): Effect.Effect<void> =>
      Effect.gen(function* () {
        while (true) {
          const batch = lane.ready.shift()
          if (batch === undefined) {
            yield* Deferred.await(lane.wake)
            continue
          }
          lane.inFlight.add(batch)
          inFlightMessages += batch.messages.length
          inFlightBytes += batch.size
          yield* deliver(lane, batch)
        }
      }).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.endpoint": lane.endpoint }))

    // --- the service ---------------------------------------------------------------------------------

    const offer = (
      endpoint: Endpoint,
      messages: ReadonlyArray<string>,
      from: number
    ): Effect.Effect<void, InvalidConfig> => {
      if (endpoint === "imports" && noImportAuth !== undefined) return Effect.fail(noImportAuth)
      const lane = lanes[endpoint]
      let refused: Array<DeliveryFailure> | undefined
      let full: Array<DeliveryFailure> | undefined
      let victims: Array<{ readonly lane: Lane; readonly json: string; readonly epoch: number }> | undefined
      let accepted = 0
      let acceptedBytes = 0
      let waitAt = -1
      for (let i = from; i < messages.length; i++) {
        const json = messages[i] as string
        if (closed) {
          refused = add(
            refused,
            Report.failure(endpoint, json, "Dropped", "Closed", "sent after the consumer shut down")
          )
          continue
        }
        const size = utf8Length(json)
        if (size + 2 > maxBatchBytes) {
          const detail = `the message alone is ${size + 2} bytes of JSON, over the request limit of ${maxBatchBytes}`
          refused = add(refused, Report.failure(endpoint, json, "Rejected", "TooLarge", detail))
          continue
        }
        if (!hasRoom(size)) {
          if (overflow === "wait") {
            waitAt = i
            break
          }
          if (overflow === "dropOldest") victims ??= []
          if (victims === undefined || !evict(size, victims)) {
            const detail = `the buffer was full (overflow: ${overflow})`
            full = add(full, Report.failure(endpoint, json, "Dropped", "BufferFull", detail))
            continue
          }
        }
        append(lane, json, size)
        accepted++
        acceptedBytes += size
      }
      if (accepted > 0) {
        Report.metrics.enqueued.unsafeUpdate(accepted, lane.labels)
        Report.metrics.bufferDepth.unsafeModify(accepted, lane.labels)
        Report.metrics.bufferBytes.unsafeModify(acceptedBytes, lane.labels)
      }
      // Every `conclude` below runs now, before anything can interrupt this fiber: the failures are then
      // the reporter's, and the waits it returns may be interrupted without losing them.
      // Refused messages count as pending in the current epoch until the hook has seen them, so that the
      // flush of the epoch reports them even if it begins before the hook is done.
      const effects: Array<Effect.Effect<void>> = []
      if (refused !== undefined && Arr.isNonEmptyReadonlyArray(refused)) {
        current.pending += refused.length
        effects.push(Report.log(refused), conclude({ failures: refused, epoch: current.id, settles: refused.length }))
      }
      if (victims !== undefined && victims.length > 0) effects.push(dropped(victims))
      if (full !== undefined && Arr.isNonEmptyReadonlyArray(full)) {
        current.pending += full.length
        effects.push(overflowed(full.length), conclude({ failures: full, epoch: current.id, settles: full.length }))
      }
      if (waitAt >= 0) effects.push(waitForRoom)
      if (effects.length === 0) return Effect.void
      const done = Effect.all(effects, { discard: true })
      return waitAt < 0
        ? done
        : Effect.zipRight(
            done,
            Effect.suspend(() => offer(endpoint, messages, waitAt))
          )
    }

    /** `dropOldest` victims: reported per epoch, each settling its own. */
    const dropped = (
      victims: ReadonlyArray<{ readonly lane: Lane; readonly json: string; readonly epoch: number }>
    ) => {
      const byEpoch = new Map<number, Array<DeliveryFailure>>()
      for (const { epoch, json, lane } of victims) {
        const failure = Report.failure(
          lane.endpoint,
          json,
          "Dropped",
          "BufferFull",
          "the buffer was full (overflow: dropOldest)"
        )
        const group = byEpoch.get(epoch)
        if (group === undefined) byEpoch.set(epoch, [failure])
        else group.push(failure)
      }
      const effects = [overflowed(victims.length)]
      for (const [epoch, failures] of byEpoch) {
        if (Arr.isNonEmptyReadonlyArray(failures)) effects.push(conclude({ failures, epoch, settles: failures.length }))
      }
      return Effect.all(effects, { discard: true })
    }

    /** A warning when the buffer starts overflowing; then one count per `flushInterval` while it goes on. */
    const overflowed = (n: number): Effect.Effect<void> => {
      droppedSinceTick += n
      if (dropWarned) return Effect.void
      dropWarned = true
      return Effect.logWarning(
        `Mixpanel buffer full (${held} messages, ${heldBytes} bytes held): dropping messages (overflow: ${overflow})`
      ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.capacity": capacity }))
    }

    const tick: Effect.Effect<void> = Effect.suspend(() => {
      closeAll()
      if (droppedSinceTick === 0) {
        dropWarned = false
        return Effect.void
      }
      const n = droppedSinceTick
      droppedSinceTick = 0
      return Effect.logWarning(
        `${n} Mixpanel messages dropped in the last ${Duration.format(settings.flushInterval)}: buffer full`
      ).pipe(
        Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.messages": n, "mixpanel.reason": "BufferFull" })
      )
    })

    const flush: Effect.Effect<void, DeliveryError> = Effect.suspend(() => {
      if (current.accepted === 0 && current.pending === 0 && current.failures.length === 0 && current.omitted === 0) {
        // Nothing sent since the last flush began: wait with it, if it is still going.
        const last = epochs[epochs.length - 2]?.flushed
        return last === undefined ? Effect.void : Deferred.await(last)
      }
      const flushed = Deferred.unsafeMake<void, DeliveryError>(FiberId.none)
      current.flushed = flushed
      current = newEpoch(current.id + 1)
      epochs.push(current)
      closeAll()
      completeFlushes()
      return Deferred.await(flushed)
    }).pipe(Effect.withSpan("Mixpanel.flush"))

    const sendNow = (endpoint: Endpoint, message: string): Effect.Effect<void, MixpanelError> =>
      Effect.suspend(() => {
        const requestId = nextRequestId()
        const labels = Report.labels(endpoint)
        return Retry.retryTransient(transport.send(endpoint, [message], requestId), directRetry).pipe(
          Effect.tap(() => Report.metrics.delivered.unsafeUpdate(1, labels)),
          Effect.tapError((error) => {
            if (error._tag === "InvalidConfig") return Effect.void
            const failures = Retry.isTransient(error)
              ? Report.failures(
                  endpoint,
                  [message],
                  "Dropped",
                  "RetriesExhausted",
                  `gave up after ${directRetry.times + 1} tries; last: ${Report.describe(error)}`
                )
              : Report.rejections(endpoint, [message], error)
            if (!Arr.isNonEmptyReadonlyArray(failures)) return Effect.void
            const reported = conclude({ failures, epoch: undefined, settles: 0 })
            return Effect.zipRight(Report.log(failures, requestId), reported)
          }),
          Effect.withSpan("Mixpanel.request", {
            kind: "client",
            attributes: { endpoint, messages: 1, request_id: requestId, direct: true }
          })
        )
      })

    // --- lifetime ------------------------------------------------------------------------------------

    const fibers: Array<Fiber.RuntimeFiber<void>> = []
    let reporterFiber: Fiber.RuntimeFiber<void> | undefined

    const leftovers: Effect.Effect<number> = Effect.suspend(() => {
      const effects: Array<Effect.Effect<void>> = []
      let count = 0
      for (const lane of laneList) {
        const batches = [...lane.inFlight, ...lane.ready, ...(lane.open === undefined ? [] : [lane.open])]
        lane.ready = []
        lane.open = undefined
        for (const batch of batches) {
          count += batch.messages.length
          effects.push(abandon(lane, batch, "still undelivered at the shutdown deadline"))
        }
      }
      return Effect.as(Effect.all(effects, { discard: true }), count)
    })

    const shutdown: Effect.Effect<void> = Effect.gen(function* () {
      closed = true
      deadline = clock.unsafeCurrentTimeMillis() + Duration.toMillis(settings.shutdownTimeout)
      fire(shuttingDown)
      if (room !== undefined) {
        fire(room)
        room = undefined
      }
      yield* flush.pipe(Effect.exit, Effect.interruptible, Effect.timeoutOption(settings.shutdownTimeout))
      yield* Fiber.interruptAll(fibers)
      const left = yield* leftovers
      if (left > 0) {
        yield* Effect.logWarning(
          `Mixpanel consumer shut down with ${left} messages undelivered after ${Duration.format(settings.shutdownTimeout)}`
        ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.messages": left }))
      }
      reporterStopping = true
      fire(reporterWake)
      if (reporterFiber !== undefined) yield* Fiber.await(reporterFiber)
      reporterStopped = true
      // anything queued by the hook's last calls
      yield* drainLocked
    }).pipe(Effect.withSpan("Mixpanel.shutdown"))

    yield* Scope.addFinalizer(scope, shutdown)

    for (const lane of laneList) {
      for (let i = 0; i < lane.workers; i++) fibers.push(yield* Effect.forkIn(worker(lane), workerScope))
    }
    if (hook !== undefined) reporterFiber = yield* Effect.forkIn(reporter, workerScope)
    // Forked after the drain was registered, so stopped before it runs.
    yield* Effect.sleep(settings.flushInterval).pipe(Effect.zipRight(tick), Effect.forever, Effect.forkIn(scope))

    return {
      send: (endpoint, message) => Effect.suspend(() => offer(endpoint, [message], 0)),
      sendBatch: (endpoint, messages) => Effect.suspend(() => offer(endpoint, messages, 0)),
      sendNow,
      flush
    }
  })

const makeLane = (endpoint: Endpoint, workers: number): Lane => ({
  endpoint,
  labels: Report.labels(endpoint),
  workers,
  open: undefined,
  ready: [],
  inFlight: new Set(),
  pausedUntil: 0,
  wake: signal()
})
