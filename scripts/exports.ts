/**
 * The package's entry points, derived from `src/`: every top-level module of `src/` but `index.ts`,
 * `testing.ts` and `bin.ts` (the command, bundled into `dist/bin.mjs`: package.json's `bin`) is a public module and gets its own subpath (`effect-mixpanel/Mixpanel`, …), as Effect's
 * packages do, so that the declaration files of users' projects can name its types. `src/internal/` stays
 * blocked. Adding a public module is adding `src/<Name>.ts` (and its line in `src/index.ts`), then:
 *
 *   npx tsx scripts/exports.ts          rewrites `exports` and `typesVersions` in package.json
 *   npx tsx scripts/exports.ts --check  fails if package.json is not what src/ gives (run by `npm run build`)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = new URL("..", import.meta.url)

/** The public modules, in order: the top-level files of `src/`, less the two entries and the command. */
export const publicModules: ReadonlyArray<string> = readdirSync(new URL("src", root))
  .filter((name) => name.endsWith(".ts") && !["index.ts", "testing.ts", "bin.ts"].includes(name))
  .map((name) => name.slice(0, -3))
  .sort()

/**
 * The public modules that load SQL packages (optional peer dependencies): never in the main entry, and
 * loadable only once the application installed them (`effect-mixpanel/durable`, `effect-mixpanel/DurableStore`).
 */
export const withOptionalPeers: ReadonlyArray<string> = ["DurableStore", "durable"]

const entry = (file: string) => ({
  types: `./dist/dts/${file}.d.ts`,
  import: `./dist/esm/${file}.js`,
  require: `./dist/cjs/${file}.js`
})

/** `exports`: the index, each public module, the testing entry; `internal/*` blocked. */
export const exportsMap = {
  ".": entry("index"),
  ...Object.fromEntries(publicModules.map((module) => [`./${module}`, entry(module)])),
  "./testing": entry("testing"),
  "./internal/*": null,
  "./package.json": "./package.json"
}

/** `typesVersions`: the same subpaths for TypeScript's older `moduleResolution: node10`, which ignores `exports`. */
export const typesVersions = {
  "*": Object.fromEntries([...publicModules, "testing"].map((module) => [module, [`./dist/dts/${module}.d.ts`]]))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = new URL("package.json", root)
  const text = readFileSync(path, "utf8")
  const manifest = JSON.parse(text) as Record<string, unknown>
  // The two fields side by side, where `exports` was; every other field as it was.
  const fields = Object.entries(manifest).filter(([key]) => key !== "typesVersions")
  const at = fields.findIndex(([key]) => key === "exports")
  fields.splice(
    at === -1 ? fields.length : at,
    at === -1 ? 0 : 1,
    ["exports", exportsMap],
    ["typesVersions", typesVersions]
  )
  const updated = `${JSON.stringify(Object.fromEntries(fields), null, 2)}\n`
  if (process.argv.includes("--check")) {
    const current = JSON.stringify([manifest.exports, manifest.typesVersions])
    if (current !== JSON.stringify([exportsMap, typesVersions])) {
      console.error("package.json's exports or typesVersions are not what src/ gives: run `npx tsx scripts/exports.ts`")
      process.exit(1)
    }
  } else if (updated !== text) {
    writeFileSync(path, updated)
    console.log(`package.json: exports for ${publicModules.length} public modules, the index and the testing entry`)
  }
}
