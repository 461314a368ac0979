import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Tests import the package by its name, as users do, but from source.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-mixpanel\/testing$/, replacement: source("./src/testing.ts") },
      { find: /^effect-mixpanel$/, replacement: source("./src/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
