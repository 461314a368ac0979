/**
 * The SQLite store of `DurableStore.layerSqlite` as a user gets it (a file path, nothing else), and its
 * faults on real files: a full disk (the file's size limit, and a real 256 KiB tmpfs where the test may
 * mount one), a read-only file, a file that is not a database, a damaged page. Each is a typed error at
 * the call or at layer build, with one clear log line, and the store works again once the cause is gone.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { toStoreError } from "../../src/internal/consumer/durable/failure.js"
import * as Pages from "../../src/internal/consumer/durable/pages.js"
import * as Sqlite from "../../src/internal/consumer/durable/sqlite.js"
import { build, claimAll, event, events, rejected, tempDir } from "./support/store.js"

/** A logger that keeps the lines (`LEVEL message`), for the whole test: the store logs from its own fibers. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
  })
  return { lines, logger: Logger.replace(Logger.defaultLogger, logger) }
}

/** A connection of the test's own to `file`, to look at what the store wrote. */
const look = (file: string) =>
  Effect.map(Layer.build(SqliteClient.layer({ filename: file })), (context) =>
    Context.get(context, SqliteClient.SqliteClient)
  )

const isRoot = process.getuid?.() === 0

/** Makes `path` read-only for this process: `chattr +i` for root (who ignores modes), `chmod` otherwise. */
const readOnly = (paths: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      if (isRoot) execFileSync("chattr", ["+i", ...paths])
      else for (const path of paths) chmodSync(path, 0o555)
    }),
    () =>
      Effect.sync(() => {
        if (isRoot) execFileSync("chattr", ["-i", ...paths])
        else for (const path of paths) chmodSync(path, 0o755)
      })
  )

const canMakeReadOnly = !isRoot || existsSync("/usr/bin/chattr") || existsSync("/bin/chattr")

/** A 256 KiB tmpfs mounted for the scope, where this process may mount one (root on Linux). */
const tinyDisk = (dir: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      mkdirSync(dir)
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir])
      return dir
    }),
    () => Effect.sync(() => execFileSync("umount", ["-l", dir]))
  )

