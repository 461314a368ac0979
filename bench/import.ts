/**
 * The import scenario of `npm run bench` (also on its own: `npx tsx bench/import.ts`):
 * `effect-mixpanel import` against `mixpanel-import` 3.1.43, each at its defaults, each in a process of
 * its own, importing the same NDJSON file (and its gzip) of the bench's events to `/import` with
 * service-account auth, to the same loopback sink; then the same under the sink's fault mix.
 *
 * mixpanel-import has no base-URL option: it sends through undici `Pool`s it creates for
 * https://api.mixpanel.com (and the EU and IN hosts). `bench/import/preload.cjs`, preloaded into its
 * process, substitutes the sink's origin for theirs when its undici is loaded; its code is untouched.
 * The same preload records each process's CPU time and peak RSS at exit, for every tool.
 *
 * `floor` (bench/import/floor.mjs) is the yardstick: a plain Node script doing the least work a correct
 * importer must do for this file (parse, times to milliseconds, an `$insert_id`, batches of effect-mixpanel's
 * sizes gzipped at level 1, 4 requests in flight, Mixpanel's backoff without jitter), measured the same way.
 *
 * Settings, from the environment: BENCH_IMPORT_N (events, default 1,000,000), BENCH_IMPORT_FAULT_N
 * (events in the fault scenario, default 200,000), BENCH_IMPORT_RUNS (runs of each, default 1),
 * BENCH_IMPORT_TOOLS (default "effect-mixpanel,effect-mixpanel-small,floor,mixpanel-import"), BENCH_IMPORT_SCENARIOS (default
 * "ndjson,gzip,faults"), BENCH_IMPORT_TIMEOUT (seconds per run, default 1800). See docs/benchmarks.md.
 */
import { spawn } from "node:child_process"
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import * as Os from "node:os"
import { join } from "node:path"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import { createGzip } from "node:zlib"
import { buildBin } from "../scripts/build-bin.js"
import { makeEvent } from "./events.js"
import type { Faults, SinkStats } from "./protocol.js"
import { startSink } from "./sink.js"
import { median } from "./stats.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const cache = join(root, "node_modules", ".cache", "effect-mixpanel-bench", "import")
const preload = join(root, "bench", "import", "preload.cjs")

/**
 * `effect-mixpanel-small`: effect-mixpanel with `--concurrency 2 --batch-bytes 524288`, its memory knobs turned
 * down. `floor`: bench/import/floor.mjs, the least work a correct importer does, for the ratios to it.
 */
type Tool = "effect-mixpanel" | "effect-mixpanel-small" | "floor" | "mixpanel-import"
type Scenario = "ndjson" | "gzip" | "faults"

export interface ImportBenchOptions {
  readonly n: number
  readonly faultN: number
  readonly runs: number
  readonly tools: ReadonlyArray<Tool>
  readonly scenarios: ReadonlyArray<Scenario>
  readonly timeoutSeconds: number
  readonly faults: Faults
  readonly log: (line: string) => void
}

const number = (name: string, fallback: number) => {
  const text = process.env[name]
  return text === undefined || text === "" ? fallback : Number(text.replace(/_/g, ""))
}

const list = <A extends string>(name: string, fallback: ReadonlyArray<A>): ReadonlyArray<A> =>
  (process.env[name] ?? "").trim() === ""
    ? fallback
    : ((process.env[name] ?? "").split(",").map((s) => s.trim()) as Array<A>)

export const optionsFromEnv = (log: (line: string) => void): ImportBenchOptions => ({
  n: number("BENCH_IMPORT_N", 1_000_000),
  faultN: number("BENCH_IMPORT_FAULT_N", 200_000),
  runs: number("BENCH_IMPORT_RUNS", 1),
  tools: list<Tool>("BENCH_IMPORT_TOOLS", ["effect-mixpanel", "effect-mixpanel-small", "floor", "mixpanel-import"]),
  scenarios: list<Scenario>("BENCH_IMPORT_SCENARIOS", ["ndjson", "gzip", "faults"]),
  timeoutSeconds: number("BENCH_IMPORT_TIMEOUT", 1800),
  // The fault mix of the other scenarios: 20% 503, 5% 429 without Retry-After
  faults: { serviceUnavailable: 0.2, rateLimited: 0.05, seed: 20_251_128 },
  log
})

