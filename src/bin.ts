#!/usr/bin/env node
import * as V8 from "node:v8"
/**
 * The `effect-mixpanel` executable (`bin` in package.json, bundled into dist/bin.mjs by
 * scripts/build-bin.ts): `effect-mixpanel import <files...>`. See docs/import.md. The command lives in
 * `internal/import/cli.ts`; this only runs it and exits with its code.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { run } from "./internal/import/cli.js"

// An import's live heap is small and flat (about 20 MB), but it allocates steadily, and V8 answers by
// growing its young generation to 16 MB twice over and letting the old one reach several times the live
// size between collections. Kept small, the peak memory of an import is about 40% lower, for about 15%
// more CPU (docs/benchmarks.md). The flags only tune the collector, which is why they are safe to set this
// late; flags of the user's own (NODE_OPTIONS, node's command line) are left alone.
const given = `${process.env.NODE_OPTIONS ?? ""} ${process.execArgv.join(" ")}`
if (!/semi[-_]space|heap[-_]growing/.test(given)) {
  V8.setFlagsFromString("--semi-space-growth-factor=1")
  V8.setFlagsFromString("--heap-growing-percent=50")
}

let code = 0
const fiber = Effect.runFork(
  run(process.argv, (exitCode) => {
    code = exitCode
  }).pipe(Effect.provide(NodeContext.layer))
)
fiber.addObserver((exit) => {
  // A failure here is the command line's own (a bad flag): @effect/cli has printed it.
  process.exitCode = Exit.isSuccess(exit) ? code : code === 0 ? 2 : code
  // Sockets kept alive for reuse may hold the process a few seconds more; nothing is left to wait for.
  setTimeout(() => process.exit(), 1000).unref()
})
