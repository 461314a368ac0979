/**
 * Bulk imports: historical events, user profiles or group profiles from any `Stream` of records (or from
 * NDJSON, JSON and CSV files) to Mixpanel's `/import`, `/engage` and `/groups`, with bounded memory, and
 * every record accounted for in a `Summary`: delivered, or rejected with its source, line and reason.
 *
 * Each record becomes a message checked and encoded by `Message`'s schemas: a flat record (`{ event,
 * distinct_id, time, ... }`, a CSV row) or one already in Mixpanel's shape (`{ event, properties }`,
 * `{ $distinct_id, $set }`). Times in seconds, milliseconds or ISO 8601 become milliseconds, and an event
 * without a `$insert_id` gets one derived from its content, so that importing the same data twice
 * duplicates nothing. Messages go in requests of up to `batchSize` messages and `batchBytes` bytes,
 * `concurrency` at a time; the reader waits for them, so no more than `2 × concurrency + 2` batches are
 * ever held in memory, whatever the size of the input.
 *
 * The `effect-mixpanel import` command line (docs/import.md) is this module with files, a checkpoint, a
 * rejects file and a progress bar around it.
 *
 * @example
 * ```ts
 * import { NodeContext, NodeHttpClient } from "@effect/platform-node"
 * import { Console, Effect, Layer } from "effect"
 * import { Consumer, Import } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const summary = yield* Import.run(Import.fromFiles(["./events.ndjson.gz"]), {
 *     token: "YOUR_PROJECT_TOKEN",
 *     importAuth: Consumer.serviceAccount({ username: "importer.sa", secret: "SECRET", projectId: 1234 })
 *   })
 *   yield* Console.log(`${summary.delivered} delivered, ${summary.rejected} rejected`)
 * })
 *
 * const runnable = program.pipe(Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)))
 * ```
 *
 * @since 0.1.0
 */

import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
import type { TransportOptions } from "./Consumer.js"
import * as engine from "./internal/import/engine.js"
import * as files from "./internal/import/files.js"
import type { InvalidConfig, MixpanelError } from "./MixpanelError.js"

