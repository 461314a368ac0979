/**
 * A user's own test suite: the Mixpanel service runs for real, the consumer is `TestConsumer`, which
 * records what would have been sent. Nothing leaves the process.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"
import { signUp } from "./signup.js"

const TestMixpanel = Mixpanel.layer({ token: "test-token" }).pipe(Layer.provideMerge(TestConsumer.layer))

describe("signUp", () => {
  it.effect("tracks the sign-up and sets the profile", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 0, 15))
      yield* signUp({ id: "u1", email: "ada@example.com", plan: "free" })
      const [event] = yield* TestConsumer.events
      expect(event).toMatchObject({ event: "Signed Up", properties: { distinct_id: "u1", plan: "free" } })
      expect(event?.properties.time).toBe(Date.UTC(2026, 0, 15))
      expect(yield* TestConsumer.people).toMatchObject([{ $distinct_id: "u1", $set: { $email: "ada@example.com" } }])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("records a charge for paid plans only", () =>
    Effect.gen(function* () {
      yield* signUp({ id: "u2", email: "b@example.com", plan: "pro" })
      const updates = yield* TestConsumer.people
      expect(updates.map((u) => u.$append)).toContainEqual({ $transactions: expect.objectContaining({ $amount: 29 }) })
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("surfaces a delivery failure to the caller", () =>
    Effect.gen(function* () {
      yield* TestConsumer.failNext(
        new MixpanelError.ResponseError({ endpoint: "events", reason: "RateLimited", status: 429, undelivered: [] })
      )
      const error = yield* Effect.flip(signUp({ id: "u3", email: "c@example.com", plan: "free" }))
      expect(error).toMatchObject({ _tag: "ResponseError", reason: "RateLimited" })
    }).pipe(Effect.provide(TestMixpanel))
  )
})
