import { describe, expect, it } from "@effect/vitest"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import { program, TelemetryLive } from "../examples/observability.js"

describe("Observability through @effect/opentelemetry (examples/observability.ts)", () => {
  it.live("exports a span per operation, flush and request, and the delivery metrics, with no secret or value", () =>
    Effect.gen(function* () {
      const spans = new InMemorySpanExporter()
      const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
      const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })
      // Read the exporters before the SDK layer closes: shutting down an in-memory exporter empties it.
      yield* Effect.gen(function* () {
        expect(yield* Effect.scoped(program)).toBe(1)
        yield* check(spans, metrics, reader)
      }).pipe(Effect.provide(TelemetryLive(spans, reader)))
    })
  )
})

const check = (spans: InMemorySpanExporter, metrics: InMemoryMetricExporter, reader: PeriodicExportingMetricReader) =>
  Effect.gen(function* () {
    const finished = spans.getFinishedSpans()
    const byName = (name: string) => finished.filter((span) => span.name === name)
    expect(byName("Mixpanel.track")[0]?.attributes).toMatchObject({ endpoint: "events" })
    expect(byName("Mixpanel.peopleIncrement")[0]?.attributes).toMatchObject({ endpoint: "people" })
    expect(byName("Mixpanel.flush")).not.toHaveLength(0)
    const requests = byName("Mixpanel.request")
    expect(requests.map((span) => span.attributes.endpoint).sort()).toEqual(["events", "people"])
    expect(requests.every((span) => span.attributes.messages === 1)).toBe(true)
    // The operation's span is a child of the caller's span.
    const handler = byName("POST /checkout")[0]
    expect(byName("Mixpanel.track")[0]?.parentSpanContext?.spanId).toBe(handler?.spanContext().spanId)

    const everything = JSON.stringify(finished.map((span) => [span.name, span.attributes, span.events]))
    for (const secret of ["YOUR_PROJECT_TOKEN", "SPRING", "42.5", "user-1"]) expect(everything).not.toContain(secret)

    yield* Effect.promise(() => reader.forceFlush())
    const exported = metrics.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
    const total = (name: string) =>
      exported
        .filter((m) => m.descriptor.name === name)
        .flatMap((m): ReadonlyArray<{ readonly value: unknown }> => m.dataPoints)
        .reduce<number>((sum, point) => sum + (typeof point.value === "number" ? point.value : 0), 0)
    expect(total("mixpanel_messages_enqueued")).toBeGreaterThanOrEqual(2)
    expect(total("mixpanel_messages_delivered")).toBeGreaterThanOrEqual(2)
    expect(exported.map((m) => m.descriptor.name)).toEqual(
      expect.arrayContaining(["mixpanel_buffer_depth", "mixpanel_batch_size", "mixpanel_request_latency_ms"])
    )
  })
