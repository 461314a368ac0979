import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

// Your application code: tracking operations are Effects that need the Mixpanel service.
const signUp = (userId: string) =>
  Effect.gen(function* () {
    yield* Mixpanel.track(userId, "Signed Up", { plan: "pro", at: new Date() })
    yield* Mixpanel.peopleSet(userId, { $name: "Ada Lovelace", plan: "pro" })
  })

const main = Effect.gen(function* () {
  // An embedded Mixpanel on loopback, so this runs anywhere. In production, leave out `baseUrl`
  // (or set `region: "EU"`) and use your project's token.
  const server = yield* MixpanelTestServer.make()

  // The buffered consumer batches in the background; closing its layer delivers what it holds.
  // `provideMerge` keeps the Consumer in the layer's output too, for `Consumer.flush`.
  const MixpanelLive = Mixpanel.layer({ token: "YOUR_PROJECT_TOKEN" }).pipe(
    Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url })),
    Layer.provide(FetchHttpClient.layer)
  )

  yield* signUp("user-1").pipe(Effect.provide(MixpanelLive))
  console.log(server.received("events"), server.received("people"))
})

Effect.runPromise(Effect.scoped(main))
