/**
 * The `effect-mixpanel/testing` entry: an embedded, Mixpanel-compatible ingestion server for
 * integration tests. Node only (it uses `node:http` and `node:zlib`).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as MixpanelTestServer from "./MixpanelTestServer.js"
