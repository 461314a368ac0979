/**
 * The report as text: one table of medians with each client's ratio to effect-mixpanel (Markdown, so
 * that the same text goes into `docs/benchmarks.md`), and the goals of issue 6 checked against it.
 */
import type { BenchReport, ClientSummary, Figures, ScenarioSummary } from "./runner.js"

const dash = "–"

const thousands = (value: number | undefined): string => {
  if (value === undefined) return dash
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`
  return value.toFixed(0)
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined ? dash : value.toFixed(digits)

const ratio = (value: number | undefined): string => (value === undefined ? dash : `${value.toFixed(2)}x`)

const megabytes = (bytes: number | undefined): string => (bytes === undefined ? dash : (bytes / 1024 ** 2).toFixed(1))

const percent = (fraction: number | undefined): string =>
  fraction === undefined ? dash : fraction === 1 ? "100%" : `${(Math.floor(fraction * 1000) / 10).toFixed(1)}%`

const seconds = (ms: number | undefined): string => (ms === undefined ? dash : (ms / 1000).toFixed(2))

const columns = [
  "client",
  "N",
  "events/s",
  "× ours",
  "wall s",
  "CPU µs/ev",
  "× ours",
  "call p50 µs",
  "call p99 µs",
  "RSS MB",
  "× ours",
  "heap MB",
  "requests",
  "delivered",
  "faults: delivered",
  "faults: done s",
  "faults: requests"
] as const

const rowOf = (client: ClientSummary): ReadonlyArray<string> => {
  const clean: ScenarioSummary | undefined = client.clean
  const median: Partial<Figures> = clean?.median ?? {}
  const r = clean?.ratioToReference ?? {}
  const batch = clean !== undefined && clean.eventsPerCall > 1 ? "†" : ""
  const cleanNote = clean === undefined ? "" : clean.timedOutRuns > 0 ? ` (${clean.timedOutRuns} timed out)` : ""
  const faults = client.faults
  const faultNote =
    faults === undefined
      ? ""
      : faults.timedOutRuns > 0
        ? ` (${faults.timedOutRuns}/${faults.runs} timed out)`
        : faults.failedRuns > 0
          ? ` (${faults.failedRuns} failed)`
          : ""
  return [
    client.label,
    clean === undefined ? dash : thousands(clean.n),
    thousands(median.eventsPerSecond),
    ratio(r.eventsPerSecond),
    seconds(median.wallMs),
    fixed(median.cpuMicrosPerEvent, 2),
    ratio(r.cpuMicrosPerEvent),
    median.callP50Micros === undefined ? dash : `${fixed(median.callP50Micros, 2)}${batch}`,
    median.callP99Micros === undefined ? dash : `${fixed(median.callP99Micros, 2)}${batch}`,
    megabytes(median.peakRssBytes),
    ratio(r.peakRssBytes),
    megabytes(median.peakHeapBytes),
    median.requests === undefined ? dash : median.requests.toFixed(0),
    `${percent(median.delivered)}${cleanNote}`,
    faults === undefined ? dash : `${percent(faults.median.delivered)}${faultNote}`,
    faults === undefined ? dash : seconds(faults.median.doneMs),
    faults === undefined ? dash : faults.median.requests.toFixed(0)
  ]
}

/** The table, as Markdown with aligned columns. */
export const formatTable = (report: BenchReport): string => {
  const rows = [columns as ReadonlyArray<string>, ...report.summary.map(rowOf)]
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(" | ")} |`
  const rule = `|${widths.map((width, i) => (i === 0 ? `${"-".repeat(width + 1)}-` : `${"-".repeat(width + 1)}:`)).join("|")}|`
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line)].join("\n")
}

/** A few lines under the table: what was run, and the footnotes. */
export const formatNotes = (report: BenchReport): string => {
  const o = report.options
  const m = report.machine
  const reference = report.summary.find((client) => client.client === report.reference)
  return [
    `Medians of ${o.runs} runs per client and scenario, interleaved. Clean: N events per client, as the N column says. ` +
      `Faults: ${o.faultN.toLocaleString("en-US")} events, the sink failing ${Math.round(o.faults.serviceUnavailable * 100)}% of requests with 503 and ${Math.round(o.faults.rateLimited * 100)}% with 429` +
      `${o.faults.retryAfterSeconds === undefined ? " (no Retry-After)" : ` (Retry-After ${o.faults.retryAfterSeconds} s)`}, ` +
      `each client given ${o.faultTimeoutMs / 1000} s.`,
    `"× ours" divides by ${reference?.label ?? "the reference"}. RSS and heap: peak above the process's baseline right before the first call. ` +
      `† batch API: the time of one call divided by its events.`,
    `effect-mixpanel at ${report.revision.commit}${report.revision.dirtySrc.length > 0 ? ` with uncommitted changes to ${report.revision.dirtySrc.join(", ")}` : ""}. ` +
      `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. ` +
      `Bench took ${(report.durationMs / 1000).toFixed(0)} s; load average ${report.loadAverage.start.toFixed(2)} at the start, ${report.loadAverage.end.toFixed(2)} at the end.`
  ].join("\n")
}

type Verdict = { readonly goal: string; readonly measured: string; readonly reached: boolean | undefined }

