/**
 * The checks that run programs rather than test code, each with its own npm script (they are not part
 * of `npm test`): `npm run check:examples` (examples.test.ts) and `npm run bench:smoke`
 * (bench-smoke.test.ts). The package resolves from source, as in the test suite.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import suite from "../../vitest.config.js"

// (not mergeConfig, which would add these files to the suite's instead of replacing them; and without the
// suite's projects, each of which would run these files again, the PostgreSQL one after starting a server)
const { projects: _, ...test } = suite.test ?? {}
export default defineConfig({
  ...suite,
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: { ...test, include: ["scripts/check/**/*.test.ts"] }
})
