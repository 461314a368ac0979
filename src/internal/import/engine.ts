/**
 * `Import.run`: a stream of entries becomes messages, the messages become batches, and the batches are
 * delivered `concurrency` at a time and confirmed in the order of the input.
 *
 *   entries ─► prepare (mapping, the user's transform) ─► group (build, batch) ─► deliver ─► confirm
 *
 * Each stage pulls from the one before: the reader goes no faster than delivery. At most `concurrency`
 * requests are in flight and `2 × concurrency` batches hold their messages (sending, or waiting out a
 * retry's delay, which holds no request slot); one more waits to go and one is being filled. A batch carries the local
 * rejections of its entries with it, so that its confirmation is a checkpoint: every entry up to its last
 * one has an outcome. Delivery failures that more tries cannot fix (credentials, retries exhausted) stop
 * the import: reading stops, nothing more is sent, and what was not confirmed is counted undelivered.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { Endpoint } from "../../Endpoint.js"
import type {
  BatchReport,
  Counts,
  Entry,
  Options,
  RecordEntry,
  RecordType,
  Rejection,
  Stage,
  Summary,
  Transform
} from "../../Import.js"
import { InvalidConfig, type MixpanelError } from "../../MixpanelError.js"
import * as Json from "../json.js"
import * as UserCode from "../userCode.js"
import { reasonOf } from "./formats.js"
import * as Records from "./records.js"
import * as Send from "./send.js"

export const defaults = {
  type: "event" as RecordType,
  strict: true,
  gzip: true,
  concurrency: 4,
  batchSize: Send.maxItems,
  batchBytes: 1024 * 1024,
  maxRetries: 10,
  retryDelay: Duration.seconds(2),
  maxRetryTime: Duration.minutes(5),
  keepRejections: 1000
}

/** Most delivered batches waiting for those before them to be confirmed (each holds only its outcome). */
const unconfirmed = 256

const endpoints: { readonly [T in RecordType]: Endpoint } = { event: "imports", user: "people", group: "groups" }

// ---------------------------------------------------------------------------------------------------
// settings
// ---------------------------------------------------------------------------------------------------

interface Settings {
  readonly type: RecordType
  readonly token: string
  readonly mapping: ReadonlyArray<readonly [string, string]>
  readonly concurrency: number
  readonly batchSize: number
  readonly batchBytes: number
  readonly keepRejections: number
  readonly dryRun: boolean
}

const integer = (option: string, value: number | undefined, fallback: number, min: number, max: number) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isInteger(value) && value >= min && value <= max
      ? Effect.succeed(value)
      : new InvalidConfig({
          option,
          detail: max === Number.MAX_SAFE_INTEGER ? `must be a whole number from ${min}` : `must be ${min} to ${max}`
        })

const resolve = <R>(options: Options<R>): Effect.Effect<Settings, InvalidConfig> =>
  Effect.gen(function* () {
    const token = Redacted.isRedacted(options.token) ? Redacted.value(options.token) : options.token
    if (typeof token !== "string" || token.trim() === "") {
      return yield* new InvalidConfig({ option: "token", detail: "the project token is empty" })
    }
    const type = options.type ?? defaults.type
    if (!Object.hasOwn(endpoints, type)) {
      return yield* new InvalidConfig({ option: "type", detail: "must be event, user or group" })
    }
    const dryRun = options.dryRun ?? false
    if (type === "event" && !dryRun && options.importAuth === undefined) {
      return yield* new InvalidConfig({
        option: "importAuth",
        detail: "/import needs credentials: a service account, the project's API secret, or the project token"
      })
    }
    const max = Number.MAX_SAFE_INTEGER
    return {
      type,
      token,
      mapping: Object.entries(options.mapping ?? {}),
      concurrency: yield* integer("concurrency", options.concurrency, defaults.concurrency, 1, max),
      batchSize: yield* integer("batchSize", options.batchSize, defaults.batchSize, 1, Send.maxItems),
      batchBytes: yield* integer("batchBytes", options.batchBytes, defaults.batchBytes, 1, max),
      keepRejections: yield* integer("keepRejections", options.keepRejections, defaults.keepRejections, 0, max),
      dryRun
    }
  })

