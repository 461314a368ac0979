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

// An import allocates steadily, and V8 answers by growing its young generation to 16 MB twice over; kept
// at its first size, the peak memory of an import is about a quarter lower, for no CPU we could measure
// (docs/benchmarks.md). The flag only tunes the collector, which is why it is safe to set this late.
V8.setFlagsFromString("--semi-space-growth-factor=1")

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
