/**
 * Failures of the durable store, named for what an operator does about them: the disk is full, the file
 * is read-only or corrupt, the database cannot be reached, another writer holds the lock, the tables are
 * not what the store expects. The reason is read from the driver's error codes (SQLite's `SQLITE_*`,
 * PostgreSQL's SQLSTATE, Node's `E*`), so it is the same whichever way the failure reached us.
 *
 * `Health` turns failures into log lines without flooding: one Error line when the store starts failing,
 * then one Warning per minute with the count while it goes on, and one Info line when it works again.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { StoreError } from "../../../MixpanelError.js"
import type { StoreFailure } from "../buffered/store.js"

/** What went wrong with the store, by what an operator would do about it. */
export type Reason =
  /** The disk (or the file's size limit) is full: free space, or raise the limit. */
  | "DiskFull"
  /** The file, its directory or the database is read-only: fix permissions or the mount. */
  | "ReadOnly"
  /** The file is not a database, or is damaged: restore it or move it aside. */
  | "Corrupt"
  /** The database cannot be reached (refused, reset, shut down): it comes back by itself or not. */
  | "Unavailable"
  /** Another writer held a lock for too long, or a transaction lost a race: trying again works. */
  | "Busy"
  /** The outbox's tables are missing or not what this version expects. */
  | "Schema"
  /** The store is shut down. */
  | "Closed"
  /** Anything else; the detail has the driver's words. */
  | "Unknown"

/** What the store was doing: the operations of `Store`, and the durable store's own. */
export type Operation = StoreFailure["operation"] | "renew" | "deadLetters" | "stats"

/**
 * A `StoreFailure` with its reason, the form every failure of the durable store takes. One of a `Store`
 * operation is a `StoreFailure`.
 */
export interface Failure<Op extends Operation = Operation> {
  readonly _tag: "StoreFailure"
  readonly operation: Op
  readonly reason: Reason
  readonly detail: string
  readonly cause: unknown
}

/** The `code` of `cause` or of the first error in its `cause` chain that has one (driver codes are strings). */
const codeOf = (cause: unknown): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && code !== "") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

/** The innermost error message of `cause`'s chain: the driver's own words. */
export const innermostMessage = (cause: unknown): string => {
  let message = ""
  let current: unknown = cause
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if (typeof current === "string") return current
    if (typeof current !== "object") break
    const text = (current as { readonly message?: unknown }).message
    if (typeof text === "string" && text !== "") message = text
    current = (current as { readonly cause?: unknown }).cause
  }
  return message === "" ? String(cause) : message
}

const pgDisconnected = /Connection terminated|connection error|Failed to acquire connection|Connection timed out/i

/** The reason for a driver error, from its code (or, for node-postgres' code-less disconnects, its message). */
export const reasonOf = (cause: unknown): Reason => {
  const code = codeOf(cause)
  if (code === undefined) return pgDisconnected.test(innermostMessage(cause)) ? "Unavailable" : "Unknown"
  if (code.startsWith("SQLITE_")) {
    if (code === "SQLITE_FULL" || code === "SQLITE_IOERR_WRITE" || code === "SQLITE_IOERR_FSYNC") return "DiskFull"
    if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "SQLITE_CANTOPEN") return "ReadOnly"
    if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") return "Corrupt"
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "Busy"
    if (code === "SQLITE_ERROR" && /no such table|no such column/.test(innermostMessage(cause))) return "Schema"
    return "Unknown"
  }
  if (/^E[A-Z]+$/.test(code)) {
    if (code === "ENOSPC" || code === "EDQUOT") return "DiskFull"
    if (code === "EROFS" || code === "EACCES" || code === "EPERM") return "ReadOnly"
    return "Unavailable"
  }
  // PostgreSQL SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention, 40 rollbacks, XX internal
  if (code === "53100") return "DiskFull"
  if (code === "25006") return "ReadOnly"
  if (code === "XX001" || code === "XX002") return "Corrupt"
  if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return "Unavailable"
  // 23505, 42P07, 42710: two processes creating the same table (or its row type) at once
  if (code.startsWith("40") || code === "55P03" || code === "23505" || code === "42P07" || code === "42710")
    return "Busy"
  if (code === "42P01" || code === "42703" || code === "3F000") return "Schema"
  return "Unknown"
}

const what: Record<Reason, string> = {
  DiskFull: "the disk is full",
  ReadOnly: "the database is read-only",
  Corrupt: "the database file is corrupt or not a database",
  Unavailable: "the database cannot be reached",
  Busy: "the database is busy",
  Schema: "the outbox tables are missing or out of date",
  Closed: "the store is closed",
  Unknown: "the database failed"
}

