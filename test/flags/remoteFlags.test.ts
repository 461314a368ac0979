import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { FeatureFlags, MixpanelError, RemoteFlags, type TestConsumer } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { tick, untilSleeping } from "../support/io.js"
import { exposures, nestedJson, remoteLayer, TestMixpanel, token, user } from "./support.js"

const { Fault } = MixpanelTestServer

const flagRequests = (server: MixpanelTestServer.MixpanelTestServer) =>
  server.requests().filter((request) => request.endpoint === "flags")

const variants = {
  "new-checkout": {
    variant_key: "on",
    variant_value: true,
    experiment_id: "exp-1",
    is_experiment_active: true,
    is_qa_tester: false
  },
  "button-color": { variant_key: "Blue", variant_value: "#00f" }
}

const setup = (serverOptions: MixpanelTestServer.Options = {}, options: Partial<RemoteFlags.Options> = {}) =>
  Effect.gen(function* () {
    const server = yield* MixpanelTestServer.make({ token, remoteFlags: variants, ...serverOptions })
    const context = yield* Layer.build(remoteLayer(server, options))
    const run = <A, E>(
      effect: Effect.Effect<A, E, RemoteFlags.RemoteFlags | FeatureFlags.FeatureFlags | TestConsumer.TestConsumer>
    ) => Effect.provide(effect, context)
    return { server, run }
  })

