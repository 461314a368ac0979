/**
 * Shared set-up of the flags tests: an embedded Mixpanel serving flags, and the flags layers over real
 * HTTP (Fetch) with exposure events recorded by `TestConsumer`.
 */
import * as Fs from "node:fs"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { type FeatureFlags, LocalFlags, Mixpanel, RemoteFlags, TestConsumer } from "effect-mixpanel"
import type { MixpanelTestServer } from "effect-mixpanel/testing"
import { tick } from "../support/io.js"

export const token = "flags-token"

/** The `Mixpanel` service recording into `TestConsumer`. */
export const TestMixpanel = Mixpanel.layer({ token }).pipe(Layer.provideMerge(TestConsumer.layer))

/** Reads a conformance case file of `test/flags/cases/`. */
export const readCases = <A>(name: string): A =>
  JSON.parse(Fs.readFileSync(new URL(`./cases/${name}`, import.meta.url), "utf8")) as A

/** `LocalFlags` against `server`, with `TestConsumer` and `Mixpanel` in the context too. */
export const localLayer = (server: MixpanelTestServer.MixpanelTestServer, options: Partial<LocalFlags.Options> = {}) =>
  LocalFlags.layer({ token, baseUrl: server.url, ...options }).pipe(
    Layer.provideMerge(TestMixpanel),
    Layer.provide(FetchHttpClient.layer)
  )

/** `RemoteFlags` against `server`, with `TestConsumer` and `Mixpanel` in the context too. */
export const remoteLayer = (
  server: MixpanelTestServer.MixpanelTestServer,
  options: Partial<RemoteFlags.Options> = {}
) =>
  RemoteFlags.layer({ token, baseUrl: server.url, ...options }).pipe(
    Layer.provideMerge(TestMixpanel),
    Layer.provide(FetchHttpClient.layer)
  )

/** Yields to the event loop until `check` gives `true`; dies after `turns` turns. */
export const eventually = <E, R>(
  check: Effect.Effect<boolean, E, R>,
  what = "condition",
  turns = 20_000
): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    for (let i = 0; i < turns; i++) {
      if (yield* check) return
      yield* tick
    }
    return yield* Effect.dieMessage(`waited ${turns} event-loop turns for ${what}`)
  })

/** The exposure events recorded, as `[distinct_id, properties without the ones every event carries]`. */
export const exposures = Effect.map(TestConsumer.events, (events) =>
  events
    .filter((event) => event.event === "$experiment_started")
    .map((event) => {
      const { $insert_id: _i, $lib_version: _v, mp_lib: _l, time: _t, token: _k, ...properties } = event.properties
      return properties
    })
)

/** A flag with one variant per key, served to everyone (`rollout_percentage: 1`) by hash. */
export const simpleFlag = (key: string, variants: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: key,
  name: key,
  key,
  status: "active",
  project_id: 1,
  context: "distinct_id",
  ruleset: {
    variants: Object.entries(variants).map(([variantKey, value], i, all) => ({
      key: variantKey,
      value,
      is_control: i === 0,
      split: 1 / all.length
    })),
    rollout: [{ rollout_percentage: 1 }]
  },
  ...extra
})

export const user = (distinctId: string, custom?: Record<string, unknown>): FeatureFlags.Context =>
  (custom === undefined
    ? { distinct_id: distinctId }
    : { distinct_id: distinctId, custom_properties: custom }) as FeatureFlags.Context

/**
 * JSON text of arrays nested `levels` deep, written by hand: `JSON.stringify` (and so the test server)
 * overflows the stack on a value a few thousand levels deep, where `JSON.parse` reads it.
 */
export const nestedJson = (levels: number): string => `${"[".repeat(levels)}${"]".repeat(levels)}`
