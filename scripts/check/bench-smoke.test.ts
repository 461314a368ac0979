/**
 * A smoke run of the benchmark (`npm run bench`) with a handful of events: every client, each in its own
 * process, delivers all of its events to the sink, and the report holds a row per client. No timing is
 * asserted: figures from a test runner's machine say nothing.
 */
import { describe, expect, it } from "vitest"
import { variants } from "../../bench/clients/index.js"
import { runBench } from "../../bench/runner.js"
import { formatDurableGoals, formatGoals, formatTable } from "../../bench/table.js"

describe("bench (smoke run)", () => {
  it("delivers every client's events to the sink, in one process per client", { timeout: 180_000 }, async () => {
    const report = await runBench({
      n: 300,
      smallN: 60,
      reducedN: 300,
      runs: 1,
      chunkSize: 50,
      sampleEvery: 1,
      scenarios: ["clean"],
      timeoutMs: 30_000
    })
    expect(report.runs.map((record) => record.client).sort()).toEqual(variants.map((variant) => variant.id).sort())
    for (const record of report.runs) {
      const what = `${record.client}: ${record.failure ?? ""}`
      expect(record.failure, what).toBeUndefined()
      expect(record.timedOut, what).toBe(false)
      expect(record.sink.events, what).toBe(record.n)
      expect(record.sink.duplicates, what).toBe(0)
      expect(record.sink.foreignEvents, what).toBe(0)
      expect(record.sink.malformedRequests, what).toBe(0)
      expect(record.sink.unknownPathRequests, what).toBe(0)
      expect(record.figures.delivered, what).toBe(1)
      expect(record.result?.callSamples, what).toBeGreaterThan(0)
    }
    expect(report.summary).toHaveLength(variants.length)
    expect(formatTable(report).split("\n")).toHaveLength(variants.length + 2)
    // The durable rows and their bound are checked against issue 11's goals, the other rows of ours against 13's
    const durableRows = variants.filter((variant) => variant.durability !== undefined)
    const durableHeader = formatDurableGoals(report).split("\n")[0] ?? ""
    const header13 = formatGoals(report).split("\n")[0] ?? ""
    for (const variant of durableRows) {
      expect(durableHeader).toContain(variant.label)
      expect(header13).not.toContain(variant.label)
    }
    expect(formatDurableGoals(report).split("\n")).toHaveLength(2 + 2)
  })

  it("fails requests in the fault scenario: our client retries, the floor does not", { timeout: 120_000 }, async () => {
    const report = await runBench({
      faultN: 400,
      runs: 1,
      chunkSize: 50,
      clients: ["effect-fetch", "floor"],
      faultClients: ["effect-fetch", "floor"],
      scenarios: ["faults"],
      // With this seed the sink's first answer is a 503 and its second a success: each client sends its
      // 400 events in one request, and only a client that retries delivers them.
      faults: { serviceUnavailable: 0.3, rateLimited: 0.2, seed: 9 },
      faultTimeoutMs: 60_000
    })
    const ours = report.runs.find((record) => record.client === "effect-fetch")
    const floor = report.runs.find((record) => record.client === "floor")
    expect(ours?.failure).toBeUndefined()
    expect(ours?.sink.failedRequests).toBe(1)
    expect(ours?.sink.events).toBe(400)
    expect(ours?.result?.reportedUndelivered).toBe(0)
    expect(floor?.sink.failedRequests).toBe(1)
    expect(floor?.sink.events).toBe(0)
    expect(floor?.result?.reportedUndelivered).toBe(400)
  })
})