/**
 * What the records are: `event`s for `/import`, `user` profile updates for `/engage`, `group` profile
 * updates for `/groups`.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const type: Import.RecordType = "user"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RecordType = "event" | "user" | "group"

/**
 * A record read from a source: `source` names it (a file's path, or the name given to `fromRecords`),
 * `line` is where the record starts (from 1), and `ordinal` its position in the source (from 1: the line
 * number in NDJSON, the index of the element in a JSON array, of the data row in CSV). Positions only
 * grow within a source, and sources follow one another: checkpoints are positions.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const entry: Import.RecordEntry = {
 *   _tag: "Record",
 *   source: "orders.ndjson",
 *   line: 1,
 *   ordinal: 1,
 *   record: { event: "Order Placed", distinct_id: "c1", time: 1735689600 }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordEntry {
  readonly _tag: "Record"
  readonly source: string
  readonly line: number
  readonly ordinal: number
  readonly record: unknown
}

/**
 * Text of a source that could not be read as a record (not JSON, a CSV row with the wrong number of
 * fields, a line too long), with the reason and the text itself (cut at 2048 characters); or the rest of a
 * file that could not be read to its end (a `.gz` cut short), its text empty.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const entry: Import.Unreadable = {
 *   _tag: "Unreadable",
 *   source: "orders.ndjson",
 *   line: 7,
 *   ordinal: 7,
 *   reason: "not JSON: Unexpected end of JSON input",
 *   text: '{"event":"Order Placed"'
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Unreadable {
  readonly _tag: "Unreadable"
  readonly source: string
  readonly line: number
  readonly ordinal: number
  readonly reason: string
  readonly text: string
}

/**
 * One element of the stream `run` imports: a record, or text that could not be read as one.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const where = (entry: Import.Entry): string => `${entry.source}:${entry.line}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Entry = RecordEntry | Unreadable

/**
 * A user's own change to each record, applied after `mapping` and before the record becomes a message:
 * return the record (changed or not), several records, or nothing (`undefined` or `null`) to skip it;
 * or a `Promise` of one of these. A transform that throws rejects the record, with the error's message;
 * so does a promise that has not settled after 60 seconds (one that never settles would hold the import).
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * // Rename an event, and leave out test users
 * const transform: Import.Transform = (record) =>
 *   String(record.distinct_id).startsWith("test-")
 *     ? undefined
 *     : { ...record, event: record.event === "signup" ? "Signed Up" : record.event }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Transform = (record: { readonly [key: string]: unknown }) => unknown

/**
 * Where a record was rejected: `parse` (unreadable text), `transform` (the user's transform threw),
 * `validation` (`Message`'s schemas, or a rule of `/import` such as a required `time`) or `server`
 * (Mixpanel refused it: strict `/import`'s `failed_records`, or a rejected request narrowed down to it).
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * // What a fixed source file would get past, and what needs a look at Mixpanel's side
 * const fixable = (stage: Import.Stage): boolean => stage !== "server"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Stage = "parse" | "transform" | "validation" | "server"

/**
 * A record that was not imported, and why: its source and line, the stage, the reason (for a schema
 * failure, the path of the field first: `properties.time: ...`) and the record itself: the text for
 * `parse`, the record as read for `transform` and `validation`, the message as sent for `server`.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const line = (rejection: Import.Rejection): string =>
 *   `${rejection.source}:${rejection.line} (${rejection.stage}) ${rejection.reason}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Rejection {
  readonly source: string
  readonly line: number
  readonly stage: Stage
  readonly reason: string
  readonly record: unknown
}

/**
 * The counts of an import so far.
 *
 * - `entries`: entries read (records and unreadable text);
 * - `messages`: messages built from them (a transform may make several of one record, or none);
 * - `delivered`: messages Mixpanel accepted (in a dry run: messages that would be sent);
 * - `rejected`: records and messages rejected, at any stage; `rejectedBy`: the same by stage;
 * - `skipped`: records a transform turned into nothing;
 * - `undelivered`: messages built but not delivered because delivery stopped (see `Summary.stoppedBy`).
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const accountedFor = (counts: Import.Counts): boolean =>
 *   counts.delivered + counts.rejectedBy.server + counts.undelivered === counts.messages
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Counts {
  readonly entries: number
  readonly messages: number
  readonly delivered: number
  readonly rejected: number
  readonly rejectedBy: { readonly [S in Stage]: number }
  readonly skipped: number
  readonly undelivered: number
}

/**
 * What `onBatch` receives each time a batch has an outcome, in the order of the input: the messages
 * delivered, the rejections (in source order) and the running counts. Every entry up to `through` has
 * an outcome, and so has every entry of the sources before it: a checkpoint.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Import } from "effect-mixpanel"
 *
 * const onBatch = (report: Import.BatchReport) =>
 *   Effect.log(`${report.counts.delivered} delivered, through ${report.through?.source}:${report.through?.ordinal}`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchReport {
  readonly delivered: number
  readonly rejections: ReadonlyArray<Rejection>
  readonly through: { readonly source: string; readonly ordinal: number } | undefined
  readonly counts: Counts
}

/**
 * The outcome of an import: its counts, the first `keepRejections` rejections, how long it took and how
 * fast it went. `complete` is true when every entry of the input has an outcome; otherwise delivery
 * stopped on `stoppedBy` (wrong credentials, Mixpanel unreachable past every retry, ...), and the messages
 * built but not confirmed are `undelivered` (import again from the last `BatchReport.through`).
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const report = (summary: Import.Summary): string =>
 *   `${summary.delivered}/${summary.messages} in ${summary.seconds.toFixed(1)} s ` +
 *   `(${Math.round(summary.messagesPerSecond)}/s), ${summary.rejected} rejected`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary extends Counts {
  readonly rejections: ReadonlyArray<Rejection>
  readonly complete: boolean
  readonly stoppedBy: MixpanelError | undefined
  readonly dryRun: boolean
  readonly seconds: number
  readonly messagesPerSecond: number
}

/**
 * Options of `run`. Besides these, the transport's: `region` or `baseUrl`, `importAuth` (needed for
 * events), `requestTimeout`, `gzip` (default `true` here, unlike the consumers), `geolocate`. Each
 * default is in `defaults`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Consumer, Import } from "effect-mixpanel"
 *
 * const options: Import.Options = {
 *   token: "YOUR_PROJECT_TOKEN",
 *   importAuth: Consumer.apiSecret("YOUR_API_SECRET"),
 *   region: "EU",
 *   mapping: { time: "timestamp", distinct_id: "user_id" },
 *   onBatch: (report) => Effect.logDebug(`${report.counts.delivered} delivered`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R = never> extends TransportOptions {
  /** The project token, set on every message that has none. */
  readonly token: string | Redacted.Redacted
  /** What the records are. Default `"event"`. */
  readonly type?: RecordType | undefined
  /** For `group`: the group key of records without a `$group_key`. */
  readonly groupKey?: string | undefined
  /** Renames fields before anything else: target name → the name in the record (`{ time: "ts" }`). */
  readonly mapping?: { readonly [target: string]: string } | undefined
  /** The user's change to each record; see `Transform`. */
  readonly transform?: Transform | undefined
  /** Build and check every message, send none. Default `false`. */
  readonly dryRun?: boolean | undefined
  /** Ask `/import` to check each record and report each failure (`strict=1`). Default `true`. */
  readonly strict?: boolean | undefined
  /** Requests in flight at once, for events; profile and group updates go one request at a time, in order. Default 4. */
  readonly concurrency?: number | undefined
  /** Most messages per request, 1 to 2000. Default 2000. */
  readonly batchSize?: number | undefined
  /**
   * Most bytes of JSON per request (before gzip). Default 1 MiB: with `concurrency`, it bounds the memory an
   * import holds. A request Mixpanel finds too large is split.
   */
  readonly batchBytes?: number | undefined
  /** Most retries of a request that failed transiently (network, timeout, 408, 429, 5xx). Default 10. */
  readonly maxRetries?: number | undefined
  /** The first retry's delay; each next doubles (jittered), up to a minute. Default 2 seconds. */
  readonly retryDelay?: Duration.DurationInput | undefined
  /** Longest time from a request's first try to its last retry. Default 5 minutes. */
  readonly maxRetryTime?: Duration.DurationInput | undefined
  /** Rejections kept in the `Summary` (all of them reach `onBatch`). Default 1000. */
  readonly keepRejections?: number | undefined
  /**
   * Called for each batch's outcome, in the order of the input, one call at a time; the import waits for
   * it. A defect (or, from JavaScript, an `async` function's rejection) is logged, and the import goes on.
   */
  readonly onBatch?: ((report: BatchReport) => Effect.Effect<void, never, R>) | undefined
}

