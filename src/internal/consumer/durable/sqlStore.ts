/**
 * The durable store: the engine's `Store` over any `SqlClient` (SQLite or PostgreSQL).
 *
 * - **append**: inside the caller's own transaction on this database, the messages are written through
 *   it (they commit or roll back with the application's writes). Otherwise they go to one committer
 *   fiber, which writes everything that arrived while the previous transaction ran in one transaction
 *   (group commit). With "commit" durability `append` returns after that commit; with "async" it returns
 *   at once, and the committer waits up to `asyncInterval` (or `asyncMessages` messages) to fill a
 *   transaction; the outcome comes later through `onLate`. A transaction stores its messages as pages
 *   (`pages.ts`), one run of pages per endpoint.
 * - **cap**: the committer keeps a running count of what the store holds, recounted from the table when
 *   an append would not fit (and every lease renewal, for what other processes did).
 * - **claim**: hands out first what rests of pages this relay leased (`holding.ts`), then leases the
 *   oldest free pages as far as the limits go (see `statements.ts`), under the endpoint's lock row; the
 *   ordered endpoints not at all while another relay holds a live lease on one of their pages.
 * - **ack**, **deadLetter** and evictions take messages out of their pages (`finish`): a page's `done`
 *   list grows, and the page is deleted once all of its messages have left.
 * - **leases** are renewed every third of `leaseDuration` while the store runs, and given back when it
 *   closes; a dead process's leases expire and its messages are claimed again.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Endpoint } from "../../../Endpoint.js"
import type { DeliveryFailure } from "../../../MixpanelError.js"
import * as Batch from "../batch.js"
import { bytesOf, type Stored } from "../buffered/store.js"
import * as DeadLetters from "./deadLetters.js"
import * as Failure from "./failure.js"
import * as GroupCommit from "./groupCommit.js"
import { Holding } from "./holding.js"
import * as Join from "./join.js"
import { instanceKey, migrate } from "./migrations.js"
import { OutboxMessage } from "./outboxMessage.js"
import * as Pages from "./pages.js"
import * as Room from "./room.js"
import type { DurableAppended, Late, Resolved, Service, Settings } from "./service.js"
import * as Statements from "./statements.js"

/** One `append` for the group committer. */
interface Request {
  readonly endpoint: Endpoint
  readonly messages: ReadonlyArray<Pages.Text>
  readonly bytes: ReadonlyArray<number>
  /** "async" and nobody waits for it: its outcome goes to `onLate`. */
  readonly late: boolean
  /** The caller's number for it, handed back with its late outcome. */
  readonly epoch: number | undefined
}

/** Most ids in one `IN (...)`. */
const maxIdsPerStatement = 1000

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const isOrdered = (endpoint: Endpoint): boolean => endpoint === "people" || endpoint === "groups"

/** The empty list of an outcome, shared. */
const none: ReadonlyArray<never> = []

const nothing: DurableAppended = { stored: none, refused: none, evicted: none, pending: none }

