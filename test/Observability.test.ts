import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Schedule } from "effect"
import { Consumer, FeatureFlags, LocalFlags, Mixpanel, RemoteFlags } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { program, TelemetryLive } from "../examples/observability.js"
import { simpleFlag } from "./flags/support.js"

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

describe("Spans of the library's requests", () => {
  const token = "span-token-7c1e"
  const apiSecret = "span-api-secret-93d"
  const distinctId = "span-user-5b2"
  const value = "span-value-platinum"
  const secrets = [token, apiSecret, Buffer.from(`${apiSecret}:`).toString("base64"), distinctId, value]

  it.live("hold no token, secret, distinct id or property value: flags lookups, definitions, ingestion", () =>
    Effect.gen(function* () {
      const spans = new InMemorySpanExporter()
      yield* Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({
          token,
          auth: { apiSecret },
          remoteFlags: { "new-checkout": { variant_key: "on", variant_value: true } },
          flagDefinitions: [simpleFlag("local-gate", { on: true })]
        })
        const MixpanelLive = Mixpanel.layer({ token }).pipe(
          Layer.provideMerge(Consumer.layerDirect({ baseUrl: server.url, importAuth: Consumer.apiSecret(apiSecret) }))
        )
        const flagsOf = <A, E>(flags: Layer.Layer<A, E, Mixpanel.Mixpanel | HttpClient.HttpClient>) =>
          flags.pipe(Layer.provideMerge(MixpanelLive), Layer.provide(FetchHttpClient.layer))
        const context = { distinct_id: distinctId, custom_properties: { plan: value } }

        // a remote lookup: the token and the context travel in the query of `GET /flags`
        yield* Effect.zipRight(
          FeatureFlags.getVariant("new-checkout", { value: false }, context),
          FeatureFlags.awaitExposures
        ).pipe(Effect.provide(flagsOf(RemoteFlags.layer({ token, baseUrl: server.url }))))
        // local flags: the token travels in the query of `GET /flags/definitions`
        yield* Effect.zipRight(
          FeatureFlags.getVariant("local-gate", { value: false }, context),
          FeatureFlags.awaitExposures
        ).pipe(Effect.provide(flagsOf(LocalFlags.layer({ token, baseUrl: server.url, polling: false }))))
        // `/import`: the API secret in the Authorization header
        yield* Mixpanel.importEvent(distinctId, "Order", Date.UTC(2020, 0, 1), { coupon: value }).pipe(
          Effect.provide(MixpanelLive.pipe(Layer.provide(FetchHttpClient.layer)))
        )
        expect(server.received("imports")).toHaveLength(1)

        const finished = spans.getFinishedSpans()
        const names = finished.map((span) => span.name)
        expect(names.filter((name) => name === "Mixpanel.flags.request")).toHaveLength(2)
        expect(names).toContain("Mixpanel.request")
        // the platform client's span, whose attributes are the URL, its query and the headers, is not made
        expect(names.filter((name) => name.startsWith("http.client"))).toEqual([])
        const everything = JSON.stringify(finished.map((span) => [span.name, span.attributes, span.events]))
        for (const secret of secrets) expect(everything).not.toContain(secret)

        // the trace still reaches Mixpanel: the import's request names its Mixpanel.request span
        const imported = finished.find(
          (span) => span.name === "Mixpanel.request" && span.attributes.endpoint === "imports"
        )
        const request = server.requests().find((request) => request.endpoint === "imports")
        expect(request?.headers.traceparent).toBe(
          `00-${imported?.spanContext().traceId}-${imported?.spanContext().spanId}-01`
        )
      }).pipe(Effect.scoped, Effect.provide(TelemetryLive(spans)))
    })
  )

  it.live("carry no trace context when the application's client turns propagation off", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ token })
      const MixpanelLive = Mixpanel.layer({ token }).pipe(
        Layer.provideMerge(
          Consumer.layerDirect({ baseUrl: server.url, transformClient: HttpClient.withTracerPropagation(false) })
        ),
        Layer.provide(FetchHttpClient.layer)
      )
      yield* Mixpanel.track(distinctId, "Signed Up").pipe(Effect.withSpan("signup"), Effect.provide(MixpanelLive))
      const [request] = server.requests().filter((request) => request.endpoint === "events")
      expect(request?.status).toBe(200)
      expect(request?.headers).not.toHaveProperty("traceparent")
      expect(request?.headers).not.toHaveProperty("b3")
    }).pipe(Effect.scoped, Effect.provide(TelemetryLive(new InMemorySpanExporter())))
  )
})

describe("Mixpanel.request spans", () => {
  const consumers = [
    ["layerDirect", Consumer.layerDirect],
    ["layerBuffered", Consumer.layerBuffered]
  ] as const
  for (const [name, layer] of consumers) {
    it.live(`one per try of a request (${name}): kind client, the try's number, the body's size, one request id`, () =>
      Effect.gen(function* () {
        const spans = new InMemorySpanExporter()
        yield* Effect.gen(function* () {
          const server = yield* MixpanelTestServer.make()
          server.fail(MixpanelTestServer.Fault.status(503))
          const MixpanelLive = Mixpanel.layer({ token: "t" }).pipe(
            Layer.provideMerge(layer({ baseUrl: server.url, retrySchedule: Schedule.spaced("10 millis") })),
            Layer.provide(FetchHttpClient.layer)
          )
          yield* Effect.zipRight(Mixpanel.track("u1", "Signed Up"), Consumer.flush).pipe(Effect.provide(MixpanelLive))
          const tries = spans
            .getFinishedSpans()
            .filter((span) => span.name === "Mixpanel.request")
            .sort((a, b) => Number(a.attributes.attempt) - Number(b.attributes.attempt))
          const requests = server.requests()
          expect(requests.map((request) => request.status)).toEqual([503, 200])
          expect(tries.map((span) => [span.kind, span.attributes])).toMatchObject(
            requests.map((request, i) => [
              SpanKind.CLIENT,
              {
                endpoint: "events",
                messages: 1,
                bytes: request.bytes,
                attempt: i + 1,
                request_id: request.headers["x-request-id"]
              }
            ])
          )
          expect(tries[0]?.attributes.request_id).toBe(tries[1]?.attributes.request_id)
        }).pipe(Effect.scoped, Effect.provide(TelemetryLive(spans)))
      })
    )
  }
})