// ---------------------------------------------------------------------------------------------------
// prepare: mapping and the user's transform
// ---------------------------------------------------------------------------------------------------

/** An entry with what became of it: the records to build messages of, or why there are none. */
interface Prepared {
  readonly entry: Entry
  records: ReadonlyArray<unknown>
  failure: { readonly stage: Stage; readonly reason: string } | undefined
}

/** What a transform returned, as records: nothing, one, or several. */
const recordsOf = (result: unknown): ReadonlyArray<unknown> =>
  result === undefined || result === null ? [] : Array.isArray(result) ? result : [result]

const mapped = (record: unknown, mapping: ReadonlyArray<readonly [string, string]>): unknown =>
  Records.isObject(record) ? Records.applyMapping(record, mapping) : record

/**
 * Why a record that throws when read (a getter, a Proxy trap: an ORM's object given to `fromRecords`) is
 * rejected: reading it is checking it, and one such record costs no other its delivery.
 */
const unreadable = (error: unknown) => ({
  stage: "validation" as const,
  reason: `the record cannot be read: ${reasonOf(error)}`
})

/**
 * How long a transform's promise may take before its record is rejected: one that never settles would
 * hold the import (and its first Ctrl-C) for ever.
 */
export const transformTimeout = Duration.minutes(1)

const prepare = (
  mapping: ReadonlyArray<readonly [string, string]>,
  transform: Transform
): ((chunk: Chunk.Chunk<Entry>) => Effect.Effect<Chunk.Chunk<Prepared>>) => {
  /** `waits`: the promises of the transform; `pending`: the entries whose promise has not settled yet. */
  const one = (entry: Entry, waits: Array<Promise<void>>, pending: Set<Prepared>): Prepared => {
    if (entry._tag === "Unreadable") return { entry, records: [], failure: { stage: "parse", reason: entry.reason } }
    let record: unknown
    try {
      record = mapped(entry.record, mapping)
    } catch (error) {
      return { entry, records: [], failure: unreadable(error) }
    }
    if (!Records.isObject(record)) return { entry, records: [record], failure: undefined }
    const prepared: Prepared = { entry, records: [], failure: undefined }
    const failed = (error: unknown) => {
      prepared.records = []
      prepared.failure = { stage: "transform", reason: `the transform failed: ${reasonOf(error)}` }
    }
    let result: unknown
    try {
      result = transform(record)
    } catch (error) {
      failed(error)
      return prepared
    }
    try {
      // Whether it is a promise is a read of what the transform returned (a getter of the record it passed on).
      if (UserCode.isPromise(result)) {
        pending.add(prepared)
        waits.push(
          Promise.resolve(result).then(
            (value) => {
              if (pending.delete(prepared)) prepared.records = recordsOf(value)
            },
            (error: unknown) => {
              if (pending.delete(prepared)) failed(error)
            }
          )
        )
      } else prepared.records = recordsOf(result)
    } catch (error) {
      prepared.failure = unreadable(error)
    }
    return prepared
  }
  return (chunk) => {
    const waits: Array<Promise<void>> = []
    const pending = new Set<Prepared>()
    const out = Chunk.map(chunk, (entry) => one(entry, waits, pending))
    // A transform that answers synchronously costs no promise and no extra step.
    if (waits.length === 0) return Effect.succeed(out)
    return Effect.promise(() => Promise.all(waits)).pipe(
      Effect.timeoutOption(transformTimeout),
      Effect.map(() => {
        // what settles later is ignored: its record is rejected
        for (const prepared of pending) {
          prepared.failure = {
            stage: "transform",
            reason: `the transform did not answer within ${Duration.toSeconds(transformTimeout)} seconds`
          }
        }
        pending.clear()
        return out
      })
    )
  }
}

// ---------------------------------------------------------------------------------------------------
// group: build each message and put it in a batch
// ---------------------------------------------------------------------------------------------------

