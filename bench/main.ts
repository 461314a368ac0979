/**
 * `npm run bench`: effect-mixpanel against the other Node analytics SDKs and a hand-written floor, all
 * sending the same events to one local sink. Prints one table (and the goals of issue 13 checked against
 * it) and writes the same figures, with every run, to `bench/results/latest.json`.
 *
 * `npm run bench -- --help` lists the flags. See `docs/benchmarks.md`.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { parseCli, usage } from "./cli.js"
import { runBench } from "./runner.js"
import { formatDurableGoals, formatGoals, formatNotes, formatTable } from "./table.js"

const cli = parseCli(process.argv.slice(2), process.env)
if (cli.help) {
  console.log(usage)
  process.exit(0)
}

const report = await runBench({ ...cli.options, log: (line) => console.error(line) })

console.log()
console.log(formatTable(report))
console.log()
console.log(formatNotes(report))
for (const goals of [formatGoals(report), formatDurableGoals(report)]) {
  if (goals !== "") console.log(`\n${goals}`)
}

if (cli.out !== undefined) {
  const path = resolve(cli.out)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nWrote ${cli.out}`)
}

// The import scenario (bench/import.ts): effect-mixpanel import against mixpanel-import. BENCH_IMPORT=0 skips it.
if (process.env.BENCH_IMPORT !== "0") await (await import("./import.js")).main()
