/**
 * `npm run check:package`: the package as users get it. It packs the repository (`npm pack`, which builds
 * `dist/`), installs the tarball into a fresh project next to Effect 3, and checks that
 *   - the tarball ships the build and the docs, not the tests;
 *   - every public module is its own subpath (`effect-mixpanel/Mixpanel`, …), blocked `internal/*` aside;
 *   - the package runs from an ES module and from CommonJS `require`, one module instance per subpath;
 *   - a user project that exports a layer, a tracking function and a test layer compiles with
 *     `declaration: true`, `strict` and `exactOptionalPropertyTypes` (TS2742/TS2883 otherwise), on the
 *     repository's TypeScript 5.9 and on the registry's latest TypeScript (TS=x.y to pick another);
 *     without the SQL packages too, the package's own declarations checked (`skipLibCheck: false`);
 *   - those declarations hold under `strict` alone too (no `exactOptionalPropertyTypes`), as most
 *     projects compile.
 *
 * No `paths` and nothing of the repository's tsconfig: the project sees only what npm installed.
 * Needs the npm registry (or a warm cache). KEEP_SCRATCH=1 keeps the scratch projects to look at.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { publicModules, withOptionalPeers } from "../exports.js"
import { check, emptyProject, finish, pack, quietInstall, root, run, step, versionOf, writeFiles } from "./support.js"

// ---------------------------------------------------------------------------------------------------
// the user project
// ---------------------------------------------------------------------------------------------------

/**
 * docs/getting-started.md, as a user copies it into modules of their own, with `export`s: each file
 * imports only what the docs' block imports, so the declaration emitter must find a name for every type
 * it meets (`MixpanelError.InvalidConfig`, `Consumer.Consumer`, …) in the package's entry points.
 */
const application: Record<string, string> = {
  "src/layer.ts": `import { FetchHttpClient } from "@effect/platform"
import { Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"

export const MixpanelLive = Mixpanel.layerConfig().pipe(
  Layer.provideMerge(Consumer.layerBuffered({ region: "EU" })),
  Layer.provide(FetchHttpClient.layer)
)

export const MixpanelDirect = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
  Layer.provide(Consumer.layerDirect({ requestTimeout: "5 seconds" })),
  Layer.provide(FetchHttpClient.layer)
)
`,
  "src/checkout.ts": `import { Effect } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"

export const checkout = (userId: string, cart: { total: number; items: ReadonlyArray<string> }) =>
  Effect.gen(function* () {
    yield* Mixpanel.track(userId, "Checkout", { total: cart.total, items: cart.items })
    yield* Mixpanel.peopleTrackCharge(userId, cart.total)
    yield* Mixpanel.peopleIncrement(userId, { orders: 1 })
  })

export const signedUp = (userId: string) => Mixpanel.track(userId, "Signed Up")

// a domain type declared as an interface, as users model them
export interface SignupInput {
  readonly plan: string
  readonly seats: number
  readonly startedAt: Date
}

export const signedUpWith = (userId: string, input: SignupInput) =>
  Effect.zipRight(Mixpanel.track(userId, "Signed Up", input), Mixpanel.peopleSet(userId, input))

export const flushed = Consumer.flush.pipe(Effect.timeout("2 seconds"))
`,
  "src/testLayer.ts": `import { Layer } from "effect"
import { Mixpanel, TestConsumer } from "effect-mixpanel"

export const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))

export const recorded = TestConsumer.events
`,
  "src/flags.ts": `import { FeatureFlags, LocalFlags, RemoteFlags } from "effect-mixpanel"

export const LocalFlagsLive = LocalFlags.layer({ token: "T" })
export const RemoteFlagsLive = RemoteFlags.layer({ token: "T" })
export const newCheckout = FeatureFlags.isEnabled("new-checkout", { distinct_id: "u1" })
`,
  "src/durable.ts": `import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { DurableStore } from "effect-mixpanel/durable"

// The store in the layer's output (provideMerge), as docs/durable.md shows, for its stats and dead letters
export const MixpanelDurable = Mixpanel.layer({ token: "T" }).pipe(
  Layer.provideMerge(Consumer.layerDurable()),
  Layer.provideMerge(DurableStore.layerSqlite({ filename: "./data/mixpanel.db", durability: "async" })),
  Layer.provide(FetchHttpClient.layer)
)

export const waiting = Effect.map(DurableStore.stats, (stats) => stats.messages)
export const theStore = Effect.map(DurableStore.DurableStore, (store) => store)
export const settings = Effect.map(DurableStore.DurableStore, (store) => store.settings)
export const letters = DurableStore.deadLetters({ reason: "Unauthorized" })
`,
  "src/annotated.ts": `import type { Effect } from "effect"
import { Mixpanel, type MixpanelError } from "effect-mixpanel"

export const program: Effect.Effect<void, MixpanelError.MixpanelError, Mixpanel.Mixpanel> = Mixpanel.track("u1", "E")
`
}

