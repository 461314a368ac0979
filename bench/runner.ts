/**
 * The measurement runner: starts the sink in its own process, then runs each client in a process of its
 * own, scenario by scenario, several times, interleaved (run 1 of every client, then run 2, with the order
 * rotated each time), and reduces the runs to medians and ratios.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process"
import { readFileSync } from "node:fs"
import * as Os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { buildBench } from "./build.js"
import { type Variant, variants } from "./clients/index.js"
import type { ClientReply, ClientResult, ClientSpec, Faults, SinkCommand, SinkReply, SinkStats } from "./protocol.js"
import { median } from "./stats.js"

export type Scenario = "clean" | "faults"

export interface BenchOptions {
  /** Events per client run. */
  readonly n: number
  /** Events for the clients that make one request per event (`mixpanel track`). */
  readonly smallN: number
  /** Events for the clients too slow to run `n` events within the bench's time (Segment at its defaults). */
  readonly reducedN: number
  /** Events per run in the fault scenario. */
  readonly faultN: number
  /** Runs of every scenario and client. */
  readonly runs: number
  /** Events per burst between two turns of the event loop. */
  readonly chunkSize: number
  /** Time one call in this many. */
  readonly sampleEvery: number
  /** Client ids to run (see `clients/index.ts`). */
  readonly clients: ReadonlyArray<string>
  /** Client ids to run in the fault scenario. */
  readonly faultClients: ReadonlyArray<string>
  readonly scenarios: ReadonlyArray<Scenario>
  /** Longest a client may take from its first call, clean scenario. */
  readonly timeoutMs: number
  /** Longest a client may take from its first call, fault scenario. */
  readonly faultTimeoutMs: number
  /** The sink's faults in the fault scenario (its seed is advanced per run). */
  readonly faults: Faults
  /** Extra Node flags for the client processes (e.g. `--cpu-prof`). */
  readonly clientExecArgv: ReadonlyArray<string>
  /** Progress lines; the default prints nothing. */
  readonly log: (line: string) => void
}

export const defaultOptions: BenchOptions = {
  n: 100_000,
  smallN: 5000,
  reducedN: 20_000,
  faultN: 10_000,
  runs: 3,
  chunkSize: 1000,
  sampleEvery: 4,
  clients: variants.map((variant) => variant.id),
  faultClients: variants.filter((variant) => variant.faults).map((variant) => variant.id),
  scenarios: ["clean", "faults"],
  timeoutMs: 60_000,
  faultTimeoutMs: 20_000,
  faults: { serviceUnavailable: 0.2, rateLimited: 0.05, retryAfterSeconds: 1, seed: 20_251_128 },
  clientExecArgv: [],
  log: () => {}
}

/** One client process: what it measured, what the sink saw, and the figures derived from both. */
export interface RunRecord {
  readonly scenario: Scenario
  readonly client: string
  readonly run: number
  readonly n: number
  /** Absent when the process failed or had to be killed. */
  readonly result: ClientResult | undefined
  readonly sink: SinkStats
  /** The client gave up at its deadline, or was killed after it. */
  readonly timedOut: boolean
  readonly failure: string | undefined
  readonly figures: Figures
  /** The machine's 1-minute load average when the run ended (other work skews figures). */
  readonly loadAverage: number
}

/** The figures of one run (or, in a summary, the medians of a client's runs). */
export interface Figures {
  /** Fraction of the `n` events the sink received (distinct). */
  readonly delivered: number
  /** First call to all events received (to the client's end when some never arrived), milliseconds. */
  readonly wallMs: number | undefined
  /** First call until the client reported it was done (flush or shutdown returned), milliseconds. */
  readonly doneMs: number | undefined
  /** Events received per second of `wallMs`. */
  readonly eventsPerSecond: number | undefined
  /** User + system CPU of the client process per event sent, microseconds. */
  readonly cpuMicrosPerEvent: number | undefined
  /** Time inside one tracking call, per event (a batch call's time is divided by its events). */
  readonly callP50Micros: number | undefined
  readonly callP99Micros: number | undefined
  /** Peak RSS and heap above the baseline taken right before the first call, bytes. */
  readonly peakRssBytes: number | undefined
  readonly peakHeapBytes: number | undefined
  /** Requests the sink received, failed ones included. */
  readonly requests: number
  /** Bytes written to disk per event, for a client with a durable store. */
  readonly diskBytesPerEvent?: number | undefined
}

