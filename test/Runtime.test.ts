/**
 * What the library's layers leave in a runtime built from them (`ManagedRuntime.make`, `Layer.toRuntime`):
 * their services, and no FiberRefs. A FiberRef that a layer leaves set, even to its initial value, is
 * copied by every fork on that runtime, the application's own included: two of them (log annotations and
 * a scheduling priority, left by `@effect/sql`'s `Migrator` in the durable store's build) made each
 * `runFork` about a tenth slower.
 */
import { join } from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, FiberRefs, HashSet, Layer } from "effect"
import { DurableStore } from "effect-mixpanel/durable"
import { Consumer, LocalFlags, Mixpanel, RemoteFlags, TestConsumer } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"
import { tempDir } from "./durable/support/store.js"

const token = "0123456789abcdef0123456789abcdef"

/**
 * How many FiberRefs a runtime built from `layer` holds (what each of its forks copies), built in a
 * fiber of its own so that what one layer leaves does not show in the next one's count.
 */
const fiberRefsOf = <E>(layer: Layer.Layer<never, E>) =>
  Effect.flatMap(Effect.fork(Effect.scoped(Layer.toRuntime(layer))), (fiber) =>
    Effect.map(Effect.flatten(Fiber.await(fiber)), (runtime) => HashSet.size(FiberRefs.fiberRefs(runtime.fiberRefs)))
  )

describe("the layers' runtime", () => {
  it.scopedLive("holds the FiberRefs of an empty layer's, whatever layers it is built from", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ token })
      const file = join(yield* tempDir, "outbox.db")
      const empty = yield* fiberRefsOf(Layer.empty)
      const layers: ReadonlyArray<readonly [string, Layer.Layer<never, unknown>]> = [
        [
          "Mixpanel.layer and Consumer.layerBuffered",
          Mixpanel.layer({ token }).pipe(
            Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url })),
            Layer.provide(FetchHttpClient.layer)
          )
        ],
        [
          "Consumer.layerDirect",
          Consumer.layerDirect({ baseUrl: server.url }).pipe(Layer.provide(FetchHttpClient.layer))
        ],
        [
          "Consumer.layerDurable and DurableStore.layerSqlite",
          Consumer.layerDurable({ baseUrl: server.url }).pipe(
            Layer.provide(DurableStore.layerSqlite({ filename: file })),
            Layer.provide(FetchHttpClient.layer)
          )
        ],
        ["TestConsumer.layer", TestConsumer.layer],
        ["MixpanelTestServer.layer", MixpanelTestServer.layer()],
        [
          "LocalFlags.layer",
          LocalFlags.layer({ token, baseUrl: server.url }).pipe(
            Layer.provide(Mixpanel.layer({ token })),
            Layer.provide(TestConsumer.layer),
            Layer.provide(FetchHttpClient.layer)
          )
        ],
        [
          "RemoteFlags.layer",
          RemoteFlags.layer({ token, baseUrl: server.url }).pipe(
            Layer.provide(Mixpanel.layer({ token })),
            Layer.provide(TestConsumer.layer),
            Layer.provide(FetchHttpClient.layer)
          )
        ]
      ]
      for (const [name, layer] of layers) {
        expect({ name, count: yield* fiberRefsOf(layer) }).toEqual({ name, count: empty })
      }
    })
  )
})
