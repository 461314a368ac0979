/**
 * Type-checks every `@example` of the public modules (src/*.ts), and every ```ts block of README.md and
 * docs/*.md, with docgen.json's `examplesCompilerOptions` and "effect-mixpanel" resolved to src/ as in
 * tsconfig.json. Each block is a module on its own: what a reader copies must compile as it is, so a
 * block brings its own imports.
 *
 * docgen 0.5.2 compiles the examples of functions, constants, interfaces, types, methods and modules,
 * but not those of classes, class properties or re-exports; this covers all of them, in one program
 * held in memory. Run by scripts/docs.sh (and so by `npm run docs` and `npm run check:docs`); exits 1 on
 * any error, naming the source line.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { documents } from "./documents.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const src = join(root, "src")
const scratch = join(root, ".docs-examples") // never written: the files live in memory

interface Example {
  readonly file: string
  readonly line: number // of the example's first line of code, 1-based
  readonly code: string
}

/** The ```-fenced `@example` blocks of one source file's JSDoc comments. */
const examplesOf = (file: string, text: string): Array<Example> => {
  const examples: Array<Example> = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = text.slice(0, comment.index).split("\n").length
    const lines = comment[0].split("\n").map((line) => line.replace(/^\s*\/?\*+\/?\s?/, ""))
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]?.startsWith("@example")) continue
      const start = lines.findIndex((line, j) => j > i && line.startsWith("```"))
      const end = lines.findIndex((line, j) => j > start && line.startsWith("```"))
      if (start === -1 || end === -1) throw new Error(`${file}:${firstLine + i}: an @example without a fenced block`)
      examples.push({ file, line: firstLine + start + 1, code: lines.slice(start + 1, end).join("\n") })
      i = end
    }
  }
  return examples
}

/** The ```ts blocks of one Markdown file. */
const blocksOf = (file: string, text: string): Array<Example> => {
  const blocks: Array<Example> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i] ?? "")) continue
    const end = lines.findIndex((line, j) => j > i && line.startsWith("```"))
    if (end === -1) throw new Error(`${file}:${i + 1}: a code block that does not end`)
    blocks.push({ file, line: i + 2, code: lines.slice(i + 1, end).join("\n") })
    i = end
  }
  return blocks
}

const examples = [
  ...readdirSync(src)
    .filter((name) => name.endsWith(".ts"))
    .sort()
    .flatMap((name) => examplesOf(`src/${name}`, readFileSync(join(src, name), "utf8"))),
  ...documents.flatMap((file) => blocksOf(file, readFileSync(join(root, file), "utf8")))
]

// As docgen does: `assert.` in an example brings its own import (and shifts the lines by one).
const withImports = (code: string) => (code.includes("assert.") ? `import * as assert from "assert"\n${code}` : code)
const files = new Map(
  examples.map((example) => [
    join(
      scratch,
      `${example.file
        .replace(/^src\//, "")
        .replace(/\.(ts|md)$/, "")
        .replace("/", "-")}-${example.line}.ts`
    ),
    { example, text: `${withImports(example.code)}\nexport {}\n` }
  ])
)

const docgen = JSON.parse(readFileSync(join(root, "docgen.json"), "utf8"))
const converted = ts.convertCompilerOptionsFromJson(docgen.examplesCompilerOptions, root)
const options: ts.CompilerOptions = {
  ...converted.options,
  paths: { "effect-mixpanel": [join(src, "index.ts")], "effect-mixpanel/*": [join(src, "*.ts")] }
}

/**
 * The diagnostics of every block under `options`. The blocks are compiled twice: as docgen.json says
 * (`exactOptionalPropertyTypes` among its options, as this repository compiles), and with plain `strict`,
 * as most projects do, where an optional property may hold `undefined` (a block once compiled only the first
 * way, and a reader's copy of it failed).
 */
const diagnosticsUnder = (options: ts.CompilerOptions): ReadonlyArray<ts.Diagnostic> => {
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (path) => files.has(path) || fileExists(path)
  host.readFile = (path) => files.get(path)?.text ?? readFile(path)
  host.getSourceFile = (path, language, ...rest) => {
    const file = files.get(path)
    return file === undefined ? getSourceFile(path, language, ...rest) : ts.createSourceFile(path, file.text, language)
  }
  return ts.getPreEmitDiagnostics(ts.createProgram([...files.keys()], options, host))
}

const where = (diagnostic: ts.Diagnostic): string => {
  if (diagnostic.file === undefined || diagnostic.start === undefined) return ""
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  const file = files.get(diagnostic.file.fileName)
  if (file === undefined) return `${diagnostic.file.fileName}:${line + 1}: `
  const offset = file.text.startsWith("import * as assert") ? 1 : 0
  return `${file.example.file}:${file.example.line + line - offset}: `
}

let errors = converted.errors.length
for (const diagnostic of converted.errors) console.error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
for (const [under, compilerOptions] of [
  ["", options],
  [" (strict without exactOptionalPropertyTypes)", { ...options, exactOptionalPropertyTypes: false }]
] as const) {
  for (const diagnostic of diagnosticsUnder(compilerOptions)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
    console.error(`${where(diagnostic)}error TS${diagnostic.code}${under}: ${message}`)
    errors++
  }
}
if (errors > 0) {
  console.error(`${errors} error(s) in the @example blocks of src/ or the code blocks of the docs`)
  process.exit(1)
}
const fromSource = examples.filter((example) => example.file.startsWith("src/")).length
console.log(
  `${fromSource} @example blocks of src/ and ${examples.length - fromSource} code blocks of README.md and docs/ type-check`
)