/** Issue 6's goals, checked for one of our clients against the same run's peers and floor. */
export const checkGoals = (report: BenchReport, ours: string): ReadonlyArray<Verdict> => {
  const find = (id: string) => report.summary.find((client) => client.client === id)
  const me = find(ours)
  const floor = find("floor")
  const peers = report.summary.filter((client) => client.role === "peer")
  const clean = (client: ClientSummary | undefined) => client?.clean?.median
  const verdicts: Array<Verdict> = []
  const mine = clean(me)
  if (mine === undefined) return verdicts

  const floorFigures = clean(floor)
  const eps = mine.eventsPerSecond
  if (floorFigures?.eventsPerSecond !== undefined && eps !== undefined) {
    const x = eps / floorFigures.eventsPerSecond
    verdicts.push({ goal: "throughput ≥ 0.67x the floor", measured: `${x.toFixed(3)}x`, reached: x >= 0.67 })
  }
  const fastestOther = Math.max(
    ...["posthog-tuned", "segment-tuned"].map((id) => clean(find(id))?.eventsPerSecond ?? 0)
  )
  if (fastestOther > 0 && eps !== undefined) {
    const x = eps / fastestOther
    verdicts.push({
      goal: "throughput ≥ 3x the faster of posthog-node and Segment (tuned)",
      measured: `${x.toFixed(3)}x`,
      reached: x >= 3
    })
  }
  const batch = clean(find("mixpanel-batch"))?.eventsPerSecond
  if (batch !== undefined && eps !== undefined) {
    const x = eps / batch
    verdicts.push({ goal: "throughput ≥ mixpanel track_batch", measured: `${x.toFixed(3)}x`, reached: x >= 1 })
  }
  if (floorFigures?.cpuMicrosPerEvent !== undefined && mine.cpuMicrosPerEvent !== undefined) {
    const x = mine.cpuMicrosPerEvent / floorFigures.cpuMicrosPerEvent
    verdicts.push({ goal: "CPU per event ≤ 2x the floor", measured: `${x.toFixed(3)}x`, reached: x <= 2 })
  }
  const peerP50s = peers
    .filter((peer) => (peer.clean?.eventsPerCall ?? 1) === 1)
    .map((peer) => clean(peer)?.callP50Micros)
    .filter((value): value is number => value !== undefined)
  if (peerP50s.length > 0 && mine.callP50Micros !== undefined) {
    const best = Math.min(...peerP50s)
    verdicts.push({
      goal: "caller p50 below every per-event peer's p50",
      measured: `${mine.callP50Micros.toFixed(2)} µs vs best ${best.toFixed(2)} µs`,
      reached: mine.callP50Micros < best
    })
  }
  // Against the clients that carry the same load: N events, all delivered. A client that dropped most of
  // them (posthog-node at its defaults) or ran a smaller N holds less for that reason alone.
  const peerMemory = peers
    .filter((peer) => /^(posthog|segment)/.test(peer.client) && peer.clean?.n === me?.clean?.n)
    .map((peer) => clean(peer))
    .filter((figures): figures is Figures => figures !== undefined && figures.delivered === 1)
    .map((figures) => figures.peakRssBytes)
    .filter((value): value is number => value !== undefined && value > 0)
  if (peerMemory.length > 0 && mine.peakRssBytes !== undefined) {
    const best = Math.min(...peerMemory)
    const x = mine.peakRssBytes / best
    verdicts.push({
      goal: "peak RSS above baseline ≤ 0.5x the best of posthog-node and Segment delivering all N",
      measured: `${x.toFixed(3)}x`,
      reached: x <= 0.5
    })
  }
  const myFaults = me?.faults?.median
  if (myFaults !== undefined) {
    verdicts.push({
      goal: "faults: 100% delivered",
      measured: percent(myFaults.delivered),
      reached: myFaults.delivered === 1
    })
    const complete = peers
      .map((peer) => peer.faults?.median)
      .filter((figures): figures is Figures => figures !== undefined && figures.delivered === 1)
      .map((figures) => figures.doneMs)
      .filter((value): value is number => value !== undefined)
    if (complete.length > 0 && myFaults.doneMs !== undefined) {
      const x = myFaults.doneMs / Math.min(...complete)
      verdicts.push({
        goal: "faults: done within 2x the fastest peer that delivers 100%",
        measured: `${x.toFixed(3)}x`,
        reached: x <= 2
      })
    } else {
      verdicts.push({
        goal: "faults: done within 2x the fastest peer that delivers 100%",
        measured: "no peer delivered 100%",
        reached: undefined
      })
    }
  }
  verdicts.push({
    goal: "clean: 100% delivered at defaults",
    measured: percent(mine.delivered),
    reached: mine.delivered === 1
  })
  return verdicts
}

export const formatGoals = (report: BenchReport, ours: string): string => {
  const label = report.summary.find((client) => client.client === ours)?.label ?? ours
  const verdicts = checkGoals(report, ours)
  if (verdicts.length === 0) return ""
  return [
    `Goals of issue 6 for ${label}:`,
    ...verdicts.map(
      (verdict) =>
        `  ${verdict.reached === undefined ? "?  " : verdict.reached ? "yes" : "no "}  ${verdict.goal}: ${verdict.measured}`
    )
  ].join("\n")
}
