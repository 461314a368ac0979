/**
 * The messages between the runner and its child processes (the sink and one process per client run),
 * over Node's IPC channel, and the figures each side reports.
 */

/** Wall-clock milliseconds since the epoch, with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now()

/** Faults the sink injects, decided per request by a seeded generator (same seed, same sequence). */
export interface Faults {
  /** Fraction of requests answered 503. */
  readonly serviceUnavailable: number
  /** Fraction of requests answered 429. */
  readonly rateLimited: number
  /** Seed of the generator. */
  readonly seed: number
  /** `Retry-After` on 429s, in seconds; none when undefined (Mixpanel does not document one). */
  readonly retryAfterSeconds?: number | undefined
}

export const noFaults: Faults = { serviceUnavailable: 0, rateLimited: 0, seed: 1 }

/** What the sink counted since its last reset. */
export interface SinkStats {
  /** Every request to an ingestion path, failed or not. */
  readonly requests: number
  /** Requests answered 503 or 429 by fault injection; their events were not counted. */
  readonly failedRequests: number
  /** Requests the sink could not read (400). */
  readonly malformedRequests: number
  /** Requests to paths that no SDK should use (404). */
  readonly unknownPathRequests: number
  /** Distinct events (by `properties.seq`) received in accepted requests. */
  readonly events: number
  /** Events received again after an earlier accepted copy. */
  readonly duplicates: number
  /** Events without a `seq` in range: not ours, or mangled. */
  readonly foreignEvents: number
  /** Request body bytes as they arrived (compressed when gzipped). */
  readonly bytes: number
  /** When the first request arrived (see `now`). */
  readonly firstRequestAt: number | undefined
  /** When a new distinct event last arrived. */
  readonly lastEventAt: number | undefined
  /** When the distinct events reached the expected count. */
  readonly completeAt: number | undefined
  /** Requests per path. */
  readonly paths: Readonly<Record<string, number>>
  /** Requests per content encoding and type, e.g. `gzip application/json`. */
  readonly formats: Readonly<Record<string, number>>
}

/** Runner to sink. */
export type SinkCommand =
  | { readonly type: "reset"; readonly id: number; readonly expected: number; readonly faults: Faults }
  | { readonly type: "stats"; readonly id: number }

/** Sink to runner. */
export type SinkReply =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "done"; readonly id: number; readonly stats: SinkStats }

/** What one client process is asked to do. */
export interface ClientSpec {
  /** The client variant, a key of `clients/index.ts`. */
  readonly client: string
  readonly n: number
  /** Events per burst: the driver yields to the event loop between bursts, as a server between requests. */
  readonly chunkSize: number
  /** Time every `sampleEvery`-th call with `process.hrtime.bigint()`. */
  readonly sampleEvery: number
  readonly sinkUrl: string
  /** How long the client may take from its first call until it must report, in milliseconds. */
  readonly timeoutMs: number
  readonly token: string
}

/** What one client run measured about itself. */
export interface ClientResult {
  readonly client: string
  readonly firstCallAt: number
  readonly doneAt: number
  /** The same two instants on the monotonic clock of V8's CPU profiles (`process.hrtime`), in microseconds. */
  readonly firstCallMonotonicMicros: number
  readonly doneMonotonicMicros: number
  /** The client did not finish within its time: its figures stop at the deadline. */
  readonly timedOut: boolean
  /** CPU of the whole process from the first call until done, in microseconds. */
  readonly cpuUserMicros: number
  readonly cpuSystemMicros: number
  /** Time inside one call to the client's tracking function, in microseconds. */
  readonly callP50Micros: number
  readonly callP99Micros: number
  readonly callSamples: number
  /** Events per timed call (1 for per-event APIs; the batch size for `track_batch`). */
  readonly eventsPerCall: number
  readonly baselineRssBytes: number
  readonly baselineHeapBytes: number
  readonly peakRssBytes: number
  readonly peakHeapBytes: number
  /** Messages the client itself reported as not delivered, when it reports that at all. */
  readonly reportedUndelivered: number | undefined
  /** Errors the client surfaced (callbacks, error events, failed flushes), counted. */
  readonly errors: number
  /** Bytes written to disk, for a client that writes (a durable store). */
  readonly diskBytes?: number | undefined
}

/** Runner to client process. */
export interface ClientStart {
  readonly type: "start"
  readonly spec: ClientSpec
}

/** Client process to runner: `ready` once it listens for its `start`, then one result. */
export type ClientReply =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly result: ClientResult }
  | { readonly type: "failed"; readonly message: string }
