import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Tests import the package by its name, as users do, but from source.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      // every subpath (effect-mixpanel/testing, effect-mixpanel/Mixpanel, …) is the module of that name
      { find: /^effect-mixpanel\/(\w+)$/, replacement: `${source("./src/")}$1.ts` },
      { find: /^effect-mixpanel$/, replacement: source("./src/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