/** A local rejection, with the place of its entry in the input (to merge with the server's, in order). */
interface Local {
  readonly seq: number
  readonly rejection: Rejection
}

/** The messages of one request, and the outcomes decided before sending (rejections, skips). */
interface Batch {
  readonly messages: Array<string>
  /** Where each message came from, and the place of its entry in the input. */
  readonly sources: Array<string>
  readonly lines: Array<number>
  readonly seqs: Array<number>
  readonly locals: Array<Local>
  bytes: number
  skipped: number
  entries: number
  /** The last entry with all of its messages in this batch or before. */
  through: { readonly source: string; readonly ordinal: number } | undefined
}

const emptyBatch = (): Batch => ({
  messages: [],
  sources: [],
  lines: [],
  seqs: [],
  locals: [],
  bytes: 0,
  skipped: 0,
  entries: 0,
  through: undefined
})

const itemsOf = (batch: Batch) => batch.messages.length + batch.locals.length + batch.skipped

/**
 * The batching of messages, as a state machine fed one prepared entry at a time. A batch is closed when
 * the next message (or rejection, or skip) would not fit, so that `through` is exact: an entry whose
 * messages span two batches is confirmed with the second.
 */
const grouper = (settings: Settings, context: Records.Context) => {
  let seq = 0
  // The last entry with all of its messages in a batch
  let lastSource: string | undefined
  let lastOrdinal = 0
  let open = emptyBatch()

  const close = (out: Array<Batch>) => {
    open.through = lastSource === undefined ? undefined : { source: lastSource, ordinal: lastOrdinal }
    out.push(open)
    open = emptyBatch()
  }

  const endpoint = endpoints[settings.type]

  /** Closes the open batch unless it has room for one more item, of `bytes` on the wire if a message. */
  const room = (out: Array<Batch>, bytes?: number) => {
    const items = itemsOf(open)
    const messages = open.messages.length + (bytes === undefined ? 0 : 1)
    if (
      items > 0 &&
      (items >= settings.batchSize ||
        Send.bodyBytes(endpoint, messages, open.bytes + (bytes ?? 0)) > settings.batchBytes)
    ) {
      close(out)
    }
  }

  const reject = (out: Array<Batch>, entry: Entry, stage: Stage, reason: string, record: unknown) => {
    room(out)
    open.locals.push({ seq, rejection: { source: entry.source, line: entry.line, stage, reason, record } })
  }

  /** One message of `entry`, from `record` (the entry's record, or what the transform made of it), mapped. */
  const build = (out: Array<Batch>, entry: RecordEntry, record: unknown, mapping: Settings["mapping"]) => {
    let built: Records.Built
    try {
      built = Records.build(mapped(record, mapping), context)
    } catch (error) {
      const failure = unreadable(error)
      return reject(out, entry, failure.stage, failure.reason, entry.record)
    }
    if ("reason" in built) return reject(out, entry, "validation", built.reason, entry.record)
    const size = Send.wireBytes(endpoint, built.json)
    room(out, size)
    open.messages.push(built.json)
    open.sources.push(entry.source)
    open.lines.push(entry.line)
    open.seqs.push(seq)
    open.bytes += size
  }

  const done = (entry: Entry) => {
    open.entries++
    lastSource = entry.source
    lastOrdinal = entry.ordinal
  }

  /** An entry, without a transform: its record, mapped, is one message. */
  const add = (entry: Entry, out: Array<Batch>) => {
    seq++
    if (entry._tag === "Unreadable") reject(out, entry, "parse", entry.reason, entry.text)
    else build(out, entry, entry.record, settings.mapping)
    done(entry)
  }

  /** An entry after the user's transform: its records, each a message, or why there are none. */
  const addPrepared = (prepared: Prepared, out: Array<Batch>) => {
    seq++
    const entry = prepared.entry
    if (prepared.failure !== undefined) {
      const record = entry._tag === "Record" ? entry.record : entry.text
      reject(out, entry, prepared.failure.stage, prepared.failure.reason, record)
    } else if (prepared.records.length === 0 || entry._tag === "Unreadable") {
      room(out)
      open.skipped++
    } else for (const record of prepared.records) build(out, entry, record, [])
    done(entry)
  }

  const each =
    <A>(step: (item: A, out: Array<Batch>) => void) =>
    (chunk: Chunk.Chunk<A>): Chunk.Chunk<Batch> => {
      const out: Array<Batch> = []
      for (const item of chunk) step(item, out)
      return Chunk.unsafeFromArray(out)
    }

  return {
    push: each(add),
    pushPrepared: each(addPrepared),
    end: (): Chunk.Chunk<Batch> => {
      if (open.entries === 0) return Chunk.empty()
      const out: Array<Batch> = []
      close(out)
      return Chunk.unsafeFromArray(out)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// deliver
// ---------------------------------------------------------------------------------------------------

/**
 * A batch after delivery, without its messages (a delivered batch may wait for those before it to be
 * confirmed, and need not hold them meanwhile): its rejections in the order of the input, or the failure
 * that stopped the import.
 */
interface Delivered {
  readonly entries: number
  readonly messages: number
  readonly skipped: number
  readonly through: Batch["through"]
  readonly rejections: ReadonlyArray<Rejection>
  readonly refused: number
  readonly failure: MixpanelError | undefined
}

const delivered = (
  batch: Batch,
  refused: ReadonlyArray<Send.Refused>,
  failure: MixpanelError | undefined
): Delivered => ({
  entries: batch.entries,
  messages: batch.messages.length,
  skipped: batch.skipped,
  through: batch.through,
  rejections: failure === undefined ? rejectionsOf(batch, refused) : [],
  refused: refused.length,
  failure
})

// ---------------------------------------------------------------------------------------------------
// confirm, and the whole
// ---------------------------------------------------------------------------------------------------

const zeroStages = (): { -readonly [S in Stage]: number } => ({ parse: 0, transform: 0, validation: 0, server: 0 })

/** The batch's rejections, local and the server's, in the order of the input. */
const rejectionsOf = (batch: Batch, refused: ReadonlyArray<Send.Refused>): Array<Rejection> => {
  if (refused.length === 0) return batch.locals.map((local) => local.rejection)
  const server = refused.map(([index, reason]): Local => {
    const json = batch.messages[index] ?? "null"
    return {
      seq: batch.seqs[index] ?? 0,
      rejection: {
        source: batch.sources[index] ?? "",
        line: batch.lines[index] ?? 0,
        stage: "server",
        reason,
        record: JSON.parse(json)
      }
    }
  })
  return [...batch.locals, ...server].sort((a, b) => a.seq - b.seq).map((local) => local.rejection)
}

export const run = <E, R, RB = never>(
  entries: Stream.Stream<Entry, E, R>,
  options: Options<RB>
): Effect.Effect<Summary, E | InvalidConfig, R | RB | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const settings = yield* resolve(options)
    const endpoint = endpoints[settings.type]
    // Profile and group updates go one request at a time, so that they arrive in order.
    const concurrency = settings.type === "event" ? settings.concurrency : 1
    const send = settings.dryRun
      ? undefined
      : yield* Send.make({
          ...options,
          requests: concurrency,
          stopped: () => failure,
          gzip: options.gzip ?? defaults.gzip,
          strict: options.strict ?? defaults.strict,
          retry: {
            delay: options.retryDelay ?? defaults.retryDelay,
            maxDelay: Duration.minutes(1),
            times: options.maxRetries ?? defaults.maxRetries,
            maxTime: options.maxRetryTime ?? defaults.maxRetryTime
          }
        })
    const context: Records.Context = {
      type: settings.type,
      token: settings.token,
      groupKey: options.groupKey,
      bytes: Json.utf8Length
    }
    const started = yield* Clock.currentTimeMillis
    const stop = yield* Deferred.make<void>()
    let failure: Send.Failure | undefined

    const deliver = (batch: Batch): Effect.Effect<Delivered> => {
      if (send === undefined || batch.messages.length === 0) return Effect.succeed(delivered(batch, [], undefined))
      if (failure !== undefined) return Effect.succeed(delivered(batch, [], failure))
      return send(endpoint, batch.messages).pipe(
        Effect.map((refused) => delivered(batch, refused, undefined)),
        Effect.catchAll((error) => {
          failure ??= error
          return Effect.as(Deferred.succeed(stop, undefined), delivered(batch, [], error))
        })
      )
    }

    const rejectedBy = zeroStages()
    const counts = {
      entries: 0,
      messages: 0,
      delivered: 0,
      rejected: 0,
      skipped: 0,
      undelivered: 0
    }
    const kept: Array<Rejection> = []
    let stoppedBy: MixpanelError | undefined
    const snapshot = (): Counts => ({ ...counts, rejectedBy: { ...rejectedBy } })

    const confirm = (batch: Delivered): Effect.Effect<void, never, RB> => {
      counts.entries += batch.entries
      counts.messages += batch.messages
      if (stoppedBy !== undefined || batch.failure !== undefined) {
        // Past a failure nothing is confirmed: these messages are sent again when the import is.
        stoppedBy ??= batch.failure
        counts.undelivered += batch.messages
        return Effect.void
      }
      const rejections = batch.rejections
      const accepted = batch.messages - batch.refused
      counts.delivered += accepted
      counts.skipped += batch.skipped
      counts.rejected += rejections.length
      for (const rejection of rejections) {
        rejectedBy[rejection.stage]++
        if (kept.length < settings.keepRejections) kept.push(rejection)
      }
      const onBatch = options.onBatch
      if (onBatch === undefined) return Effect.void
      const report: BatchReport = { delivered: accepted, rejections, through: batch.through, counts: snapshot() }
      // The user's code: a failure (or an async function's rejection) is logged, and the import goes on
      return UserCode.run(() => onBatch(report)).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.logError("the onBatch hook failed", cause)
        )
      )
    }

    const batches = Stream.suspend(() => {
      const group = grouper(settings, context)
      const transform = options.transform
      // After a failure, reading stops: at once if a read is pending, else at the next entry (a stream that
      // has entries ready at hand wins every race with the stop signal).
      const read = entries.pipe(
        Stream.interruptWhen(Deferred.await(stop)),
        Stream.takeWhile(() => failure === undefined)
      )
      const grouped =
        transform === undefined
          ? Stream.mapChunks(read, group.push)
          : read.pipe(
              Stream.mapChunksEffect(prepare(settings.mapping, transform)),
              Stream.mapChunks(group.pushPrepared)
            )
      return Stream.concat(
        grouped,
        Stream.suspend(() => Stream.fromChunk(group.end()))
      )
    })
    // Batches that hold their messages (sending, or waiting out a retry's delay): twice the requests for
    // events, so that a batch waiting to retry leaves its request slot to the next one. A delivered batch
    // keeps only its outcome until those before it are confirmed, so many may wait behind a retrying one.
    const holding = yield* Effect.makeSemaphore(settings.type === "event" ? 2 * concurrency : 1)
    yield* batches.pipe(
      Stream.mapEffect((batch) => Effect.as(holding.take(1), batch)),
      Stream.mapEffect((batch) => Effect.ensuring(deliver(batch), holding.release(1)), { concurrency: unconfirmed }),
      Stream.runForEach(confirm)
    )

    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    return {
      ...snapshot(),
      rejections: kept,
      complete: stoppedBy === undefined,
      stoppedBy,
      dryRun: settings.dryRun,
      seconds,
      messagesPerSecond: seconds > 0 ? counts.delivered / seconds : 0
    }
  })

export const fromRecords = <E, R>(
  records: Stream.Stream<unknown, E, R>,
  source = "stream"
): Stream.Stream<Entry, E, R> =>
  Stream.map(
    Stream.zipWithIndex(records),
    ([record, index]): Entry => ({ _tag: "Record", source, line: index + 1, ordinal: index + 1, record })
  )
