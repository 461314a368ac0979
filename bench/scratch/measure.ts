/**
 * Scratch for issue 13 (not part of `npm run bench`): a timer for the hot-path studies of `trackCost.ts`
 * and `prototypes.ts`. Each case runs over the bench's events (built before timing), in rounds that
 * alternate the cases (so that a change in the machine's load hits them all alike); a case's figures are
 * the medians of its rounds:
 *
 * - ns: wall time per event (single thread: the same as CPU time when no I/O is involved), garbage
 *   collection included;
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
  readonly bytes: number
}

const collect = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
}

const round = async (item: Case, n: number): Promise<number> => {
  collect()
  const started = performance.now()
  await item.run(n)
  return ((performance.now() - started) * 1e6) / n
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
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) times[c]?.push(await round(cases[c] as Case, n))
  }
  const figures: Array<Figures> = []
  for (let c = 0; c < cases.length; c++) {
    const item = cases[c] as Case
    figures.push({
      name: item.name,
      what: item.what,
      ns: median(times[c] ?? []) ?? Number.NaN,
      bytes: await allocated(item, n)
    })
  }
  return figures
}

/** One line per case: ns/event, bytes/event, name, what. */
export const print = (title: string, figures: ReadonlyArray<Figures>): void => {
  console.log(`\n${title}`)
  console.log(`${"ns/event".padStart(9)} ${"B/event".padStart(8)}  case`)
  for (const f of figures) {
    console.log(`${f.ns.toFixed(0).padStart(9)} ${f.bytes.toFixed(0).padStart(8)}  ${f.name.padEnd(46)} ${f.what}`)
  }
}