describe("RemoteFlags", () => {
  it.scoped(
    "one request per lookup, with the context, the flag key, the official SDKs' parameters, and the caller's trace",
    () =>
      Effect.gen(function* () {
        const { run, server } = yield* setup()
        const context = { distinct_id: "u1", company_id: "acme", custom_properties: { plan: "pro" } }
        // looked up inside a span of the application's: the request carries its trace
        const [variant, span] = yield* run(
          Effect.zip(FeatureFlags.getVariant("new-checkout", { value: false }, context), Effect.currentSpan)
        ).pipe(Effect.withSpan("checkout"))
        expect(variant).toEqual({
          source: "remote",
          key: "on",
          value: true,
          experimentId: "exp-1",
          isExperimentActive: true,
          isQaTester: false
        })
        const [request] = flagRequests(server)
        expect(request).toMatchObject({
          method: "GET",
          path: "/flags",
          status: 200,
          query: { token, mp_lib: "effect-mixpanel", flag_key: "new-checkout" }
        })
        expect(JSON.parse(request?.query.context ?? "")).toEqual(context)
        expect(request?.query.$lib_version).toMatch(/^\d+\.\d+\.\d+/)
        // the server took `token:` (it answers 401 to anything else); its log keeps the token out
        expect(request?.headers.authorization).toBe("Basic <redacted>:")
        expect(request?.headers.traceparent).toMatch(new RegExp(`^00-${span.traceId}-[0-9a-f]{16}-01$`))
        expect((yield* run(RemoteFlags.RemoteFlags)).mode).toBe("remote")
      })
  )

  it.scoped("a flag the server does not serve falls back with FlagNotFound", () =>
    Effect.gen(function* () {
      const { run } = yield* setup()
      expect(yield* run(FeatureFlags.getVariant("unknown", { key: "control", value: "c" }, user("u1")))).toEqual({
        source: "fallback",
        key: "control",
        value: "c",
        reason: { _tag: "FlagNotFound" }
      })
      expect(yield* run(FeatureFlags.isEnabled("unknown", user("u1")))).toBe(false)
    })
  )

  it.scoped("the server's evaluation may depend on the context", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup({
        remoteFlags: ({ context }) =>
          context.distinct_id === "vip" ? { "new-checkout": { variant_key: "on", variant_value: true } } : {}
      })
      expect(yield* run(FeatureFlags.isEnabled("new-checkout", user("vip")))).toBe(true)
      expect(yield* run(FeatureFlags.isEnabled("new-checkout", user("someone")))).toBe(false)
      expect(flagRequests(server)).toHaveLength(2)
    })
  )

  it.scoped("exposure events carry the remote mode and the fetch latency from the Clock", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup()
      server.failOn("flags", Fault.stall)
      // a stalled first lookup times out; the second one is served
      const stalled = yield* Effect.fork(run(FeatureFlags.getVariantValue("button-color", "grey", user("u1"))))
      yield* untilSleeping("10 seconds")
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(stalled)).toBe("grey")
      yield* run(FeatureFlags.getVariant("button-color", { value: "grey" }, user("u1")))
      yield* run(FeatureFlags.getVariant("new-checkout", { value: false }, user("u2"), { exposure: false }))
      yield* run(FeatureFlags.awaitExposures)
      expect(yield* run(exposures)).toEqual([
        {
          distinct_id: "u1",
          "Experiment name": "button-color",
          "Variant name": "Blue",
          $experiment_type: "feature_flag",
          "Flag evaluation mode": "remote",
          "Variant fetch latency (ms)": 0
        }
      ])
    })
  )

  it.scoped("a request that outlives the timeout falls back with BackendError(Timeout)", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup({}, { requestTimeout: "2 seconds" })
      server.failOn("flags", Fault.stall)
      const lookup = yield* Effect.fork(run(FeatureFlags.getVariant("new-checkout", { value: false }, user("u1"))))
      yield* untilSleeping("2 seconds")
      yield* TestClock.adjust("1999 millis")
      yield* tick
      expect(lookup.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const variant = yield* Fiber.join(lookup)
      expect(variant).toMatchObject({ source: "fallback", value: false, reason: { _tag: "BackendError" } })
      if (variant.source !== "fallback" || variant.reason._tag !== "BackendError") return expect.fail("a fallback")
      expect(variant.reason.error).toMatchObject({ path: "/flags", reason: "Timeout" })
      expect(yield* run(exposures)).toEqual([])
    })
  )

  it.scoped("an HTTP client that dies is a failed request: the lookup falls back with BackendError(Transport)", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({
        token,
        remoteFlags: { "new-checkout": { variant_key: "on", variant_value: true } }
      })
      const Dying = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) => HttpClient.transform(client, () => Effect.die(new Error("boom"))))
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const layer = RemoteFlags.layer({ token, baseUrl: server.url }).pipe(
        Layer.provideMerge(TestMixpanel),
        Layer.provide(Dying)
      )
      const variant = yield* FeatureFlags.getVariant("new-checkout", { value: false }, user("u1")).pipe(
        Effect.provide(layer)
      )
      expect(variant).toMatchObject({
        source: "fallback",
        value: false,
        reason: { _tag: "BackendError", error: { reason: "Transport", detail: "the HTTP client died: Error: boom" } }
      })
    })
  )

  it.scoped("errors fall back with BackendError carrying the FlagsError", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup()
      const cases: ReadonlyArray<readonly [MixpanelTestServer.Fault, Partial<MixpanelError.FlagsError>]> = [
        [Fault.status(500), { reason: "ServerError", status: 500 }],
        [
          Fault.status(503, { body: '{"error":"try later"}' }),
          { reason: "ServerError", status: 503, detail: "try later" }
        ],
        [Fault.rateLimited(1), { reason: "RateLimited", status: 429 }],
        [
          Fault.status(400, { body: "bad context" }),
          { reason: "UnexpectedStatus", status: 400, detail: "bad context" }
        ],
        [Fault.drop, { reason: "Transport" }],
        [Fault.body("garbage"), { reason: "Malformed", status: 200 }],
        [Fault.body('{"flags": []}'), { reason: "Malformed", status: 200 }],
        [
          Fault.body('{"flags": {"new-checkout": {"variant_value": true}}}'),
          { reason: "Malformed", flagKey: "new-checkout" }
        ]
      ]
      for (const [fault, expected] of cases) {
        server.failOn("flags", fault)
        const variant = yield* run(FeatureFlags.getVariant("new-checkout", { value: "fallback" }, user("u1")))
        if (variant.source !== "fallback" || variant.reason._tag !== "BackendError") {
          return expect.fail(`a BackendError fallback for ${JSON.stringify(fault)}`)
        }
        expect(variant.value).toBe("fallback")
        expect(variant.reason.error).toMatchObject({ _tag: "FlagsError", path: "/flags", ...expected })
        expect(MixpanelError.isMixpanelError(variant.reason.error)).toBe(true)
        expect(variant.reason.error.message).not.toContain(token)
      }
      expect(yield* run(exposures)).toEqual([])
    })
  )

  it.scoped("a variant nested thousands of levels deep is Malformed alone, as is a deep body", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup()
      const deep = `{"variant_key":"on","variant_value":${nestedJson(10_000)}}`
      const tooDeep = "malformed, and nested more than 200 levels deep"
      server.failOn("flags", Fault.body(`{"flags":{"new-checkout":${deep}}}`))
      expect(yield* run(FeatureFlags.getVariant("new-checkout", { value: false }, user("u1")))).toMatchObject({
        source: "fallback",
        reason: { _tag: "BackendError", error: { reason: "Malformed", flagKey: "new-checkout", detail: tooDeep } }
      })
      server.failOn(
        "flags",
        Fault.body(`{"flags":{"button-color":${JSON.stringify(variants["button-color"])},"deep":${deep}}}`)
      )
      expect(yield* run(FeatureFlags.getAllVariants(user("u1")))).toEqual({
        "button-color": { source: "remote", key: "Blue", value: "#00f" }
      })
      server.failOn("flags", Fault.body(`{"flags":${nestedJson(10_000)}}`))
      expect(yield* run(Effect.flip(FeatureFlags.getAllVariants(user("u1"))))).toMatchObject({
        reason: "Malformed",
        detail: tooDeep
      })
    })
  )

  it.scoped("wrong credentials are Unauthorized", () =>
    Effect.gen(function* () {
      const { run } = yield* setup({}, { token: "other-token" })
      const variant = yield* run(FeatureFlags.getVariant("new-checkout", { value: false }, user("u1")))
      expect(variant).toMatchObject({
        reason: { _tag: "BackendError", error: { reason: "Unauthorized", status: 401 } }
      })
    })
  )

  it.scoped("getAllVariants is one request without a flag key, and fails with the request's error", () =>
    Effect.gen(function* () {
      const { run, server } = yield* setup({
        remoteFlags: { ...variants, broken: { variant_value: 1 } }
      })
      const all = yield* run(FeatureFlags.getAllVariants(user("u1")))
      expect(all).toEqual({
        "new-checkout": {
          source: "remote",
          key: "on",
          value: true,
          experimentId: "exp-1",
          isExperimentActive: true,
          isQaTester: false
        },
        "button-color": { source: "remote", key: "Blue", value: "#00f" }
      })
      expect(flagRequests(server)[0]?.query.flag_key).toBeUndefined()
      server.failOn("flags", Fault.status(502))
      const error = yield* run(Effect.flip(FeatureFlags.getAllVariants(user("u1"))))
      expect(error).toMatchObject({ _tag: "FlagsError", reason: "ServerError", status: 502 })
      yield* run(FeatureFlags.awaitExposures)
      expect(yield* run(exposures)).toEqual([])
    })
  )

  it.scoped("layer needs a token", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Layer.build(
          RemoteFlags.layer({ token: "" }).pipe(Layer.provide(TestMixpanel), Layer.provide(FetchHttpClient.layer))
        )
      )
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "InvalidConfig", option: "token" } } })
    })
  )
})
