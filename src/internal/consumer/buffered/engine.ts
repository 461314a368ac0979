/**
 * `Consumer.layerBuffered` and `Consumer.layerDurable`: the effectful shell around the engine's parts.
 *
 * - `send` appends to the store (`store.ts`: in memory, `memory.ts`, or the durable store, on the
 *   caller's fiber so that it can join the caller's transaction) and tells the endpoint's lane
 *   (`lanes.ts`); when a lane has a full request waiting, or a flush or the timer drains it, its latch opens.
 * - Workers (`maxConcurrentRequests` for events and imports, one for profile and group updates, so that
 *   their order holds) claim batches from the store and see each through with `deliver.ts`: retries,
 *   `Retry-After` (which also pauses the endpoint), 413 splits, strict `/import` records.
 * - Every outcome is settled at once: the store lets go of the messages, the flush accounting
 *   (`flushes.ts`) counts them, and failures go to the reporter (`reporter.ts`), whose own fiber logs them
 *   and runs the user's hook. Nothing here waits for user code.
 * - Closing the scope drains within `shutdownTimeout`, then interrupts what still runs and reports what is
 *   left. The drain is registered before the timer fiber is forked (finalizers run last in, first out).
 *
 * With a durable store, shared with other processes and with later runs of this one:
 *
 * - the store does not hand back a message's flush epoch, so the engine keeps the epochs of its own
 *   messages by id (`owned.ts`); another relay may deliver some of them, so a flush is also done with
 *   the messages below the store's oldest id (looked up every `pollInterval` while a flush waits);
 * - every `pollInterval` an idle lane claims what others appended (or a dead relay left); a claim that
 *   fills a request keeps the lane draining;
 * - the store's failures are a `StoreError` at `send`; in the workers they are logged by the store, and
 *   the worker waits a `pollInterval` and goes on (an `ack` or a `deadLetter` that failed is tried again
 *   at the next poll; the store's lease keeps the messages meanwhile);
 * - "async" appends that fail to commit later are reported as `StoreFailed`;
 * - closing releases what is claimed and reports nothing as undelivered: it stays in the store.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type { BufferedOptions, DurableOptions, OnUndelivered, Service } from "../../../Consumer.js"
import type { Endpoint } from "../../../Endpoint.js"
import * as Endpoints from "../../../Endpoint.js"
import { DeliveryError, type DeliveryFailure, InvalidConfig, type SendError } from "../../../MixpanelError.js"
import * as Http from "../../http.js"
import * as Ids from "../../ids.js"
import * as Args from "../args.js"
import * as Batch from "../batch.js"
import * as Bodies from "../bodies.js"
import * as Deliver from "../deliver.js"
import * as Direct from "../direct.js"
import * as Failure from "../durable/failure.js"
import { type DurableAppended, type Service as DurableService, DurableStore, type Late } from "../durable/service.js"
import * as Ingestion from "../ingestion.js"
import * as Options from "../options.js"
import type { Sendable } from "../placed.js"
import * as Report from "../report.js"
import type * as Retry from "../retry.js"
import { maxWireBytes, type Outgoing, text } from "../unwritten.js"
import * as Flushes from "./flushes.js"
import * as Lanes from "./lanes.js"
import * as Memory from "./memory.js"
import * as Owned from "./owned.js"
import * as Reporter from "./reporter.js"
import { type Appended, bytesOf, type Store, type Stored, type StoreFailure } from "./store.js"

interface Lane {
  readonly state: Lanes.Lane
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  readonly workers: number
  /** Open while a worker should claim a batch. */
  readonly latch: Effect.Latch
  /** Taken by a worker while it claims from a durable store. */
  readonly turn: Effect.Semaphore
  /** No request of this endpoint starts before this time (after a `Retry-After`). */
  pausedUntil: number
}

const noImportAuth = new InvalidConfig({
  option: "importAuth",
  detail: "/import needs credentials: a service account, the project's API secret, or the project token"
})

