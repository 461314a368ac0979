/**
 * Builds the `effect-mixpanel` executable (`bin` in package.json): `src/bin.ts` and everything it imports
 * (effect, @effect/cli, @effect/platform-node, the library) bundled by esbuild into one file,
 * `dist/bin.mjs`, that needs nothing but Node 20.
 *
 *   tsx scripts/build-bin.ts [outfile]
 *
 * Why a bundle (docs/import.md, "Packaging"): the command's packages are then devDependencies, so the
 * library's users install nothing for a command they may never run, while `npx effect-mixpanel import`
 * still works; and the command loads only the code it uses, about 45 MB less memory than the same
 * modules loaded one by one (`effect/Schema` alone pulls in fast-check's 223 modules).
 *
 * Minified and ASCII only, because V8 keeps a module's source text in memory for as long as it runs: one
 * character outside Latin-1 stores the whole 1.2 MB text at two bytes a character, and minified it is
 * 0.5 MB at one. Together about 6 MB less peak memory for every import (docs/benchmarks.md).
 */

import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))

/** Bundles the command into `outfile` (default `dist/bin.mjs`). */
export const buildBin = async (outfile = `${root}dist/bin.mjs`): Promise<string> => {
  await build({
    entryPoints: [`${root}src/bin.ts`],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    // Licence comments of the bundled packages stay in the file.
    legalComments: "inline",
    logLevel: "warning"
  })
  // esbuild escapes strings, not regular expressions: a literal character in one would be kept as it is.
  const at = readFileSync(outfile).findIndex((byte) => byte > 127)
  if (at >= 0) throw new Error(`${outfile} has a character outside ASCII at byte ${at}: write it as a \\u escape`)
  return outfile
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outfile = await buildBin(process.argv[2])
  console.log(`built ${outfile}`)
}
