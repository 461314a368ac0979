/**
 * The command line of `npm run bench`: flags, each with an environment variable twin (the flag wins).
 */
import { parseArgs } from "node:util"
import { variants } from "./clients/index.js"
import { type BenchOptions, defaultOptions, type Scenario } from "./runner.js"

export interface Cli {
  readonly options: Partial<BenchOptions>
  /** Where to write the JSON report; `undefined`: nowhere. */
  readonly out: string | undefined
  readonly help: boolean
}

export const defaultOut = "bench/results/latest.json"

/** `--quick`: one small run of everything, to see that every client works (figures mean little). */
export const quickOptions = { n: 5000, smallN: 500, reducedN: 2000, faultN: 2000, runs: 1 } as const

export const usage = `npm run bench -- [flags]          (each flag also reads the environment variable in brackets)

  --n <events>              events per client run, clean scenario            [BENCH_N]       ${defaultOptions.n}
  --small-n <events>        events for mixpanel track (one request each)     [BENCH_SMALL_N] ${defaultOptions.smallN}
  --reduced-n <events>      events for Segment at its defaults (too slow for N) [BENCH_REDUCED_N] ${defaultOptions.reducedN}
  --fault-n <events>        events per run in the fault scenario             [BENCH_FAULT_N] ${defaultOptions.faultN}
  --runs <count>            runs of every client and scenario                [BENCH_RUNS]    ${defaultOptions.runs}
  --clients <ids>           comma-separated clients to run                   [BENCH_CLIENTS] all
  --fault-clients <ids>     clients to run in the fault scenario             [BENCH_FAULT_CLIENTS]
  --scenarios <list>        clean,faults                                     [BENCH_SCENARIOS]
  --chunk <events>          events per burst between event-loop turns        [BENCH_CHUNK]   ${defaultOptions.chunkSize}
  --sample-every <k>        time one call in k                               [BENCH_SAMPLE_EVERY] ${defaultOptions.sampleEvery}
  --timeout <seconds>       longest a client may take, clean scenario        [BENCH_TIMEOUT] ${defaultOptions.timeoutMs / 1000}
  --fault-timeout <seconds> longest a client may take, fault scenario        [BENCH_FAULT_TIMEOUT] ${defaultOptions.faultTimeoutMs / 1000}
  --seed <int>              seed of the sink's faults                        [BENCH_SEED]    ${defaultOptions.faults.seed}
  --retry-after <seconds>   send Retry-After on the sink's 429s              [BENCH_RETRY_AFTER] none
  --out <path>              JSON report ("" for none)                        [BENCH_OUT]     ${defaultOut}
  --quick                   a smoke run: ${quickOptions.n} events, 1 run, report not written unless --out [BENCH_QUICK=1]

clients: ${variants.map((variant) => variant.id).join(", ")}`

const positive = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined || text === "") return undefined
  const value = Number(text.replace(/_/g, ""))
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${text}`)
  return value
}

const list = (text: string | undefined): ReadonlyArray<string> | undefined =>
  text === undefined || text === ""
    ? undefined
    : text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")

export const parseCli = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Cli => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      n: { type: "string" },
      "small-n": { type: "string" },
      "reduced-n": { type: "string" },
      "fault-n": { type: "string" },
      runs: { type: "string" },
      clients: { type: "string" },
      "fault-clients": { type: "string" },
      scenarios: { type: "string" },
      chunk: { type: "string" },
      "sample-every": { type: "string" },
      timeout: { type: "string" },
      "fault-timeout": { type: "string" },
      seed: { type: "string" },
      "retry-after": { type: "string" },
      out: { type: "string" },
      quick: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    },
    strict: true
  })
  const read = (flag: keyof typeof values, variable: string) => {
    const value = values[flag]
    return typeof value === "string" ? value : env[variable]
  }
  const quick = values.quick === true || env.BENCH_QUICK === "1"
  const options: { -readonly [K in keyof BenchOptions]?: BenchOptions[K] } = quick ? { ...quickOptions } : {}
  const n = positive("n", read("n", "BENCH_N"))
  if (n !== undefined) options.n = Math.round(n)
  const smallN = positive("small-n", read("small-n", "BENCH_SMALL_N"))
  if (smallN !== undefined) options.smallN = Math.round(smallN)
  const reducedN = positive("reduced-n", read("reduced-n", "BENCH_REDUCED_N"))
  if (reducedN !== undefined) options.reducedN = Math.round(reducedN)
  const faultN = positive("fault-n", read("fault-n", "BENCH_FAULT_N"))
  if (faultN !== undefined) options.faultN = Math.round(faultN)
  const runs = positive("runs", read("runs", "BENCH_RUNS"))
  if (runs !== undefined) options.runs = Math.round(runs)
  const chunk = positive("chunk", read("chunk", "BENCH_CHUNK"))
  if (chunk !== undefined) options.chunkSize = Math.round(chunk)
  const sampleEvery = positive("sample-every", read("sample-every", "BENCH_SAMPLE_EVERY"))
  if (sampleEvery !== undefined) options.sampleEvery = Math.round(sampleEvery)
  const timeout = positive("timeout", read("timeout", "BENCH_TIMEOUT"))
  if (timeout !== undefined) options.timeoutMs = timeout * 1000
  const faultTimeout = positive("fault-timeout", read("fault-timeout", "BENCH_FAULT_TIMEOUT"))
  if (faultTimeout !== undefined) options.faultTimeoutMs = faultTimeout * 1000
  const clients = list(read("clients", "BENCH_CLIENTS"))
  if (clients !== undefined) options.clients = clients
  const faultClients = list(read("fault-clients", "BENCH_FAULT_CLIENTS"))
  if (faultClients !== undefined) options.faultClients = faultClients
  const scenarios = list(read("scenarios", "BENCH_SCENARIOS"))
  if (scenarios !== undefined) {
    const bad = scenarios.filter((scenario) => scenario !== "clean" && scenario !== "faults")
    if (bad.length > 0) throw new Error(`--scenarios takes clean and faults, not ${bad.join(", ")}`)
    options.scenarios = scenarios as ReadonlyArray<Scenario>
  }
  const seed = positive("seed", read("seed", "BENCH_SEED"))
  const retryAfter = positive("retry-after", read("retry-after", "BENCH_RETRY_AFTER"))
  if (seed !== undefined || retryAfter !== undefined) {
    options.faults = {
      ...defaultOptions.faults,
      ...(seed === undefined ? {} : { seed: Math.round(seed) }),
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter })
    }
  }
  const out = read("out", "BENCH_OUT")
  // A quick run's figures would overwrite the recorded ones: written only where asked.
  const fallback = quick ? undefined : defaultOut
  return { options, out: out === undefined ? fallback : out === "" ? undefined : out, help: values.help === true }
}