/** The same through the subpaths, as Effect's own modules are imported (\`effect/Effect\`). */
const subpaths = `import * as Layer from "effect/Layer"
import * as Consumer from "effect-mixpanel/Consumer"
import * as Mixpanel from "effect-mixpanel/Mixpanel"
import * as TestConsumer from "effect-mixpanel/TestConsumer"
import { MixpanelTestServer } from "effect-mixpanel/testing"

export const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
export const DirectLive = Mixpanel.layer({ token: "T" }).pipe(Layer.provide(Consumer.layerDirect()))
export const server = MixpanelTestServer.make()
export const serverLayer = MixpanelTestServer.layer({ token: "T" })
`

/** A program that sends one event to the embedded Mixpanel and prints what arrived. */
/** The subpaths that load with `effect` and `@effect/platform` alone: all but the SQL ones. */
const plainModules = publicModules.filter((module) => !withOptionalPeers.includes(module))

const program = (load: (name: string, binding: string) => string) => `
${load("effect", "effect")}
${load("@effect/platform", "platform")}
${load("effect-mixpanel", "effectMixpanel")}
${load("effect-mixpanel/testing", "testing")}
${plainModules.map((module) => load(`effect-mixpanel/${module}`, `subpath_${module}`)).join("\n")}
const { Effect, Layer } = effect
const { FetchHttpClient } = platform
const { Consumer, Mixpanel } = effectMixpanel
const { MixpanelTestServer } = testing

// One instance of each module, whichever entry it was loaded through.
const subpaths = { ${plainModules.map((module) => `${module}: subpath_${module}`).join(", ")} }
for (const [name, module] of Object.entries(subpaths)) {
  const fromIndex = name === "MixpanelTestServer" ? testing.MixpanelTestServer : effectMixpanel[name]
  for (const key of Object.keys(fromIndex)) {
    if (fromIndex[key] !== module[key]) throw new Error(name + "." + key + " differs between the index and the subpath")
  }
  if (Object.keys(module).length === 0) throw new Error("effect-mixpanel/" + name + " exports nothing")
}

const main = Effect.gen(function* () {
  const server = yield* MixpanelTestServer.make()
  const live = Mixpanel.layer({ token: "T" }).pipe(
    Layer.provide(Consumer.layerDirect({ baseUrl: server.url })),
    Layer.provide(FetchHttpClient.layer)
  )
  yield* Mixpanel.track("u1", "Installed").pipe(Effect.provide(live))
  console.log(JSON.stringify(server.received("events").map((e) => e.event)))
})
Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
`

/**
 * tsconfig for the user project: what \`tsc --init\` (5.9) writes, declaration files emitted. The NodeNext
 * project also checks the libraries' declaration files (\`skipLibCheck: false\`: ours must hold under
 * \`strict\` and \`exactOptionalPropertyTypes\`); the other two skip them, as \`tsc --init\` does.
 * \`exact: false\`: without \`exactOptionalPropertyTypes\`, as a project with \`strict\` alone.
 */
const tsconfig = (
  moduleSettings: Record<string, string | boolean>,
  outDir: string,
  skipLibCheck: boolean,
  exact = true
) =>
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        types: [],
        strict: true,
        exactOptionalPropertyTypes: exact,
        noUncheckedIndexedAccess: true,
        declaration: true,
        declarationMap: true,
        isolatedModules: true,
        verbatimModuleSyntax: true,
        skipLibCheck,
        rootDir: "src",
        outDir,
        ...moduleSettings
      },
      include: ["src"]
    },
    null,
    2
  )

// ---------------------------------------------------------------------------------------------------
// TypeScript compilers
// ---------------------------------------------------------------------------------------------------

interface Compiler {
  readonly name: string
  /** The command and its first arguments, to which `-p <project>` is added. */
  readonly command: ReadonlyArray<string>
  readonly version: string
}

/**
 * `tsc` of the `typescript` package installed in `dir`. TypeScript 7 (the native port) ships the same
 * package name and a `tsc` bin that is a Node script starting the platform's binary (from an optional
 * dependency `@typescript/typescript-<os>-<cpu>`); should a release name its bin `tsgo` (as the
 * `@typescript/native-preview` package does), that is used instead.
 */
const compilerIn = (name: string, dir: string): Compiler => {
  const packageDir = join(dir, "node_modules", "typescript")
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    version: string
    bin?: string | Record<string, string>
  }
  const bins = typeof manifest.bin === "string" ? { tsc: manifest.bin } : (manifest.bin ?? {})
  const bin = bins.tsc ?? bins.tsgo
  if (bin === undefined)
    throw new Error(`typescript@${manifest.version} has no tsc or tsgo bin: ${JSON.stringify(bins)}`)
  const path = join(packageDir, bin)
  const isScript = /^#!.*\bnode\b/.test(readFileSync(path, "utf8").slice(0, 100)) || path.endsWith("js")
  const command = isScript ? [process.execPath, path] : [path]
  return { name, command, version: manifest.version }
}

