import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Tests import the package by its name, as users do, but from source.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// The tests that need PostgreSQL are a project of their own: its global setup starts a server, and
// Vitest runs a project's global setup only when some of its test files are selected.
const postgresTests = "test/**/*.pg.test.ts"

export default defineConfig({
  resolve: {
    alias: [
      // every subpath (effect-mixpanel/testing, effect-mixpanel/Mixpanel, …) is the module of that name
      { find: /^effect-mixpanel\/(\w+)$/, replacement: `${source("./src/")}$1.ts` },
      { find: /^effect-mixpanel$/, replacement: source("./src/index.ts") }
    ]
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts", "examples/**/*.test.ts"], exclude: [postgresTests] }
      },
      {
        extends: true,
        test: { name: "postgres", include: [postgresTests], globalSetup: ["test/durable/support/globalSetup.ts"] }
      }
    ]
  }
})
