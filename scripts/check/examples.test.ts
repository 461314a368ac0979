/**
 * Every runnable example in examples/ runs as a user would run it (with tsx), and does what it says.
 * (examples/observability.ts and examples/testing/ are exercised by their own tests.)
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { afterEach, describe, expect, it } from "vitest"

const root = new URL("../..", import.meta.url).pathname
/** This process's environment, less any MIXPANEL_* of the developer's, with `env` on top. */
const environment = (env: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MIXPANEL_"))),
  ...env
})

const run = (example: string, env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", `examples/${example}`], {
    cwd: root,
    env: environment(env),
    timeout: 60_000
  })

describe("examples", () => {
  it("quickstart.ts tracks a sign-up into the embedded Mixpanel", async () => {
    const { stdout } = await run("quickstart.ts")
    expect(stdout).toContain("event: 'Signed Up'")
    expect(stdout).toContain("$name': 'Ada Lovelace'")
  })

  it("historical-import.ts imports 5000 rows with a service account, in requests of 2000", async () => {
    const { stdout } = await run("historical-import.ts")
    expect(stdout).toContain("Imported 5000 orders in 3 requests (project_id=1)")
  })

  it("serverless.ts delivers each invocation's event before it returns", async () => {
    const { stdout } = await run("serverless.ts", { MIXPANEL_TOKEN: "T" })
    expect(stdout).toContain("after 3 invocations the server holds 3 events")
  })

  describe("http-server.ts", () => {
    let child: ChildProcess | undefined
    afterEach(() => {
      child?.kill("SIGKILL")
    })

    it("tracks a request per hit, and delivers them when it is stopped", async () => {
      const mixpanel = await MixpanelTestServer.start()
      try {
        child = spawn(process.execPath, ["--import", "tsx", "examples/http-server.ts"], {
          cwd: root,
          env: environment({ PORT: "0", MIXPANEL_TOKEN: "T", MIXPANEL_BASE_URL: mixpanel.url }),
          stdio: ["ignore", "pipe", "pipe"]
        })
        let output = ""
        const port = await new Promise<string>((resolve, reject) => {
          child?.stdout?.on("data", (chunk: Buffer) => {
            output += chunk.toString()
            const match = /Listening on http:\/\/[^:]+:(\d+)/.exec(output)
            if (match?.[1] !== undefined) resolve(match[1])
          })
          child?.on("exit", () => reject(new Error(`exited early: ${output}`)))
        })
        for (const name of ["ada", "grace"]) {
          expect(await (await fetch(`http://127.0.0.1:${port}/hello/${name}`)).text()).toBe(`hello, ${name}\n`)
        }
        // Nothing is sent before the flush interval (10 s) or the shutdown; stopping the server delivers.
        expect(mixpanel.received("events")).toHaveLength(0)
        const exited = new Promise((resolve) => child?.on("exit", resolve))
        child.kill("SIGTERM")
        await exited
        expect(mixpanel.received("events").map((e) => (e.properties as { distinct_id: string }).distinct_id)).toEqual([
          "ada",
          "grace"
        ])
      } finally {
        await mixpanel.close()
      }
    })
  })
})