const latestCompiler = (): Compiler => {
  const wanted = process.env.TS ?? "latest"
  const dir = emptyProject("typescript")
  run("npm", ["install", ...quietInstall, `typescript@${wanted}`], dir)
  return compilerIn(`typescript@${wanted}`, dir)
}

const compile = (compiler: Compiler, project: string, tsconfigFile: string) => {
  const [command = "", ...args] = compiler.command
  return run(command, [...args, "-p", tsconfigFile], project)
}

// ---------------------------------------------------------------------------------------------------
// the checks
// ---------------------------------------------------------------------------------------------------

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, unknown>
}

let tarball = ""
// made here, not in a step: every later write goes into it, never into the working directory
const project = emptyProject("user", { type: "module" })

step("npm pack", () => {
  tarball = pack()
  check(existsSync(tarball), `no tarball at ${tarball}`)
})

step("install the tarball into an empty project, with effect and @effect/platform", () => {
  run(
    "npm",
    [
      "install",
      ...quietInstall,
      "--ignore-scripts",
      tarball,
      `effect@${versionOf("effect")}`,
      `@effect/platform@${versionOf("@effect/platform")}`
    ],
    project
  )
})

const installed = () => join(project, "node_modules", "effect-mixpanel")

step("the tarball ships dist/, src/, docs/ and examples/, not the tests", () => {
  const has = (path: string) => existsSync(join(installed(), path))
  for (const path of ["dist/esm/index.js", "dist/cjs/index.js", "dist/dts/index.d.ts", "src/index.ts", "README.md"])
    check(has(path), `missing: ${path}`)
  for (const path of ["docs/getting-started.md", "examples/quickstart.ts"]) check(has(path), `missing: ${path}`)
  for (const path of ["test", "scripts", "bench", "demo", ".ci"]) check(!has(path), `shipped: ${path}`)
})

step(
  "the effect-mixpanel command runs from the tarball (its one bundled file, with none of its packages installed)",
  () => {
    writeFiles(project, {
      "events.ndjson": ['{"event":"Signed Up","properties":{"distinct_id":"u1","time":1735689600}}', ""].join("\n")
    })
    const output = run(
      join(project, "node_modules", ".bin", "effect-mixpanel"),
      ["import", "events.ndjson", "--dry-run", "--json"],
      project,
      { MIXPANEL_TOKEN: "T" }
    )
    const summary = JSON.parse(output.trim().split("\n").pop() ?? "{}") as { dryRun?: boolean; delivered?: number }
    check(
      summary.dryRun === true && summary.delivered === 1,
      `effect-mixpanel import printed ${JSON.stringify(output)}`
    )
  }
)

step("every public module is a subpath: types, import and require, each to a file in the tarball", () => {
  const shipped = JSON.parse(readFileSync(join(installed(), "package.json"), "utf8")) as typeof manifest
  const expected = [".", ...publicModules.map((module) => `./${module}`), "./testing", "./internal/*", "./package.json"]
  check(
    JSON.stringify(Object.keys(shipped.exports).sort()) === JSON.stringify([...expected].sort()),
    `exports: ${JSON.stringify(Object.keys(shipped.exports))}\nexpected: ${JSON.stringify(expected)}`
  )
  check(shipped.exports["./internal/*"] === null, `"./internal/*" is not blocked`)
  for (const [subpath, target] of Object.entries(shipped.exports)) {
    if (subpath === "./internal/*" || subpath === "./package.json") continue
    const conditions = target as Record<string, string>
    check(
      JSON.stringify(Object.keys(conditions)) === JSON.stringify(["types", "import", "require"]),
      `${subpath}: conditions ${JSON.stringify(Object.keys(conditions))}, expected types first, then import, require`
    )
    for (const file of Object.values(conditions))
      check(existsSync(join(installed(), file)), `${subpath}: ${file} is not in the tarball`)
  }
})

const runProgram = (file: string) => {
  const output = run(process.execPath, [file], project).trim()
  check(output === '["Installed"]', `${file} printed ${JSON.stringify(output)}`)
}

step("works from an ES module (every subpath imported, but the SQL ones: the main entry needs no SQL package)", () => {
  writeFiles(project, { "esm.mjs": program((name, binding) => `import * as ${binding} from "${name}"`) })
  runProgram("esm.mjs")
})

step("works from CommonJS require (every subpath required, but the SQL ones)", () => {
  writeFiles(project, { "cjs.cjs": program((name, binding) => `const ${binding} = require("${name}")`) })
  runProgram("cjs.cjs")
})

