/**
 * What a client module gets to run one measured session inside its own process: the events, a timer for
 * the calls, a pause between bursts, and the clock that decides when it must stop. The harness measures
 * CPU and memory from `begin()` (after the client is set up) until the client's promise settles.
 *
 * Every event is built before the client is even loaded: building them is the application's work, not
 * the SDK's, and a constant cost inside the clock would pull every ratio toward 1. A client that needs
 * the events in another shape (`mixpanel` wants `distinct_id` among the properties) converts them before
 * `begin()`, as an application would have built them in that shape in the first place.
 */
import { type BenchEvent, makeEvent } from "./events.js"
import { type ClientResult, type ClientSpec, now } from "./protocol.js"
import { percentile } from "./stats.js"

/** The session handed to a client. */
export interface Harness {
  readonly spec: ClientSpec
  /** The `i`-th event, built before the client was set up (so outside the measured window). */
  readonly event: (i: number) => BenchEvent
  /** Marks the first call: CPU, memory baseline and wall time start here. Call it once, after set-up. */
  readonly begin: () => void
  /** Whether call `i` is one of the timed ones. */
  readonly sampled: (i: number) => boolean
  /** A timestamp to pass to `record` after the call. */
  readonly start: () => bigint
  /** Records the time since `start`, as one call of `eventsPerCall` events. */
  readonly record: (start: bigint) => void
  /** Yields to the event loop between bursts (I/O and timers run), and samples memory. */
  readonly pause: () => Promise<void>
  /** Samples memory (for clients that yield to the event loop their own way). */
  readonly sampleMemory: () => void
  /** Milliseconds left until the client must have finished. */
  readonly remainingMs: () => number
  /** Counts an error the client surfaced. */
  readonly error: (count?: number) => void
}

/** What a client returns when it has finished (or given up at the deadline). */
export interface ClientOutcome {
  /** Messages the client itself reported as not delivered, if it can say. */
  readonly reportedUndelivered?: number | undefined
  /** Events per timed call, when the API takes several per call. Default 1. */
  readonly eventsPerCall?: number | undefined
  /** The client stopped at its deadline rather than finishing. */
  readonly timedOut?: boolean | undefined
}

/** One client variant's program. */
export type Client = (harness: Harness) => Promise<ClientOutcome>

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Runs `client` under measurement. Never rejects: a failure becomes a thrown error for the caller to report. */
export const measure = async (client: Client, spec: ClientSpec): Promise<ClientResult> => {
  const events: ReadonlyArray<BenchEvent> = Array.from({ length: spec.n }, (_, i) => makeEvent(i))
  const createdAt = now()
  const samples = new Float64Array(Math.ceil(spec.n / Math.max(1, spec.sampleEvery)) + 16)
  let sampleCount = 0
  let errors = 0
  let began = false
  let firstCallAt = 0
  let firstCallMonotonic = 0n
  let cpuStart: NodeJS.CpuUsage = process.cpuUsage()
  let baselineRss = 0
  let baselineHeap = 0
  let peakRss = 0
  let peakHeap = 0
  const sampleMemory = () => {
    const usage = process.memoryUsage()
    if (usage.rss > peakRss) peakRss = usage.rss
    if (usage.heapUsed > peakHeap) peakHeap = usage.heapUsed
  }
  let sampler: NodeJS.Timeout | undefined

  const harness: Harness = {
    spec,
    event: (i) => events[i] ?? makeEvent(i),
    begin: () => {
      if (began) return
      began = true
      globalThis.gc?.()
      const usage = process.memoryUsage()
      baselineRss = usage.rss
      baselineHeap = usage.heapUsed
      peakRss = usage.rss
      peakHeap = usage.heapUsed
      sampler = setInterval(sampleMemory, 10)
      sampler.unref()
      firstCallAt = now()
      firstCallMonotonic = process.hrtime.bigint()
      cpuStart = process.cpuUsage()
    },
    sampled: (i) => i % spec.sampleEvery === 0,
    start: () => process.hrtime.bigint(),
    record: (start) => {
      const elapsed = process.hrtime.bigint() - start
      if (sampleCount < samples.length) samples[sampleCount++] = Number(elapsed) / 1000
    },
    pause: async () => {
      sampleMemory()
      await tick()
    },
    sampleMemory,
    remainingMs: () => Math.max(0, (began ? firstCallAt : createdAt) + spec.timeoutMs - now()),
    error: (count = 1) => {
      errors += count
    }
  }

  let outcome: ClientOutcome
  let timer: NodeJS.Timeout | undefined
  try {
    const deadline = new Promise<ClientOutcome>((resolve) => {
      const wait = () => {
        const left = harness.remainingMs()
        if (left <= 0) resolve({ timedOut: true })
        else timer = setTimeout(wait, left)
      }
      timer = setTimeout(wait, spec.timeoutMs)
    })
    outcome = await Promise.race([client(harness), deadline])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
  const doneAt = now()
  const doneMonotonic = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpuStart)
  if (sampler !== undefined) clearInterval(sampler)
  sampleMemory()
  if (!began) throw new Error(`${spec.client} never called harness.begin()`)

  const timed = samples.subarray(0, sampleCount).slice().sort()
  return {
    client: spec.client,
    firstCallAt,
    doneAt,
    firstCallMonotonicMicros: Number(firstCallMonotonic / 1000n),
    doneMonotonicMicros: Number(doneMonotonic / 1000n),
    timedOut: outcome.timedOut === true,
    cpuUserMicros: cpu.user,
    cpuSystemMicros: cpu.system,
    callP50Micros: percentile(timed, 0.5),
    callP99Micros: percentile(timed, 0.99),
    callSamples: sampleCount,
    eventsPerCall: outcome.eventsPerCall ?? 1,
    baselineRssBytes: baselineRss,
    baselineHeapBytes: baselineHeap,
    peakRssBytes: peakRss,
    peakHeapBytes: peakHeap,
    reportedUndelivered: outcome.reportedUndelivered,
    errors
  }
}
