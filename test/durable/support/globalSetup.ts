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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres()
  project.provide("postgres", server.connection)
  return server.destroy
}