/**
 * The defaults of `Options`, and of the command line's flags.
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * console.log(Import.defaults.concurrency) // 4
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const defaults: {
  readonly type: RecordType
  readonly strict: boolean
  readonly gzip: boolean
  readonly concurrency: number
  readonly batchSize: number
  readonly batchBytes: number
  readonly maxRetries: number
  readonly retryDelay: Duration.Duration
  readonly maxRetryTime: Duration.Duration
  readonly keepRejections: number
} = engine.defaults

/**
 * Imports every entry of `entries` and returns the `Summary`. Entries come from `fromFiles`,
 * `fromRecords`, or any stream of `Entry`. The stream is read as fast as requests complete (never more
 * than `2 × concurrency + 2` batches ahead); ending it early (e.g. with `Stream.interruptWhen`) delivers what
 * was read and returns. Fails only with `InvalidConfig` (before anything is sent) or the stream's own
 * error: delivery failures are in the summary.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Stream } from "effect"
 * import { Consumer, Import } from "effect-mixpanel"
 *
 * // Rows from your own store, as a Stream
 * const rows = Stream.make(
 *   { event: "Order Placed", distinct_id: "c1", time: "2025-01-01T10:00:00Z", total: 25 },
 *   { event: "Order Placed", distinct_id: "c2", time: 1735725600, total: 40 }
 * )
 *
 * const program = Import.run(Import.fromRecords(rows, "orders"), {
 *   token: "YOUR_PROJECT_TOKEN",
 *   importAuth: Consumer.projectToken("YOUR_PROJECT_TOKEN")
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run: <E, R, RB = never>(
  entries: Stream.Stream<Entry, E, R>,
  options: Options<RB>
) => Effect.Effect<Summary, E | InvalidConfig, R | RB | HttpClient.HttpClient> = engine.run

/**
 * Entries from a stream of records: each element is a record, numbered from 1 (its `line` and
 * `ordinal`), under the source name `source` (default `"stream"`).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Import } from "effect-mixpanel"
 *
 * const entries = Import.fromRecords(Stream.make({ $distinct_id: "u1", plan: "pro" }), "crm")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRecords: <E, R>(records: Stream.Stream<unknown, E, R>, source?: string) => Stream.Stream<Entry, E, R> =
  engine.fromRecords

/**
 * The file formats: `ndjson` (also `.jsonl`), `json` (an array, or NDJSON when the file does not start
 * with `[`), `csv` and `tsv` (a header row, then one record per row, values as text).
 *
 * @example
 * ```ts
 * import { Import } from "effect-mixpanel"
 *
 * const format: Import.Format = "csv"
 * const entries = Import.fromFiles(["./export.txt"], { format })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Format = "ndjson" | "json" | "csv" | "tsv"

/**
 * Entries from files and folders, in the order given; a folder means its files in name order (not its
 * subfolders). The format comes from each file's extension (`.ndjson`, `.jsonl`, `.json`, `.csv`, `.tsv`,
 * each optionally `.gz`), or from `format`. Files are read as streams: memory does not grow with their
 * size. Fails with `InvalidConfig` when a path does not exist or a file's format is unknown, before
 * anything is read. A file that cannot be read to its end gives its records up to the break, then an
 * `Unreadable` entry for the rest, naming the file; the next files are read.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 * import { Import } from "effect-mixpanel"
 *
 * // Count the records of a folder, reading nothing twice
 * const count = Import.fromFiles(["./exports/"]).pipe(Stream.runCount, Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFiles: (
  paths: ReadonlyArray<string>,
  options?: { readonly format?: Format | undefined }
) => Stream.Stream<Entry, InvalidConfig | PlatformError.PlatformError, FileSystem.FileSystem | Path.Path> = (
  paths,
  options
) => files.entries(paths, options)