/** One import run: the process's figures, and the sink's. */
export interface ImportRun {
  readonly tool: Tool
  readonly scenario: Scenario
  readonly run: number
  readonly n: number
  readonly exitCode: number | null
  readonly timedOut: boolean
  readonly wallSeconds: number
  readonly cpuSeconds: number | undefined
  readonly peakRssBytes: number | undefined
  readonly recordsPerSecond: number
  readonly delivered: number
  readonly sink: SinkStats
}

// ---------------------------------------------------------------------------------------------------
// the input files
// ---------------------------------------------------------------------------------------------------

/**
 * The bench's events as an export would hold them: `{ event, properties }` with `distinct_id`, `time` in
 * seconds and no `$insert_id` (effect-mixpanel derives one; mixpanel-import at its defaults sends none).
 * `properties.seq` is what the sink counts.
 */
const line = (i: number): string => {
  const { distinctId, event, properties } = makeEvent(i)
  return `${JSON.stringify({ event, properties: { distinct_id: distinctId, time: 1_736_942_400 + i, ...properties } })}\n`
}

/** The NDJSON file of `n` events and its gzip, made once and kept in node_modules/.cache. */
const inputs = async (n: number, log: (line: string) => void) => {
  mkdirSync(cache, { recursive: true })
  const ndjson = join(cache, `events-${n}.ndjson`)
  const gzip = `${ndjson}.gz`
  if (!existsSync(ndjson)) {
    log(`import: writing ${n.toLocaleString("en-US")} events to ${ndjson}`)
    const out = createWriteStream(`${ndjson}.tmp`)
    for (let i = 0; i < n; i++) {
      if (!out.write(line(i))) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
    }
    await new Promise<void>((resolve) => out.end(() => resolve()))
    renameSync(`${ndjson}.tmp`, ndjson)
  }
  if (!existsSync(gzip)) {
    log(`import: compressing ${ndjson}`)
    await pipeline(createReadStream(ndjson), createGzip(), createWriteStream(`${gzip}.tmp`))
    renameSync(`${gzip}.tmp`, gzip)
  }
  return { ndjson, gzip }
}

// ---------------------------------------------------------------------------------------------------
// one run
// ---------------------------------------------------------------------------------------------------

const serviceAccount = { username: "bench.import.sa", secret: "bench-secret", projectId: "1" }

const command = (tool: Tool, bin: string, file: string): ReadonlyArray<string> => {
  switch (tool) {
    case "effect-mixpanel":
      return [bin, "import", file]
    case "effect-mixpanel-small":
      return [bin, "import", file, "--concurrency", "2", "--batch-bytes", "524288"]
    case "floor":
      return [join(root, "bench", "import", "floor.mjs"), file]
    case "mixpanel-import":
      return [
        join(root, "node_modules", "mixpanel-import", "index.js"),
        file,
        "--acct",
        serviceAccount.username,
        "--pass",
        serviceAccount.secret,
        "--project",
        serviceAccount.projectId
      ]
  }
}

const runOnce = async (
  tool: Tool,
  scenario: Scenario,
  run: number,
  n: number,
  file: string,
  bin: string,
  sink: Awaited<ReturnType<typeof startSink>>,
  options: ImportBenchOptions
): Promise<ImportRun> => {
  const work = join(cache, `run-${process.pid}-${tool}-${scenario}-${run}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  const usage = join(work, "usage.json")
  sink.reset(n, scenario === "faults" ? options.faults : { serviceUnavailable: 0, rateLimited: 0, seed: 1 })
  const started = performance.now()
  const child = spawn(process.execPath, ["--require", preload, ...command(tool, bin, file)], {
    cwd: work,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: work,
      BENCH_IMPORT_USAGE: usage,
      // mixpanel-import: its pools, to the sink
      BENCH_IMPORT_ORIGIN: sink.url,
      // effect-mixpanel and the floor: the same service account and the sink's origin, from the environment
      MIXPANEL_TOKEN: "bench-token",
      MIXPANEL_SERVICE_ACCOUNT_USERNAME: serviceAccount.username,
      MIXPANEL_SERVICE_ACCOUNT_SECRET: serviceAccount.secret,
      MIXPANEL_PROJECT_ID: serviceAccount.projectId,
      MIXPANEL_BASE_URL: sink.url
    }
  })
  let stderr = ""
  child.stderr?.on("data", (data) => {
    stderr = (stderr + String(data)).slice(-4000)
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill("SIGKILL")
  }, options.timeoutSeconds * 1000)
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  clearTimeout(timer)
  const wallSeconds = (performance.now() - started) / 1000
  const stats = sink.stats()
  const measured = existsSync(usage)
    ? (JSON.parse(readFileSync(usage, "utf8")) as { userSeconds: number; systemSeconds: number; peakRssBytes: number })
    : undefined
  rmSync(work, { recursive: true, force: true })
  if (exitCode !== 0)
    options.log(`import: ${tool} ${scenario} exited ${exitCode}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)
  return {
    tool,
    scenario,
    run,
    n,
    exitCode,
    timedOut,
    wallSeconds,
    cpuSeconds: measured === undefined ? undefined : measured.userSeconds + measured.systemSeconds,
    peakRssBytes: measured?.peakRssBytes,
    recordsPerSecond: stats.events / wallSeconds,
    delivered: stats.events,
    sink: stats
  }
}

