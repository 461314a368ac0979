/**
 * A private SQLite database for the outbox: `@effect/sql-sqlite-node` (better-sqlite3) on one file, in
 * WAL mode, with the pragmas the store needs.
 *
 * `synchronous`: FULL under "commit" durability, NORMAL under "async". In WAL mode, NORMAL writes each
 * commit to the WAL file before `COMMIT` returns but syncs it to the disk only at checkpoints: a process
 * crash loses nothing committed, a power cut or a kernel panic can lose the last commits. "commit" promises
 * that a message is on disk when `append` returns, so it syncs the WAL at every commit (FULL); group
 * commit shares that fsync (about 0.6 ms on this machine's disk) among all the appends of a transaction.
 * "async" already admits a loss window, and NORMAL keeps it from adding an fsync per transaction.
 *
 * `maxFileBytes` is SQLite's `max_page_count`, a limit for appends: the store's own writes (a claim
 * writes leases) lift it while they run (`Opened.beyondLimit`), so that a full file still drains.
 *
 * The package is loaded when the layer is built, not when this module is imported, so that users of the
 * PostgreSQL store need neither it nor better-sqlite3's native binary.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Failure from "./failure.js"

/** What the SQLite connection needs to know. */
export interface Options {
  /** A file's name (never empty or ":memory:": the options refuse a store that would not be durable). */
  readonly filename: string
  readonly synchronous: "full" | "normal"
  /** The file's size limit (`max_page_count`): beyond it writes fail as if the disk were full. */
  readonly maxFileBytes: number | undefined
  /** How long a write waits for another process's lock on the file, in milliseconds. */
  readonly busyTimeout: number
}

const missing =
  "the SQLite store needs @effect/sql-sqlite-node: npm install @effect/sql@^0.52 @effect/sql-sqlite-node@^0.53 " +
  "(and allow better-sqlite3's install script, which fetches or builds its native binary)"

const noBinary =
  "better-sqlite3 has no native binary: its install script did not run (installed with --ignore-scripts, or " +
  "not allowed by npm's allowScripts or pnpm's onlyBuiltDependencies). Allow it (docs/durable.md, " +
  '"Allowing better-sqlite3\'s install script"), then run npm rebuild better-sqlite3'

/**
 * The failure of opening the database caused by `cause`. better-sqlite3 loads its native binary when the
 * first connection is made, and without it the `bindings` package lists every path it tried (a dozen):
 * the failure says what to do instead, and keeps that error as its cause.
 */
export const openFailure = (cause: unknown): Failure.Failure<"open"> =>
  Failure.innermostMessage(cause).startsWith("Could not locate the bindings file")
    ? { ...Failure.make("open", "Unknown", noBinary), cause }
    : Failure.fromCause("open", cause)

/** The open database. */
export interface Opened {
  readonly sql: SqlClient.SqlClient
  /**
   * Runs `effect` beyond `maxFileBytes`, then puts the limit back (as the file's size, if it grew past
   * it). Only inside a transaction, which keeps anything else off the connection meanwhile.
   */
  readonly beyondLimit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
}

/** The files this process has open as stores, by real path, with how many connections each. */
const openFiles = new Map<string, number>()

/**
 * Counts a connection to `file` until the scope closes, and warns when it is not the first in this process
 * (a layer built twice): better-sqlite3 waits for another connection's lock synchronously, so two in one
 * process stall each other, each for up to the busy timeout.
 */
const openedHere = (file: string, filename: string): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const connections = (openFiles.get(file) ?? 0) + 1
      openFiles.set(file, connections)
      if (connections === 1) return Effect.void
      return Effect.logWarning(
        `Mixpanel outbox (${filename}): this process has the file open ${connections} times (DurableStore.layerSqlite built more than once): the connections stall each other; build the layer once and share it`
      ).pipe(Effect.annotateLogs({ package: "effect-mixpanel" }))
    }),
    () =>
      Effect.sync(() => {
        const connections = (openFiles.get(file) ?? 1) - 1
        if (connections === 0) openFiles.delete(file)
        else openFiles.set(file, connections)
      })
  )

/** SQLite's default `max_page_count`, for "no limit". */
const noLimit = 4294967294

