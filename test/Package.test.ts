/**
 * The package as users get it: packed with `npm pack`, installed into a fresh project next to Effect 3,
 * and used from an ES module, from CommonJS `require`, and from TypeScript.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = new URL("..", import.meta.url).pathname
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version

const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

const program = (load: (name: string) => string) => `
${load("effect")}
${load("@effect/platform")}
${load("effect-mixpanel")}
${load("effect-mixpanel/testing")}
const { Effect, Layer } = effect
const { FetchHttpClient } = platform
const { Consumer, Mixpanel } = effectMixpanel
const { MixpanelTestServer } = testing

const main = Effect.gen(function* () {
  const server = yield* MixpanelTestServer.make()
  const live = Mixpanel.layer({ token: "T" }).pipe(
    Layer.provide(Consumer.layerDirect({ baseUrl: server.url })),
    Layer.provide(FetchHttpClient.layer)
  )
  yield* Mixpanel.track("u1", "Installed").pipe(Effect.provide(live))
  console.log(JSON.stringify(server.received("events").map((e) => e.event)))
})
Effect.runPromise(Effect.scoped(main))
`

const binding = (name: string) =>
  ({
    effect: "effect",
    "@effect/platform": "platform",
    "effect-mixpanel": "effectMixpanel",
    "effect-mixpanel/testing": "testing"
  })[name] ?? name

describe("the packed package", () => {
  let project = ""

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "effect-mixpanel-pack-"))
    const tarball = run("npm", ["pack", "--silent", "--pack-destination", project], root).trim().split("\n").pop() ?? ""
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }))
    run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        join(project, tarball),
        `effect@${versionOf("effect")}`,
        `@effect/platform@${versionOf("@effect/platform")}`
      ],
      project
    )
  }, 240_000)

  afterAll(() => {
    if (project !== "") rmSync(project, { recursive: true, force: true })
  })

  it("ships the build, not the tests", () => {
    const installed = join(project, "node_modules", "effect-mixpanel")
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { exports: object }
    expect(Object.keys(manifest.exports)).toEqual([".", "./testing", "./internal/*", "./package.json"])
    expect(() => readFileSync(join(installed, "dist", "esm", "index.js"))).not.toThrow()
    expect(() => readFileSync(join(installed, "test", "Mixpanel.test.ts"))).toThrow()
  })

  it("works from an ES module", () => {
    writeFileSync(
      join(project, "esm.mjs"),
      program((name) => `import * as ${binding(name)} from "${name}"`)
    )
    expect(run("node", ["esm.mjs"], project).trim()).toBe('["Installed"]')
  })

  it("works from CommonJS require", () => {
    writeFileSync(
      join(project, "cjs.cjs"),
      program((name) => `const ${binding(name)} = require("${name}")`)
    )
    expect(run("node", ["cjs.cjs"], project).trim()).toBe('["Installed"]')
  })

  it("type-checks from TypeScript with NodeNext resolution", () => {
    writeFileSync(
      join(project, "check.ts"),
      `import { Effect } from "effect"
import { Mixpanel, MixpanelError } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
export const program: Effect.Effect<void, MixpanelError.MixpanelError, Mixpanel.Mixpanel> = Mixpanel.track("u1", "E")
export const server = MixpanelTestServer.make()
`
    )
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: []
        },
        files: ["check.ts"]
      })
    )
    expect(() => run(join(root, "node_modules", ".bin", "tsc"), ["-p", "."], project)).not.toThrow()
  })

  it("blocks the internal modules", () => {
    writeFileSync(join(project, "internal.mjs"), `import "effect-mixpanel/internal/json.js"`)
    expect(() => run("node", ["internal.mjs"], project)).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/)
  })
})
