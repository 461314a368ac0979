/**
 * The report as text: one table of medians with each client's ratio to the floor (Markdown, so that the
 * same text goes into `docs/benchmarks.md`), and the goals of issues 13 and 11 checked against it.
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
  "× floor",
  "wall s",
  "CPU µs/ev",
  "× floor",
  "call p50 µs",
  "call p99 µs",
  "RSS MB",
  "× floor",
  "heap MB",
  "requests",
  "disk B/ev",
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
    fixed(median.diskBytesPerEvent, 0),
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
    `"× floor" divides by ${reference?.label ?? "the floor"}'s median. RSS and heap: peak above the process's baseline, taken after set-up, with every event built, right before the first call. ` +
      `† batch API: the time of one call divided by its events.`,
    `effect-mixpanel at ${report.revision.commit}${report.revision.dirtySrc.length > 0 ? ` with uncommitted changes to ${report.revision.dirtySrc.join(", ")}` : ""}. ` +
      `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. ` +
      `Bench took ${(report.durationMs / 1000).toFixed(0)} s; load average ${report.loadAverage.start.toFixed(2)} at the start, ${report.loadAverage.end.toFixed(2)} at the end.`
  ].join("\n")
}

type Verdict = { readonly goal: string; readonly measured: string; readonly reached: boolean | undefined }

/** Issue 13's goals, checked for one of our clients against the same run's floor and peers. */
export const checkGoals = (report: BenchReport, ours: string): ReadonlyArray<Verdict> => {
  const find = (id: string) => report.summary.find((client) => client.client === id)
  const clean = (id: string) => find(id)?.clean?.median
  const mine = clean(ours)
  if (mine === undefined) return []
  const floor = clean("floor")
  const verdicts: Array<Verdict> = []
  const unknown = (goal: string, why: string) => verdicts.push({ goal, measured: why, reached: undefined })

  const eps = mine.eventsPerSecond
  const goal1 = "throughput ≥ 0.85x the floor"
  if (floor?.eventsPerSecond !== undefined && eps !== undefined) {
    const x = eps / floor.eventsPerSecond
    verdicts.push({ goal: goal1, measured: `${x.toFixed(2)}x`, reached: x >= 0.85 })
  } else unknown(goal1, "no floor")
  const goal2 = "throughput ahead of mixpanel track_batch"
  const batch = clean("mixpanel-batch")?.eventsPerSecond
  if (batch !== undefined && eps !== undefined) {
    const x = eps / batch
    verdicts.push({ goal: goal2, measured: `${x.toFixed(2)}x`, reached: x > 1 })
  } else unknown(goal2, "track_batch not run")
  const goal3 = "CPU per event ≤ 1.5x the floor"
  if (floor?.cpuMicrosPerEvent !== undefined && mine.cpuMicrosPerEvent !== undefined) {
    const x = mine.cpuMicrosPerEvent / floor.cpuMicrosPerEvent
    verdicts.push({ goal: goal3, measured: `${x.toFixed(2)}x`, reached: x <= 1.5 })
  } else unknown(goal3, "no floor")
  const goal4 = "call p50 ≤ posthog-node's (tuned)"
  const posthog = clean("posthog-tuned")?.callP50Micros
  if (posthog !== undefined && mine.callP50Micros !== undefined) {
    verdicts.push({
      goal: goal4,
      measured: `${mine.callP50Micros.toFixed(2)} vs ${posthog.toFixed(2)} µs`,
      reached: mine.callP50Micros <= posthog
    })
  } else unknown(goal4, "posthog-node (tuned) not run")
  const goal5 = "peak RSS above baseline ≤ 1.5x the floor's"
  if (floor?.peakRssBytes !== undefined && floor.peakRssBytes > 0 && mine.peakRssBytes !== undefined) {
    const x = mine.peakRssBytes / floor.peakRssBytes
    verdicts.push({ goal: goal5, measured: `${x.toFixed(2)}x`, reached: x <= 1.5 })
  } else unknown(goal5, "no floor")

  const goal6 = "faults: 100% delivered"
  const goal7 = "faults: done within 1.5x the fastest peer delivering 100%"
  const myFaults = find(ours)?.faults?.median
  if (myFaults === undefined) {
    unknown(goal6, "not run")
    unknown(goal7, "not run")
    return verdicts
  }
  verdicts.push({ goal: goal6, measured: percent(myFaults.delivered), reached: myFaults.delivered === 1 })
  const complete = report.summary
    .filter((client) => client.role === "peer")
    .map((client) => client.faults?.median)
    .filter((figures): figures is Figures => figures !== undefined && figures.delivered === 1)
    .map((figures) => figures.doneMs)
    .filter((value): value is number => value !== undefined)
  if (complete.length > 0 && myFaults.doneMs !== undefined) {
    const fastest = Math.min(...complete)
    const x = myFaults.doneMs / fastest
    verdicts.push({
      goal: goal7,
      measured: `${x.toFixed(2)}x (${seconds(myFaults.doneMs)} vs ${seconds(fastest)} s)`,
      reached: myFaults.delivered === 1 && x <= 1.5
    })
  } else unknown(goal7, "no peer delivered 100%")
  return verdicts
}

