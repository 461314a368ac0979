/**
 * `Consumer.layerBuffered`: the effectful shell around the engine's parts.
 *
 * - `send` appends to the store (`store.ts`; in memory here) and tells the endpoint's lane (`lanes.ts`);
 *   when a lane has a full request waiting, or a flush or the timer drains it, its latch opens.
 * - Workers (`maxConcurrentRequests` for events and imports, one for profile and group updates, so that
 *   their order holds) claim batches from the store and see each through with `deliver.ts`: retries,
 *   `Retry-After` (which also pauses the endpoint), 413 splits, strict `/import` records.
 * - Every outcome is settled at once: the store lets go of the messages, the flush accounting
 *   (`flushes.ts`) counts them, and failures go to the reporter (`reporter.ts`), whose own fiber logs them
 *   and runs the user's hook. Nothing here waits for user code.
 * - Closing the scope drains within `shutdownTimeout`, then interrupts what still runs and reports what is
 *   left. The drain is registered before the timer fiber is forked (finalizers run last in, first out).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as MetricLabel from "effect/MetricLabel"
import * as Scope from "effect/Scope"
import type { BufferedOptions, OnUndelivered, Service } from "../../../Consumer.js"
import type { Endpoint } from "../../../Endpoint.js"
import * as Endpoints from "../../../Endpoint.js"
import { DeliveryError, type DeliveryFailure, InvalidConfig, type SendError } from "../../../MixpanelError.js"
import * as Http from "../../http.js"
import * as Ids from "../../ids.js"
import * as Args from "../args.js"
import * as Batch from "../batch.js"
import * as Deliver from "../deliver.js"
import * as Direct from "../direct.js"
import * as Ingestion from "../ingestion.js"
import * as Options from "../options.js"
import * as Report from "../report.js"
import type * as Retry from "../retry.js"
import * as Flushes from "./flushes.js"
import * as Lanes from "./lanes.js"
import * as Memory from "./memory.js"
import * as Reporter from "./reporter.js"
import type { Appended, Store, Stored } from "./store.js"

interface Lane {
  readonly state: Lanes.Lane
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  readonly workers: number
  /** Open while a worker should claim a batch. */
  readonly latch: Effect.Latch
  /** No request of this endpoint starts before this time (after a `Retry-After`). */
  pausedUntil: number
}

const noImportAuth = new InvalidConfig({
  option: "importAuth",
  detail: "/import needs credentials: a service account, the project's API secret, or the project token"
})

