/**
 * Child processes running `child.ts`, with the lines they print, and a way to kill them hard.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Deferred, Effect, type Scope } from "effect"

const script = fileURLToPath(new URL("./child.ts", import.meta.url))

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
      const ready = yield* Deferred.make<void>()
      const exited = yield* Deferred.make<number | null>()
      const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
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
