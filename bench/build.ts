/**
 * The child processes run plain JavaScript: `bench/` and `src/` are transpiled once per bench run with
 * TypeScript's own transpiler into `node_modules/.cache/effect-mixpanel-bench/`, so that a client process
 * starts in a fraction of the time it takes through a TypeScript loader (every module of `effect` would
 * pass through the loader's hooks), no loader thread competes with the client it measures, and CPU
 * profiles keep every function's name. Nothing is type-checked here: `tsc` does that.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("..", import.meta.url))

/**
 * Where the compiled trees go: inside the repository, so that bare imports resolve to its `node_modules`;
 * one per runner process, so that a test and a bench can run at once.
 */
const cacheDir = join(root, "node_modules", ".cache", "effect-mixpanel-bench")

const sources = (dir: string): Array<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "results" ? [] : sources(path)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : []
  })

/** `effect-mixpanel` as the tsconfig `paths` map it: the sources. */
const aliases: Record<string, string> = {
  "effect-mixpanel": "src/index.js",
  "effect-mixpanel/testing": "src/testing.js",
  "effect-mixpanel/durable": "src/durable.js"
}

const rewrite = (code: string, file: string): string =>
  code.replace(
    /(from\s*|import\s*\(\s*)"(effect-mixpanel(?:\/testing|\/durable)?)"/g,
    (match, prefix: string, name: string) => {
      const target = aliases[name]
      if (target === undefined) return match
      const path = relative(dirname(file), target).replace(/\\/g, "/")
      return `${prefix}"${path.startsWith(".") ? path : `./${path}`}"`
    }
  )

/** A compiled tree: `bench` is the compiled `bench/` directory; `remove` deletes the tree. */
export interface Build {
  readonly bench: string
  readonly remove: () => void
}

/** Transpiles `bench/` and `src/` into a fresh directory. */
export const buildBench = (): Build => {
  const outDir = join(cacheDir, String(process.pid))
  rmSync(outDir, { recursive: true, force: true })
  for (const file of [...sources("bench"), ...sources("src")]) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, file), "utf8"), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        useDefineForClassFields: true
      }
    })
    const js = file.replace(/\.ts$/, ".js")
    const out = join(outDir, js)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, rewrite(outputText, js))
  }
  // The compiled tree is ESM, whatever the nearest package.json says.
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`)
  return { bench: join(outDir, "bench"), remove: () => rmSync(outDir, { recursive: true, force: true }) }
}