export const make = <R>(
  options: BufferedOptions<R>
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.gen(function* () {
    const settings = yield* Options.buffered(options)
    const http = yield* Http.make(settings.http)
    const ingestion = Ingestion.make(http, settings)
    const nextRequestId = yield* Ids.makeGenerator()
    const clock = yield* Effect.clock
    const context = yield* Effect.context<R>()
    const reporter = yield* Reporter.make(settings.onUndelivered as OnUndelivered<R> | undefined, context)
    const store: Store<never> = Memory.make(settings)
    const limits: Batch.Limits = { maxItems: settings.maxBatchSize, maxBytes: settings.maxBatchBytes }
    const flushes = Flushes.make({ failures: settings.capacity, bytes: settings.capacityBytes })
    const waiting = new Map<number, Deferred.Deferred<void, DeliveryError>>()
    const room = yield* Effect.makeLatch(true)
    const sendNow = Direct.sender(ingestion, Options.defaults.direct, nextRequestId)

    const lanes = new Map<Endpoint, Lane>()
    for (const endpoint of Endpoints.all) {
      lanes.set(endpoint, {
        state: Lanes.make(endpoint),
        labels: Report.labels(endpoint),
        workers: endpoint === "people" || endpoint === "groups" ? 1 : settings.maxConcurrentRequests,
        latch: yield* Effect.makeLatch(false),
        pausedUntil: 0
      })
    }
    const laneOf = (endpoint: Endpoint) => lanes.get(endpoint) as Lane

    let closed = false
    let deadline: number | undefined
    /** Batches in flight, with the indices of their messages that already have an outcome. */
    const inFlight = new Map<ReadonlyArray<Stored>, Set<number>>()

    // --- outcomes ------------------------------------------------------------------------------------

    /** Completes the flushes whose messages all have an outcome, once the hook has seen their failures. */
    const completeFlushes = Effect.suspend(() => {
      const done = Flushes.completed(flushes)
      if (done.length === 0) return Effect.void
      return Effect.forEach(
        done,
        (epoch) => {
          const deferred = waiting.get(epoch.id)
          if (deferred === undefined) return Effect.void
          waiting.delete(epoch.id)
          const result =
            epoch.failures.length === 0 && epoch.omitted === 0
              ? Effect.void
              : Effect.fail(new DeliveryError({ undelivered: epoch.failures, omitted: epoch.omitted }, true))
          return Deferred.complete(deferred, result)
        },
        { discard: true }
      )
    })

    /** Counts `messages` settled in their epochs, keeping `failures` for those epochs' flushes. */
    const account = (messages: ReadonlyArray<Stored>, failures?: ReadonlyArray<DeliveryFailure>): void => {
      let epoch = messages[0]?.epoch
      let n = 0
      let from = 0
      for (let i = 0; i <= messages.length; i++) {
        const next = messages[i]?.epoch
        if (i < messages.length && next === epoch) {
          n++
          continue
        }
        if (failures !== undefined && epoch !== undefined) Flushes.failed(flushes, failures.slice(from, i), epoch)
        Flushes.settled(flushes, epoch, n)
        epoch = next
        n = 1
        from = i
      }
    }

    const settle = (lane: Lane, batch: ReadonlyArray<Stored>) => (part: Deliver.Part) =>
      Effect.suspend(() => {
        const done = inFlight.get(batch)
        for (const i of part.indices) done?.add(i)
        const messages = part.indices.map((i) => batch[i] as Stored)
        const bytes = messages.reduce((sum, message) => sum + message.bytes, 0)
        Report.metrics.bufferDepth.unsafeModify(-messages.length, lane.labels)
        Report.metrics.bufferBytes.unsafeModify(-bytes, lane.labels)
        room.unsafeOpen()
        if (part._tag === "Delivered") {
          Report.metrics.delivered.unsafeUpdate(messages.length, lane.labels)
          account(messages)
          return Effect.zipRight(store.ack(messages), completeFlushes)
        }
        const endpoint = lane.state.endpoint
        const jsons = messages.map((message) => message.json)
        const failures =
          part.error._tag === "InvalidConfig" || !part.exhausted
            ? Report.rejections(
                endpoint,
                // failed records are numbered by their place in the batch
                part.error._tag === "ResponseError" && part.error.failedRecords.length > 0
                  ? batch.map((message) => message.json)
                  : jsons,
                part.error
              )
            : Report.exhausted(endpoint, jsons, part.error, part.tries, part.elapsed)
        reporter.report(failures)
        account(messages, failures)
        return Effect.zipRight(
          store.deadLetter(messages.map((message, i) => ({ message, failure: failures[i] as DeliveryFailure }))),
          completeFlushes
        )
      })

    /** Failures of messages never stored (refused, too large, sent after shutdown): reported, kept for the flush. */
    const refuse = (failures: ReadonlyArray<DeliveryFailure>): void => {
      reporter.report(failures)
      Flushes.failed(flushes, failures)
    }

    // --- workers -------------------------------------------------------------------------------------

    const policy = (lane: Lane): Retry.Policy =>
      Direct.loggedPolicy(
        {
          schedule: settings.retrySchedule,
          maxRetries: settings.maxRetries,
          maxRetryTime: settings.maxRetryTime,
          deadline: () => deadline,
          onRetry: (error, _, delay) =>
            Effect.sync(() => {
              Report.metrics.retried.unsafeUpdate(1, lane.labels)
              // Mixpanel's rate limit is per project: a 429, or any `Retry-After`, holds the whole endpoint.
              if (error._tag === "ResponseError" && (error.status === 429 || error.retryAfter !== undefined)) {
                lane.pausedUntil = Math.max(
                  lane.pausedUntil,
                  clock.unsafeCurrentTimeMillis() + Duration.toMillis(delay)
                )
              }
            })
        },
        lane.state.endpoint
      )

    /** Waits out the endpoint's pause, then sends; each part of a batch is a request of its own, retried under its id. */
    const request = (lane: Lane) => (messages: ReadonlyArray<string>) => {
      const requestId = nextRequestId()
      return Effect.suspend(() => {
        const wait = lane.pausedUntil - clock.unsafeCurrentTimeMillis()
        const send = Effect.suspend(() => {
          const started = clock.unsafeCurrentTimeMillis()
          return ingestion
            .send(lane.state.endpoint, messages, requestId)
            .pipe(
              Effect.onExit(() =>
                Effect.sync(() =>
                  Report.metrics.requestLatency.unsafeUpdate(clock.unsafeCurrentTimeMillis() - started, lane.labels)
                )
              )
            )
        })
        return wait > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(wait)), send) : send
      }).pipe(
        Effect.withSpan("Mixpanel.request", {
          kind: "client",
          attributes: { endpoint: lane.state.endpoint, messages: messages.length, request_id: requestId }
        })
      )
    }

    const worker = (lane: Lane): Effect.Effect<never> =>
      Effect.forever(
        Effect.gen(function* () {
          yield* lane.latch.await
          if (!Lanes.ready(lane.state, limits)) {
            lane.latch.unsafeClose()
            return
          }
          const batch = yield* store.claim(lane.state.endpoint, limits)
          Lanes.claimed(
            lane.state,
            batch.length,
            batch.reduce((sum, message) => sum + message.bytes, 0)
          )
          if (!Lanes.ready(lane.state, limits)) lane.latch.unsafeClose()
          if (batch.length === 0) return
          inFlight.set(batch, new Set())
          Report.metrics.batchSize.unsafeUpdate(batch.length, lane.labels)
          yield* Deliver.deliver({
            messages: batch.map((message) => message.json),
            send: request(lane),
            policy: policy(lane),
            settle: settle(lane, batch)
          })
          inFlight.delete(batch)
        })
      ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.endpoint": lane.state.endpoint }))

    const drainAll = (): void => {
      for (const lane of lanes.values()) {
        Lanes.drain(lane.state)
        lane.latch.unsafeOpen()
      }
    }

    // --- the service ---------------------------------------------------------------------------------

    /** What of `messages` may go to the store: refused after shutdown and too large alone are reported here. */
    const admit = (endpoint: Endpoint, messages: ReadonlyArray<string>): ReadonlyArray<string> | SendError => {
      if (endpoint === "imports" && settings.importAuth === undefined) return noImportAuth
      if (closed) {
        refuse(Report.failures(endpoint, messages, "Dropped", "Closed", "sent after the consumer shut down"))
        return []
      }
      // a message of at most a third of the limit in UTF-16 units fits whatever it holds: most are not measured
      const surely = (limits.maxBytes - 7) / 3
      let tooLarge: Array<string> | undefined
      for (const json of messages) {
        if (json.length > surely && !Batch.fitsAlone(endpoint, Batch.wireBytes(endpoint, json), limits)) {
          tooLarge ??= []
          tooLarge.push(json)
        }
      }
      if (tooLarge === undefined) return messages
      refuse(
        Report.failures(
          endpoint,
          tooLarge,
          "Rejected",
          "TooLarge",
          `the message alone makes a request body over the limit of ${limits.maxBytes} bytes`
        )
      )
      const refused = tooLarge
      return messages.filter((json) => !refused.includes(json))
    }

    /** Takes in what the store did with appended messages; an effect only when a sender must wait for room. */
    const accept = (endpoint: Endpoint, appended: Appended): Effect.Effect<void, SendError> | undefined => {
      const lane = laneOf(endpoint)
      const { evicted, refused, stored } = appended
      if (stored.length > 0) {
        const bytes = stored.reduce((sum, message) => sum + message.bytes, 0)
        Flushes.accepted(flushes, stored.length)
        Lanes.appended(lane.state, stored.length, bytes)
        Report.metrics.enqueued.unsafeUpdate(stored.length, lane.labels)
        Report.metrics.bufferDepth.unsafeModify(stored.length, lane.labels)
        Report.metrics.bufferBytes.unsafeModify(bytes, lane.labels)
        if (Lanes.ready(lane.state, limits)) lane.latch.unsafeOpen()
      }
      if (evicted.length > 0) evict(evicted)
      if (refused.length === 0) return undefined
      if (settings.overflow === "wait") {
        room.unsafeClose()
        return Effect.zipRight(room.await, offer(endpoint, refused))
      }
      refuse(
        Report.failures(
          endpoint,
          refused,
          "Dropped",
          "BufferFull",
          `the buffer was full (overflow: ${settings.overflow})`
        )
      )
      return undefined
    }

    const offer = (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<void, SendError> =>
      Effect.suspend(() => {
        const admitted = admit(endpoint, messages)
        if (!Array.isArray(admitted)) return Effect.fail(admitted as SendError)
        if (admitted.length === 0) return Effect.void
        return Effect.flatMap(
          store.append(endpoint, admitted, Flushes.current(flushes).id),
          (appended) => accept(endpoint, appended) ?? Effect.void
        )
      })

    /** `offer` without a fiber, when the store appends synchronously: what `Mixpanel.unsafe` calls. */
    const unsafeOffer = (
      endpoint: Endpoint,
      messages: ReadonlyArray<string>
    ): SendError | undefined | Effect.Effect<void, SendError> => {
      if (store.unsafeAppend === undefined) return offer(endpoint, messages)
      const admitted = admit(endpoint, messages)
      if (!Array.isArray(admitted)) return admitted as SendError
      if (admitted.length === 0) return undefined
      return accept(endpoint, store.unsafeAppend(endpoint, admitted, Flushes.current(flushes).id))
    }

    /** `dropOldest` victims: reported, each settling its own epoch. */
    const evict = (messages: ReadonlyArray<Stored>): void => {
      for (const message of messages) {
        const lane = laneOf(message.endpoint)
        Lanes.evicted(lane.state, 1, message.bytes)
        Report.metrics.bufferDepth.unsafeModify(-1, lane.labels)
        Report.metrics.bufferBytes.unsafeModify(-message.bytes, lane.labels)
        const failure = Report.failure(
          message.endpoint,
          message.json,
          "Dropped",
          "BufferFull",
          "the buffer was full (overflow: dropOldest)"
        )
        reporter.report([failure])
        account([message], [failure])
      }
    }

    const flush: Effect.Effect<void, DeliveryError> = Effect.suspend(() => {
      const id = Flushes.close(flushes)
      drainAll()
      if (id === undefined) return reporter.drained
      let deferred = waiting.get(id)
      const wait =
        deferred !== undefined
          ? Effect.succeed(deferred)
          : Effect.map(Deferred.make<void, DeliveryError>(), (created) => {
              deferred = created
              waiting.set(id, created)
              return created
            })
      return wait.pipe(
        Effect.tap(() => completeFlushes),
        Effect.flatMap((d) => Effect.exit(Deferred.await(d))),
        Effect.zipLeft(reporter.drained),
        Effect.flatten
      )
    }).pipe(Effect.withSpan("Mixpanel.flush"))

    // --- lifetime ------------------------------------------------------------------------------------

    const scope = yield* Effect.scope
    const workers = yield* FiberSet.make<never, never>().pipe(Scope.extend(scope))
    const reporterFiber = yield* FiberSet.make<never, never>().pipe(Scope.extend(scope))

    /** What is left at the deadline: in flight or waiting; the memory store loses it, so it is reported. */
    const leftovers = Effect.gen(function* () {
      const left: Array<Stored> = []
      for (const [batch, done] of inFlight) left.push(...batch.filter((_, i) => !done.has(i)))
      inFlight.clear()
      for (const lane of lanes.values()) {
        while (true) {
          const batch = yield* store.claim(lane.state.endpoint, Batch.mixpanelLimits)
          if (batch.length === 0) break
          left.push(...batch)
        }
      }
      return left
    })

    const shutdown = Effect.gen(function* () {
      closed = true
      const timeout = settings.shutdownTimeout
      deadline = clock.unsafeCurrentTimeMillis() + Duration.toMillis(timeout)
      room.unsafeOpen()
      // A finalizer runs uninterruptibly: the wait must be made interruptible for its timeout to end it.
      yield* flush.pipe(Effect.exit, Effect.interruptible, Effect.timeoutOption(timeout))
      yield* FiberSet.clear(workers)
      const left = yield* leftovers
      if (left.length > 0) {
        const failures = left.map((message) =>
          Report.failure(
            message.endpoint,
            message.json,
            "Undelivered",
            "Shutdown",
            `still undelivered ${Duration.format(timeout)} after the shutdown began`
          )
        )
        for (const message of left) {
          const labels = laneOf(message.endpoint).labels
          Report.metrics.bufferDepth.unsafeModify(-1, labels)
          Report.metrics.bufferBytes.unsafeModify(-message.bytes, labels)
        }
        reporter.report(failures)
        account(left, failures)
        yield* store.release(left)
      }
      // The hook gets a last, short chance at what is left: closing takes at most the timeout and half a second.
      yield* reporter.drained.pipe(Effect.interruptible, Effect.timeoutOption("500 millis"))
      yield* FiberSet.clear(reporterFiber)
      yield* reporter.summary
      const missed = reporter.missed()
      if (missed > 0 && settings.onUndelivered !== undefined) {
        yield* Effect.logWarning(
          `${missed} undelivered Mixpanel messages never reached onUndelivered (it fell behind, or the shutdown came first); they are counted above`
        ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.messages": missed }))
      }
    }).pipe(Effect.withSpan("Mixpanel.shutdown"))

    yield* Effect.addFinalizer(() => shutdown)
    yield* FiberSet.run(reporterFiber, reporter.run)
    for (const lane of lanes.values()) {
      for (let i = 0; i < lane.workers; i++) yield* FiberSet.run(workers, worker(lane))
    }
    // Forked after the drain was registered, so stopped before it runs.
    yield* Effect.sleep(settings.flushInterval).pipe(
      Effect.zipRight(
        Effect.suspend(() => {
          drainAll()
          room.unsafeOpen()
          return reporter.summary
        })
      ),
      Effect.forever,
      Effect.forkScoped
    )

    const one =
      (operation: string) =>
      (endpoint: Endpoint, message: string): Effect.Effect<void, SendError> => {
        const invalid = Args.checkMessage(operation, endpoint, message)
        return invalid === undefined ? offer(endpoint, [message]) : Effect.fail(invalid)
      }

    const now = (endpoint: Endpoint, message: string): Effect.Effect<void, SendError> =>
      sendNow(endpoint, [message]).pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error._tag === "RequestError" || error._tag === "ResponseError") {
              reporter.report(Report.rejections(endpoint, [message], error))
            }
          })
        )
      )

    const trusted: Args.Trusted = {
      send: (endpoint, message) => offer(endpoint, [message]),
      sendBatch: offer,
      unsafeSend: unsafeOffer
    }

    return {
      send: one("Consumer.send"),
      sendBatch: (endpoint, messages) =>
        Effect.flatMap(Args.checkMessages("Consumer.sendBatch", endpoint, messages), (checked) =>
          offer(endpoint, checked)
        ),
      sendNow: (endpoint, message) => {
        const invalid = Args.checkMessage("Consumer.sendNow", endpoint, message)
        return invalid === undefined ? now(endpoint, message) : Effect.fail(invalid)
      },
      flush,
      [Args.TrustedTypeId]: trusted
    }
  })