export interface ClientSummary {
  readonly client: string
  readonly label: string
  readonly setup: string
  readonly role: Variant["role"]
  readonly durability: Variant["durability"]
  readonly clean: ScenarioSummary | undefined
  readonly faults: ScenarioSummary | undefined
}

export interface ScenarioSummary {
  readonly n: number
  readonly runs: number
  readonly timedOutRuns: number
  readonly failedRuns: number
  /** Events per timed call (more than 1 for a batch API). */
  readonly eventsPerCall: number
  /** Medians over the runs. */
  readonly median: Figures
  /** The median of each figure divided by the floor's (the reference); absent without a floor. */
  readonly ratioToReference: Partial<Record<keyof Figures, number>>
  /** Delivered fraction of every run, to show the spread. */
  readonly deliveredPerRun: ReadonlyArray<number>
  /** Events/s of every run. */
  readonly eventsPerSecondPerRun: ReadonlyArray<number | undefined>
}

/** The library's revision the figures belong to. */
export interface Revision {
  readonly commit: string
  /** Files under `src/` that differ from the commit (uncommitted work was measured too). */
  readonly dirtySrc: ReadonlyArray<string>
}

const git = (args: ReadonlyArray<string>): string => {
  try {
    return execFileSync("git", args, {
      cwd: here(".."),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"]
    }).trimEnd()
  } catch {
    return ""
  }
}

export const revision = (): Revision => ({
  commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
  dirtySrc: git(["status", "--porcelain", "--", "src"])
    .split("\n")
    .map((line) => line.slice(3).trim())
    .filter((path) => path !== "")
})

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly packages: Readonly<Record<string, string>>
}

