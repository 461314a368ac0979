/**
 * What the check scripts (`npm run check:*`) share: the repository's root, running a command with its
 * output kept for the failure message, scratch directories outside the repository, the packed tarball,
 * and a report of named steps that exits 1 on the first failure.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

/** A command that failed, with everything it printed. */
export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly output: string
  ) {
    super(`${command} failed:\n${output}`)
  }
}

/**
 * Runs `command` in `cwd` and returns its standard output; throws `CommandFailed` with both outputs.
 * The environment is this process's, less the machine's MIXPANEL_* variables.
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env: Record<string, string> = {}
): string => {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      env: { ...withoutMixpanel(), ...env },
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"]
    })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new CommandFailed([command, ...args].join(" "), `${stdout ?? ""}${stderr ?? String(error)}`)
  }
}

const withoutMixpanel = () =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MIXPANEL_")))

/** The version of a package installed in the repository (so a scratch project gets the same one). */
export const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version

const scratches: Array<string> = []

/** A fresh directory under the system's temporary directory, removed at exit unless KEEP_SCRATCH=1. */
export const scratch = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `effect-mixpanel-${name}-`))
  scratches.push(dir)
  return dir
}

process.on("exit", () => {
  if (process.env.KEEP_SCRATCH === "1") {
    if (scratches.length > 0) console.log(`scratch directories kept: ${scratches.join(" ")}`)
    return
  }
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true })
})

/** An empty npm project (a `package.json` and nothing else) in a new scratch directory. */
export const emptyProject = (name: string, manifest: Record<string, unknown> = {}): string => {
  const dir = scratch(name)
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "user-project", private: true, ...manifest })}\n`)
  return dir
}

/** Writes `files` (paths relative to `dir`) into `dir`. */
export const writeFiles = (dir: string, files: Record<string, string>): void => {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
}

/**
 * `npm pack` of the repository (which builds `dist/` first, see `prepack`), into a scratch directory.
 * EFFECT_MIXPANEL_TARBALL=path skips the pack and uses that tarball.
 */
export const pack = (): string => {
  const given = process.env.EFFECT_MIXPANEL_TARBALL
  if (given !== undefined && given !== "") return given
  const dir = scratch("pack")
  const name = run("npm", ["pack", "--silent", "--pack-destination", dir], root).trim().split("\n").pop() ?? ""
  return join(dir, name)
}

/** `npm install` flags for a check: no audit, fund or progress noise; the cache first. */
export const quietInstall = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]

let failures = 0

/** Runs one named step, prints `ok` or `FAIL` with the reason and its duration, and goes on to the next. */
export const step = (name: string, body: () => void): void => {
  const started = performance.now()
  try {
    body()
    console.log(`ok    ${name} (${seconds(started)})`)
  } catch (error) {
    failures++
    console.log(`FAIL  ${name} (${seconds(started)})`)
    console.log(indent(error instanceof Error ? error.message : String(error)))
  }
}

/** Ends the check: exit code 1 if any step failed. */
export const finish = (what: string): void => {
  if (failures > 0) {
    console.log(`\n${what}: ${failures} step(s) failed`)
    process.exitCode = 1
  } else {
    console.log(`\n${what}: every step passed`)
  }
}

/** Throws with `message` unless `condition` holds. */
export const check = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(message)
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`
const indent = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n")
