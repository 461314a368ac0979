import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8")

describe("README", () => {
  it("shows examples/quickstart.ts as its quick start, unchanged", () => {
    const readme = read("README.md")
    const section = readme.slice(readme.indexOf("## Quick start"))
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
    expect(block).toBe(read("examples/quickstart.ts"))
  })

  it("names the commands that .ci/run runs", () => {
    const readme = read("README.md")
    const ci = read(".ci/run")
    for (const command of ["npm ci", "npm test", "npm run demo"]) {
      expect(readme).toContain(command)
      expect(ci).toContain(command)
    }
  })
})