/** Where the engine keeps what it accepted: in memory, or in a durable store polled every `pollInterval`. */
type Backend =
  | { readonly _tag: "Memory"; readonly store: Memory.MemoryStore; readonly bodies: Bodies.Bodies }
  | {
      readonly _tag: "Durable"
      readonly store: DurableService
      readonly pollInterval: Duration.Duration
      readonly bodies: Bodies.Bodies
    }

/** `Consumer.layerBuffered`'s service: the engine over a memory store. */
export const make = <R>(
  options: BufferedOptions<R>
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.flatMap(Options.buffered(options), (settings) => {
    // the store writes the bodies of the batches it hands out into the requests' buffers
    const bodies = Bodies.make()
    return run<R>(settings, { _tag: "Memory", store: Memory.make(settings, bodies.take), bodies })
  })

/** `Consumer.layerDurable`'s service: the engine over the `DurableStore` in context. */
export const makeDurable = <R>(
  options: DurableOptions<R>
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | DurableStore | Scope.Scope | R> =>
  Effect.flatMap(DurableStore, (store) =>
    Effect.flatMap(Options.durable(options, store.settings.overflow), (settings) =>
      // the store writes the bodies of the batches it hands out into the requests' buffers
      run<R>(settings, { _tag: "Durable", store, pollInterval: settings.pollInterval, bodies: Bodies.make() })
    )
  )

/** Owned messages past this many are swept at every poll, flush or not (another relay may deliver them). */
const sweepAbove = 10_000

const run = <R>(
  settings: Options.Buffered,
  backend: Backend
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.gen(function* () {
    const http = yield* Http.make(settings.http)
    const ingestion = Ingestion.make(http, settings, backend.bodies)
    const nextRequestId = yield* Ids.makeGenerator()
    const clock = yield* Effect.clock
    const context = yield* Effect.context<R>()
    const reporter = yield* Reporter.make(settings.onUndelivered as OnUndelivered<R> | undefined, context)
    const store: Store<StoreFailure> | Memory.MemoryStore = backend.store
    /** The memory store, which takes messages unwritten; only on the memory paths. */
    const memory = backend.store as Memory.MemoryStore
    const durable = backend._tag === "Durable" ? backend : undefined
    /** The epochs of this consumer's messages in a durable store. */
    const owned = Owned.make()
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
        turn: yield* Effect.makeSemaphore(1),
        pausedUntil: 0
      })
    }
    const laneOf = (endpoint: Endpoint) => lanes.get(endpoint) as Lane

    let closed = false
    /** The durable consumer has shut down: late outcomes of the store are only logged. */
    let finished = false
    let deadline: number | undefined
    /** Batches in flight, with the indices of their messages that already have an outcome. */
    const inFlight = new Map<ReadonlyArray<Stored>, Set<number>>()
    /** Durable: outcomes the store failed to record, tried again at the next poll. */
    const unacked: Array<Stored> = []
    const unburied: Array<{ readonly message: Stored; readonly failure: DeliveryFailure }> = []

    /**
     * What this consumer holds, in the buffer gauges: in memory, what it accepted and has not settled; with
     * a durable store (whose messages are also other processes'), what it claimed and has not settled.
     */
    const hold = (lane: Lane, messages: number, bytes: number): void => {
      Report.metrics.bufferDepth.unsafeModify(messages, lane.labels)
      Report.metrics.bufferBytes.unsafeModify(bytes, lane.labels)
    }

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
      // A durable store's messages carry no epoch: this consumer's record of them has it (read once)
      const epochs = durable === undefined ? undefined : messages.map((message) => Owned.take(owned, message))
      const epochAt = (i: number) => (epochs === undefined ? messages[i]?.epoch : epochs[i])
      let epoch = epochAt(0)
      let n = 0
      let from = 0
      for (let i = 0; i <= messages.length; i++) {
        const next = epochAt(i)
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

    /**
     * Records an outcome in the store. Durable: one the store failed to record joins `later`, tried again at
     * the next poll (the store's lease keeps the messages meanwhile).
     */
    const record = <A>(
      recording: Effect.Effect<void, StoreFailure>,
      items: ReadonlyArray<A>,
      later: Array<A>
    ): Effect.Effect<void> =>
      durable === undefined
        ? (recording as Effect.Effect<void>)
        : Effect.catchAll(recording, () =>
            Effect.sync(() => {
              later.push(...items)
            })
          )

    const ack = (messages: ReadonlyArray<Stored>) => record(store.ack(messages), messages, unacked)

    const bury = (failures: ReadonlyArray<{ readonly message: Stored; readonly failure: DeliveryFailure }>) =>
      record(store.deadLetter(failures), failures, unburied)

    const settle = (lane: Lane, batch: ReadonlyArray<Stored>) => (part: Deliver.Part) =>
      Effect.suspend(() => {
        const done = inFlight.get(batch)
        for (const i of part.indices) done?.add(i)
        const messages = part.indices.map((i) => batch[i] as Stored)
        const bytes = bytesOf(messages)
        hold(lane, -messages.length, -bytes)
        room.unsafeOpen()
        if (part._tag === "Delivered") {
          Report.metrics.delivered.unsafeUpdate(messages.length, lane.labels)
          account(messages)
          return Effect.zipRight(ack(messages), completeFlushes)
        }
        const endpoint = lane.state.endpoint
        const jsons = messages.map((message) => message.json)
        // Retries that stopped within their budgets because the next try would begin after the shutdown's
        // deadline: not given up on. A durable store keeps the messages for the next start; the memory
        // store's are undelivered at shutdown, like those still waiting.
        if (part.cutByDeadline) {
          if (durable !== undefined) return Effect.ignore(store.release(messages))
          const failures = Report.failures(
            endpoint,
            jsons,
            "Undelivered",
            "Shutdown",
            `the shutdown's deadline came before the next try; last: ${Report.describe(part.error)}`
          )
          reporter.report(failures)
          account(messages, failures)
          return Effect.zipRight(store.release(messages) as Effect.Effect<void>, completeFlushes)
        }
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
          bury(messages.map((message, i) => ({ message, failure: failures[i] as DeliveryFailure }))),
          completeFlushes
        )
      })

    /** Failures of messages never stored (refused, too large, sent after shutdown): reported, kept for the flush. */
    const refuse = (failures: ReadonlyArray<DeliveryFailure>): void => {
      reporter.report(failures)
      Flushes.failed(flushes, failures)
    }

    /** Durable: failures of messages counted in `epoch` before the store took them: reported, settled. */
    const dropFrom = (epoch: number | undefined, failures: ReadonlyArray<DeliveryFailure>): void => {
      reporter.report(failures)
      if (epoch === undefined) return
      Flushes.failed(flushes, failures, epoch)
      Flushes.settled(flushes, epoch, failures.length)
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
    const request = (lane: Lane) => (messages: ReadonlyArray<Sendable>) => {
      const requestId = nextRequestId()
      return (attempt: number) => {
        const wait = lane.pausedUntil - clock.unsafeCurrentTimeMillis()
        const send = Effect.suspend(() => {
          const started = clock.unsafeCurrentTimeMillis()
          return ingestion
            .send(lane.state.endpoint, messages, requestId, attempt)
            .pipe(
              Effect.onExit(() =>
                Effect.sync(() =>
                  Report.metrics.requestLatency.unsafeUpdate(clock.unsafeCurrentTimeMillis() - started, lane.labels)
                )
              )
            )
        })
        return wait > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(wait)), send) : send
      }
    }

    /** A batch, or (durable) `undefined` after a failed claim: the store logged it, the worker waits a poll. */
    const claim = (lane: Lane): Effect.Effect<ReadonlyArray<Stored> | undefined> =>
      durable === undefined
        ? (store.claim(lane.state.endpoint, limits) as Effect.Effect<ReadonlyArray<Stored>>)
        : Effect.catchAll(durable.store.claim(lane.state.endpoint, limits, durable.bodies.take), () =>
            Effect.as(Effect.sleep(durable.pollInterval), undefined)
          )

    /**
     * Durable: a claim that filled a request with more than this lane knew of found a backlog (a previous
     * run's, another process's): the lane keeps draining while its claims come back full.
     */
    const filled = (lane: Lane, count: number, bytes: number): boolean =>
      count >= limits.maxItems || 2 * Batch.bodyBytes(lane.state.endpoint, count, bytes) > limits.maxBytes

    /** A batch when the lane is ready; `undefined` when it is not, or (durable) when the claim failed. */
    const take = (lane: Lane): Effect.Effect<ReadonlyArray<Stored> | undefined> =>
      Effect.suspend(() => {
        if (!Lanes.ready(lane.state, limits)) {
          lane.latch.unsafeClose()
          return Effect.succeed(undefined)
        }
        const known = lane.state.waiting
        return Effect.map(claim(lane), (batch) => {
          if (batch === undefined) return batch
          const bytes = bytesOf(batch)
          Lanes.claimed(lane.state, batch.length, bytes)
          if (durable !== undefined && batch.length > 0) {
            hold(lane, batch.length, bytes)
            if (batch.length > known && filled(lane, batch.length, bytes)) Lanes.drain(lane.state)
          }
          if (!Lanes.ready(lane.state, limits)) lane.latch.unsafeClose()
          return batch
        })
      })

    const worker = (lane: Lane): Effect.Effect<never> =>
      Effect.forever(
        Effect.gen(function* () {
          yield* lane.latch.await
          // A durable claim takes time: the lane's workers take turns, so that none claims on a stale count
          const batch = yield* durable === undefined ? take(lane) : lane.turn.withPermits(1)(take(lane))
          if (batch === undefined || batch.length === 0) return
          inFlight.set(batch, new Set())
          Report.metrics.batchSize.unsafeUpdate(batch.length, lane.labels)
          yield* Deliver.deliver({
            messages: batch.map((message) => message.placed ?? message.json),
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

    /**
     * The checks of every `send`: credentials for `/import`, a consumer still open, messages that fit a
     * request. What of `messages` may go to the store; those refused are reported here.
     */
    const admit = <M extends Outgoing>(
      endpoint: Endpoint,
      messages: ReadonlyArray<M>
    ): ReadonlyArray<M> | SendError => {
      if (endpoint === "imports" && settings.importAuth === undefined) return noImportAuth
      if (closed) {
        refuse(Report.failures(endpoint, messages, "Dropped", "Closed", "sent after the consumer shut down"))
        return []
      }
      // a message of at most a third of the limit in UTF-16 units fits whatever it holds: most are not measured
      const surely = (limits.maxBytes - 7) / 3
      let tooLarge: Array<M> | undefined
      for (const message of messages) {
        const large = typeof message === "string" ? message.length > surely : maxWireBytes(message) > 3 * surely
        if (large && !Batch.fitsAlone(endpoint, Batch.wireBytes(endpoint, text(message)), limits)) {
          tooLarge ??= []
          tooLarge.push(message)
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
      return messages.filter((message) => !refused.includes(message))
    }

    /** Messages now in the store (appended by this consumer) that its lane should know of; returns their bytes. */
    const arrived = (lane: Lane, stored: ReadonlyArray<Stored>): number => {
      const bytes = bytesOf(stored)
      Lanes.appended(lane.state, stored.length, bytes)
      if (Lanes.ready(lane.state, limits)) lane.latch.unsafeOpen()
      return bytes
    }

    const full = (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>, detail: string) =>
      Report.failures(
        endpoint,
        messages,
        "Dropped",
        "BufferFull",
        `the ${durable === undefined ? "buffer" : "outbox"} was full (overflow: ${detail})`
      )

    /** Takes in what the memory store did with appended messages; an effect only when a sender must wait for room. */
    const accept = (endpoint: Endpoint, appended: Appended<Outgoing>): Effect.Effect<void, SendError> | undefined => {
      const lane = laneOf(endpoint)
      const { evicted, refused, stored } = appended
      if (stored.length > 0) {
        Flushes.accepted(flushes, stored.length)
        Report.metrics.enqueued.unsafeUpdate(stored.length, lane.labels)
        hold(lane, stored.length, arrived(lane, stored))
      }
      if (evicted.length > 0) evict(evicted)
      if (refused.length === 0) return undefined
      if (settings.overflow === "wait") {
        room.unsafeClose()
        return Effect.zipRight(room.await, offer(endpoint, refused))
      }
      refuse(full(endpoint, refused, settings.overflow))
      return undefined
    }

    /** `send` into the memory store. */
    const offer = (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>): Effect.Effect<void, SendError> =>
      Effect.suspend(() => {
        const admitted = admit(endpoint, messages)
        if (!Array.isArray(admitted)) return Effect.fail(admitted as SendError)
        if (admitted.length === 0) return Effect.void
        return Effect.flatMap(
          memory.append(endpoint, admitted, Flushes.current(flushes).id),
          (appended) => accept(endpoint, appended) ?? Effect.void
        )
      })

    /**
     * `send` into a durable store, from the caller's fiber and its `context` (so that it joins the
     * caller's transaction), or from no fiber at all (`Mixpanel.unsafe`): done at once where the store
     * appends without an effect ("async" durability, outside any transaction), else the effect to run. The
     * messages join the current epoch before the store has them, so that a flush waits for a commit in
     * progress; those the store does not take leave it again.
     */
    const unsafeOfferDurable =
      (durableStore: DurableService) =>
      (
        endpoint: Endpoint,
        messages: ReadonlyArray<string>,
        context?: Context.Context<never>
      ): SendError | undefined | Effect.Effect<void, SendError> => {
        const fits = admit(endpoint, messages)
        if (!Array.isArray(fits)) return fits as SendError
        if (fits.length === 0) return undefined
        const epoch = Flushes.current(flushes).id
        // the count, not the messages: an effect that waits for a commit keeps only what it needs alive
        const count = fits.length
        Flushes.accepted(flushes, count)
        const now = durableStore.appendAtOnce(endpoint, fits, epoch, context)
        if (now !== undefined && !Effect.isEffect(now)) return appended(durableStore, endpoint, epoch, now)
        return (now ?? durableStore.append(endpoint, fits, epoch)).pipe(
          Effect.catchAll((failure) => {
            Flushes.settled(flushes, epoch, count)
            return Effect.zipRight(completeFlushes, Effect.fail(Failure.toStoreError(failure)))
          }),
          Effect.flatMap((outcome) => appended(durableStore, endpoint, epoch, outcome) ?? Effect.void)
        )
      }

    /**
     * Records `stored` as this consumer's, in `epoch`, and settles the messages recorded before under the
     * same ids (see `Owned.add`: their transaction rolled back); returns whether there were any.
     */
    const own = (stored: ReadonlyArray<Stored>, epoch: number): boolean => {
      const gone = Owned.add(owned, stored, epoch)
      for (const before of gone) Flushes.settled(flushes, before, 1)
      return gone.length > 0
    }

    /** What a durable `append` did, counted and reported; the effect still to run if its caller must wait. */
    const appended = (
      durableStore: DurableService,
      endpoint: Endpoint,
      epoch: number,
      outcome: DurableAppended
    ): Effect.Effect<void, SendError> | undefined => {
      const { evicted, pending, refused, stored } = outcome
      const lane = laneOf(endpoint)
      Report.metrics.enqueued.unsafeUpdate(stored.length + pending.length, lane.labels)
      const rolledBack = stored.length > 0 && own(stored, epoch)
      if (stored.length > 0) arrived(lane, stored)
      if (evicted.length > 0) evict(evicted)
      if (refused.length === 0) return rolledBack ? completeFlushes : undefined
      const drop = (detail: string) =>
        Effect.suspend(() => {
          dropFrom(epoch, full(endpoint, refused, detail))
          return completeFlushes
        })
      if (settings.overflow !== "wait") return drop(settings.overflow)
      // Inside the application's transaction nothing may wait for the relay: on SQLite it would
      // wait for the transaction's own lock, and on any database for messages not yet committed
      return Effect.flatMap(durableStore.inTransaction, (inside) => {
        if (inside) return drop("wait, which cannot wait inside a transaction")
        Flushes.settled(flushes, epoch, refused.length)
        room.unsafeClose()
        return Effect.zipRight(
          Effect.zipRight(completeFlushes, room.await),
          offerDurable(durableStore)(endpoint, refused)
        )
      })
    }

    /** `send` into a durable store, as an effect. */
    const offerDurable = (durableStore: DurableService) => {
      const offerNow = unsafeOfferDurable(durableStore)
      return (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<void, SendError> =>
        Effect.contextWithEffect((context: Context.Context<never>) => {
          const sent = offerNow(endpoint, messages, context)
          return sent === undefined ? Effect.void : Effect.isEffect(sent) ? sent : Effect.fail(sent)
        })
    }

    /** `offer` without a fiber, when the store appends synchronously: what `Mixpanel.unsafe` calls. */
    const unsafeOffer = (
      endpoint: Endpoint,
      messages: ReadonlyArray<Outgoing>
    ): SendError | undefined | Effect.Effect<void, SendError> => {
      const admitted = admit(endpoint, messages)
      if (!Array.isArray(admitted)) return admitted as SendError
      if (admitted.length === 0) return undefined
      return accept(endpoint, memory.unsafeAppend(endpoint, admitted, Flushes.current(flushes).id))
    }

    /** `dropOldest` victims: reported, each settling its own epoch. */
    const evict = (messages: ReadonlyArray<Stored>): void => {
      for (const message of messages) {
        const lane = laneOf(message.endpoint)
        Lanes.evicted(lane.state, 1, message.bytes)
        if (durable === undefined) hold(lane, -1, -message.bytes)
        const failure = Report.failure(
          message.endpoint,
          message.json,
          "Dropped",
          "BufferFull",
          `the ${durable === undefined ? "buffer" : "outbox"} was full (overflow: dropOldest)`
        )
        reporter.report([failure])
        account([message], [failure])
      }
    }

    const storeFailed = (outcome: Extract<Late, { readonly _tag: "Failed" }>) =>
      `the store failed to commit it after accepting it: ${outcome.failure.detail}`

    /** A late outcome once the engine has finished: nobody to report to, so what was lost is logged. */
    const lateLine = (outcome: Late): Effect.Effect<void> => {
      if (outcome._tag === "Failed") {
        return Effect.logError(
          `${outcome.messages.length} Mixpanel messages dropped (StoreFailed): ${storeFailed(outcome)}`
        )
      }
      const dropped = outcome.appended.refused.length + outcome.appended.evicted.length
      return dropped === 0
        ? Effect.void
        : Effect.logWarning(`${dropped} Mixpanel messages dropped (BufferFull): the outbox was full`)
    }

    /** The durable store's later outcomes of "async" appends, those of one transaction together. */
    const late = (outcomes: ReadonlyArray<Late>): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (finished) return Effect.forEach(outcomes, lateLine, { discard: true })
        for (const outcome of outcomes) {
          if (outcome._tag === "Failed") {
            const failures = Report.failures(
              outcome.endpoint,
              outcome.messages,
              "Dropped",
              "StoreFailed",
              storeFailed(outcome)
            )
            dropFrom(outcome.epoch, failures)
            continue
          }
          const { evicted, refused, stored } = outcome.appended
          if (stored.length > 0) {
            if (outcome.epoch !== undefined) own(stored, outcome.epoch)
            const lane = laneOf(outcome.endpoint)
            // Committed after the flush that waits for them drained their lane: they go at once
            if (waiting.size > 0) Lanes.drain(lane.state)
            arrived(lane, stored)
          }
          if (evicted.length > 0) evict(evicted)
          // Nobody waits for an "async" append any more: what did not fit is dropped, whatever the policy
          if (refused.length > 0) dropFrom(outcome.epoch, full(outcome.endpoint, refused, settings.overflow))
        }
        return completeFlushes
      })

    const flushNow: Effect.Effect<void, DeliveryError> = Effect.suspend(() => {
      const id = Flushes.close(flushes)
      // What a durable store's "async" appends left waiting for their commit is committed now
      durable?.store.commitNow()
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
    })

    const flush: Effect.Effect<void, DeliveryError> = (
      durable === undefined
        ? flushNow
        : Effect.flatMap(durable.store.inTransaction, (inside) =>
            inside
              ? Effect.dieMessage(
                  "Consumer.flush inside a transaction on the durable store's database would wait forever: the relay cannot see (and, on SQLite, cannot even lock) what the transaction appended until it commits; flush after the transaction"
                )
              : flushNow
          )
    ).pipe(Effect.withSpan("Mixpanel.flush"))

    // --- durable: the poll -----------------------------------------------------------------------------

    /**
     * Every `pollInterval`: idle lanes claim what others appended, the outcomes the store failed to record
     * are tried again, and (while a flush waits, or this consumer keeps many ids) the messages another relay
     * delivered are settled.
     */
    const poll = (durableStore: DurableService) =>
      Effect.gen(function* () {
        for (const lane of lanes.values()) {
          if (lane.state.waiting === 0) {
            Lanes.drain(lane.state)
            lane.latch.unsafeOpen()
          }
        }
        room.unsafeOpen()
        if (unacked.length > 0) yield* ack(unacked.splice(0))
        if (unburied.length > 0) yield* bury(unburied.splice(0))
        if (owned.size > 0 && (waiting.size > 0 || owned.size > sweepAbove)) {
          const oldest = yield* Effect.option(durableStore.oldest)
          if (Option.isSome(oldest)) {
            for (const [epoch, n] of Owned.passed(owned, oldest.value)) Flushes.settled(flushes, epoch, n)
            yield* completeFlushes
          }
        }
      })

    // --- lifetime ------------------------------------------------------------------------------------

    const scope = yield* Effect.scope
    const workers = yield* FiberSet.make<never, never>().pipe(Scope.extend(scope))
    const reporterFiber = yield* FiberSet.make<never, never>().pipe(Scope.extend(scope))

    /** What is left at the deadline: in flight or waiting; the memory store loses it, so it is reported. */
    const leftovers = Effect.gen(function* () {
      const left: Array<Stored> = []
      for (const [batch, done] of inFlight) left.push(...batch.filter((_, i) => !done.has(i)))
      inFlight.clear()
      if (durable !== undefined) return left
      for (const lane of lanes.values()) {
        while (true) {
          const batch = yield* memory.claim(lane.state.endpoint, Batch.mixpanelLimits)
          if (batch.length === 0) break
          left.push(...batch)
        }
      }
      return left
    })

    /** The memory store's leftovers are lost: reported as undelivered. */
    const reportLeft = (left: ReadonlyArray<Stored>, timeout: Duration.Duration) =>
      Effect.suspend(() => {
        if (left.length === 0) return Effect.void
        const failures = left.map((message) =>
          Report.failure(
            message.endpoint,
            message.json,
            "Undelivered",
            "Shutdown",
            `still undelivered ${Duration.format(timeout)} after the shutdown began`
          )
        )
        for (const message of left) hold(laneOf(message.endpoint), -1, -message.bytes)
        reporter.report(failures)
        account(left, failures)
        return store.release(left) as Effect.Effect<void>
      })

    /**
     * The durable store's leftovers stay in it for the next start: what is claimed is given back, the
     * outcomes not recorded yet are tried once more, and one line says how much stays.
     */
    const keepLeft = (durableStore: DurableService, left: ReadonlyArray<Stored>) =>
      Effect.gen(function* () {
        for (const message of left) hold(laneOf(message.endpoint), -1, -message.bytes)
        if (left.length > 0) yield* Effect.ignore(durableStore.release(left))
        if (unacked.length > 0) yield* Effect.ignore(durableStore.ack(unacked))
        if (unburied.length > 0) yield* Effect.ignore(durableStore.deadLetter(unburied))
        // A flush waiting now is done: what it waits for is safe in the store
        Flushes.settleAll(flushes)
        yield* completeFlushes
        const stats = yield* Effect.option(durableStore.stats)
        if (Option.isSome(stats) && stats.value.messages > 0) {
          yield* Effect.logInfo(
            `${stats.value.messages} Mixpanel messages stay in the outbox (${durableStore.settings.label}), to be sent after the next start or by another process`
          ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.messages": stats.value.messages }))
        }
      })

    const shutdown = Effect.gen(function* () {
      closed = true
      const timeout = settings.shutdownTimeout
      deadline = clock.unsafeCurrentTimeMillis() + Duration.toMillis(timeout)
      room.unsafeOpen()
      // A finalizer runs uninterruptibly: the wait must be made interruptible for its timeout to end it.
      yield* flushNow.pipe(Effect.exit, Effect.interruptible, Effect.timeoutOption(timeout))
      yield* FiberSet.clear(workers)
      const left = yield* leftovers
      // The store and the hook get a last, short chance: closing takes at most the timeout and half a second.
      if (durable === undefined) {
        yield* reportLeft(left, timeout)
        yield* reporter.drained.pipe(Effect.interruptible, Effect.timeoutOption("500 millis"))
      } else {
        yield* Effect.zipRight(keepLeft(durable.store, left), reporter.drained).pipe(
          Effect.interruptible,
          Effect.timeoutOption("500 millis")
        )
      }
      yield* FiberSet.clear(reporterFiber)
      yield* reporter.summary
      finished = true
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
    if (durable !== undefined) {
      yield* durable.store.onLate(late)
      // What the store holds from before (a previous run, a dead process) goes at once
      const before = yield* Effect.option(durable.store.oldest)
      if (Option.isNone(before) || before.value !== undefined) drainAll()
      yield* Effect.sleep(durable.pollInterval).pipe(
        Effect.zipRight(poll(durable.store)),
        Effect.forever,
        Effect.annotateLogs({ package: "effect-mixpanel" }),
        Effect.forkScoped
      )
    }

    const send = durable === undefined ? offer : offerDurable(durable.store)

    const one =
      (operation: string) =>
      (endpoint: Endpoint, message: string): Effect.Effect<void, SendError> => {
        const invalid = Args.checkMessage(operation, endpoint, message)
        return invalid === undefined ? send(endpoint, [message]) : Effect.fail(invalid)
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

    // A durable store writes every message when it stores it; the memory store when a worker claims it
    const trusted: Args.Trusted =
      durable === undefined
        ? {
            send: (endpoint, message) => offer(endpoint, [message]),
            sendBatch: offer,
            unsafeSend: unsafeOffer,
            writesLater: { sendBatch: offer, unsafeSend: unsafeOffer }
          }
        : {
            send: (endpoint, message) => send(endpoint, [message]),
            sendBatch: send,
            unsafeSend: unsafeOfferDurable(durable.store)
          }

    return {
      send: one("Consumer.send"),
      sendBatch: (endpoint, messages) =>
        Effect.flatMap(Args.checkMessages("Consumer.sendBatch", endpoint, messages), (checked) =>
          send(endpoint, checked)
        ),
      sendNow: (endpoint, message) => {
        const invalid = Args.checkMessage("Consumer.sendNow", endpoint, message)
        return invalid === undefined ? now(endpoint, message) : Effect.fail(invalid)
      },
      flush,
      [Args.TrustedTypeId]: trusted
    }
  })