/** The default handler of "async" outcomes: nothing is lost or dropped without a log line. */
const logLate =
  (label: string) =>
  (outcomes: ReadonlyArray<Late>): Effect.Effect<void> =>
    Effect.forEach(
      outcomes,
      (late) => {
        if (late._tag === "Failed") {
          return Effect.logError(
            `Mixpanel outbox (${label}): ${late.messages.length} ${late.endpoint} message(s) lost: their async commit failed: ${late.failure.detail}`
          ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.store.reason": late.failure.reason }))
        }
        const { evicted, refused } = late.appended
        if (evicted.length === 0 && refused.length === 0) return Effect.void
        return Effect.logWarning(
          `Mixpanel outbox (${label}): full: ${refused.length} ${late.endpoint} message(s) refused, ${evicted.length} older message(s) dropped`
        ).pipe(Effect.annotateLogs({ package: "effect-mixpanel" }))
      },
      { discard: true }
    )

/**
 * The durable store over the `SqlClient` in context: migrates its tables, then serves until the scope
 * closes. `beyondLimit` lifts the database's size limit, if it has one, for the store's own writes (they
 * must go on in a full database, so that it drains): see `sqlite.ts`.
 */
export const make = (
  options: Resolved,
  beyondLimit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R> = identity
): Effect.Effect<Service, Failure.Failure<"open">, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = sql.onDialectOrElse({
      sqlite: () => "sqlite" as const,
      pg: () => "pg" as const,
      orElse: () => undefined
    })
    if (dialect === undefined) {
      return yield* Effect.fail(
        Failure.make("open", "Unknown", "the durable store speaks SQLite and PostgreSQL, not this client's dialect")
      )
    }
    const { holder, tables } = options
    const health = new Failure.Health(options.label)
    const opened = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      health.track(Failure.wrap("open", Join.outsideTransaction(effect)))

    yield* health.track(Join.outsideTransaction(migrate(tables)))
    // Messages as their UTF-8 bytes where the database's text is UTF-8 bytes: SQLite in UTF-8, as every file
    // of `layerSqlite` is (an application's database may be in UTF-16). PostgreSQL's driver would send a
    // `bytea` as hexadecimal text.
    const bytes =
      dialect === "sqlite" &&
      (yield* opened(sql.unsafe<{ readonly encoding: string }>("PRAGMA encoding")))[0]?.encoding === "UTF-8"
    const statements = Statements.make(sql, dialect, tables, bytes)
    // What waits for the group committer: the messages' bytes, bound as they are (`Statements`), or their text
    const toText: (json: string) => Pages.Text = bytes ? Pages.encode : identity
    const deadLetters = DeadLetters.make(sql, statements, tables)
    const instance = yield* opened(Join.instanceOf(sql, tables))
    if (instance === undefined) {
      return yield* Effect.fail(Failure.make("open", "Schema", `the outbox instance id is missing from ${tables.meta}`))
    }
    // A database opened read-only (a read-only file, a replica) reads fine: find out now, not at the first append
    yield* opened(sql`UPDATE ${sql(tables.meta)} SET value = value WHERE key = ${instanceKey}`)
    const inTransaction = Join.make(sql, tables, instance)
    const settings: Settings = { ...options, dialect }
    const cap: Room.Cap = options

    // What the store holds, as this process knows it: exact after a recount, then kept up to date by
    // this process's own appends, acks and evictions. Other processes show at the next recount.
    let held: Room.Size = Room.empty
    const recount = Effect.map(statements.size, ([row]) => {
      held = { messages: Statements.toNumber(row?.messages ?? 0), bytes: Statements.toNumber(row?.bytes ?? 0) }
      return held
    })
    yield* opened(recount)

    // Renewal takes every permit, so that it never runs beside this process's claims, acks and releases:
    // on PostgreSQL they would lock the same rows in different orders.
    const permits = 64
    const writes = yield* Effect.makeSemaphore(permits)
    // The store writes in transactions of its own: its writes are several statements (a message and its
    // lease leave together). And SQLite's client has one connection, shared with the application's
    // statements: a statement outside a transaction runs on it even while another fiber's transaction is
    // open, and becomes part of that transaction (whose rollback would undo an acknowledgement, and send a
    // message twice); a transaction of the store's own waits for the application's.
    const own = <A, E, R>(effect: Effect.Effect<A, E, R>) => sql.withTransaction(beyondLimit(effect))
    const write = <A, E, R>(effect: Effect.Effect<A, E, R>) => writes.withPermits(1)(own(effect))

    let late = logLate(options.label)
    /** "async": messages handed to the committer and not yet committed (the loss window). */
    let pending: Room.Size = Room.empty

    /** What this relay holds of the pages it claimed: see `Holding`. */
    const holding = new Holding()

    // ---- group commit

    /**
     * Takes `messages` out of their pages, inside the caller's transaction: a page whose messages have all
     * left is deleted with its lease. Returns those that were still there (`gone`), the states of their
     * pages as they were, and the pages deleted.
     */
    const finish = (messages: ReadonlyArray<Stored>) =>
      Effect.gen(function* () {
        const grouped = Pages.byPage(messages)
        const states = new Map<number, Statements.PageState>()
        for (const some of chunks([...grouped.keys()], maxIdsPerStatement)) {
          for (const state of yield* statements.states(some)) states.set(Statements.toNumber(state.id), state)
        }
        const gone: Array<Stored> = []
        const emptied: Array<number> = []
        for (const [page, some] of grouped) {
          const state = states.get(page)
          if (state === undefined) continue
          const done = Pages.doneOf(state.done)
          let count = 0
          let bytes = 0
          for (const message of some) {
            const index = Pages.indexOf(message.id)
            if (done.has(index)) continue
            done.add(index)
            gone.push(message)
            count++
            bytes += message.bytes
          }
          if (done.size >= Statements.toNumber(state.count)) emptied.push(page)
          else if (count > 0) yield* statements.finishSome(page, Pages.doneText(done), count, bytes)
        }
        for (const some of chunks(emptied, maxIdsPerStatement)) yield* statements.removePages(some)
        return { gone, states, emptied: new Set(emptied) }
      })

    /** Frees room for `needed` by taking the oldest free messages out of the outbox; returns them. */
    const evict = (needed: Room.Size) =>
      Effect.gen(function* () {
        const evicted: Array<Stored> = []
        let left = needed
        while (left.messages > 0 || left.bytes > 0) {
          const page = Math.max(1, Math.ceil(left.messages / Pages.maxMessages))
          const rows = yield* statements.evictable(page)
          const candidates = Statements.toStored(rows)
          const count = Room.victims(
            candidates.map((message) => message.bytes),
            left
          )
          if (count === 0) break
          const { gone } = yield* finish(candidates.slice(0, count))
          evicted.push(...gone)
          left = Room.minus(left, Room.sizeOf(gone.map((m) => m.bytes)))
          if (rows.length < page) break
        }
        return evicted
      })

    /** One transaction for `requests`: the cap, `dropOldest` evictions, and one insert for all that fits. */
    const commitBatch = (requests: ReadonlyArray<Request>) =>
      Effect.gen(function* () {
        const incoming: Array<number> = []
        for (const request of requests) for (const bytes of request.bytes) incoming.push(bytes)
        let now = held
        if (!Room.within(now, Room.sizeOf(incoming), cap)) now = yield* recount
        let evicted: Array<Stored> = []
        if (options.overflow === "dropOldest") {
          const needed = Room.shortfall(now, incoming, cap)
          if (needed.messages > 0 || needed.bytes > 0) {
            evicted = yield* evict(needed)
            now = Room.minus(now, Room.sizeOf(evicted.map((m) => m.bytes)))
          }
        }
        const accepted: Array<number> = []
        // What fits of each request, in order, with the request it came from
        const entries: Array<{ endpoint: Endpoint; json: Pages.Text; bytes: number; owner: number }> = []
        let messages = now.messages
        let total = now.bytes
        requests.forEach((request, owner) => {
          const fits = Room.fitting({ messages, bytes: total }, request.bytes, cap)
          accepted.push(fits)
          for (let i = 0; i < fits; i++) {
            const bytes = request.bytes[i] ?? 0
            entries.push({ endpoint: request.endpoint, json: request.messages[i] ?? "", bytes, owner })
            total += bytes
          }
          messages += fits
        })
        const { order, pages } = Pages.paginate(entries)
        const stored = pages.length === 0 ? [] : yield* statements.insert(pages)
        held = { messages, bytes: total }
        const storedBy: Array<Array<Stored>> = requests.map(() => [])
        for (let i = 0; i < stored.length; i++) storedBy[order[i]?.owner ?? 0]?.push(stored[i] as Stored)
        // The batch's evictions are reported with its first request: they were made for all of them
        return requests.map((request, i): DurableAppended => {
          const fits = accepted[i] ?? 0
          return {
            stored: storedBy[i] ?? none,
            refused: fits === request.messages.length ? none : request.messages.slice(fits).map(Pages.decode),
            evicted: i === 0 ? evicted : none,
            pending: none
          }
        })
      }).pipe(sql.withTransaction)

    /** After a batch: the counts, and the outcomes of "async" appends nobody waits for, all at once. */
    const settled = (
      requests: ReadonlyArray<Request>,
      exit: Exit.Exit<ReadonlyArray<DurableAppended>, Failure.Failure<"append">>
    ) =>
      Effect.suspend(() => {
        const failure = Exit.isFailure(exit)
          ? Option.getOrElse(Cause.failureOption(exit.cause), () =>
              Failure.fromCause("append", Cause.squash(exit.cause))
            )
          : undefined
        const outcomes: Array<Late> = []
        for (let i = 0; i < requests.length; i++) {
          const request = requests[i] as Request
          if (options.durability === "async") pending = Room.minus(pending, Room.sizeOf(request.bytes))
          if (!request.late) continue
          if (failure === undefined && Exit.isSuccess(exit)) {
            outcomes.push({
              _tag: "Committed",
              endpoint: request.endpoint,
              epoch: request.epoch,
              appended: exit.value[i] ?? nothing
            })
          } else if (failure !== undefined) {
            outcomes.push({
              _tag: "Failed",
              endpoint: request.endpoint,
              epoch: request.epoch,
              messages: request.messages.map(Pages.decode),
              failure
            })
          }
        }
        return outcomes.length === 0 ? Effect.void : late(outcomes)
      })

    // Finalizers run last-in first-out: the group committer runs what is open, then the renewal stops,
    // then the leases are given back.
    yield* Effect.addFinalizer(() =>
      write(statements.releaseAll(holder)).pipe(
        Effect.catchAll((error) => health.failed(Failure.fromCause("release", error))),
        Join.outsideTransaction
      )
    )
    const renew = Effect.gen(function* () {
      yield* writes.withPermits(permits)(own(statements.renew(holder, options.leaseDuration)))
      yield* recount
    }).pipe(
      (effect) => health.track(Failure.wrap("renew", effect)),
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Math.max(1, Math.floor(options.leaseDuration / 3)))),
      Join.outsideTransaction
    )
    yield* Effect.forkScoped(Effect.delay(renew, Math.max(1, Math.floor(options.leaseDuration / 3))))
    const committer = yield* Join.outsideTransaction(
      GroupCommit.make({
        run: (requests: ReadonlyArray<Request>) => {
          const before = held
          return health.track(Failure.wrap("append", commitBatch(requests))).pipe(
            Effect.tapError(() =>
              Effect.sync(() => {
                held = before
              })
            )
          )
        },
        settled,
        delay: options.durability === "async" ? options.asyncInterval : undefined
      })
    )

    // ---- the Store operations

    const closedFailure = Failure.make("append", "Closed", `the store (${options.label}) is closed`)

    /** Writes through the caller's transaction: no group commit, and no eviction of others' messages. */
    const appendJoined = (endpoint: Endpoint, messages: ReadonlyArray<string>, bytes: ReadonlyArray<number>) =>
      Effect.gen(function* () {
        const fits = Room.fitting(held, bytes, cap)
        const pages = Pages.cut([], endpoint, messages.slice(0, fits), bytes.slice(0, fits))
        const stored = pages.length === 0 ? [] : yield* statements.insert(pages)
        // Counted now; a rollback leaves the count high until the next recount, which only errs on the safe side
        held = Room.plus(held, Room.sizeOf(bytes.slice(0, fits)))
        const appended: DurableAppended = {
          stored,
          refused: messages.slice(fits),
          evicted: [],
          pending: []
        }
        return appended
      })

    /**
     * "async" outside any transaction on this database: what fits is handed to the committer at once and
     * comes back as pending; beyond the window the caller must wait for its commit (the effect that does),
     * so that a crash never loses more than the window.
     */
    const appendAsync = (
      endpoint: Endpoint,
      messages: ReadonlyArray<string>,
      bytes: ReadonlyArray<number>,
      epoch: number | undefined
    ): DurableAppended | Effect.Effect<DurableAppended, Failure.Failure<"append">> => {
      // Refuse now what clearly does not fit (so that `wait` can wait), take the rest
      const fits =
        options.overflow === "dropOldest" ? messages.length : Room.fitting(Room.plus(held, pending), bytes, cap)
      const refused = fits === messages.length ? none : messages.slice(fits)
      if (fits === 0) return { ...nothing, refused }
      const taken = fits === messages.length ? messages : messages.slice(0, fits)
      const takenBytes = fits === bytes.length ? bytes : bytes.slice(0, fits)
      pending = Room.plus(pending, Room.sizeOf(takenBytes))
      const overWindow = pending.messages > options.asyncMessages
      const committed = committer.add(
        { endpoint, messages: taken.map(toText), bytes: takenBytes, late: !overWindow, epoch },
        overWindow
      )
      if (committed === undefined) {
        if (pending.messages >= options.asyncMessages) committer.hurry()
        return { ...nothing, refused, pending: taken }
      }
      if (refused.length === 0) return committed
      return Effect.map(committed, (appended) => ({ ...appended, refused: [...appended.refused, ...refused] }))
    }

    /** Appends through the group committer (outside any transaction on this database). */
    const appendOwn = (
      endpoint: Endpoint,
      messages: ReadonlyArray<string>,
      bytes: ReadonlyArray<number>,
      epoch: number | undefined
    ): Effect.Effect<DurableAppended, Failure.Failure<"append">> => {
      if (committer.isClosed()) return Effect.fail(closedFailure)
      if (options.durability === "commit") {
        return (
          committer.add({ endpoint, messages: messages.map(toText), bytes, late: false, epoch }, true) ??
          Effect.die("unreachable")
        )
      }
      const appended = appendAsync(endpoint, messages, bytes, epoch)
      return Effect.isEffect(appended) ? appended : Effect.succeed(appended)
    }

    // The fiber's context tells at once whether it is in any transaction; only then is the probe needed
    const append = (endpoint: Endpoint, messages: ReadonlyArray<string>, epoch?: number) =>
      Effect.contextWithEffect(
        (context: Context.Context<never>): Effect.Effect<DurableAppended, Failure.Failure<"append">> => {
          if (messages.length === 0) return Effect.succeed(nothing)
          const bytes = messages.map((json) => options.measure(endpoint, json))
          if (!Join.inAnyTransaction(context)) return appendOwn(endpoint, messages, bytes, epoch)
          return Effect.flatMap(inTransaction, (joined) =>
            joined
              ? health.track(Failure.wrap("append", appendJoined(endpoint, messages, bytes)))
              : appendOwn(endpoint, messages, bytes, epoch)
          )
        }
      )

    const appendAtOnce = (
      endpoint: Endpoint,
      messages: ReadonlyArray<string>,
      epoch: number,
      context: Context.Context<never> | undefined
    ): DurableAppended | Effect.Effect<DurableAppended, Failure.Failure<"append">> | undefined => {
      if (
        options.durability !== "async" ||
        committer.isClosed() ||
        (context !== undefined && Join.inAnyTransaction(context))
      ) {
        return undefined
      }
      return appendAsync(
        endpoint,
        messages,
        messages.map((json) => options.measure(endpoint, json)),
        epoch
      )
    }

    /** The oldest waiting messages of `messages` within `limits`, the first whatever its size. */
    const within = (
      endpoint: Endpoint,
      messages: ReadonlyArray<Stored>,
      limits: { readonly maxItems: number; readonly maxBytes: number }
    ): ReadonlyArray<Stored> => {
      let count = 0
      let bytes = 0
      for (const message of messages) {
        if (!Batch.admits(endpoint, limits, count, bytes, message.bytes)) break
        count++
        bytes += message.bytes
      }
      return count === messages.length ? messages : messages.slice(0, count)
    }

    /** Writes a claimed batch into one request body of `allocate`'s, where its messages are then held. */
    const place = (
      endpoint: Endpoint,
      batch: ReadonlyArray<Stored>,
      allocate: (size: number) => Uint8Array
    ): ReadonlyArray<Stored> => {
      const messages = batch.filter((message) => message instanceof OutboxMessage)
      if (messages.length === 0) return batch
      Batch.place(
        endpoint,
        messages.map((message) => message.source),
        messages.map((message) => message.size),
        (size) => {
          const body = allocate(size)
          return Buffer.from(body.buffer, body.byteOffset, body.length)
        },
        messages
      )
      return batch
    }

    const claim = (
      endpoint: Endpoint,
      limits: { readonly maxItems: number; readonly maxBytes: number },
      allocate: (size: number) => Uint8Array = Buffer.allocUnsafe
    ): Effect.Effect<ReadonlyArray<Stored>, Failure.Failure<"claim">> => {
      if (limits.maxItems <= 0) return Effect.succeed(none)
      const ordered = isOrdered(endpoint)
      return Effect.suspend(() => {
        // What rests of pages this relay leased goes first; more is leased only if there is room after it
        const resting = holding.takeRests(endpoint)
        const first = within(endpoint, resting, limits)
        const count = first.length
        const bytes = bytesOf(first)
        const room = { maxItems: limits.maxItems - count, maxBytes: limits.maxBytes - bytes - count }
        // No room after them for a message of a byte: the rests are the batch
        if (count < resting.length || !Batch.admits(endpoint, limits, count, bytes, 1)) {
          holding.rest(endpoint, resting.slice(count))
          return Effect.succeed(place(endpoint, first, allocate))
        }
        const leasing = Effect.gen(function* () {
          yield* statements.lockEndpoint(endpoint, holder)
          if (ordered && (yield* statements.heldByOthers(endpoint, holder)).length > 0) return none
          const leased = yield* statements.claim(endpoint, room, count === 0, {
            holder,
            leaseMillis: options.leaseDuration,
            lock: ordered ? "wait" : "skip"
          })
          const pages = leased.map((row) => Statements.toNumber(row.id))
          const read = yield* Effect.forEach(chunks(pages, maxIdsPerStatement), statements.read)
          return Statements.toStored(read.flat())
        })
        return Join.outsideTransaction(write(leasing)).pipe(
          (effect) => health.track(Failure.wrap("claim", effect)),
          Effect.map((fresh) => {
            holding.leased(fresh)
            // What rested and the pages leased, oldest first (a page given back may be older than a rest),
            // cut at the limits: the last page leased may not fit whole, and what is left of it rests
            const all = count === 0 ? fresh : [...first, ...fresh].sort((a, b) => a.id - b.id)
            const taken = within(endpoint, all, limits)
            holding.rest(endpoint, all.slice(taken.length))
            return place(endpoint, taken, allocate)
          }),
          // Failed or interrupted: nothing was leased, and what rested rests again
          Effect.onError(() => Effect.sync(() => holding.rest(endpoint, resting)))
        )
      })
    }

    /** Counts out of the store what left it (acked, dead-lettered, or evicted by the caller). */
    const forget = (messages: ReadonlyArray<Stored>) =>
      Effect.sync(() => {
        held = Room.minus(held, Room.sizeOf(messages.map((message) => message.bytes)))
      })

    /**
     * Runs `taking` (which takes `settled`, claimed by this relay, out of the outbox, or not), then gives
     * back the leases of the pages that still hold messages and of which this relay holds none now.
     */
    const settle = <A extends { readonly emptied: ReadonlySet<number> }, E, R>(
      settled: ReadonlyArray<Stored>,
      taking: Effect.Effect<A, E, R>
    ) => {
      let undo: (() => void) | undefined
      return Effect.gen(function* () {
        undo = undefined
        const result = yield* taking
        const counted = holding.settle(settled)
        undo = counted.undo
        const release = counted.idle.filter((page) => !result.emptied.has(page))
        for (const some of chunks(release, maxIdsPerStatement)) yield* statements.release(some, holder)
        return result
      }).pipe(
        write,
        Effect.onError(() => Effect.sync(() => undo?.()))
      )
    }

    const ack = (messages: ReadonlyArray<Stored>) =>
      health.track(
        Failure.wrap(
          "ack",
          Join.outsideTransaction(
            Effect.flatMap(settle(messages, finish(messages)), ({ gone }) =>
              // All of them were there (the rule): what left is known. Else someone acknowledged some already
              gone.length === messages.length ? forget(messages) : Effect.asVoid(recount)
            )
          )
        )
      )

    const deadLetter = (failures: ReadonlyArray<{ readonly message: Stored; readonly failure: DeliveryFailure }>) => {
      const messages = failures.map(({ message }) => message)
      const buried = Effect.gen(function* () {
        const finished = yield* finish(messages)
        yield* deadLetters.bury(finished.gone, finished.states, failures)
        return finished
      })
      return health.track(
        Failure.wrap(
          "deadLetter",
          Join.outsideTransaction(Effect.flatMap(settle(messages, buried), ({ gone }) => forget(gone)))
        )
      )
    }

    const release = (messages: ReadonlyArray<Stored>) =>
      Effect.suspend(() => {
        const idle = holding.release(messages)
        return health.track(
          Failure.wrap(
            "release",
            Join.outsideTransaction(
              Effect.forEach(chunks(idle, maxIdsPerStatement), (pages) => write(statements.release(pages, holder)), {
                discard: true
              })
            )
          )
        )
      })

    const service: Service = {
      append,
      appendAtOnce,
      claim,
      ack,
      deadLetter,
      release,
      settings,
      inTransaction,
      onLate: (handler) =>
        Effect.sync(() => {
          late = handler
        }),
      deadLetters: {
        list: (filter) => health.track(Failure.wrap("deadLetters", Join.outsideTransaction(deadLetters.list(filter)))),
        replay: (filter) =>
          health.track(
            Failure.wrap(
              "deadLetters",
              Join.outsideTransaction(
                Effect.map(deadLetters.replay(filter), (stored) => {
                  held = Room.plus(held, Room.sizeOf(stored.map((m) => m.bytes)))
                  return stored.length
                })
              )
            )
          ),
        remove: (filter) =>
          health.track(Failure.wrap("deadLetters", Join.outsideTransaction(deadLetters.remove(filter))))
      },
      stats: health.trackFailures(
        Failure.wrap(
          "stats",
          Join.outsideTransaction(
            Effect.map(Effect.all([recount, statements.claimed, deadLetters.count]), ([size, [claimed], dead]) => ({
              ...size,
              claimed: Statements.toNumber(claimed?.claimed ?? 0),
              deadLetters: dead
            }))
          )
        )
      ),
      oldest: health.trackFailures(
        Failure.wrap(
          "stats",
          Join.outsideTransaction(
            Effect.map(statements.oldest, ([row]) => {
              if (row === undefined) return undefined
              const done = Pages.doneOf(row.done)
              let index = 0
              while (done.has(index)) index++
              return Pages.messageId(Statements.toNumber(row.id), index)
            })
          )
        )
      ),
      commits: committer.transactions,
      commitNow: committer.hurry
    }
    return service
  })
