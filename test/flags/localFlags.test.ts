import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Exit, Fiber, Layer, Logger, Option, Redacted, Scope, TestClock } from "effect"
import { Consumer, FeatureFlags, LocalFlags, Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { tick, untilSleeping, waitUntil } from "../support/io.js"
import { capture } from "../support/logs.js"
import { eventually, exposures, localLayer, nestedJson, simpleFlag, TestMixpanel, token, user } from "./support.js"

const { Fault } = MixpanelTestServer

const definitionRequests = (server: MixpanelTestServer.MixpanelTestServer) =>
  server.requests().filter((request) => request.endpoint === "flagDefinitions")

const gate = (key: string, on: boolean) =>
  simpleFlag(key, on ? { on: true } : { off: false }, { experiment_id: "exp-1", is_experiment_active: true })

/** Builds the layer in a scope the test closes itself. */
const start = (server: MixpanelTestServer.MixpanelTestServer, options: Partial<LocalFlags.Options> = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(localLayer(server, options), scope)
    const run = <A, E>(
      effect: Effect.Effect<A, E, LocalFlags.LocalFlags | FeatureFlags.FeatureFlags | TestConsumer.TestConsumer>
    ) => Effect.provide(effect, context)
    return { scope, run }
  })

/** Lets the polling fiber, polling every 30 seconds, fetch once more. */
const nextPoll = Effect.zipRight(untilSleeping("30 seconds"), TestClock.adjust("30 seconds"))

/** Waits for a failed fetch, and gives its error. */
const lastError = (status: Effect.Effect<LocalFlags.Status>) =>
  Effect.zipRight(
    eventually(
      Effect.map(status, (current) => Option.isSome(current.lastError)),
      "a failed fetch"
    ),
    Effect.map(status, (current) => Option.getOrThrow(current.lastError))
  )

