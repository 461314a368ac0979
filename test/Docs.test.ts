/**
 * The API reference in docs/api/ is what scripts/docs.sh generates from the JSDoc of src/ today: the test
 * regenerates it into a temporary directory and compares. The script fails (and so does this test) when
 * an export lacks a description, `@since` or `@example`, or when an example stops type-checking or fails
 * when run.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"

const root = new URL("..", import.meta.url).pathname
const committed = join(root, "docs/api")
const generated = mkdtempSync(join(tmpdir(), "effect-mixpanel-docs-"))

const pages = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".md"))
    .sort()

describe("docs/api", () => {
  afterAll(() => rmSync(generated, { recursive: true, force: true }))

  it("is what scripts/docs.sh generates from src/ (run it after changing a JSDoc comment)", async () => {
    try {
      await promisify(execFile)("bash", [join(root, "scripts/docs.sh"), generated], {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
        timeout: 280_000
      })
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string }
      expect.fail(`scripts/docs.sh failed:\n${stdout ?? ""}\n${stderr ?? String(error)}`)
    }
    expect(pages(committed), "the pages of docs/api: run `bash scripts/docs.sh`").toEqual(pages(generated))
    const stale = pages(generated).filter(
      (page) => readFileSync(join(committed, page), "utf8") !== readFileSync(join(generated, page), "utf8")
    )
    expect(stale, "pages of docs/api out of date: run `bash scripts/docs.sh`").toEqual([])
  }, 300_000)
})
