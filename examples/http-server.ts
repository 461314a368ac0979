/**
 * An HTTP service that tracks an event per request through the buffered consumer, and delivers what is
 * left when it shuts down (Ctrl-C or SIGTERM): the server stops taking requests first, then the
 * consumer's scope closes and flushes, within `shutdownTimeout`.
 *
 *   MIXPANEL_TOKEN=... npx tsx examples/http-server.ts
 *   curl localhost:3000/hello/ada
 *
 * Settings come from the environment (docs/configuration.md); `PORT` picks the port (default 3000).
 */
import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"

/** Tracking must never fail a request: an invalid message is logged, and delivery happens in the background. */
const trackRequest = (distinctId: string, path: string) =>
  Mixpanel.track(distinctId, "Page Requested", { path }).pipe(
    Effect.catchAll((error) => Effect.logWarning(`not tracked: ${error.message}`))
  )

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/hello/:name",
    Effect.gen(function* () {
      const { name = "" } = yield* HttpRouter.params
      const request = yield* HttpServerRequest.HttpServerRequest
      yield* trackRequest(name, request.url)
      return HttpServerResponse.text(`hello, ${name}\n`)
    })
  )
)

const MixpanelLive = Mixpanel.layerConfig().pipe(
  Layer.provideMerge(Consumer.layerBufferedConfig()),
  Layer.provide(NodeHttpClient.layerUndici)
)

const ServerLive = Layer.unwrapEffect(
  Effect.map(Config.integer("PORT").pipe(Config.withDefault(3000)), (port) =>
    NodeHttpServer.layer(createServer, { port })
  )
)

const App = router.pipe(
  HttpServer.serve(),
  HttpServer.withLogAddress,
  Layer.provide(ServerLive),
  Layer.provide(MixpanelLive)
)

NodeRuntime.runMain(Layer.launch(App))