describe("LocalFlags", () => {
  describe("fetching definitions", () => {
    it.scoped("sends the parameters and auth of the official SDKs", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token, flagDefinitions: [gate("g", true)] })
        const { run } = yield* start(server, { token: Redacted.make(token) })
        expect(yield* run(LocalFlags.status)).toMatchObject({ ready: true, flags: 1 })
        const [request] = definitionRequests(server)
        expect(request).toMatchObject({
          method: "GET",
          path: "/flags/definitions",
          status: 200,
          query: { token, mp_lib: "effect-mixpanel", $lib_version: expect.stringMatching(/^\d+\.\d+\.\d+/) }
        })
        // the server took `token:` (it answers 401 to anything else); its log keeps the token out
        expect(request?.headers.authorization).toBe("Basic <redacted>:")
        expect(request?.headers["content-type"]).toBe("application/json")
      })
    )

    it.scoped("authenticates as a service account, with project_id", () =>
      Effect.gen(function* () {
        const serviceAccount = { username: "sa.user", secret: "sa-secret", projectId: 42 }
        const server = yield* MixpanelTestServer.make({
          token,
          auth: { serviceAccount },
          flagDefinitions: [gate("g", true)]
        })
        const { run } = yield* start(server, {
          serviceAccount: { ...serviceAccount, secret: Redacted.make("sa-secret") }
        })
        expect(yield* run(LocalFlags.status)).toMatchObject({ ready: true })
        expect(definitionRequests(server)[0]?.query).toMatchObject({ token, project_id: "42" })
      })
    )

    it.scoped("polls on its schedule, keeps the last good definitions on failure, and stops with its scope", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        const { run, scope } = yield* start(server, { pollingInterval: "30 seconds" })
        const on = FeatureFlags.isEnabled("g", user("u1"), { exposure: false })
        expect(yield* run(on)).toBe(true)
        expect(definitionRequests(server)).toHaveLength(1)

        // the next poll serves the new definitions
        server.setFlagDefinitions([gate("g", false)])
        yield* untilSleeping("30 seconds")
        yield* TestClock.adjust("30 seconds")
        yield* eventually(
          Effect.map(run(on), (enabled) => !enabled),
          "the refreshed definitions"
        )
        expect(definitionRequests(server)).toHaveLength(2)
        const refreshed = yield* run(LocalFlags.status)
        expect(refreshed.lastSuccess).toEqual(Option.some(30_000))

        // a failed poll keeps them, and is reported
        server.setFlagDefinitions([gate("g", true)])
        server.failOn("flagDefinitions", Fault.status(503))
        yield* untilSleeping("30 seconds")
        yield* TestClock.adjust("30 seconds")
        yield* eventually(
          Effect.map(run(LocalFlags.status), (status) => Option.isSome(status.lastError)),
          "the failure"
        )
        const failed = yield* run(LocalFlags.status)
        expect(failed).toMatchObject({ ready: true, flags: 1, lastSuccess: Option.some(30_000) })
        expect(Option.getOrThrow(failed.lastError)).toMatchObject({
          _tag: "FlagsError",
          path: "/flags/definitions",
          reason: "ServerError",
          status: 503
        })
        expect(yield* run(on)).toBe(false)

        // the poll after that recovers
        yield* untilSleeping("30 seconds")
        yield* TestClock.adjust("30 seconds")
        yield* eventually(
          Effect.map(run(on), (enabled) => enabled),
          "the recovery"
        )
        expect(Option.isNone((yield* run(LocalFlags.status)).lastError)).toBe(true)

        // closing the scope stops polling
        yield* Scope.close(scope, Exit.void)
        const before = definitionRequests(server).length
        yield* TestClock.adjust("10 minutes")
        for (let i = 0; i < 50; i++) yield* tick
        expect(definitionRequests(server)).toHaveLength(before)
        expect(yield* TestClock.sleeps()).toHaveLength(0)
      })
    )

    it.scoped("polling: false fetches once; refresh fetches on demand", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        const { run } = yield* start(server, { polling: false })
        yield* TestClock.adjust("1 hour")
        expect(definitionRequests(server)).toHaveLength(1)
        expect(yield* TestClock.sleeps()).toHaveLength(0)
        server.setFlagDefinitions([gate("g", false)])
        yield* run(LocalFlags.refresh)
        expect(yield* run(FeatureFlags.isEnabled("g", user("u1")))).toBe(false)
        server.failOn("flagDefinitions", Fault.status(401))
        const error = yield* run(Effect.flip(LocalFlags.refresh))
        expect(error).toMatchObject({ _tag: "FlagsError", reason: "Unauthorized", status: 401 })
        expect(MixpanelError.isMixpanelError(error)).toBe(true)
        expect(error.message).not.toContain(token)
      })
    )

    it.scoped("before the first success every lookup falls back with NotReady", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        server.failOn("flagDefinitions", Fault.drop)
        const { run } = yield* start(server)
        const status = yield* run(LocalFlags.status)
        expect(status).toMatchObject({ ready: false, flags: 0, lastSuccess: Option.none() })
        expect(Option.getOrThrow(status.lastError)).toMatchObject({ reason: "Transport" })
        const variant = yield* run(FeatureFlags.getVariant("g", { key: "fb", value: "x" }, user("u1")))
        expect(variant).toEqual({ source: "fallback", key: "fb", value: "x", reason: { _tag: "NotReady" } })
        expect(yield* run(FeatureFlags.getAllVariants(user("u1")))).toEqual({})
        // the first poll succeeds
        yield* untilSleeping("60 seconds")
        yield* TestClock.adjust("60 seconds")
        yield* eventually(run(FeatureFlags.isEnabled("g", user("u1"))), "the first success")
      })
    )

    it.scoped("a request timeout is a Timeout failure, and the lookups fall back", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        server.failOn("flagDefinitions", Fault.stall)
        const started = yield* Effect.fork(start(server, { requestTimeout: "5 seconds" }))
        yield* untilSleeping("5 seconds")
        yield* TestClock.adjust("5 seconds")
        const { run } = yield* started
        const status = yield* run(LocalFlags.status)
        expect(Option.getOrThrow(status.lastError)).toMatchObject({ reason: "Timeout" })
        expect(yield* run(FeatureFlags.getVariantValue("g", "fallback", user("u1")))).toBe("fallback")
      })
    )

    it.scoped("a malformed definition fails that flag alone, and is reported", () =>
      Effect.gen(function* () {
        const broken = { ...gate("broken", true), ruleset: { variants: [], rollout: [] } }
        const server = yield* MixpanelTestServer.make({
          flagDefinitions: [gate("good", true), broken, { no: "key" }, "not even an object"]
        })
        const { run } = yield* start(server)
        const status = yield* run(LocalFlags.status)
        expect(status).toMatchObject({ ready: true, flags: 1 })
        expect(status.invalidFlags.map((error) => [error.reason, error.flagKey])).toEqual([
          ["InvalidDefinition", "broken"],
          ["InvalidDefinition", undefined],
          ["InvalidDefinition", undefined]
        ])
        expect(yield* run(FeatureFlags.isEnabled("good", user("u1")))).toBe(true)
        const variant = yield* run(FeatureFlags.getVariant("broken", { value: 0 }, user("u1")))
        expect(variant).toMatchObject({ source: "fallback", value: 0, reason: { _tag: "InvalidDefinition" } })
        expect(yield* run(FeatureFlags.getVariant("absent", { value: 0 }, user("u1")))).toMatchObject({
          reason: { _tag: "FlagNotFound" }
        })
      })
    )

    /** A definitions body of `gate("good", true)` and a flag `deep` whose rule nests `levels` deep. */
    const withDeepRule = (levels: number) => {
      const deep = JSON.stringify(gate("deep", true)).replace(
        '"rollout_percentage":1',
        `"rollout_percentage":1,"runtime_evaluation_rule":${nestedJson(levels)}`
      )
      return `{"code":200,"flags":[${JSON.stringify(gate("good", true))},${deep}]}`
    }

    it.scoped("a definition nested thousands of levels deep is refused alone, and the layer builds", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("good", true)] })
        server.failOn("flagDefinitions", Fault.body(withDeepRule(10_000)))
        const { run } = yield* start(server, { polling: false })
        const status = yield* run(LocalFlags.status)
        expect(status).toMatchObject({ ready: true, flags: 1, lastError: Option.none() })
        expect(status.invalidFlags).toMatchObject([
          {
            reason: "InvalidDefinition",
            flagKey: "deep",
            detail: "flag 1: malformed, and nested more than 200 levels deep"
          }
        ])
        expect(yield* run(FeatureFlags.isEnabled("good", user("u1")))).toBe(true)
        expect(yield* run(FeatureFlags.getVariant("deep", { value: 0 }, user("u1")))).toMatchObject({
          source: "fallback",
          reason: { _tag: "InvalidDefinition", error: { flagKey: "deep" } }
        })
      })
    )

    it.scoped("while polling, a deep flag is refused alone, a deep body is a failed fetch, and polling goes on", () =>
      Effect.gen(function* () {
        const logs = capture()
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("good", true)] })
        const { run } = yield* start(server, { pollingInterval: "30 seconds" }).pipe(Effect.provide(logs.layer))

        server.failOn("flagDefinitions", Fault.body(withDeepRule(10_000)))
        yield* nextPoll
        yield* eventually(
          Effect.map(run(LocalFlags.status), (status) => status.invalidFlags.length === 1),
          "the deep flag refused"
        )
        expect(yield* run(LocalFlags.status)).toMatchObject({ flags: 1, lastError: Option.none() })
        expect(yield* run(FeatureFlags.isEnabled("good", user("u1")))).toBe(true)

        // a body that is not the definitions, too deep to quote in the error
        server.failOn("flagDefinitions", Fault.body(`{"flags":{"deep":${nestedJson(10_000)}}}`))
        yield* nextPoll
        expect(yield* lastError(run(LocalFlags.status))).toMatchObject({
          reason: "Malformed",
          detail: "malformed, and nested more than 200 levels deep"
        })
        expect(logs.lines).toContainEqual(
          expect.objectContaining({
            level: "WARN",
            message: expect.stringContaining("fetching the flag definitions failed")
          })
        )
        expect(yield* run(FeatureFlags.isEnabled("good", user("u1")))).toBe(true)

        // the next poll happens, and succeeds
        yield* nextPoll
        yield* eventually(
          Effect.map(run(LocalFlags.status), (status) => Option.isNone(status.lastError)),
          "the recovery"
        )
        expect(definitionRequests(server)).toHaveLength(4)
        expect((yield* run(LocalFlags.status)).invalidFlags).toEqual([])
      })
    )

    it.scoped("a defect in one fetch is a failed fetch: reported, logged, and polling goes on", () =>
      Effect.gen(function* () {
        const logs = capture()
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("good", true)] })
        let requests = 0
        // an HTTP client that dies on the second request
        const DyingClient = Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, (client) =>
            HttpClient.transform(client, (response) =>
              Effect.suspend(() => (++requests === 2 ? Effect.die(new Error("boom")) : response))
            )
          )
        ).pipe(Layer.provide(FetchHttpClient.layer))
        const context = yield* Layer.build(
          LocalFlags.layer({ token, baseUrl: server.url, pollingInterval: "30 seconds" }).pipe(
            Layer.provide(TestMixpanel),
            Layer.provide(DyingClient)
          )
        ).pipe(Effect.provide(logs.layer))
        const run = <A, E>(effect: Effect.Effect<A, E, LocalFlags.LocalFlags>) => Effect.provide(effect, context)
        yield* nextPoll
        expect(yield* lastError(run(LocalFlags.status))).toMatchObject({
          reason: "Transport",
          detail: "the HTTP client died: Error: boom"
        })
        expect(logs.lines).toContainEqual(
          expect.objectContaining({ level: "WARN", message: expect.stringContaining("Error: boom") })
        )
        yield* nextPoll
        yield* eventually(
          Effect.map(run(LocalFlags.status), (status) => Option.isNone(status.lastError)),
          "the next poll"
        )
        expect(requests).toBe(3)
        expect(definitionRequests(server)).toHaveLength(2)
      })
    )

    it.scoped("a defect left in a poll (here a logger that throws) is logged, and polling goes on", () =>
      Effect.gen(function* () {
        const logs = capture()
        let thrown = false
        const ThrowingLogger = Logger.add(
          Logger.make(({ message }) => {
            if (!thrown && String(message).includes("fetching the flag definitions failed")) {
              thrown = true
              throw new Error("logger boom")
            }
          })
        )
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        const { run } = yield* start(server, { pollingInterval: "30 seconds" }).pipe(
          Effect.provide(ThrowingLogger),
          Effect.provide(logs.layer)
        )
        server.failOn("flagDefinitions", Fault.status(503))
        yield* nextPoll
        yield* waitUntil(() => thrown, "the logger's throw")
        yield* eventually(
          Effect.sync(() => logs.lines.some((line) => line.level === "ERROR")),
          "the defect logged"
        )
        expect(logs.lines.filter((line) => line.level === "ERROR").map((line) => line.message)).toEqual([
          "fetching the flag definitions died; polling goes on Error: logger boom"
        ])
        yield* nextPoll
        yield* eventually(
          Effect.map(run(LocalFlags.status), (status) => Option.isNone(status.lastError)),
          "the next poll"
        )
        expect(definitionRequests(server)).toHaveLength(3)
      })
    )

    it.scoped("a body that is not the definitions is Malformed, and keeps the last good ones", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: [gate("g", true)] })
        const { run } = yield* start(server, { polling: false })
        server.failOn("flagDefinitions", Fault.body('{"flags":'), Fault.body('{"flags": 5}'))
        expect(yield* run(Effect.flip(LocalFlags.refresh))).toMatchObject({ reason: "Malformed" })
        expect(yield* run(Effect.flip(LocalFlags.refresh))).toMatchObject({ reason: "Malformed" })
        expect(yield* run(FeatureFlags.isEnabled("g", user("u1")))).toBe(true)
      })
    )
  })

  describe("lookups", () => {
    const flags = [
      simpleFlag("color", { blue: "blue" }, { experiment_id: "exp-7", is_experiment_active: false }),
      simpleFlag("group-flag", { on: true }, { context: "company_id" }),
      {
        ...simpleFlag("targeted", { on: true }),
        ruleset: {
          variants: [
            { key: "off", value: false, is_control: true, split: 0 },
            { key: "on", value: true, is_control: false, split: 1 }
          ],
          rollout: [{ rollout_percentage: 1, runtime_evaluation_rule: { "==": [{ var: "Plan" }, "PRO"] } }],
          test: { users: { "qa-user": "OFF" } }
        }
      }
    ]

    it.scoped("serve variants with their source, and fallbacks with their reason", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: flags })
        const { run } = yield* start(server)
        const served = yield* run(FeatureFlags.getVariant("color", { value: "red" }, user("u1")))
        expect(served).toEqual({
          source: "local",
          key: "blue",
          value: "blue",
          experimentId: "exp-7",
          isExperimentActive: false,
          isQaTester: false
        })
        expect(yield* run(FeatureFlags.getVariant("group-flag", { value: false }, user("u1")))).toEqual({
          source: "fallback",
          value: false,
          reason: { _tag: "MissingContextKey", key: "company_id" }
        })
        expect(
          yield* run(FeatureFlags.getVariantValue("group-flag", false, { distinct_id: "u1", company_id: "acme" }))
        ).toBe(true)
        expect(yield* run(FeatureFlags.isEnabled("targeted", user("u1", { plan: "pro" })))).toBe(true)
        expect(
          yield* run(FeatureFlags.getVariant("targeted", { value: "x" }, user("u1", { plan: "free" })))
        ).toMatchObject({ source: "fallback", reason: { _tag: "NoRolloutMatch" } })
        const qa = yield* run(FeatureFlags.getVariant("targeted", { value: "x" }, user("qa-user", { plan: "pro" })))
        expect(qa).toMatchObject({ source: "local", key: "off", value: false, isQaTester: true })
        const all = yield* run(FeatureFlags.getAllVariants({ distinct_id: "u1", company_id: 7 }))
        expect(Object.keys(all)).toEqual(["color", "group-flag"])
        expect((yield* run(FeatureFlags.FeatureFlags)).mode).toBe("local")
      })
    )

    it.scoped("track the exposure event of a served variant through Mixpanel, as the official SDKs do", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: flags })
        const { run } = yield* start(server)
        yield* run(
          Effect.gen(function* () {
            yield* FeatureFlags.getVariant("color", { value: "red" }, user("u1"))
            yield* FeatureFlags.isEnabled("targeted", user("qa-user", { plan: "pro" }))
            // every lookup that serves a variant tracks one, as the official SDKs do (no deduplication)
            yield* FeatureFlags.getVariantValue("color", "red", user("u1"))
            // none for a fallback, with exposure: false, for getAllVariants, or without a distinct_id
            yield* FeatureFlags.getVariant("targeted", { value: "x" }, user("u2"))
            yield* FeatureFlags.getVariant("color", { value: "red" }, user("u3"), { exposure: false })
            yield* FeatureFlags.getAllVariants(user("u4"))
            yield* FeatureFlags.getVariant("color", { value: "red" }, user(""))
            yield* FeatureFlags.awaitExposures
          })
        )
        const color = {
          distinct_id: "u1",
          "Experiment name": "color",
          "Variant name": "blue",
          $experiment_type: "feature_flag",
          "Flag evaluation mode": "local",
          $experiment_id: "exp-7",
          $is_experiment_active: false,
          $is_qa_tester: false
        }
        expect(yield* run(exposures)).toEqual([
          color,
          {
            distinct_id: "qa-user",
            "Experiment name": "targeted",
            "Variant name": "off",
            $experiment_type: "feature_flag",
            "Flag evaluation mode": "local",
            $is_qa_tester: true
          },
          color
        ])
        const [event] = yield* run(TestConsumer.events)
        expect(event).toMatchObject({ event: "$experiment_started", properties: { token } })
      })
    )

    it.scoped("trackExposure tracks on demand, and needs a distinct_id", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: flags })
        const { run } = yield* start(server)
        const all = yield* run(FeatureFlags.getAllVariants(user("u9")))
        const color = all.color
        if (color === undefined) return expect.fail("color is served")
        yield* run(FeatureFlags.trackExposure("color", color, user("u9")))
        expect(yield* run(exposures)).toMatchObject([{ distinct_id: "u9", "Experiment name": "color" }])
        const error = yield* run(Effect.flip(FeatureFlags.trackExposure("color", color, user(""))))
        expect(error).toMatchObject({ _tag: "InvalidMessage", field: "context.distinct_id" })
      })
    )

    it.scoped("a failed exposure never fails the lookup", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: flags })
        const { run } = yield* start(server)
        yield* run(
          TestConsumer.failNext(
            new MixpanelError.RequestError({ endpoint: "events", reason: "Timeout", detail: "test", undelivered: [] })
          )
        )
        expect(yield* run(FeatureFlags.getVariantValue("color", "red", user("u1")))).toBe("blue")
        yield* run(FeatureFlags.awaitExposures)
        expect(yield* run(exposures)).toEqual([])
      })
    )

    it.scoped("a lookup does not wait for its exposure event, and closing the scope does", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ flagDefinitions: flags })
        // a consumer that takes a second (of TestClock) to accept each message
        const sent: Array<string> = []
        const slow = (message: string) => Effect.sleep("1 second").pipe(Effect.andThen(() => sent.push(message)))
        const SlowConsumer = Layer.succeed(Consumer.Consumer, {
          send: (_, message) => slow(message),
          sendBatch: (_, messages) => Effect.forEach(messages, slow, { discard: true }),
          sendNow: (_, message) => slow(message),
          flush: Effect.void
        })
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(
          LocalFlags.layer({ token, baseUrl: server.url }).pipe(
            Layer.provide(Mixpanel.layer({ token })),
            Layer.provide(SlowConsumer),
            Layer.provide(FetchHttpClient.layer)
          ),
          scope
        )
        const variant = yield* FeatureFlags.getVariantValue("color", "red", user("u1")).pipe(Effect.provide(context))
        expect(variant).toBe("blue")
        expect(sent).toEqual([])
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* untilSleeping("1 second")
        expect(closing.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        expect(sent.map((json) => JSON.parse(json).event)).toEqual(["$experiment_started"])
      })
    )
  })

  describe("options", () => {
    const build = (options: LocalFlags.Options) =>
      Effect.exit(
        Layer.build(LocalFlags.layer(options).pipe(Layer.provide(TestMixpanel), Layer.provide(FetchHttpClient.layer)))
      )

    it.scoped("an empty token, a bad URL, a zero polling interval and plain HTTP with a secret are InvalidConfig", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [LocalFlags.Options, string]> = [
          [{ token: "" }, "token"],
          [{ token, baseUrl: "not a url" }, "baseUrl"],
          [{ token, pollingInterval: 0 }, "pollingInterval"],
          // a fetch every millisecond would hammer Mixpanel
          [{ token, pollingInterval: "1 millis" }, "pollingInterval"],
          [{ token, requestTimeout: 0 }, "requestTimeout"],
          [
            {
              token,
              baseUrl: "http://flags.example.com",
              serviceAccount: { username: "u", secret: "s", projectId: 1 }
            },
            "baseUrl"
          ]
        ]
        for (const [options, option] of cases) {
          const exit = yield* build(options)
          expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "InvalidConfig", option } } })
        }
      })
    )

    it.scoped("layerConfig reads its options from Config", () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token, flagDefinitions: [gate("g", true)] })
        const layer = LocalFlags.layerConfig({
          token: Config.redacted("MIXPANEL_TOKEN"),
          baseUrl: Config.string("MIXPANEL_FLAGS_URL"),
          polling: Config.boolean("MIXPANEL_FLAGS_POLLING")
        }).pipe(Layer.provide(TestMixpanel), Layer.provide(FetchHttpClient.layer))
        const env = { MIXPANEL_TOKEN: token, MIXPANEL_FLAGS_URL: server.url, MIXPANEL_FLAGS_POLLING: "false" }
        const enabled = yield* FeatureFlags.isEnabled("g", user("u1"), { exposure: false }).pipe(
          Effect.provide(layer),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
        expect(enabled).toBe(true)
        expect(definitionRequests(server)[0]?.query.token).toBe(token)
      })
    )
  })
})
