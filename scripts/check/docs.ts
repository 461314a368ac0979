/**
 * `npm run check:docs`: the documentation says what the code does.
 *   - every `@example` of src/ and every ```ts block of README.md and docs/ type-checks, every `@example`
 *     runs, and docs/api/ is what `scripts/docs.sh` generates from the JSDoc today (it regenerates the
 *     reference into a scratch directory and compares);
 *   - the README's quick start is examples/quickstart.ts, unchanged;
 *   - the README names the commands `.ci/run` runs, and `.ci/run` runs every `check:*` script.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
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

step("the README's quick start is examples/quickstart.ts, unchanged", () => {
  const readme = read("README.md")
  const section = readme.slice(readme.indexOf("## Quick start"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  check(block === read("examples/quickstart.ts"), "the quick start and examples/quickstart.ts differ")
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
