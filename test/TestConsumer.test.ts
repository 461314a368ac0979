import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { Consumer, Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"

// The way a user's own test suite uses TestConsumer: the program under test is ordinary application code.
const signUp = (userId: string, plan: string) =>
  Effect.gen(function* () {
    yield* Mixpanel.track(userId, "Signed Up", { plan })
    yield* Mixpanel.peopleSet(userId, { plan })
    yield* Mixpanel.alias(`${userId}@example.com`, userId)
  })

const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))

describe("TestConsumer", () => {
  it.effect("records decoded messages per endpoint, in order", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 0, 1))
      yield* signUp("u1", "pro")
      yield* signUp("u2", "free")
      const events = yield* TestConsumer.events
      expect(events.map((e) => [e.event, e.properties.distinct_id])).toEqual([
        ["Signed Up", "u1"],
        ["$create_alias", "u1"],
        ["Signed Up", "u2"],
        ["$create_alias", "u2"]
      ])
      expect(events[0]?.properties.time).toBe(Date.UTC(2026, 0, 1))
      expect((yield* TestConsumer.people).map((p) => p.$set)).toEqual([{ plan: "pro" }, { plan: "free" }])
      const recorded = yield* TestConsumer.recorded
      expect(recorded.map((r) => r.endpoint)).toEqual(["events", "people", "events", "events", "people", "events"])
      expect(recorded.filter((r) => r.immediate).map((r) => r.message)).toMatchObject([
        { event: "$create_alias" },
        { event: "$create_alias" }
      ])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("clears what it recorded", () =>
    Effect.gen(function* () {
      yield* signUp("u1", "pro")
      yield* Consumer.flush
      expect(yield* TestConsumer.flushes).toBe(1)
      yield* TestConsumer.clear
      expect(yield* TestConsumer.recorded).toEqual([])
      expect(yield* TestConsumer.flushes).toBe(0)
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("fails the next sends with a chosen error carrying their messages, then records again", () =>
    Effect.gen(function* () {
      yield* TestConsumer.failNext(
        new MixpanelError.ResponseError({ endpoint: "events", reason: "ServerError", status: 503, undelivered: [] }),
        2
      )
      const first = yield* Effect.flip(Mixpanel.track("u1", "A"))
      expect(first).toMatchObject({ _tag: "ResponseError", status: 503 })
      expect((first as MixpanelError.ResponseError).undelivered.map((u) => JSON.parse(u.json).event)).toEqual(["A"])
      yield* Effect.flip(Mixpanel.track("u1", "B"))
      yield* Mixpanel.track("u1", "C")
      expect((yield* TestConsumer.events).map((e) => e.event)).toEqual(["C"])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("lets a program's error handling be tested", () =>
    Effect.gen(function* () {
      yield* TestConsumer.failNext(
        new MixpanelError.RequestError({ endpoint: "events", reason: "Timeout", detail: "test", undelivered: [] })
      )
      const outcome = yield* Mixpanel.track("u1", "A").pipe(
        Effect.as("sent"),
        Effect.catchTag("RequestError", (e) => Effect.succeed(`kept ${e.undelivered.length} for later`))
      )
      expect(outcome).toBe("kept 1 for later")
    }).pipe(Effect.provide(TestMixpanel))
  )
})
