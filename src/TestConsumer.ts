/**
 * A `Consumer` for tests: it records every message, decoded, per endpoint and in order, and can be told
 * to fail the next sends with a chosen error. It sends nothing and reads no clock, so it works the same
 * under `TestClock`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Consumer } from "./Consumer.js"
import type { Endpoint } from "./Endpoint.js"
import * as internal from "./internal/testConsumer.js"
import type * as Message from "./Message.js"
import type { MixpanelError } from "./MixpanelError.js"

/**
 * The decoded message type of each endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Messages {
  readonly events: Message.Event
  readonly imports: Message.Event
  readonly people: Message.ProfileUpdate
  readonly groups: Message.GroupUpdate
}

/**
 * One recorded message: its endpoint, its JSON as it would have been sent, the message decoded, and
 * whether it was sent past any buffer (`alias`).
 *
 * @since 0.1.0
 * @category models
 */
export type Recorded<E extends Endpoint = Endpoint> = {
  readonly [K in E]: {
    readonly endpoint: K
    readonly json: string
    readonly message: Messages[K]
    readonly immediate: boolean
  }
}[E]

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every message, across endpoints, in the order sent. */
  readonly recorded: Effect.Effect<ReadonlyArray<Recorded>>
  /** Events sent to `/track`, including `alias`. */
  readonly events: Effect.Effect<ReadonlyArray<Message.Event>>
  /** Events sent to `/import`, including `merge`. */
  readonly imports: Effect.Effect<ReadonlyArray<Message.Event>>
  /** User profile updates. */
  readonly people: Effect.Effect<ReadonlyArray<Message.ProfileUpdate>>
  /** Group profile updates. */
  readonly groups: Effect.Effect<ReadonlyArray<Message.GroupUpdate>>
  /** How many times `Consumer.flush` was called. */
  readonly flushes: Effect.Effect<number>
  /** Forgets every message, scripted failure and flush. */
  readonly clear: Effect.Effect<void>
  /**
   * Makes the next `times` (default 1) sends fail with `error`; their messages are not recorded, and the
   * error carries them as undelivered.
   */
  readonly failNext: (error: MixpanelError, times?: number) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TestConsumer extends Context.Tag("effect-mixpanel/TestConsumer")<TestConsumer, Service>() {}

/**
 * Provides a recording `Consumer` and the `TestConsumer` that reads it.
 *
 * @example
 * ```ts
 * import { it, expect } from "@effect/vitest"
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * it.effect("tracks a sign-up", () =>
 *   Effect.gen(function* () {
 *     yield* Mixpanel.track("u1", "Signed Up")
 *     const [event] = yield* TestConsumer.events
 *     expect(event?.event).toBe("Signed Up")
 *   }).pipe(Effect.provide(TestMixpanel))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Consumer | TestConsumer> = Layer.effectContext(
  Effect.map(internal.make, ({ consumer, service }) =>
    Context.make(Consumer, consumer).pipe(Context.add(TestConsumer, service))
  )
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const recorded: Effect.Effect<ReadonlyArray<Recorded>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.recorded
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const events: Effect.Effect<ReadonlyArray<Message.Event>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.events
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const imports: Effect.Effect<ReadonlyArray<Message.Event>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.imports
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const people: Effect.Effect<ReadonlyArray<Message.ProfileUpdate>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.people
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const groups: Effect.Effect<ReadonlyArray<Message.GroupUpdate>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.groups
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const flushes: Effect.Effect<number, never, TestConsumer> = Effect.flatMap(TestConsumer, (test) => test.flushes)

/**
 * @since 0.1.0
 * @category accessors
 */
export const clear: Effect.Effect<void, never, TestConsumer> = Effect.flatMap(TestConsumer, (test) => test.clear)

/**
 * @since 0.1.0
 * @category accessors
 */
export const failNext = (error: MixpanelError, times?: number): Effect.Effect<void, never, TestConsumer> =>
  Effect.flatMap(TestConsumer, (test) => test.failNext(error, times))