/** Opens (creating it and its directory if needed) the database file, in WAL mode, in the current scope. */
export const open = (options: Options): Effect.Effect<Opened, Failure.Failure<"open">, Scope.Scope> =>
  Effect.gen(function* () {
    const [sqlite, fs, path] = yield* Effect.tryPromise({
      try: () => Promise.all([import("@effect/sql-sqlite-node/SqliteClient"), import("node:fs"), import("node:path")]),
      catch: (cause) => ({ ...Failure.make("open", "Unknown", missing), cause })
    })
    /**
     * Creates `dir` and its missing parents one at a time. Node 20's `mkdirSync(dir, { recursive: true })`
     * spins for ever, synchronously, where `mkdir` answers ENOENT under a parent that exists (a path in
     * `/proc`); one directory at a time, that answer is an error.
     */
    const makeDirectory = (dir: string): void => {
      if (fs.existsSync(dir)) {
        if (fs.statSync(dir).isDirectory()) return
        // SQLite would say it cannot open the file (SQLITE_CANTOPEN), which reads as a permission problem
        throw Object.assign(new Error(`ENOTDIR: not a directory, ${dir}`), { code: "ENOTDIR" })
      }
      const parent = path.dirname(dir)
      if (parent !== dir) makeDirectory(parent)
      fs.mkdirSync(dir)
    }
    const directory = path.dirname(path.resolve(options.filename))
    yield* Effect.try({
      try: () => makeDirectory(directory),
      catch: (cause) => {
        const failure = Failure.fromCause("open", cause)
        // A directory that cannot be made for want of permission is ReadOnly (fix permissions or the
        // mount); for any other reason (a parent that is a file, a path in /proc) the path is wrong, and
        // nothing comes back by itself
        if (failure.reason === "ReadOnly") return failure
        const words = Failure.innermostMessage(cause)
        return { ...Failure.make("open", "Unknown", `the directory ${directory} cannot be made (${words})`), cause }
      }
    })
    if (fs.existsSync(options.filename) && fs.statSync(options.filename).isDirectory()) {
      // SQLite would say it cannot open the file (SQLITE_CANTOPEN), which reads as a permission problem
      return yield* Effect.fail(
        Failure.make("open", "Unknown", `${options.filename} is a directory: give the name of a file in it`)
      )
    }
    // The connection is made synchronously: a missing native binary is a defect
    const context = yield* Layer.build(sqlite.layer({ filename: options.filename })).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(openFailure(defect)))
    )
    const sql = Context.get(context, sqlite.SqliteClient)
    yield* openedHere(fs.realpathSync(options.filename), options.filename)
    const pragma = (text: string) => sql.unsafe<Record<string, unknown>>(`PRAGMA ${text}`)
    // Reading the schema first: a file that is not a database (or is damaged at its first page) fails here
    yield* sql.unsafe("SELECT COUNT(*) FROM sqlite_master")
    const [mode] = yield* pragma("journal_mode")
    if (mode?.journal_mode !== "wal") {
      yield* Effect.logWarning(
        `Mixpanel outbox (${options.filename}): SQLite would not switch to WAL mode (journal_mode is ${String(mode?.journal_mode)}); appends will be slower`
      )
    }
    yield* pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`)
    yield* pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeout))}`)
    // A checkpoint every 10,000 pages of WAL (40 MB at 4 KiB pages) rather than SQLite's 1,000: a message's
    // pages change several times between its append and its delivery (the insert, the lease, the delete),
    // and a longer interval copies each such page to the database once instead of at every step; about
    // 40% of the CPU of the commits, measured
    yield* pragma("wal_autocheckpoint = 10000")
    // The WAL file is reused, not shrunk, after a checkpoint: keep a burst from leaving it large for good
    yield* pragma("journal_size_limit = 67108864")
    if (options.maxFileBytes === undefined) {
      const opened: Opened = { sql, beyondLimit: (effect) => effect }
      return opened
    }
    const [size] = yield* pragma("page_size")
    const pages = Math.max(1, Math.floor(options.maxFileBytes / Number(size?.page_size ?? 4096)))
    const limit = pragma(`max_page_count = ${pages}`)
    yield* limit
    const opened: Opened = {
      sql,
      beyondLimit: (effect) =>
        Effect.zipRight(pragma(`max_page_count = ${noLimit}`), Effect.ensuring(effect, Effect.ignore(limit)))
    }
    return opened
  }).pipe((effect) => new Failure.Health(options.filename).track(Failure.wrap("open", effect)))