step(
  "without the SQL packages, a user project type-checks the package's declarations (skipLibCheck: false): the main entry's types need none",
  () => {
    const { "src/durable.ts": _, ...withoutSql } = application
    const dir = join(project, "without-sql")
    writeFiles(dir, {
      ...withoutSql,
      "tsconfig.json": tsconfig({ module: "NodeNext", moduleResolution: "NodeNext" }, "dist", false)
    })
    compile(compilerIn("typescript (repository)", root), dir, "tsconfig.json")
  }
)

step("the durable store's subpaths load once its SQL packages are installed, from import and from require", () => {
  run(
    "npm",
    [
      "install",
      ...quietInstall,
      "--ignore-scripts",
      `@effect/sql@${versionOf("@effect/sql")}`,
      `@effect/experimental@${versionOf("@effect/experimental")}`,
      `@effect/sql-sqlite-node@${versionOf("@effect/sql-sqlite-node")}`
    ],
    project
  )
  const probe = (load: (name: string, binding: string) => string) => `
${load("effect-mixpanel/durable", "durable")}
${load("effect-mixpanel/DurableStore", "store")}
if (durable.DurableStore.layerSqlite !== store.layerSqlite) throw new Error("two instances of DurableStore")
console.log(JSON.stringify(typeof store.layerSqlite))
`
  writeFiles(project, {
    "durable.mjs": probe((name, binding) => `import * as ${binding} from "${name}"`),
    "durable.cjs": probe((name, binding) => `const ${binding} = require("${name}")`)
  })
  for (const file of ["durable.mjs", "durable.cjs"]) {
    const output = run(process.execPath, [file], project).trim()
    check(output === '"function"', `${file} printed ${JSON.stringify(output)}`)
  }
})

step("blocks the internal modules, from import and from require", () => {
  writeFiles(project, {
    "internal.mjs": `import "effect-mixpanel/internal/json.js"`,
    "internal.cjs": `require("effect-mixpanel/internal/json.js")`
  })
  for (const file of ["internal.mjs", "internal.cjs"]) {
    let error = ""
    try {
      run(process.execPath, [file], project)
    } catch (failure) {
      error = String(failure)
    }
    check(error.includes("ERR_PACKAGE_PATH_NOT_EXPORTED"), `${file}: ${error === "" ? "loaded" : error}`)
  }
})

const compilers: Array<Compiler> = []
step("TypeScript: the repository's 5.9, and the registry's latest", () => {
  compilers.push(compilerIn("typescript (repository)", root))
  compilers.push(latestCompiler())
  console.log(`      ${compilers.map((compiler) => `${compiler.name} = ${compiler.version}`).join(", ")}`)
})

writeFiles(project, {
  ...application,
  "src/subpaths.ts": subpaths,
  "tsconfig.json": tsconfig({ module: "NodeNext", moduleResolution: "NodeNext" }, "dist", false),
  "tsconfig.strict.json": tsconfig({ module: "NodeNext", moduleResolution: "NodeNext" }, "dist-strict", false, false),
  "tsconfig.bundler.json": tsconfig({ module: "Preserve", moduleResolution: "Bundler" }, "dist-bundler", true),
  "tsconfig.node10.json": tsconfig(
    { module: "CommonJS", moduleResolution: "Node10", verbatimModuleSyntax: false },
    "dist-node10",
    true
  )
})

/** The module settings a user project may have; \`node10\` (no \`exports\`, hence \`typesVersions\`) is gone in TypeScript 7. */
const resolutions = [
  { name: "NodeNext", file: "tsconfig.json", out: "dist", from: 0 },
  {
    name: "NodeNext, strict without exactOptionalPropertyTypes",
    file: "tsconfig.strict.json",
    out: "dist-strict",
    from: 0
  },
  { name: "Bundler", file: "tsconfig.bundler.json", out: "dist-bundler", from: 0 },
  { name: "Node10", file: "tsconfig.node10.json", out: "dist-node10", until: 7 }
] as const

for (const compiler of compilers) {
  const major = Number(compiler.version.split(".")[0])
  for (const resolution of resolutions) {
    if ("until" in resolution && major >= resolution.until) continue
    step(
      `a user project exports layers, tracking functions and a test layer: TypeScript ${compiler.version}, ${resolution.name}, declaration: true`,
      () => {
        compile(compiler, project, resolution.file)
        const out = join(project, resolution.out)
        const declarations = readdirSync(out).filter((name) => name.endsWith(".d.ts"))
        const expected = Object.keys(application).length + 1
        check(declarations.length === expected, `declarations emitted: ${declarations.join(", ")}`)
        for (const name of declarations) {
          const text = readFileSync(join(out, name), "utf8")
          check(!text.includes("node_modules"), `${name} reaches into node_modules:\n${text}`)
        }
      }
    )
  }
}

finish("check:package")
