/**
 * A serverless function (AWS Lambda, Google Cloud Functions, ...): the runtime outlives one invocation
 * but may be frozen right after it returns, so each invocation flushes what it tracked before returning,
 * with a deadline so that a slow Mixpanel never holds the response up. Undelivered messages go to the
 * hook, which could persist them.
 *
 * `npx tsx examples/serverless.ts` runs three invocations against the embedded Mixpanel.
 */
import { FetchHttpClient } from "@effect/platform"
import { Config, Effect, Layer, ManagedRuntime } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

const onUndelivered: Consumer.OnUndelivered = (failures) =>
  Effect.logError(`${failures.length} events not delivered; a real function would store them for later`)

// Built once per container, lazily, on the first invocation; settings from the environment.
const runtime = ManagedRuntime.make(
  Mixpanel.layerConfig().pipe(
    Layer.provideMerge(
      Consumer.layerBufferedConfig(Config.map(Consumer.bufferedConfig, (options) => ({ ...options, onUndelivered })))
    ),
    Layer.provide(FetchHttpClient.layer)
  )
)

export const handler = (event: { readonly userId: string; readonly action: string }) =>
  runtime.runPromise(
    Effect.gen(function* () {
      yield* Mixpanel.track(event.userId, "Function Invoked", { action: event.action })
      // Deliver before returning; give up after 2 seconds (the hook gets what is left at shutdown).
      yield* Consumer.flush.pipe(
        Effect.timeout("2 seconds"),
        Effect.catchAll((error) => Effect.logWarning(`flush did not complete: ${error.message}`))
      )
      return { statusCode: 200 }
    })
  )

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await MixpanelTestServer.start()
  process.env.MIXPANEL_TOKEN ??= "YOUR_PROJECT_TOKEN"
  process.env.MIXPANEL_BASE_URL = server.url
  for (const action of ["create", "update", "delete"]) await handler({ userId: "user-1", action })
  console.log(`after 3 invocations the server holds ${server.received("events").length} events`)
  await runtime.dispose()
  await server.close()
}
