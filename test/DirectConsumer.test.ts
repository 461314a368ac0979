import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { Consumer, Mixpanel, type MixpanelError } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { advanceUntil, httpClients, tick, untilSleeping } from "./support/io.js"
import { capture } from "./support/logs.js"

const token = "direct-token"
const secret = "sa-secret-value"
const serviceAccount = { username: "sa.user", secret, projectId: 4242 }

for (const client of httpClients) {
  describe(`Consumer.layerDirect over ${client.name}`, () => {
    /** A server, and the Mixpanel service sending to it through a direct consumer. */
    const setup = (
      options: Consumer.DirectOptions = {},
      serverOptions: MixpanelTestServer.Options = { auth: { serviceAccount } }
    ) =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token, ...serverOptions })
        const context = yield* Layer.build(
          Mixpanel.layer({ token }).pipe(
            Layer.provideMerge(
              Consumer.layerDirect({
                baseUrl: server.url,
                importAuth: Consumer.serviceAccount(serviceAccount),
                maxRetries: 0,
                ...options
              })
            ),
            Layer.provide(client.layer)
          )
        )
        const run = <A, E>(effect: Effect.Effect<A, E, Mixpanel.Mixpanel | Consumer.Consumer>) =>
          Effect.provide(effect, context)
        return { server, run }
      })

    it.scoped("delivers to each endpoint", () =>
      Effect.gen(function* () {
        const { run, server } = yield* setup()
        yield* run(
          Effect.all([
            Mixpanel.track("u1", "Signed Up", { plan: "pro", at: new Date(0) }),
            Mixpanel.peopleSet("u1", { name: "Ada" }),
            Mixpanel.groupSet("company", "acme", { size: 5 }),
            Mixpanel.importEvent("u1", "Old", Date.UTC(2020, 0, 1)),
            Mixpanel.merge("u1", "u2"),
            Mixpanel.alias("u1-alias", "u1")
          ])
        )
        expect(server.received("events").map((e) => e.event)).toEqual(["Signed Up", "$create_alias"])
        expect(server.received("events")[0]).toMatchObject({
          properties: { token, distinct_id: "u1", plan: "pro", at: "1970-01-01T00:00:00" }
        })
        expect(server.received("people")).toMatchObject([{ $token: token, $distinct_id: "u1", $set: { name: "Ada" } }])
        expect(server.received("groups")).toMatchObject([
          { $group_key: "company", $group_id: "acme", $set: { size: 5 } }
        ])
        expect(server.received("imports").map((e) => e.event)).toEqual(["Old", "$merge"])
        const requests = server.requests()
        expect(requests.every((r) => r.query.verbose === "1" && r.query.ip === "0")).toBe(true)
        expect(requests.filter((r) => r.endpoint === "imports").every((r) => r.query.strict === "1")).toBe(true)
      })
    )

    it.scoped("sends a batch of more than 2000 messages in requests of at most 2000", () =>
      Effect.gen(function* () {
        const { run, server } = yield* setup()
        const events = Array.from({ length: 4500 }, (_, i) => ({ distinctId: `u${i}`, event: "Bulk" }))
        yield* run(Mixpanel.trackBatch(events))
        expect(server.received("events")).toHaveLength(4500)
        expect(server.requests().map((r) => r.items)).toEqual([2000, 2000, 500])
      })
    )

    describe("/import credentials", () => {
      const importOne = Mixpanel.importEvent("u1", "Old", Date.UTC(2021, 5, 1))

      it.scoped("a service account sends Basic auth and project_id", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup()
          yield* run(importOne)
          const [request] = server.requests()
          expect(request?.query.project_id).toBe("4242")
          // the server took the service account (it answers 401 to anything else); its log keeps the secret out
          expect(request?.status).toBe(200)
          expect(request?.headers.authorization).toBe("Basic sa.user:<redacted>")
        })
      )

      it.scoped("an API secret", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup(
            { importAuth: Consumer.apiSecret("api-secret") },
            { auth: { apiSecret: "api-secret" } }
          )
          yield* run(importOne)
          expect(server.received("imports")).toHaveLength(1)
        })
      )

      it.scoped("the project token", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ importAuth: Consumer.projectToken(token) }, { auth: { token } })
          yield* run(importOne)
          expect(server.received("imports")).toHaveLength(1)
        })
      )

      it.scoped("wrong credentials fail with Unauthorized, once, and the message names no secret", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({
            importAuth: Consumer.serviceAccount({ ...serviceAccount, secret: "wrong-secret" }),
            maxRetries: 3
          })
          const error = yield* Effect.flip(run(importOne))
          expect(error).toMatchObject({
            _tag: "ResponseError",
            reason: "Unauthorized",
            status: 401,
            endpoint: "imports"
          })
          expect(server.requests()).toHaveLength(1)
          expect(error.message).not.toMatch(/wrong-secret|direct-token/)
          expect(JSON.stringify(error)).not.toMatch(/wrong-secret|direct-token/)
        })
      )

      it.scoped("no credentials: InvalidConfig naming importAuth, and nothing sent", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ importAuth: undefined })
          const error = yield* Effect.flip(run(importOne))
          expect(error).toMatchObject({ _tag: "InvalidConfig", option: "importAuth" })
          expect(server.requests()).toHaveLength(0)
        })
      )
    })

    it.effect("names the field of credentials that is wrong, and refuses a base URL that holds a password", () =>
      Effect.gen(function* () {
        const build = (options: Consumer.DirectOptions) =>
          Effect.flip(Effect.scoped(Layer.build(Consumer.layerDirect(options).pipe(Layer.provide(client.layer)))))
        const projectId = yield* build({
          importAuth: Consumer.serviceAccount({ username: "sa", secret: "s", projectId: "abc" })
        })
        expect(projectId).toMatchObject({ option: "importAuth.projectId", detail: "must be a project id: digits only" })
        const spaced = yield* build({ importAuth: Consumer.apiSecret("two words") })
        expect(spaced).toMatchObject({ option: "importAuth.secret" })
        const empty = yield* build({ importAuth: Consumer.projectToken("") })
        expect(empty).toMatchObject({ option: "importAuth.token", detail: "is empty" })
        // not credentials at all: what they must be
        const other = yield* build({ importAuth: "secret" as never })
        expect(other.message).toContain("expected Consumer.serviceAccount(...)")

        const withPassword = yield* build({ baseUrl: "https://user:PROXYPASSWORD@proxy.internal" })
        expect(withPassword).toMatchObject({ _tag: "InvalidConfig", option: "baseUrl" })
        expect(withPassword.message).not.toContain("PROXYPASSWORD")
      })
    )

    it.effect("refuses a secret over plain HTTP to a host other than loopback", () =>
      Effect.gen(function* () {
        const build = (baseUrl: string) =>
          Effect.scoped(
            Layer.build(
              Consumer.layerDirect({ baseUrl, importAuth: Consumer.apiSecret("s") }).pipe(Layer.provide(client.layer))
            )
          )
        const error = yield* Effect.flip(build("http://mixpanel-proxy.internal:8080"))
        expect(error).toMatchObject({ _tag: "InvalidConfig", option: "baseUrl" })
        yield* build("http://127.0.0.1:1")
        yield* build("http://localhost:1")
        yield* build("https://mixpanel-proxy.internal")
      })
    )

    describe("failures", () => {
      const trackOne = Mixpanel.track("u1", "E")

      it.scoped("a 400 is Rejected with the server's text, never retried", () =>
        Effect.gen(function* () {
          // Mixpanel refuses an invalid item with 200 and `status: 0`; 400 is for malformed requests
          const { run, server } = yield* setup({ maxRetries: 5 })
          const body = JSON.stringify({ status: 0, error: "properties.plan is not allowed" })
          server.fail(MixpanelTestServer.Fault.status(400, { body }))
          const error = yield* Effect.flip(run(trackOne))
          expect(error).toMatchObject({ _tag: "ResponseError", reason: "Rejected", status: 400 })
          expect((error as MixpanelError.ResponseError).serverError).toContain("properties.plan is not allowed")
          expect((error as MixpanelError.ResponseError).undelivered).toHaveLength(1)
          expect(server.requests()).toHaveLength(1)
        })
      )

      it.scoped("a strict /import reports the failed records; only they are undelivered", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup(
            {},
            {
              auth: { serviceAccount },
              rejectRecord: (_, record) =>
                (record.properties as { bad?: boolean }).bad === true
                  ? { field: "properties.bad", message: "bad record" }
                  : undefined
            }
          )
          const error = yield* Effect.flip(
            run(
              Mixpanel.importEvents([
                { distinctId: "u1", event: "Good", time: 1_600_000_000_000 },
                { distinctId: "u2", event: "Bad", time: 1_600_000_000_000, properties: { bad: true } },
                { distinctId: "u3", event: "Good", time: 1_600_000_000_000 }
              ])
            )
          )
          expect(error).toMatchObject({ _tag: "ResponseError", reason: "Rejected", status: 400 })
          const response = error as MixpanelError.ResponseError
          expect(response.failedRecords.map((r) => [r.index, r.field, r.detail])).toEqual([
            [1, "properties.bad", "bad record"]
          ])
          // The message says why, as the log line of a buffered consumer does
          expect(response.message).toBe(
            "imports: Rejected (HTTP 400): some data points in the request failed validation (record 1: bad record); 1 message not delivered"
          )
          expect(response.undelivered.map((u) => JSON.parse(u.json).event)).toEqual(["Bad"])
          expect(server.received("imports").map((e) => e.properties)).toMatchObject([
            { distinct_id: "u1" },
            { distinct_id: "u3" }
          ])
        })
      )

      const statusCases = [
        { status: 500, reason: "ServerError", retried: true },
        { status: 502, reason: "ServerError", retried: true },
        { status: 503, reason: "ServerError", retried: true },
        { status: 501, reason: "ServerError", retried: false },
        { status: 505, reason: "ServerError", retried: false },
        { status: 408, reason: "UnexpectedStatus", retried: true },
        { status: 429, reason: "RateLimited", retried: true },
        { status: 413, reason: "TooLarge", retried: false },
        { status: 403, reason: "Unauthorized", retried: false },
        { status: 404, reason: "UnexpectedStatus", retried: false }
      ] as const
      for (const c of statusCases) {
        it.scoped(`HTTP ${c.status} is ${c.reason}, ${c.retried ? "retried" : "not retried"}`, () =>
          Effect.gen(function* () {
            const { run, server } = yield* setup({ maxRetries: 1 })
            server.fail(MixpanelTestServer.Fault.status(c.status))
            const fiber = yield* Effect.fork(Effect.either(run(trackOne)))
            yield* advanceUntil(() => fiber.unsafePoll() !== null)
            const result = yield* Fiber.join(fiber)
            if (c.retried) {
              expect(result._tag).toBe("Right")
              expect(server.requests()).toHaveLength(2)
              expect(server.received("events")).toHaveLength(1)
            } else {
              expect(result).toMatchObject({
                _tag: "Left",
                left: { _tag: "ResponseError", reason: c.reason, status: c.status }
              })
              expect(server.requests()).toHaveLength(1)
            }
          })
        )
      }

      it.scoped("retries wait for Retry-After, and the same request id is sent again", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ maxRetries: 2 })
          server.fail(MixpanelTestServer.Fault.rateLimited(30))
          const fiber = yield* Effect.fork(run(trackOne))
          yield* untilSleeping("30 seconds")
          yield* TestClock.adjust("29 seconds")
          yield* Effect.repeatN(tick, 50)
          expect(server.requests()).toHaveLength(1)
          yield* TestClock.adjust("1 second")
          yield* Fiber.join(fiber)
          const [first, second] = server.requests()
          expect(second?.status).toBe(200)
          expect(second?.headers["x-request-id"]).toBe(first?.headers["x-request-id"])
        })
      )

      it.scoped("a dropped connection is a Transport RequestError, retried", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ maxRetries: 1 })
          server.fail(MixpanelTestServer.Fault.drop, MixpanelTestServer.Fault.drop)
          const fiber = yield* Effect.fork(Effect.flip(run(trackOne)))
          yield* advanceUntil(() => fiber.unsafePoll() !== null)
          const error = yield* Fiber.join(fiber)
          expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport", endpoint: "events" })
          expect((error as MixpanelError.RequestError).undelivered).toHaveLength(1)
          expect(server.requests()).toHaveLength(2)
        })
      )

      it.scoped("a stalled server times out after requestTimeout", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ requestTimeout: "5 seconds" })
          server.fail(MixpanelTestServer.Fault.stall)
          const fiber = yield* Effect.fork(Effect.flip(run(trackOne)))
          yield* untilSleeping("5 seconds")
          yield* TestClock.adjust("4 seconds")
          expect(fiber.unsafePoll()).toBeNull()
          yield* TestClock.adjust("1 second")
          const error = yield* Fiber.join(fiber)
          expect(error).toMatchObject({ _tag: "RequestError", reason: "Timeout" })
          expect(error.message).toContain(Duration.format(Duration.seconds(5)))
        })
      )

      it.scoped("a broken body on 200 is Malformed", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ maxRetries: 3 })
          server.fail(MixpanelTestServer.Fault.body('{"status":'))
          const error = yield* Effect.flip(run(trackOne))
          expect(error).toMatchObject({ _tag: "ResponseError", reason: "Malformed", status: 200 })
          expect(server.requests()).toHaveLength(1)
        })
      )

      it.scoped("logs the first failed try that is tried again at Warning, the later ones at Debug", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ maxRetries: 2 })
          server.fail(...Array.from({ length: 3 }, () => MixpanelTestServer.Fault.status(503)))
          const logs = capture()
          const fiber = yield* Effect.fork(Effect.flip(run(trackOne).pipe(Effect.provide(logs.layer))))
          yield* advanceUntil(() => fiber.unsafePoll() !== null)
          yield* Fiber.join(fiber)
          // the third failure is not tried again: it is the caller's error, not a line
          expect(
            logs.lines
              .filter((line) => line.message.startsWith("Mixpanel request failed"))
              .map((line) => [line.level, line.message.replace(/ in .*$/, ""), line.annotations["mixpanel.endpoint"]])
          ).toEqual([
            ["WARN", "Mixpanel request failed (HTTP 503: Service Unavailable); try 2", "events"],
            ["DEBUG", "Mixpanel request failed (HTTP 503: Service Unavailable); try 3", "events"]
          ])
        })
      )

      it.scoped("gives up after maxRetries and hands back the messages", () =>
        Effect.gen(function* () {
          const { run, server } = yield* setup({ maxRetries: 2 })
          server.fail(...Array.from({ length: 3 }, () => MixpanelTestServer.Fault.status(503)))
          const fiber = yield* Effect.fork(Effect.flip(run(trackOne)))
          yield* advanceUntil(() => fiber.unsafePoll() !== null)
          const error = yield* Fiber.join(fiber)
          expect(error).toMatchObject({ _tag: "ResponseError", reason: "ServerError", status: 503 })
          const [message] = (error as MixpanelError.ResponseError).undelivered
          expect(JSON.parse(message?.json ?? "{}")).toMatchObject({ event: "E", properties: { distinct_id: "u1" } })
          expect(server.requests()).toHaveLength(3)
        })
      )
    })

    it.scoped("gzips /import bodies when asked", () =>
      Effect.gen(function* () {
        const { run, server } = yield* setup({ gzip: true })
        yield* run(Mixpanel.importEvent("u1", "Zipped", Date.UTC(2022, 0, 1), { blob: "x".repeat(10_000) }))
        const [request] = server.requests()
        expect(request?.headers["content-encoding"]).toBe("gzip")
        expect(server.received("imports")).toMatchObject([{ event: "Zipped" }])
      })
    )
  })
}

describe("form bodies", () => {
  it.scoped("carry any text through: escapes, separators, spaces, quotes and non-ASCII", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const tricky = 'a+b=c&d;e%20f%zz "quoted" \\ back\\slash 💥 naïve 1+1=2 100%'
      yield* Mixpanel.track("u&1=2", "E+vent;%", { tricky, [tricky]: tricky }).pipe(
        Effect.provide(
          Mixpanel.layer({ token }).pipe(
            Layer.provide(Consumer.layerDirect({ baseUrl: server.url })),
            Layer.provide(httpClients[0].layer)
          )
        )
      )
      expect(server.received("events")).toMatchObject([
        { event: "E+vent;%", properties: { distinct_id: "u&1=2", tricky, [tricky]: tricky } }
      ])
    })
  )
})