const verdictText = (verdict: Verdict): string =>
  verdict.measured === dash
    ? dash
    : `${verdict.measured} ${verdict.reached === undefined ? "?" : verdict.reached ? "REACHED" : "NOT REACHED"}`

/** The goals of issue 11 for a durable row (or a bound on them): its events per second against the main row's. */
export const checkDurableGoals = (report: BenchReport, ours: string): ReadonlyArray<Verdict> => {
  const client = report.summary.find((candidate) => candidate.client === ours)
  const durability = client?.durability
  const mine = client?.clean?.median
  if (durability === undefined || mine === undefined) return []
  const buffered = report.summary.find((candidate) => candidate.role === "main")
  const theirs = buffered?.clean?.median
  const least = durability === "commit" ? 0.5 : 0.8
  const goal1 = `throughput against the buffered consumer's (${buffered?.label ?? "the main row"}): "commit" ≥ 0.5x, "async" ≥ 0.8x`
  const x =
    theirs?.eventsPerSecond === undefined || mine.eventsPerSecond === undefined
      ? undefined
      : mine.eventsPerSecond / theirs.eventsPerSecond
  const goal2 = `"commit": caller p50 under 50 µs`
  return [
    x === undefined
      ? { goal: goal1, measured: "the main row not run", reached: undefined }
      : { goal: goal1, measured: `${x.toFixed(2)}x (${durability}: ${least}x)`, reached: x >= least },
    durability !== "commit"
      ? { goal: goal2, measured: dash, reached: undefined }
      : mine.callP50Micros === undefined
        ? { goal: goal2, measured: "not timed", reached: undefined }
        : { goal: goal2, measured: `${mine.callP50Micros.toFixed(2)} µs`, reached: mine.callP50Micros < 50 }
  ]
}

/** One Markdown table of verdicts: a row per goal, a column per client checked. */
const formatVerdicts = (
  title: string,
  report: BenchReport,
  check: (report: BenchReport, ours: string) => ReadonlyArray<Verdict>,
  clients: ReadonlyArray<BenchReport["summary"][number]>
): string => {
  const checked = clients
    .map((client) => ({ client, verdicts: check(report, client.client) }))
    .filter(({ verdicts }) => verdicts.length > 0)
  const first = checked[0]
  if (first === undefined) return ""
  const header = [title, ...checked.map(({ client }) => client.label)]
  const rows = first.verdicts.map((verdict, i) => [
    verdict.goal,
    ...checked.map(({ verdicts }) => {
      const mine = verdicts[i]
      return mine === undefined ? dash : verdictText(mine)
    })
  ])
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)))
  const line = (row: ReadonlyArray<string>) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`
  const rule = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`
  return [line(header), rule, ...rows.map(line)].join("\n")
}

const isOurs = (client: BenchReport["summary"][number]): boolean =>
  client.role === "bound" || client.role === "main" || client.role === "ours"

/** The goals of issue 13 for every effect-mixpanel row but the durable ones (and their bound). */
export const formatGoals = (report: BenchReport): string =>
  formatVerdicts(
    "goal (issue 13)",
    report,
    checkGoals,
    report.summary.filter((client) => isOurs(client) && client.durability === undefined)
  )

/** The goals of issue 11 for the durable rows, and the bound on "commit"'s. */
export const formatDurableGoals = (report: BenchReport): string =>
  formatVerdicts(
    "goal (issue 11)",
    report,
    checkDurableGoals,
    report.summary.filter((client) => isOurs(client) && client.durability !== undefined)
  )
