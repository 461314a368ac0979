/**
 * What the command line prints while it imports, and at the end: a live bar on a terminal, a plain line
 * every few seconds otherwise, and a summary table. Pure formatting; the command decides when.
 */
import type { Counts } from "../../Import.js"

/** The state of an import as the progress output sees it. */
export interface Live {
  /** Bytes of the input files read so far (compressed bytes for `.gz`), and in all. */
  readonly bytesRead: number
  readonly bytesTotal: number
  /** Counts confirmed so far, in this run. */
  readonly counts: Counts
  readonly elapsedMillis: number
}

/** `1,234,567`. (Not `toLocaleString`: it loads 7 MB of Node's ICU data for a comma.) */
const integer = (n: number): string => `${Math.round(n)}`.replace(/\B(?=(\d{3})+(?!\d))/g, ",")

/** `12.3 MB`, in powers of 1000 as file managers show sizes. */
export const bytes = (n: number): string => {
  if (n < 1000) return `${n} B`
  const units = ["kB", "MB", "GB", "TB"]
  let value = n / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`
}

/** `1:05`, or `1:02:05` past an hour. */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  const hours = Math.floor(s / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  const rest = `${s % 60}`.padStart(2, "0")
  return hours > 0 ? `${hours}:${`${minutes}`.padStart(2, "0")}:${rest}` : `${minutes}:${rest}`
}

const rate = (live: Live): number => (live.elapsedMillis > 0 ? (live.counts.delivered * 1000) / live.elapsedMillis : 0)

const fraction = (live: Live): number => (live.bytesTotal > 0 ? Math.min(1, live.bytesRead / live.bytesTotal) : 0)

const eta = (live: Live): string => {
  const done = fraction(live)
  if (done <= 0 || live.elapsedMillis < 1000) return "--:--"
  return duration(((live.elapsedMillis / 1000) * (1 - done)) / done)
}

const failures = (counts: Counts): string =>
  counts.rejected === 0 ? "0 rejected" : `${integer(counts.rejected)} rejected`

/** The live bar for a terminal, `width` characters of bar. */
export const bar = (live: Live, width = 24): string => {
  const done = fraction(live)
  const filled = Math.round(done * width)
  return (
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ` +
    `${integer(live.counts.delivered)} delivered · ${integer(rate(live))}/s · ` +
    `${bytes(live.bytesRead)}/${bytes(live.bytesTotal)} · ETA ${eta(live)} · ${failures(live.counts)}`
  )
}

/** The plain progress line, for logs. */
export const line = (live: Live): string =>
  `import: ${integer(live.counts.entries)} records, ${integer(live.counts.delivered)} delivered, ` +
  `${failures(live.counts)}, ${integer(rate(live))}/s, ${bytes(live.bytesRead)} of ${bytes(live.bytesTotal)} ` +
  `(${(fraction(live) * 100).toFixed(0)}%), ${duration(live.elapsedMillis / 1000)} elapsed, ETA ${eta(live)}`

/** What the final table shows besides the counts. */
export interface Ending {
  readonly title: string
  readonly seconds: number
  /** Messages delivered per second in this run. */
  readonly rate: number
  readonly files: number
  readonly skippedFiles: ReadonlyArray<string>
  readonly rejectsPath: string | undefined
  readonly checkpoint: string | undefined
  readonly dryRun: boolean
  readonly stoppedBy: string | undefined
}

/** The summary table. `counts` are the whole import's, earlier runs of a resumed import included. */
export const table = (counts: Counts, ending: Ending): string => {
  const rows: Array<[string, string]> = [
    [
      "files",
      `${ending.files}${ending.skippedFiles.length > 0 ? ` (skipped, unknown format: ${ending.skippedFiles.join(", ")})` : ""}`
    ],
    ["records read", integer(counts.entries)],
    ["messages", integer(counts.messages)],
    [
      ending.dryRun ? "valid" : "delivered",
      `${integer(counts.delivered)}${ending.dryRun ? " (dry run: nothing sent)" : ` (${integer(ending.rate)}/s)`}`
    ],
    [
      "rejected",
      `${integer(counts.rejected)}${counts.rejected > 0 && ending.rejectsPath !== undefined ? ` -> ${ending.rejectsPath}` : ""}`
    ]
  ]
  if (counts.rejected > 0) {
    const by = counts.rejectedBy
    rows.push(["", `parse ${by.parse}, transform ${by.transform}, validation ${by.validation}, server ${by.server}`])
  }
  if (counts.skipped > 0) rows.push(["skipped", `${integer(counts.skipped)} (the transform returned nothing)`])
  if (!ending.dryRun) rows.push(["undelivered", integer(counts.undelivered)])
  if (ending.stoppedBy !== undefined) rows.push(["stopped by", ending.stoppedBy])
  if (ending.checkpoint !== undefined) rows.push(["checkpoint", ending.checkpoint])
  const width = Math.max(...rows.map(([label]) => label.length))
  return [
    `${ending.title} in ${ending.seconds.toFixed(1)} s`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
  ].join("\n")
}
