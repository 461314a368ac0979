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
import type { SendError } from "./MixpanelError.js"

/**
 * The decoded message type of each endpoint.
 *
 * @example
 * ```ts
 * import { TestConsumer } from "effect-mixpanel"
 *
 * // The name of a recorded event, tracked or imported
 * const eventName = (message: TestConsumer.Messages["events" | "imports"]): string => message.event
 * ```
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
 * @example
 * ```ts
 * import { TestConsumer } from "effect-mixpanel"
 *
 * // The distinct id of a recorded message, whatever its endpoint
 * const distinctId = (entry: TestConsumer.Recorded): string | undefined => {
 *   switch (entry.endpoint) {
 *     case "people":
 *       return entry.message.$distinct_id
 *     case "groups":
 *       return undefined
 *     default:
 *       return entry.message.properties.distinct_id
 *   }
 * }
 * ```
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
 * What `TestConsumer` reads: the messages recorded, decoded, the flushes, and scripted failures.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TestConsumer } from "effect-mixpanel"
 *
 * // Start a test from a clean slate
 * const fresh = Effect.flatMap(TestConsumer.TestConsumer, (test: TestConsumer.Service) => test.clear)
 * ```
 *
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
  readonly failNext: (error: SendError, times?: number) => Effect.Effect<void>
}

/**
 * The `TestConsumer` service: reads what the recording `Consumer` of `layer` received.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   const test = yield* TestConsumer.TestConsumer
 *   yield* Mixpanel.alias("user-42", "anon-7f3c")
 *   const [recorded] = yield* test.recorded
 *   console.log(recorded?.immediate) // true: alias goes past any buffer
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class TestConsumer extends Context.Tag("effect-mixpanel/TestConsumer")<TestConsumer, Service>() {}

/**
 * Provides a recording `Consumer` and the `TestConsumer` that reads it. In a test suite, provide it to
 * each test (with `it.effect` of `@effect/vitest`, for example) so that each starts with nothing recorded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Signed Up")
 *   const [event] = yield* TestConsumer.events
 *   console.log(event?.event) // "Signed Up"
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
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
 * Every message recorded, across endpoints, in the order sent.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Signed Up")
 *   yield* Mixpanel.peopleSet("u1", { plan: "pro" })
 *   const recorded = yield* TestConsumer.recorded
 *   console.log(recorded.map((entry) => entry.endpoint)) // [ 'events', 'people' ]
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const recorded: Effect.Effect<ReadonlyArray<Recorded>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.recorded
)

/**
 * The events sent to `/track` (`alias` included), decoded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Signed Up", { plan: "pro" })
 *   const [event] = yield* TestConsumer.events
 *   console.log(event?.properties.plan) // "pro"
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const events: Effect.Effect<ReadonlyArray<Message.Event>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.events
)

/**
 * The events sent to `/import` (`merge` included), decoded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.importEvent("u1", "Order Placed", new Date("2024-03-01T12:00:00Z"))
 *   const [event] = yield* TestConsumer.imports
 *   console.log(event?.properties.time) // 1709294400000
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const imports: Effect.Effect<ReadonlyArray<Message.Event>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.imports
)

/**
 * The user profile updates, decoded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.peopleIncrement("u1", { logins: 1 })
 *   const [update] = yield* TestConsumer.people
 *   console.log(update?.$add) // { logins: 1 }
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const people: Effect.Effect<ReadonlyArray<Message.ProfileUpdate>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.people
)

/**
 * The group profile updates, decoded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.groupSet("company_id", "acme", { seats: 40 })
 *   const [update] = yield* TestConsumer.groups
 *   console.log(update?.$group_id, update?.$set) // acme { seats: 40 }
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groups: Effect.Effect<ReadonlyArray<Message.GroupUpdate>, never, TestConsumer> = Effect.flatMap(
  TestConsumer,
  (test) => test.groups
)

/**
 * How many times `Consumer.flush` was called.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * // Does the handler flush before it returns?
 * const handler = Mixpanel.track("u1", "Invoked").pipe(Effect.zipRight(Consumer.flush))
 *
 * const program = Effect.gen(function* () {
 *   yield* handler
 *   console.log(yield* TestConsumer.flushes) // 1
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const flushes: Effect.Effect<number, never, TestConsumer> = Effect.flatMap(TestConsumer, (test) => test.flushes)

/**
 * Forgets every message, scripted failure and flush.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.track("u1", "Warm-up")
 *   yield* TestConsumer.clear
 *   console.log((yield* TestConsumer.recorded).length) // 0
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const clear: Effect.Effect<void, never, TestConsumer> = Effect.flatMap(TestConsumer, (test) => test.clear)

/**
 * Makes the next `times` (default 1) sends fail with `error`; their messages are not recorded, and the
 * error carries them as undelivered.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"
 *
 * const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))
 *
 * const down = new MixpanelError.RequestError({
 *   endpoint: "events",
 *   reason: "Transport",
 *   detail: "connection refused",
 *   undelivered: []
 * })
 *
 * const program = Effect.gen(function* () {
 *   yield* TestConsumer.failNext(down)
 *   const error = yield* Effect.flip(Mixpanel.track("u1", "Signed Up"))
 *   console.log(error.message) // "events: request failed (connection refused); 1 message not delivered"
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestMixpanel)))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const failNext = (error: SendError, times?: number): Effect.Effect<void, never, TestConsumer> =>
  Effect.flatMap(TestConsumer, (test) => test.failNext(error, times))
