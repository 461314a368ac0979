import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { waitUntil } from "../support/io.js"

const { Fault } = MixpanelTestServer

interface Reply {
  readonly status: number
  readonly body: unknown
}

const get = (url: string, headers: Record<string, string> = {}): Effect.Effect<Reply> =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: the text
    }
    return { status: response.status, body }
  })

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
})

const context = (value: unknown) => encodeURIComponent(JSON.stringify(value))

const definitions = [{ key: "a" }, { key: "b", anything: ["goes"] }]
const remote = {
  a: { variant_key: "on", variant_value: true },
  b: { variant_key: "x", variant_value: "X" }
}

describe("MixpanelTestServer: the flags API", () => {
  it.scoped("serves no flags until a test sets them", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      expect(yield* get(`${server.url}/flags/definitions`)).toEqual({ status: 200, body: { code: 200, flags: [] } })
      expect(yield* get(`${server.url}/flags?context=${context({ distinct_id: "u1" })}`)).toEqual({
        status: 200,
        body: { code: 200, flags: {} }
      })
    })
  )

  it.scoped("serves the definitions set by option or by setFlagDefinitions, as any JSON", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ flagDefinitions: definitions })
      expect((yield* get(`${server.url}/flags/definitions`)).body).toEqual({ code: 200, flags: definitions })
      server.setFlagDefinitions(["not a flag", 5])
      expect((yield* get(`${server.url}/flags/definitions/`)).body).toEqual({ code: 200, flags: ["not a flag", 5] })
      expect(server.requests().map((request) => [request.endpoint, request.status, request.items])).toEqual([
        ["flagDefinitions", 200, 2],
        ["flagDefinitions", 200, 2]
      ])
    })
  )

  it.scoped("serves remote variants, only the one asked for with flag_key, or from a function of the request", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ remoteFlags: remote })
      const ctx = context({ distinct_id: "u1" })
      expect((yield* get(`${server.url}/flags?context=${ctx}`)).body).toEqual({ code: 200, flags: remote })
      expect((yield* get(`${server.url}/flags?context=${ctx}&flag_key=b`)).body).toEqual({
        code: 200,
        flags: { b: remote.b }
      })
      expect((yield* get(`${server.url}/flags?context=${ctx}&flag_key=zzz`)).body).toEqual({ code: 200, flags: {} })
      const seen: Array<MixpanelTestServer.RemoteFlagsRequest> = []
      server.setRemoteFlags((request) => {
        seen.push(request)
        return request.context.distinct_id === "vip" ? { a: remote.a } : {}
      })
      expect(
        (yield* get(`${server.url}/flags?context=${context({ distinct_id: "vip", plan: "pro" })}&flag_key=a`)).body
      ).toEqual({ code: 200, flags: { a: remote.a } })
      expect(seen).toEqual([{ context: { distinct_id: "vip", plan: "pro" }, flagKey: "a" }])
    })
  )

  it.scoped("serves what an async function of the request answers, where it served no flags", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({
        remoteFlags: async ({ context }) => (context.distinct_id === "vip" ? { a: remote.a } : {})
      })
      const vip = context({ distinct_id: "vip" })
      expect((yield* get(`${server.url}/flags?context=${vip}`)).body).toEqual({ code: 200, flags: { a: remote.a } })
      expect((yield* get(`${server.url}/flags?context=${context({ distinct_id: "u1" })}`)).body).toEqual({
        code: 200,
        flags: {}
      })
    })
  )

  it.scoped("takes a key whose value is undefined for no flag: not served, not counted, whatever flag_key asks", () =>
    Effect.gen(function* () {
      // a conditional's `{}` branch, as plain `strict` types it: `{ a?: undefined }`
      const server = yield* MixpanelTestServer.make({ remoteFlags: { a: undefined, b: remote.b } })
      const ctx = context({ distinct_id: "u1" })
      expect((yield* get(`${server.url}/flags?context=${ctx}`)).body).toEqual({ code: 200, flags: { b: remote.b } })
      expect((yield* get(`${server.url}/flags?context=${ctx}&flag_key=a`)).body).toEqual({ code: 200, flags: {} })
      expect(server.requests().map((request) => request.items)).toEqual([1, 0])
    })
  )

  it.scoped("/flags needs a context with a string distinct_id", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ remoteFlags: remote })
      expect(yield* get(`${server.url}/flags`)).toMatchObject({ status: 400, body: { code: 400 } })
      expect(yield* get(`${server.url}/flags?context=${context({ user: 1 })}`)).toMatchObject({
        status: 400,
        body: { error: "distinct_id must be provided in evalContext as a string" }
      })
    })
  )

  it.scoped("with a token, checks the token parameter and the credentials", () =>
    Effect.gen(function* () {
      const serviceAccount = { username: "sa", secret: "s3cret", projectId: 7 }
      const server = yield* MixpanelTestServer.make({ token: "T", auth: { serviceAccount } })
      const url = `${server.url}/flags/definitions`
      expect((yield* get(`${url}?token=T`, basic("T", ""))).status).toBe(200)
      expect((yield* get(`${url}?token=T&project_id=7`, basic("sa", "s3cret"))).status).toBe(200)
      expect((yield* get(`${url}?token=T&project_id=8`, basic("sa", "s3cret"))).status).toBe(401)
      expect(yield* get(`${url}?token=T`)).toMatchObject({ status: 401, body: { error: "Invalid credentials" } })
      expect((yield* get(`${url}?token=X`, basic("T", ""))).status).toBe(401)
      expect((yield* get(`${url}`, basic("T", ""))).status).toBe(401)
    })
  )

  it.scoped("takes GET only", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      const reply = yield* Effect.promise(() =>
        fetch(`${server.url}/flags/definitions`, { method: "POST", body: "{}" })
      )
      expect(reply.status).toBe(405)
    })
  )

  it.scoped("takes only the faults queued for it, and random faults only when named", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ flagDefinitions: definitions })
      server.fail(Fault.status(503))
      expect((yield* get(`${server.url}/flags/definitions`)).status).toBe(200)
      expect(server.pendingFaults()).toBe(1)
      server.stopFailing()

      server.failOn("flagDefinitions", Fault.status(500), Fault.body("garbage"))
      server.failOn("flags", Fault.rateLimited(3))
      expect((yield* get(`${server.url}/flags?context=${context({ distinct_id: "u" })}`)).status).toBe(429)
      expect((yield* get(`${server.url}/flags/definitions`)).status).toBe(500)
      expect(yield* get(`${server.url}/flags/definitions`)).toEqual({ status: 200, body: "garbage" })
      expect((yield* get(`${server.url}/flags/definitions`)).status).toBe(200)
      expect(server.requests().map((request) => request.fault?._tag)).toEqual([
        undefined,
        "Status",
        "Status",
        "Body",
        undefined
      ])

      server.failRandomly({ rate: 1, faults: [Fault.status(502)] })
      expect((yield* get(`${server.url}/flags/definitions`)).status).toBe(200)
      server.failRandomly({ rate: 1, faults: [Fault.status(502)], endpoints: ["flagDefinitions"] })
      expect((yield* get(`${server.url}/flags/definitions`)).status).toBe(502)
    })
  )

  it.scoped("drop and stall work on the flags routes", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make()
      server.failOn("flagDefinitions", Fault.drop)
      const dropped = yield* Effect.promise(() =>
        fetch(`${server.url}/flags/definitions`).then(
          () => "answered",
          () => "failed"
        )
      )
      expect(dropped).toBe("failed")
      server.failOn("flagDefinitions", Fault.stall)
      const abort = new AbortController()
      const stalled = fetch(`${server.url}/flags/definitions`, { signal: abort.signal }).then(
        () => "answered",
        () => "gave up"
      )
      // the server logs a stalled request once it has read it, and never answers it
      yield* waitUntil(() => server.requests().length === 2, "the stalled request")
      abort.abort()
      expect(yield* Effect.promise(() => stalled)).toBe("gave up")
      expect(server.requests().map((request) => [request.endpoint, request.status])).toEqual([
        ["flagDefinitions", undefined],
        ["flagDefinitions", undefined]
      ])
    })
  )
})
