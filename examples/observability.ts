/**
 * Spans and metrics of the library, exported through OpenTelemetry with `@effect/opentelemetry`.
 *
 * `npx tsx examples/observability.ts` prints the spans to the console; the test of this example swaps in
 * in-memory exporters and checks what they received.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { FetchHttpClient } from "@effect/platform"
import type { MetricReader } from "@opentelemetry/sdk-metrics"
import { ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

/** The OpenTelemetry SDK as a layer: every Effect span and metric goes to these exporters. */
export const TelemetryLive = (spans: SpanExporter, metrics?: MetricReader) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "checkout-service" },
    spanProcessor: new SimpleSpanProcessor(spans),
    ...(metrics === undefined ? {} : { metricReader: metrics })
  }))

/** A request handler's worth of tracking, through the buffered consumer, to the embedded Mixpanel. */
export const program = Effect.gen(function* () {
  const server = yield* MixpanelTestServer.make()
  const MixpanelLive = Mixpanel.layer({ token: "YOUR_PROJECT_TOKEN" }).pipe(
    Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url })),
    Layer.provide(FetchHttpClient.layer)
  )
  yield* Effect.gen(function* () {
    yield* Mixpanel.track("user-1", "Checkout", { total: 42.5, coupon: "SPRING" })
    yield* Mixpanel.peopleIncrement("user-1", { orders: 1 })
    yield* Consumer.flush
  }).pipe(Effect.withSpan("POST /checkout"), Effect.provide(MixpanelLive))
  return server.received("events").length
})

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.scoped, Effect.provide(TelemetryLive(new ConsoleSpanExporter())), Effect.runPromise)
}
