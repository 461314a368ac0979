/**
 * `npx tsx bench/profile.ts [--client effect-undici] [--n 100000] [--interval 200]`: one clean run of a
 * client under `node --cpu-prof`, against the bench's sink, then where its CPU went between its first
 * call and done: self time by category, the top functions, and the inclusive time of the library's main
 * steps. The profile itself stays in `bench/results/profiles/` (open it in Chrome DevTools or speedscope).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { analyze, type CpuProfile, type Line } from "./profiler/cpuProfile.js"
import { runBench } from "./runner.js"

const { values } = parseArgs({
  options: {
    client: { type: "string", default: "effect-undici" },
    n: { type: "string", default: "100000" },
    interval: { type: "string", default: "200" },
    dir: { type: "string", default: "bench/results/profiles" }
  }
})

const dir = resolve(values.dir)
mkdirSync(dir, { recursive: true })
const startedAt = Date.now()
const report = await runBench({
  clients: [values.client],
  scenarios: ["clean"],
  runs: 1,
  n: Number(values.n),
  smallN: Number(values.n),
  clientExecArgv: ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", values.interval],
  log: (line) => console.error(line)
})
const record = report.runs[0]
const result = record?.result
if (record === undefined || result === undefined) throw new Error(`the run failed: ${record?.failure}`)

const n = record.n
const window = { from: result.firstCallMonotonicMicros, to: result.doneMonotonicMicros }
const inclusivePatterns = [
  // The caller's side on the runFork path: the fork, the new fiber's first run (synchronous), the loop.
  /^viaRunFork bench\//,
  /^runFork effect\/dist\/esm\/internal\/managedRuntime/,
  /^\(anonymous\) effect\/dist\/esm\/internal\/runtime\.js:31$/,
  /^start effect\/dist\/esm\/internal\/fiberRuntime/,
  /^FiberRuntime effect\/dist\/esm\/internal\/fiberRuntime/,
  /^track src\/internal\/mixpanel/,
  /^encode.* src\/internal\/mixpanel/,
  /^\(anonymous\) src\/internal\/mixpanel/,
  /^toJson src\/internal\/json/,
  /^walk(Value|Object|Record|Array) src\/internal\/json/,
  /^offer src\/internal\/bufferedConsumer/,
  /^append src\/internal\/bufferedConsumer/,
  /^(request|attempt|deliver|worker|afterRequest) src\/internal\/bufferedConsumer/,
  /^makeRequest src\/internal\/transport/,
  /^readResponse src\/internal\/transport/,
  /^utf8Length /,
  /^(makeEvent) bench\//,
  /^withSpan /,
  /^(encodeUnknownEither|encodeEither|go|parse) effect\/dist\/esm\/(Schema|ParseResult)/
]

// A process writes one profile per thread (tsx's loader hooks run in a worker): the main thread is the
// one that was busy in the window.
const candidates = readdirSync(dir)
  .filter((file) => file.endsWith(".cpuprofile"))
  .map((file) => join(dir, file))
  .filter((file) => statSync(file).mtimeMs >= startedAt)
  .map((file) => ({
    file,
    analysis: analyze(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, window, inclusivePatterns)
  }))
  .sort((a, b) => b.analysis.busyMicros - a.analysis.busyMicros)
const main = candidates[0]
if (main === undefined) throw new Error(`no new .cpuprofile in ${dir}`)
const { analysis, file: newest } = main

const cpuMicros = result.cpuUserMicros + result.cpuSystemMicros
const row = (line: Line) =>
  `${(line.micros / 1000).toFixed(1).padStart(9)} ms  ${((line.micros / analysis.busyMicros) * 100).toFixed(1).padStart(5)}%  ${(line.micros / n).toFixed(2).padStart(7)} µs/ev  ${line.name}`

console.log(`\n${values.client}: ${n.toLocaleString("en-US")} events, profile ${newest}`)
console.log(
  `window ${(analysis.windowMicros / 1000).toFixed(0)} ms; sampled busy ${(analysis.busyMicros / 1000).toFixed(0)} ms ` +
    `(${(analysis.busyMicros / n).toFixed(2)} µs/ev), idle ${(analysis.idleMicros / 1000).toFixed(0)} ms; ` +
    `process CPU ${(cpuMicros / 1000).toFixed(0)} ms (${(cpuMicros / n).toFixed(2)} µs/ev, user+system, all threads)`
)
console.log("\nself time by category:")
for (const line of analysis.byCategory) console.log(row(line))
console.log("\ntop functions by self time:")
for (const line of analysis.topSelf) console.log(row(line))
console.log("\ninclusive time of chosen functions (everything under them):")
for (const line of analysis.inclusive) console.log(row(line))