// ---------------------------------------------------------------------------------------------------
// the whole scenario
// ---------------------------------------------------------------------------------------------------

export interface ImportReport {
  readonly date: string
  readonly machine: string
  readonly node: string
  readonly options: Omit<ImportBenchOptions, "log">
  readonly runs: ReadonlyArray<ImportRun>
}

export const runImportBench = async (options: ImportBenchOptions): Promise<ImportReport> => {
  const files = await inputs(options.n, options.log)
  const faultFiles = options.faultN === options.n ? files : await inputs(options.faultN, options.log)
  const bin = await buildBin(join(cache, `bin-${process.pid}.mjs`))
  const sink = await startSink()
  const runs: Array<ImportRun> = []
  try {
    for (let run = 1; run <= options.runs; run++) {
      for (const scenario of options.scenarios) {
        const n = scenario === "faults" ? options.faultN : options.n
        const file = scenario === "gzip" ? files.gzip : scenario === "faults" ? faultFiles.ndjson : files.ndjson
        // The order of the tools alternates from run to run
        const tools = run % 2 === 1 ? options.tools : [...options.tools].reverse()
        for (const tool of tools) {
          options.log(`import: run ${run}, ${scenario}, ${tool}, ${n.toLocaleString("en-US")} events`)
          const result = await runOnce(tool, scenario, run, n, file, bin, sink, options)
          options.log(
            `import:   ${Math.round(result.recordsPerSecond).toLocaleString("en-US")}/s, ${result.wallSeconds.toFixed(1)} s, ` +
              `CPU ${result.cpuSeconds?.toFixed(1)} s, peak RSS ${((result.peakRssBytes ?? 0) / 1e6).toFixed(0)} MB, ` +
              `${result.delivered}/${n} delivered`
          )
          runs.push(result)
        }
      }
    }
  } finally {
    await sink.close()
    rmSync(bin, { force: true })
  }
  const { log: _, ...rest } = options
  return {
    date: new Date().toISOString(),
    machine: `${Os.cpus().length} × ${Os.cpus()[0]?.model ?? "cpu"}, ${Math.round(Os.totalmem() / 2 ** 30)} GiB, load ${Os.loadavg()[0]?.toFixed(1)} at the end`,
    node: process.version,
    options: rest,
    runs
  }
}

// ---------------------------------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------------------------------

const medianOf = (runs: ReadonlyArray<ImportRun>, figure: (run: ImportRun) => number | undefined) =>
  median(runs.map(figure))

const fixed = (value: number | undefined, digits = 0) =>
  value === undefined
    ? "-"
    : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The ratio of the median of `figure` over the runs `a` to its median over the runs `b`. */
const ratioOf = (
  a: ReadonlyArray<ImportRun>,
  b: ReadonlyArray<ImportRun>,
  figure: (run: ImportRun) => number | undefined
) => {
  if (a.length === 0 || b.length === 0) return undefined
  const x = medianOf(a, figure)
  const y = medianOf(b, figure)
  return x === undefined || y === undefined || y === 0 ? undefined : x / y
}

const speedOf = (run: ImportRun) => run.recordsPerSecond
const memoryOf = (run: ImportRun) => run.peakRssBytes
const cpuOf = (run: ImportRun) => run.cpuSeconds
const deliveredOf = (runs: ReadonlyArray<ImportRun>) => Math.min(...runs.map((run) => run.delivered / run.n))

