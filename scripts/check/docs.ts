/**
 * `npm run check:docs`: the documentation says what the code does.
 *   - every `@example` of src/ and every ```ts block of README.md and docs/ type-checks, every `@example`
 *     runs, and docs/api/ is what `scripts/docs.sh` generates from the JSDoc today (it regenerates the
 *     reference into a scratch directory and compares);
 *   - a block introduced as "This is `examples/…`" (the README's quick start, testing.md's suites) is that
 *     file, unchanged;
 *   - the README names the commands `.ci/run` runs, and `.ci/run` runs every `check:*` script.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { documents } from "../documents.js"
import { check, finish, root, run, scratch, step } from "./support.js"

const read = (path: string) => readFileSync(join(root, path), "utf8")
const pages = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".md"))
    .sort()

step(
  "docs/api/ is what scripts/docs.sh generates from src/ (run `npm run docs` after changing a JSDoc comment)",
  () => {
    const generated = scratch("docs")
    console.log(indented(run("bash", [join(root, "scripts/docs.sh"), generated], root)))
    const committed = join(root, "docs/api")
    check(
      JSON.stringify(pages(committed)) === JSON.stringify(pages(generated)),
      `pages of docs/api: ${pages(committed).join(", ")}\ngenerated: ${pages(generated).join(", ")}`
    )
    const stale = pages(generated).filter(
      (page) => readFileSync(join(committed, page), "utf8") !== readFileSync(join(generated, page), "utf8")
    )
    check(stale.length === 0, `out of date in docs/api: ${stale.join(", ")}`)
  }
)

/** The blocks a document introduces with "This is `examples/…`": each must be that file (less its header comment). */
step("every code block that says it is a file of examples/ is that file, unchanged", () => {
  const problems: Array<string> = []
  let count = 0
  for (const document of documents) {
    const text = read(document)
    for (const match of text.matchAll(/This is `(examples\/[^`]+)`[\s\S]*?```ts\n([\s\S]*?)```/g)) {
      const [, file = "", block] = match
      const source = read(file).replace(/^\/\*\*[\s\S]*?\*\/\n/, "")
      count++
      if (block !== source) problems.push(`${document}: the block shown as ${file} differs from it`)
    }
  }
  check(count >= 3, `only ${count} blocks found that say they are a file of examples/`)
  check(problems.length === 0, problems.join("\n"))
})

step("the README names the commands .ci/run runs; .ci/run runs every check", () => {
  const readme = read("README.md")
  const ci = read(".ci/run")
  const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts)
  for (const command of ["npm ci", "npm test", "npm run demo"]) {
    check(readme.includes(command), `README.md does not name \`${command}\``)
    check(ci.includes(command), `.ci/run does not run \`${command}\``)
  }
  for (const script of scripts.filter((name) => name.startsWith("check:") || name === "bench:smoke")) {
    check(ci.includes(`npm run ${script}`), `.ci/run does not run \`npm run ${script}\``)
    check(readme.includes(`npm run ${script}`), `README.md does not name \`npm run ${script}\``)
  }
  for (const [, script] of ci.matchAll(/npm run ([\w:-]+)/g))
    check(scripts.includes(script ?? ""), `.ci/run runs \`npm run ${script}\`, which package.json does not have`)
})

finish("check:docs")

function indented(text: string) {
  return text
    .trim()
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n")
}