export interface BenchReport {
  readonly startedAt: string
  readonly durationMs: number
  /** The 1-minute load average when the bench started and ended: other work on the machine skews figures. */
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly revision: Revision
  readonly machine: Machine
  readonly options: Omit<BenchOptions, "log">
  readonly reference: string | undefined
  readonly summary: ReadonlyArray<ClientSummary>
  readonly runs: ReadonlyArray<RunRecord>
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const peerPackages = [
  "effect",
  "@effect/platform",
  "@effect/platform-node",
  "mixpanel",
  "posthog-node",
  "@segment/analytics-node"
]

export const machine = (): Machine => {
  const packages: Record<string, string> = {}
  for (const name of peerPackages) {
    try {
      const json = JSON.parse(readFileSync(here(`../node_modules/${name}/package.json`), "utf8")) as {
        version?: unknown
      }
      packages[name] = String(json.version)
    } catch {
      packages[name] = "?"
    }
  }
  const cpus = Os.cpus()
  return {
    cpus: Os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round((Os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${Os.type()} ${Os.release()} ${Os.arch()}`,
    node: process.version,
    packages
  }
}

// ---------------------------------------------------------------------------------------------------
// the sink process
// ---------------------------------------------------------------------------------------------------

interface SinkHandle {
  readonly url: string
  readonly command: (command: SinkCommand) => Promise<SinkStats>
  readonly close: () => Promise<void>
}

const startSinkProcess = (compiled: string): Promise<SinkHandle> =>
  new Promise((resolve, reject) => {
    const child = fork(join(compiled, "sinkProcess.js"), [], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const pending = new Map<number, (stats: SinkStats) => void>()
    child.on("message", (reply: SinkReply) => {
      if (reply.type === "listening") {
        resolve({
          url: `http://127.0.0.1:${reply.port}`,
          command: (command) =>
            new Promise((done) => {
              pending.set(command.id, done)
              child.send(command)
            }),
          close: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done()
              child.once("exit", () => done())
              child.disconnect()
              setTimeout(() => child.kill("SIGKILL"), 2000).unref()
            })
        })
      } else {
        pending.get(reply.id)?.(reply.stats)
        pending.delete(reply.id)
      }
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the sink exited (${code}) before listening`)))
  })

// ---------------------------------------------------------------------------------------------------
// one client run
// ---------------------------------------------------------------------------------------------------

interface ProcessOutcome {
  readonly result: ClientResult | undefined
  readonly failure: string | undefined
  readonly killed: boolean
}

/** Room for process start and module loading, on top of the client's own time. */
const startupGraceMs = 10_000

const runClientProcess = (
  compiled: string,
  spec: ClientSpec,
  execArgv: ReadonlyArray<string>
): Promise<ProcessOutcome> =>
  new Promise((resolve) => {
    const child: ChildProcess = fork(join(compiled, "clientProcess.js"), [], {
      execArgv: ["--expose-gc", ...execArgv],
      stdio: ["ignore", "ignore", "pipe", "ipc"]
    })
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4000)
    })
    let result: ClientResult | undefined
    let failure: string | undefined
    let killed = false
    const killer = setTimeout(() => {
      killed = true
      child.kill("SIGKILL")
    }, spec.timeoutMs + startupGraceMs)
    child.on("message", (reply: ClientReply) => {
      if (reply.type === "ready") child.send({ type: "start", spec })
      else if (reply.type === "result") result = reply.result
      else failure = reply.message
    })
    child.once("exit", (code, signal) => {
      clearTimeout(killer)
      if (result === undefined && failure === undefined) {
        failure = killed
          ? `killed after ${spec.timeoutMs + startupGraceMs} ms`
          : `exited (${code ?? signal}) without a result: ${stderr.trim().split("\n").slice(-5).join(" | ")}`
      }
      resolve({ result, failure, killed })
    })
  })

const figuresOf = (n: number, result: ClientResult | undefined, sink: SinkStats): Figures => {
  const delivered = sink.events / n
  if (result === undefined) {
    return {
      delivered,
      wallMs: undefined,
      doneMs: undefined,
      eventsPerSecond: undefined,
      cpuMicrosPerEvent: undefined,
      callP50Micros: undefined,
      callP99Micros: undefined,
      peakRssBytes: undefined,
      peakHeapBytes: undefined,
      requests: sink.requests
    }
  }
  const doneMs = result.doneAt - result.firstCallAt
  const wallMs = sink.completeAt !== undefined ? sink.completeAt - result.firstCallAt : doneMs
  return {
    delivered,
    wallMs,
    doneMs,
    eventsPerSecond: wallMs > 0 ? sink.events / (wallMs / 1000) : undefined,
    cpuMicrosPerEvent: (result.cpuUserMicros + result.cpuSystemMicros) / n,
    callP50Micros: result.callP50Micros / result.eventsPerCall,
    callP99Micros: result.callP99Micros / result.eventsPerCall,
    peakRssBytes: Math.max(0, result.peakRssBytes - result.baselineRssBytes),
    peakHeapBytes: Math.max(0, result.peakHeapBytes - result.baselineHeapBytes),
    requests: sink.requests,
    diskBytesPerEvent: result.diskBytes === undefined ? undefined : result.diskBytes / n
  }
}

// ---------------------------------------------------------------------------------------------------
// summaries
// ---------------------------------------------------------------------------------------------------

const figureKeys: ReadonlyArray<keyof Figures> = [
  "delivered",
  "wallMs",
  "doneMs",
  "eventsPerSecond",
  "cpuMicrosPerEvent",
  "callP50Micros",
  "callP99Micros",
  "peakRssBytes",
  "peakHeapBytes",
  "requests"
]

const medianFigures = (records: ReadonlyArray<RunRecord>): Figures => {
  const of = (key: keyof Figures) => median(records.map((record) => record.figures[key]))
  return {
    delivered: of("delivered") ?? 0,
    wallMs: of("wallMs"),
    doneMs: of("doneMs"),
    eventsPerSecond: of("eventsPerSecond"),
    cpuMicrosPerEvent: of("cpuMicrosPerEvent"),
    callP50Micros: of("callP50Micros"),
    callP99Micros: of("callP99Micros"),
    peakRssBytes: of("peakRssBytes"),
    peakHeapBytes: of("peakHeapBytes"),
    requests: of("requests") ?? 0,
    diskBytesPerEvent: of("diskBytesPerEvent")
  }
}

const ratios = (figures: Figures, reference: Figures | undefined): Partial<Record<keyof Figures, number>> => {
  const out: Partial<Record<keyof Figures, number>> = {}
  if (reference === undefined) return out
  for (const key of figureKeys) {
    const mine = figures[key]
    const theirs = reference[key]
    if (mine !== undefined && theirs !== undefined && theirs !== 0) out[key] = mine / theirs
  }
  return out
}

export const summarize = (
  records: ReadonlyArray<RunRecord>,
  clients: ReadonlyArray<string>
): { readonly reference: string | undefined; readonly summary: ReadonlyArray<ClientSummary> } => {
  // Every ratio divides by the floor, the hand-written sender with the same concurrency as ours.
  const reference = variants.find((variant) => variant.role === "floor" && clients.includes(variant.id))?.id
  const scenario = (client: string, which: Scenario, referenceFigures: Figures | undefined) => {
    const mine = records.filter((record) => record.client === client && record.scenario === which)
    if (mine.length === 0) return undefined
    const medianOf = medianFigures(mine)
    return {
      n: mine[0]?.n ?? 0,
      runs: mine.length,
      timedOutRuns: mine.filter((record) => record.timedOut).length,
      failedRuns: mine.filter((record) => record.failure !== undefined).length,
      eventsPerCall: mine.find((record) => record.result !== undefined)?.result?.eventsPerCall ?? 1,
      median: medianOf,
      ratioToReference: ratios(medianOf, referenceFigures),
      deliveredPerRun: mine.map((record) => record.figures.delivered),
      eventsPerSecondPerRun: mine.map((record) => record.figures.eventsPerSecond)
    }
  }
  const referenceOf = (which: Scenario) =>
    reference === undefined ? undefined : scenario(reference, which, undefined)?.median
  const cleanReference = referenceOf("clean")
  const faultReference = referenceOf("faults")
  const summary = variants
    .filter((variant) => clients.includes(variant.id))
    .map((variant) => ({
      client: variant.id,
      label: variant.label,
      setup: variant.setup,
      role: variant.role,
      durability: variant.durability,
      clean: scenario(variant.id, "clean", cleanReference),
      faults: scenario(variant.id, "faults", faultReference)
    }))
  return { reference, summary }
}

// ---------------------------------------------------------------------------------------------------
// the whole bench
// ---------------------------------------------------------------------------------------------------

const rotate = <A>(items: ReadonlyArray<A>, by: number): ReadonlyArray<A> =>
  items.length === 0 ? items : [...items.slice(by % items.length), ...items.slice(0, by % items.length)]

const pct = (fraction: number) => `${(fraction * 100).toFixed(1)}%`

const sizeOf = (variant: Variant, scenario: Scenario, options: BenchOptions): number => {
  const sized = variant.size === "small" ? options.smallN : variant.size === "reduced" ? options.reducedN : options.n
  return scenario === "faults" ? Math.min(options.faultN, sized) : sized
}

/** One client process against a freshly reset sink. */
const runOne = async (
  sink: SinkHandle,
  compiled: string,
  options: BenchOptions,
  variant: Variant,
  scenario: Scenario,
  run: number
): Promise<RunRecord> => {
  const n = sizeOf(variant, scenario, options)
  // Every client of one run meets the same sequence of faults.
  const seed = options.faults.seed + run
  const faults: Faults =
    scenario === "faults" ? { ...options.faults, seed } : { serviceUnavailable: 0, rateLimited: 0, seed }
  await sink.command({ type: "reset", id: nextCommandId(), expected: n, faults })
  const spec: ClientSpec = {
    client: variant.id,
    n,
    chunkSize: options.chunkSize,
    sampleEvery: options.sampleEvery,
    sinkUrl: sink.url,
    timeoutMs: scenario === "faults" ? options.faultTimeoutMs : options.timeoutMs,
    token: "bench-project-token"
  }
  const outcome = await runClientProcess(compiled, spec, options.clientExecArgv)
  // Let requests that were still on the wire when the process ended land (or not) before counting.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const stats = await sink.command({ type: "stats", id: nextCommandId() })
  return {
    scenario,
    client: variant.id,
    run: run + 1,
    n,
    result: outcome.result,
    sink: stats,
    // A client whose own shutdown gave up at the deadline it was handed (PostHog's and Segment's do, and
    // return) stopped at its deadline just as one the harness had to stop.
    timedOut:
      outcome.killed ||
      outcome.result?.timedOut === true ||
      (outcome.result !== undefined &&
        stats.events < n &&
        outcome.result.doneAt - outcome.result.firstCallAt >= spec.timeoutMs - 100),
    failure: outcome.failure,
    figures: figuresOf(n, outcome.result, stats),
    loadAverage: Os.loadavg()[0] ?? 0
  }
}

let commandId = 0
const nextCommandId = () => ++commandId

const progress = (record: RunRecord, runs: number): string => {
  const f = record.figures
  return (
    `run ${record.run}/${runs} ${record.scenario.padEnd(6)} ${record.client.padEnd(17)} ` +
    `delivered ${pct(f.delivered).padStart(6)}  ` +
    `${f.eventsPerSecond === undefined ? "-" : Math.round(f.eventsPerSecond).toLocaleString("en-US")} ev/s  ` +
    `wall ${f.wallMs === undefined ? "-" : (f.wallMs / 1000).toFixed(2)} s  ` +
    `cpu ${f.cpuMicrosPerEvent?.toFixed(2) ?? "-"} µs/ev  p50 ${f.callP50Micros?.toFixed(2) ?? "-"} µs  ` +
    `rss +${f.peakRssBytes === undefined ? "-" : (f.peakRssBytes / 1024 ** 2).toFixed(0)} MB  requests ${record.sink.requests}  load ${record.loadAverage.toFixed(1)}` +
    (record.timedOut ? "  TIMED OUT" : "") +
    (record.failure === undefined ? "" : `  FAILED: ${record.failure.split("\n")[0]}`)
  )
}

/**
 * Runs the bench: for each run, each scenario, each client (the order rotated per run), one process.
 */
export const runBench = async (overrides: Partial<BenchOptions> = {}): Promise<BenchReport> => {
  const options: BenchOptions = { ...defaultOptions, ...overrides }
  const unknown = [...options.clients, ...options.faultClients].filter(
    (id) => !variants.some((variant) => variant.id === id)
  )
  if (unknown.length > 0) {
    throw new Error(`unknown clients: ${unknown.join(", ")}; known: ${variants.map((v) => v.id).join(", ")}`)
  }
  const startedAt = new Date()
  const started = performance.now()
  const loadAtStart = Os.loadavg()[0] ?? 0
  // The revision that is compiled now is the one measured, whatever lands while the bench runs.
  const measured = revision()
  const records: Array<RunRecord> = []
  const build = buildBench()
  let sink: SinkHandle | undefined
  try {
    sink = await startSinkProcess(build.bench)
    for (let run = 0; run < options.runs; run++) {
      for (const scenario of options.scenarios) {
        const ids =
          scenario === "clean" ? options.clients : options.faultClients.filter((id) => options.clients.includes(id))
        const order = rotate(
          variants.filter((variant) => ids.includes(variant.id)),
          run
        )
        for (const variant of order) {
          const record = await runOne(sink, build.bench, options, variant, scenario, run)
          records.push(record)
          options.log(progress(record, options.runs))
        }
      }
    }
  } finally {
    await sink?.close()
    build.remove()
  }
  const { reference, summary } = summarize(records, options.clients)
  const { log: _log, ...recorded } = options
  return {
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - started,
    loadAverage: { start: loadAtStart, end: Os.loadavg()[0] ?? 0 },
    revision: measured,
    machine: machine(),
    options: recorded,
    reference,
    summary,
    runs: records
  }
}