/**
 * The table of medians; the ratios of effect-mixpanel to mixpanel-import, and the goals, with the floor's
 * own ratios to mixpanel-import (what the goals ask is within reach only where the floor exceeds them);
 * and every tool's ratios to the floor.
 */
export const formatImportReport = (report: ImportReport): string => {
  const rows: Array<string> = [
    "| scenario | tool | events | records/s | wall s | CPU s | peak RSS MB | delivered |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  const floorRows: Array<string> = [
    "| scenario | tool | records/s ÷ floor's | CPU ÷ floor's | peak RSS ÷ floor's |",
    "| --- | --- | ---: | ---: | ---: |"
  ]
  const goals: Array<string> = []
  for (const scenario of report.options.scenarios) {
    const of = (tool: Tool) => report.runs.filter((run) => run.scenario === scenario && run.tool === tool)
    for (const tool of report.options.tools) {
      const runs = of(tool)
      if (runs.length === 0) continue
      const cells = [
        scenario,
        tool,
        fixed(runs[0]?.n),
        fixed(medianOf(runs, (run) => run.recordsPerSecond)),
        fixed(
          medianOf(runs, (run) => run.wallSeconds),
          1
        ),
        fixed(
          medianOf(runs, (run) => run.cpuSeconds),
          1
        ),
        fixed(medianOf(runs, (run) => (run.peakRssBytes === undefined ? undefined : run.peakRssBytes / 1e6))),
        `${fixed(
          medianOf(runs, (run) => (100 * run.delivered) / run.n),
          1
        )}%`
      ]
      rows.push(`| ${cells.join(" | ")} |`)
    }
    const theirs = of("mixpanel-import")
    const floor = of("floor")
    if (floor.length > 0 && theirs.length > 0) {
      goals.push(
        `${scenario}, floor: ${fixed(ratioOf(floor, theirs, speedOf), 1)}x mixpanel-import's records/s, ` +
          `${fixed(ratioOf(floor, theirs, memoryOf), 2)}x its peak RSS, ${fixed(ratioOf(floor, theirs, cpuOf), 2)}x its CPU, ` +
          `${fixed(deliveredOf(floor) * 100, 1)}% delivered (the most the goals could ask here)`
      )
    }
    for (const variant of ["effect-mixpanel", "effect-mixpanel-small"] as const) {
      const ours = of(variant)
      if (ours.length === 0 || theirs.length === 0) continue
      const speed = ratioOf(ours, theirs, speedOf)
      const memory = ratioOf(ours, theirs, memoryOf)
      const cpu = ratioOf(ours, theirs, cpuOf)
      const delivered = deliveredOf(ours)
      const mark = (ok: boolean) => (ok ? "met" : "NOT met")
      goals.push(
        `${scenario}, ${variant}: ${fixed(speed, 1)}x mixpanel-import's records/s (goal ≥ 5x: ${mark((speed ?? 0) >= 5)}), ` +
          `${fixed(memory, 2)}x its peak RSS (goal ≤ 0.5x: ${mark((memory ?? 9) <= 0.5)}), ${fixed(cpu, 2)}x its CPU` +
          (scenario === "faults"
            ? `, ${fixed(delivered * 100, 1)}% delivered (goal 100%: ${mark(delivered === 1)})`
            : "")
      )
    }
    if (floor.length > 0) {
      for (const tool of report.options.tools) {
        const runs = of(tool)
        if (tool === "floor" || runs.length === 0) continue
        const cells = [
          fixed(ratioOf(runs, floor, speedOf), 2),
          fixed(ratioOf(runs, floor, cpuOf), 2),
          fixed(ratioOf(runs, floor, memoryOf), 2)
        ]
        floorRows.push(`| ${scenario} | ${tool} | ${cells.map((cell) => `${cell}x`).join(" | ")} |`)
      }
    }
  }
  return [
    `Import: ${report.machine}, Node ${report.node}`,
    "",
    ...rows,
    ...(floorRows.length > 2 ? ["", ...floorRows] : []),
    "",
    ...goals
  ].join("\n")
}

/** Runs the scenario, prints the table and writes `bench/results/import.json`. */
export const main = async (log: (line: string) => void = (line) => console.error(line)) => {
  const report = await runImportBench(optionsFromEnv(log))
  console.log(`\n${formatImportReport(report)}`)
  const out = join(root, "bench", "results", "import.json")
  mkdirSync(join(root, "bench", "results"), { recursive: true })
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nWrote bench/results/import.json`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main()
