/**
 * The `effect-mixpanel/testing` entry: an embedded, Mixpanel-compatible ingestion server for
 * integration tests. Node only (it uses `node:http` and `node:zlib`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const server = yield* MixpanelTestServer.make({ token: "T" })
 *     // ... point a consumer at `server.url`, send, then read what arrived:
 *     return server.received("events")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category modules
 */

/**
 * The embedded Mixpanel-compatible server, for integration tests (Node only).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.scoped(Effect.map(MixpanelTestServer.make(), (server) => server.url))
 * ```
 *
 * @since 0.1.0
 * @category modules
 */
export * as MixpanelTestServer from "./MixpanelTestServer.js"
