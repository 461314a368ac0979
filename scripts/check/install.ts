/**
 * `npm run check:install`: every install line of README.md and docs/ works in an empty project.
 *
 * npm's `latest` tags point at Effect 4, so an unpinned `npm install @effect/vitest` (or `effect`, or
 * `@effect/platform-node`) next to this Effect 3 library fails with ERESOLVE, or worse, installs Effect 4.
 * For each `npm install …` line (in a ```sh block, or inline in backticks) this checks that
 *   - every package it names carries a version range, and the Effect packages and vitest carry the
 *     range package.json's devDependencies give (`^3.22` for `effect@^3.22.4`);
 *   - it resolves alone in an empty project, and each document's lines resolve in order in a project
 *     that installed the library first (the README's line), as a reader follows them; `effect-mixpanel`
 *     is replaced by the packed tarball (it is not on the registry yet). It runs
 *     `npm install --package-lock-only`, which resolves the whole tree (peers included)
 *     as a real install does, without downloading the packages;
 *   - what they resolve to holds one `effect`, of major version 3;
 *   - in a project on Effect 4 the library is refused with ERESOLVE (what the README tells Effect 4 users).
 *
 * Needs the npm registry (or a warm cache). INSTALL=real installs for real instead.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { documents } from "../documents.js"
import { check, emptyProject, finish, pack, quietInstall, root, run, step } from "./support.js"

interface InstallLine {
  readonly file: string
  readonly line: number
  readonly command: string
}

const installCommand = /^npm (install|i|add)\b/

/** The install lines of one document: lines of ```sh blocks, and `npm install …` in backticks. */
const linesOf = (file: string): Array<InstallLine> => {
  const found: Array<InstallLine> = []
  let inShell = false
  readFileSync(join(root, file), "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (text.startsWith("```")) {
        inShell = !inShell && /^```(sh|bash|shell|console)\s*$/.test(text)
        return
      }
      if (inShell) {
        const command = text.replace(/\s+#.*$/, "").trim()
        if (installCommand.test(command)) found.push({ file, line: i + 1, command })
        return
      }
      for (const [, command] of text.matchAll(/`(npm (?:install|i|add) [^`]+)`/g))
        if (command !== undefined) found.push({ file, line: i + 1, command })
    })
  return found
}

const lines = documents.flatMap(linesOf)
const where = (line: InstallLine) => `${line.file}:${line.line}: ${line.command}`

/** The packages a line names (its arguments that are not flags). */
const packagesOf = (command: string) =>
  command
    .split(/\s+/)
    .slice(2)
    .filter((argument) => !argument.startsWith("-"))

const nameOf = (spec: string) => {
  const at = spec.indexOf("@", 1)
  return at === -1 ? spec : spec.slice(0, at)
}
const rangeOf = (spec: string) => {
  const at = spec.indexOf("@", 1)
  return at === -1 ? undefined : spec.slice(at + 1)
}
const isOurs = (spec: string) => spec === "effect-mixpanel" || /effect-mixpanel-[\d.]+\.tgz$/.test(spec)

/** `^major.minor` of each Effect package and vitest in package.json's devDependencies. */
const pinned: Record<string, string> = Object.fromEntries(
  Object.entries(
    (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        devDependencies: Record<string, string>
      }
    ).devDependencies
  )
    .filter(([name]) => name === "effect" || name.startsWith("@effect/") || name === "vitest")
    .map(([name, range]) => [
      name,
      `^${range
        .replace(/^[\^~]/, "")
        .split(".")
        .slice(0, 2)
        .join(".")}`
    ])
)

step(`the install lines of README.md and docs/ (${lines.length}) pin every package`, () => {
  check(lines.length > 0, "no install line found")
  const problems: Array<string> = []
  for (const line of lines) {
    for (const spec of packagesOf(line.command)) {
      if (isOurs(spec)) continue
      const name = nameOf(spec)
      const range = rangeOf(spec)
      if (range === undefined) problems.push(`${where(line)}\n  ${name} has no version: npm's latest may be Effect 4`)
      else if (pinned[name] !== undefined && range !== pinned[name])
        problems.push(`${where(line)}\n  ${spec}: expected ${name}@${pinned[name]}, as package.json`)
    }
  }
  check(problems.length === 0, problems.join("\n"))
})

let tarball = ""
step("npm pack", () => {
  tarball = pack()
})

const install = (project: string, command: string) => {
  const [, , ...args] = command.split(/\s+/)
  const resolved = args.map((argument) => (isOurs(argument) ? tarball : argument))
  const mode = process.env.INSTALL === "real" ? ["--ignore-scripts"] : ["--package-lock-only"]
  run("npm", ["install", ...quietInstall, ...mode, ...resolved], project)
}

/** Every `effect` in the resolved tree: one, of major version 3. */
const checkEffect = (project: string) => {
  const lock = join(project, "package-lock.json")
  if (!existsSync(lock)) return
  const packages = (JSON.parse(readFileSync(lock, "utf8")) as { packages: Record<string, { version?: string }> })
    .packages
  const effects = Object.entries(packages)
    .filter(([path]) => path === "node_modules/effect" || path.endsWith("/node_modules/effect"))
    .map(([path, entry]) => `${path}@${entry.version ?? "?"}`)
  check(effects.length <= 1 && effects.every((effect) => /@3\./.test(effect)), `the tree holds ${effects.join(", ")}`)
}

const unique = [...new Map(lines.map((line) => [line.command, line])).values()]
for (const line of unique) {
  step(`alone in an empty project: ${line.command}`, () => {
    const project = emptyProject("install")
    install(project, line.command)
    checkEffect(project)
  })
}

/** The README's first install line: the library itself, which every other document's lines come after. */
const base = lines.find((line) => line.file === "README.md" && packagesOf(line.command).includes("effect-mixpanel"))

for (const file of documents) {
  const ofFile = lines.filter((line) => line.file === file && line !== base)
  if (ofFile.length === 0) continue
  step(`${file}: the library, then its ${ofFile.length} install line(s) in order, in one project`, () => {
    check(base !== undefined, "README.md has no `npm install effect-mixpanel …` line")
    const project = emptyProject("install")
    for (const line of base === undefined ? ofFile : [base, ...ofFile]) {
      try {
        install(project, line.command)
      } catch (error) {
        throw new Error(`${where(line)}\n${error instanceof Error ? error.message : String(error)}`)
      }
    }
    checkEffect(project)
  })
}

step("an Effect 4 project refuses the library with ERESOLVE, as the README says", () => {
  const project = emptyProject("install")
  install(project, "npm install effect@^4")
  let refusal = ""
  try {
    install(project, "npm install effect-mixpanel")
  } catch (error) {
    refusal = String(error)
  }
  check(refusal.includes("ERESOLVE"), refusal === "" ? "it installed" : refusal)
})

finish("check:install")
