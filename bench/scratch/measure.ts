/**
 * Scratch for issue 13 (not part of `npm run bench`): a timer for the hot-path studies of `trackCost.ts`
 * and `prototypes.ts`. Each case runs over the bench's events (built before timing), in rounds that
 * alternate the cases (so that a change in the machine's load hits them all alike); a case's figures are
 * the medians of its rounds:
 *
 * - ns: CPU time per event (user + system of the process, so garbage collection on V8's helper threads
 *   included): on a machine shared with other work, wall time counts the time the process waited for a
 *   core, CPU time does not;
 * - call p50: for the cases that time their calls with `timed`, the median time of one call (wall, from
 *   `process.hrtime`, one call in 4), as the bench's "call p50" column;
 * - B: bytes allocated per event, from one more round under V8's sampling heap profiler (every 256 bytes,
 *   objects collected since counted too), which is not timed.
 */
import { Session } from "node:inspector/promises"
import { median } from "../stats.js"

export interface Case {
  readonly name: string
  readonly what: string
  /** Runs events `0..n` through the case; resolves when its work is done. */
  readonly run: (n: number) => void | Promise<void>
}

export interface Figures {
  readonly name: string
  readonly what: string
  readonly ns: number
  readonly callP50: number | undefined
  readonly bytes: number
}

let samples: Array<number> = []

/** Records one call's time, in nanoseconds, for the case's call p50 (for loops that cannot use `timed`). */
export const record = (nanos: number): void => {
  samples.push(nanos)
}

/** Runs call `i` of a case, timing one call in 4 for the case's call p50. */
export const timed = (i: number, call: () => void): void => {
  if (i % 4 !== 0) {
    call()
    return
  }
  const start = process.hrtime.bigint()
  call()
  samples.push(Number(process.hrtime.bigint() - start))
}

const collect = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
}

const round = async (item: Case, n: number): Promise<{ ns: number; callP50: number | undefined }> => {
  collect()
  samples = []
  const started = process.cpuUsage()
  await item.run(n)
  const used = process.cpuUsage(started)
  return { ns: ((used.user + used.system) * 1000) / n, callP50: median(samples) }
}

interface SamplingNode {
  readonly selfSize: number
  readonly children: ReadonlyArray<SamplingNode>
}

const total = (node: SamplingNode): number => node.children.reduce((sum, child) => sum + total(child), node.selfSize)

const session = new Session()
session.connect()
await session.post("HeapProfiler.enable")

/** Bytes allocated per event by one round of `item`, by V8's sampling heap profiler. */
const allocated = async (item: Case, n: number): Promise<number> => {
  collect()
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  })
  await item.run(n)
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } }
  return total(profile.head) / n
}

/** Times every case: one warm-up round each, then `rounds` rounds, cases alternating; then allocations. */
export const compare = async (cases: ReadonlyArray<Case>, n: number, rounds: number): Promise<Array<Figures>> => {
  for (const item of cases) await item.run(n)
  const times = cases.map(() => [] as Array<number>)
  const calls = cases.map(() => [] as Array<number | undefined>)
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) {
      const { ns, callP50 } = await round(cases[c] as Case, n)
      times[c]?.push(ns)
      calls[c]?.push(callP50)
    }
  }
  const figures: Array<Figures> = []
  for (let c = 0; c < cases.length; c++) {
    const item = cases[c] as Case
    figures.push({
      name: item.name,
      what: item.what,
      ns: median(times[c] ?? []) ?? Number.NaN,
      callP50: median(calls[c] ?? []),
      bytes: await allocated(item, n)
    })
  }
  return figures
}

/** One line per case: CPU ns/event, call p50 ns, bytes/event, name, what. */
export const print = (title: string, figures: ReadonlyArray<Figures>): void => {
  console.log(`\n${title}`)
  console.log(`${"CPU ns/ev".padStart(9)} ${"call p50".padStart(9)} ${"B/event".padStart(8)}  case`)
  for (const f of figures) {
    const call = f.callP50 === undefined ? "" : f.callP50.toFixed(0)
    console.log(
      `${f.ns.toFixed(0).padStart(9)} ${call.padStart(9)} ${f.bytes.toFixed(0).padStart(8)}  ${f.name.padEnd(46)} ${f.what}`
    )
  }
}