const canMount = (() => {
  if (!isRoot || process.platform !== "linux") return false
  try {
    execFileSync("mount", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/**
 * Building a SQLite store on `filename`, which cannot be a database file (its directory cannot be made, or
 * it is a directory), fails at build with a StoreError whose message matches `message`; its reason is
 * Unknown, not Unavailable (whose advice is to wait) nor ReadOnly: the path is wrong.
 */
const wrongPath = (filename: string, message: unknown) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(Effect.scoped(build(DurableStore.layerSqlite({ filename }))))
    expect(exit).toStrictEqual(
      Exit.fail(expect.objectContaining({ _tag: "StoreError", operation: "open", reason: "Unknown", message }))
    )
  })

describe("DurableStore.layerSqlite", () => {
  it.scopedLive("needs only a file name: it creates the directories and the file, in WAL mode", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir, "a", "b", "mixpanel.db")
      const store = yield* build(DurableStore.layerSqlite({ filename: file }))
      yield* store.append("events", events(1, 3))
      expect(existsSync(file)).toBe(true)
      const sql = yield* look(file)
      expect(yield* sql`PRAGMA journal_mode`).toEqual([{ journal_mode: "wal" }])
      // One append, one page: its messages as NDJSON, their lengths and sizes beside them
      const size = event(1).length
      expect(yield* sql`SELECT waiting, count, lengths, sizes, messages FROM effect_mixpanel_outbox`).toEqual([
        {
          waiting: 3,
          count: 3,
          lengths: `${size},${size},${size}`,
          sizes: `${size},${size},${size}`,
          messages: events(1, 3).join("\n")
        }
      ])
      expect(yield* sql`SELECT MAX(migration_id) AS version FROM effect_mixpanel_migrations`).toEqual([{ version: 3 }])
    })
  )

  it.scopedLive("a file built into two stores in one process: a warning, once the second opens it", () => {
    const { lines, logger } = capture()
    return Effect.gen(function* () {
      const file = join(yield* tempDir, "outbox.db")
      yield* Effect.scoped(build(DurableStore.layerSqlite({ filename: file })))
      // One at a time is fine
      yield* build(DurableStore.layerSqlite({ filename: file }))
      expect(lines).toEqual([])
      yield* build(DurableStore.layerSqlite({ filename: file }))
      expect(lines).toEqual([
        expect.stringMatching(
          /^WARN Mixpanel outbox .*: this process has the file open 2 times \(DurableStore\.layerSqlite built more than once\)/
        )
      ])
    }).pipe(Effect.provide(logger))
  })

  it.scopedLive("inside the application's transaction on another SQLite file, append does not join it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const app = yield* look(join(dir, "app.db"))
      const store = yield* build(DurableStore.layerSqlite({ filename: join(dir, "outbox.db") }))
      yield* app`CREATE TABLE users (n INTEGER)`
      yield* Effect.exit(
        app.withTransaction(
          Effect.gen(function* () {
            yield* app`INSERT INTO users (n) VALUES (1)`
            expect((yield* store.append("events", [event(1)])).stored.length).toBe(1)
            yield* app`INSERT INTO users (n) VALUES (2)`
            return yield* Effect.fail("rolled back")
          })
        )
      )
      expect(yield* app`SELECT n FROM users`).toEqual([])
      expect((yield* claimAll(store, "events")).map((m) => m.json)).toEqual([event(1)])
    })
  )

  it.scopedLive("syncs every commit (FULL) or only at checkpoints (NORMAL), as asked", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const open = (synchronous: "full" | "normal") =>
        Effect.flatMap(
          Sqlite.open({
            filename: join(dir, `${synchronous}.db`),
            synchronous,
            maxFileBytes: undefined,
            busyTimeout: 5000
          }),
          ({ sql }) => sql`PRAGMA synchronous`
        )
      expect(yield* open("full")).toEqual([{ synchronous: 2 }])
      expect(yield* open("normal")).toEqual([{ synchronous: 1 }])
    })
  )

  it("a missing native binary says its install script did not run, not the paths that bindings tried", () => {
    // what better-sqlite3 throws at its first connection when installed with --ignore-scripts
    const tried = ["build/better_sqlite3.node", "build/Release/better_sqlite3.node", "compiled/22.0.0/linux/x64"]
    const bindings = Object.assign(
      new Error(`Could not locate the bindings file. Tried:\n${tried.map((path) => ` → /app/${path}`).join("\n")}`),
      { tries: tried }
    )
    const error = toStoreError(Sqlite.openFailure(bindings))
    expect(error).toMatchObject({ operation: "open", reason: "Unknown", cause: bindings })
    expect(error.message).toBe(
      "Mixpanel outbox: open failed: better-sqlite3 has no native binary: its install script did not run " +
        "(installed with --ignore-scripts, or not allowed by npm's allowScripts or pnpm's onlyBuiltDependencies). " +
        'Allow it (docs/durable.md, "Allowing better-sqlite3\'s install script"), then run npm rebuild better-sqlite3'
    )
    // any other cause keeps the driver's words
    const readOnly = Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY" })
    expect(toStoreError(Sqlite.openFailure(readOnly))).toMatchObject({
      reason: "ReadOnly",
      detail: "the database is read-only (SQLITE_READONLY: attempt to write a readonly database)"
    })
  })

  it.scopedLive("checkpoints the WAL every 10,000 pages, not SQLite's 1,000", () =>
    Effect.gen(function* () {
      const { sql } = yield* Sqlite.open({
        filename: join(yield* tempDir, "outbox.db"),
        synchronous: "normal",
        maxFileBytes: undefined,
        busyTimeout: 5000
      })
      expect(yield* sql`PRAGMA wal_autocheckpoint`).toEqual([{ wal_autocheckpoint: 10000 }])
    })
  )

  it.scopedLive("a full file: appends fail with DiskFull and one log line, and work again once there is room", () => {
    const { lines, logger } = capture()
    return Effect.gen(function* () {
      const file = join(yield* tempDir, "full.db")
      const store = yield* build(DurableStore.layerSqlite({ filename: file, maxFileBytes: 160 * 1024 }))
      const padded = (n: number) => `{"event":"E${n}","properties":{"pad":"${"p".repeat(900)}"}}`
      const stored: Array<string> = []
      const exit = yield* Effect.exit(
        Effect.gen(function* () {
          for (let n = 0; n < 1000; n++) {
            const appended = yield* store.append("events", [padded(n)])
            stored.push(...appended.stored.map((m) => m.json))
          }
        })
      )
      expect(exit).toStrictEqual(
        Exit.fail(expect.objectContaining({ _tag: "StoreFailure", operation: "append", reason: "DiskFull" }))
      )
      expect(stored.length).toBeGreaterThan(20)
      // The failures go on; the log says so once
      for (let n = 0; n < 5; n++) expect((yield* Effect.exit(store.append("events", [padded(n)])))._tag).toBe("Failure")
      expect(lines).toEqual([
        expect.stringMatching(/^ERROR Mixpanel outbox .*append failed: the disk is full \(SQLITE_FULL/)
      ])
      // Nothing that was acknowledged is lost, and the relay can still claim and acknowledge
      const claimed = yield* claimAll(store, "events")
      expect(claimed.map((m) => m.json)).toEqual(stored)
      yield* store.ack(claimed.slice(0, 20))
      // The store works again, and says so
      expect((yield* Effect.exit(store.append("events", [event(1)])))._tag).toBe("Success")
      expect(lines.slice(1)).toEqual([expect.stringMatching(/^INFO Mixpanel outbox .*works again after 6 failure/)])
    }).pipe(Effect.provide(logger))
  })

  it.scopedLive.skipIf(!canMount)("a full disk (a real 256 KiB tmpfs): typed DiskFull, nothing acknowledged lost", () =>
    Effect.gen(function* () {
      const disk = yield* tinyDisk(join(yield* tempDir, "disk"))
      const file = join(disk, "outbox.db")
      const store = yield* build(DurableStore.layerSqlite({ filename: file }))
      const stored: Array<number> = []
      const exit = yield* Effect.exit(
        Effect.gen(function* () {
          for (let n = 0; n < 10_000; n++) {
            const appended = yield* store.append("imports", [`{"n":${n},"pad":"${"p".repeat(500)}"}`])
            stored.push(...appended.stored.map((m) => m.id))
          }
        })
      )
      expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "StoreFailure", reason: "DiskFull" })))
      expect(stored.length).toBeGreaterThan(10)
      // A full disk stops every write, claims included; reading shows that nothing acknowledged is lost
      const rows = yield* (yield* look(file))<{
        readonly id: number
      }>`SELECT id FROM effect_mixpanel_outbox ORDER BY id`
      // One message per append, so one per page: the message's id is its page's, first in it
      expect(rows.map((row) => Pages.messageId(row.id, 0))).toEqual(stored)
    })
  )

  it.scopedLive.skipIf(!canMakeReadOnly)(
    "a read-only file: a ReadOnly error when the layer is built, and a log line",
    () => {
      const { lines, logger } = capture()
      return Effect.gen(function* () {
        const dir = join(yield* tempDir, "ro")
        const file = join(dir, "outbox.db")
        yield* Effect.scoped(build(DurableStore.layerSqlite({ filename: file })))
        yield* readOnly([file, dir])
        const exit = yield* Effect.exit(Effect.scoped(build(DurableStore.layerSqlite({ filename: file }))))
        expect(exit).toStrictEqual(
          Exit.fail(expect.objectContaining({ _tag: "StoreError", operation: "open", reason: "ReadOnly" }))
        )
        expect(lines).toEqual([
          expect.stringMatching(/^ERROR Mixpanel outbox .*open failed: the database is read-only/)
        ])
      }).pipe(Effect.provide(logger))
    }
  )

  it.scopedLive.skipIf(!isRoot)(
    "a read-only file in a writable directory (it opens, but only for reading): ReadOnly at build",
    () =>
      Effect.gen(function* () {
        const file = join(yield* tempDir, "outbox.db")
        yield* Effect.scoped(build(DurableStore.layerSqlite({ filename: file })))
        yield* readOnly([file])
        const exit = yield* Effect.exit(Effect.scoped(build(DurableStore.layerSqlite({ filename: file }))))
        expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "StoreError", reason: "ReadOnly" })))
      })
  )

  it.scopedLive.skipIf(process.platform !== "linux")(
    "a directory that cannot be made (under /proc): a StoreError when the layer is built, not a hang",
    () =>
      wrongPath(
        "/proc/self/mixpanel/outbox.db",
        // the system's words, its code said once
        expect.stringMatching(
          /the directory \/proc\/self\/mixpanel cannot be made \(ENOENT: no such file or directory, mkdir '\/proc\/self\/mixpanel'\)/
        )
      )
  )

  it.scopedLive("a directory given as the file: a StoreError saying so when the layer is built", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* wrongPath(dir, `Mixpanel outbox: open failed: ${dir} is a directory: give the name of a file in it`)
    })
  )

  it.scopedLive("a file where a directory of the path should be: a StoreError saying so when the layer is built", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir, "data")
      writeFileSync(file, "")
      yield* wrongPath(
        join(file, "outbox.db"),
        expect.stringContaining(`the directory ${file} cannot be made (ENOTDIR: not a directory, ${file})`)
      )
    })
  )

  it.scopedLive("a file that is not a database: a Corrupt error when the layer is built, and a log line", () => {
    const { lines, logger } = capture()
    return Effect.gen(function* () {
      const file = join(yield* tempDir, "outbox.db")
      writeFileSync(file, "not a database, but some text ".repeat(300))
      const exit = yield* Effect.exit(Effect.scoped(build(DurableStore.layerSqlite({ filename: file }))))
      expect(exit).toStrictEqual(
        Exit.fail(
          expect.objectContaining({
            _tag: "StoreError",
            operation: "open",
            reason: "Corrupt",
            message: expect.stringContaining("SQLITE_NOTADB")
          })
        )
      )
      expect(lines).toEqual([
        expect.stringMatching(/^ERROR Mixpanel outbox .*open failed: the database file is corrupt/)
      ])
    }).pipe(Effect.provide(logger))
  })

  it.scopedLive("a damaged page: a Corrupt failure at the operation that reads it", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir, "outbox.db")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* build(DurableStore.layerSqlite({ filename: file }))
          for (let i = 0; i < 20; i++) {
            yield* store.append(
              "events",
              Array.from({ length: 100 }, (_, j) => `{"n":${i * 100 + j},"pad":"${"p".repeat(200)}"}`)
            )
          }
        })
      )
      // The pages of the index that claims read and opening the store does not
      const pages = yield* Effect.scoped(
        Effect.flatMap(
          look(file),
          (sql) =>
            sql<{ readonly pageno: number }>`SELECT pageno FROM dbstat WHERE name = 'effect_mixpanel_outbox_claim'`
        )
      )
      expect(pages.length).toBeGreaterThan(0)
      const fd = openSync(file, "r+")
      for (const { pageno } of pages) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (pageno - 1) * 4096)
      closeSync(fd)
      const store = yield* build(DurableStore.layerSqlite({ filename: file }))
      const exit = yield* Effect.exit(claimAll(store, "events"))
      expect(exit).toStrictEqual(
        Exit.fail(expect.objectContaining({ _tag: "StoreFailure", operation: "claim", reason: "Corrupt" }))
      )
    })
  )
  it.scopedLive(
    "a dead-letter filter that makes no sense is an InvalidMessage naming its field, and nothing is touched",
    () =>
      Effect.gen(function* () {
        const store = yield* build(DurableStore.layerSqlite({ filename: join(yield* tempDir, "outbox.db") }))
        yield* store.append("events", events(0, 5))
        yield* store.deadLetter((yield* claimAll(store, "events")).map((message) => rejected(message)))
        const refused = (effect: Effect.Effect<unknown, unknown, DurableStore.DurableStore>) =>
          Effect.flip(Effect.provideService(effect, DurableStore.DurableStore, store))
        for (const [effect, field, detail] of [
          // SQLite reads `LIMIT -1` as no limit: this removed every dead letter
          [DurableStore.removeDeadLetters({ limit: -1 }), "filter.limit", "must be an integer of at least 0"],
          [DurableStore.replayDeadLetters({ limit: 1.5 }), "filter.limit", "must be an integer of at least 0"],
          [DurableStore.deadLetters({ failedAfter: new Date("soon") }), "filter.failedAfter", "must be a valid Date"],
          [
            DurableStore.deadLetters({ failedBefore: "2020" } as unknown as DurableStore.DeadLetterFilter),
            "filter.failedBefore",
            "must be a valid Date"
          ],
          [
            DurableStore.removeDeadLetters({ ids: Array.from({ length: 10_001 }, (_, i) => i) }),
            "filter.ids",
            "must name at most 10000 ids: page through more"
          ],
          [
            DurableStore.removeDeadLetters({ limt: 1 } as DurableStore.DeadLetterFilter),
            "filter.limt",
            "is not an option here: did you mean limit?"
          ]
        ] as const) {
          expect(yield* refused(effect)).toMatchObject({ _tag: "InvalidMessage", field, detail })
        }
        // every dead letter is still there, and a filter that makes sense works
        expect(yield* store.stats).toMatchObject({ deadLetters: 5 })
        expect(
          yield* Effect.provideService(DurableStore.removeDeadLetters({ limit: 2 }), DurableStore.DurableStore, store)
        ).toBe(2)
        expect(yield* store.stats).toMatchObject({ deadLetters: 3 })
      })
  )
})
