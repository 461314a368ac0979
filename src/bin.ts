#!/usr/bin/env node
/**
 * The `effect-mixpanel` executable (`bin` in package.json): `effect-mixpanel import <files...>`. See
 * docs/import.md. The command lives in `internal/import/cli.ts`; this only runs it and exits with its code.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { run } from "./internal/import/cli.js"

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