/** The failure of `operation` caused by `cause` (a `SqlError`, a driver error, a defect). */
export const fromCause = <Op extends Operation>(operation: Op, cause: unknown): Failure<Op> => {
  const reason = reasonOf(cause)
  const code = codeOf(cause)
  const words = innermostMessage(cause)
  return {
    _tag: "StoreFailure",
    operation,
    reason,
    // Node's system errors begin their message with their code already ("ENOENT: no such file ...")
    detail: `${what[reason]} (${code === undefined || words.startsWith(code) ? words : `${code}: ${words}`})`,
    cause
  }
}

/** A failure with no driver error behind it, e.g. the store was closed. */
export const make = <Op extends Operation>(operation: Op, reason: Reason, detail: string): Failure<Op> => ({
  _tag: "StoreFailure",
  operation,
  reason,
  detail,
  cause: undefined
})

/** `effect` with its `SqlError`s (and driver defects) as `Failure`s of `operation`. */
export const wrap = <Op extends Operation, A, E, R>(
  operation: Op,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Failure<Op>, R> =>
  effect.pipe(
    Effect.catchAllDefect((defect) => Effect.fail(fromCause(operation, defect))),
    Effect.mapError((error) => (isFailure(error) ? { ...error, operation } : fromCause(operation, error)))
  )

/** The public error of a failure (what `send`, the layers and the dead-letter accessors fail with). */
export const toStoreError = (failure: Failure): StoreError =>
  new StoreError({
    operation: failure.operation,
    reason: failure.reason,
    detail: failure.detail,
    ...(failure.cause === undefined ? {} : { cause: failure.cause })
  })

/** Whether `u` is already a `Failure` (so that wrapping twice keeps the first). */
export const isFailure = (u: unknown): u is Failure =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "StoreFailure"

/** How often, at most, a store that keeps failing says so again. */
const repeatEvery = 60_000

/**
 * The store's health as log lines: `failed` on every failure, `succeeded` after every success. Mutable
 * state on purpose: it is touched on the hot path, from any fiber, and only ever decides what to log.
 */
export class Health {
  private failing = 0
  private since = 0
  private lastLine = 0
  private lastFailure: Failure | undefined = undefined

  constructor(private readonly store: string) {}

  /** Logs the first failure at Error, then a count per minute at Warning. */
  readonly failed = (failure: Failure): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      this.lastFailure = failure
      this.failing++
      if (this.failing === 1) {
        this.since = now
        this.lastLine = now
        return this.log(
          Effect.logError(`Mixpanel outbox (${this.store}): ${failure.operation} failed: ${failure.detail}`),
          failure
        )
      }
      if (now - this.lastLine < repeatEvery) return Effect.void
      this.lastLine = now
      return this.log(
        Effect.logWarning(
          `Mixpanel outbox (${this.store}): still failing, ${this.failing} failures in ${Math.round((now - this.since) / 1000)} s; last: ${failure.operation}: ${failure.detail}`
        ),
        failure
      )
    })

  /** Logs once at Info that the store works again, if it was failing. */
  readonly succeeded: Effect.Effect<void> = Effect.suspend(() => {
    if (this.failing === 0) return Effect.void
    const failures = this.failing
    const last = this.lastFailure
    this.failing = 0
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.logInfo(
        `Mixpanel outbox (${this.store}): works again after ${failures} failure(s) in ${Math.round((now - this.since) / 1000)} s`
      ).pipe(Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.store.reason": last?.reason ?? "Unknown" }))
    )
  })

  /**
   * Runs `effect`, logging its failure only: a read that works says little about the writes that failed
   * (a read-only disk, a trigger), so it does not announce that the store works again.
   */
  readonly trackFailures = <A, Op extends Operation, R>(
    effect: Effect.Effect<A, Failure<Op>, R>
  ): Effect.Effect<A, Failure<Op>, R> => Effect.tapError(effect, this.failed)

  /** Runs `effect`, logging its failure or its success. */
  readonly track = <A, Op extends Operation, R>(
    effect: Effect.Effect<A, Failure<Op>, R>
  ): Effect.Effect<A, Failure<Op>, R> =>
    effect.pipe(Effect.tapBoth({ onFailure: this.failed, onSuccess: () => this.succeeded }))

  private log(line: Effect.Effect<void>, failure: Failure): Effect.Effect<void> {
    return line.pipe(
      Effect.annotateLogs({
        package: "effect-mixpanel",
        "mixpanel.store.operation": failure.operation,
        "mixpanel.store.reason": failure.reason
      })
    )
  }
}
