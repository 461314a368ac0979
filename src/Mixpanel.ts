/**
 * The `Mixpanel` service: every tracking operation of Mixpanel's official libraries as an `Effect`,
 * whose message is built and checked by the schemas of `Message` and handed to the `Consumer` in context.
 *
 * Each operation is a method of the service and an accessor function of this module:
 * `Mixpanel.track("u1", "Signed Up")` is an `Effect<void, MixpanelError, Mixpanel>`.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type { Consumer } from "./Consumer.js"
import * as internal from "./internal/mixpanel.js"
import { redactedVariable } from "./internal/options.js"
import type * as Message from "./Message.js"
import type { InvalidConfig, SendError } from "./MixpanelError.js"

/**
 * Options of the `Mixpanel` service.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const options: Mixpanel.Options = { token: Redacted.make("YOUR_TOKEN") }
 * const MixpanelLive = Mixpanel.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The project token. An empty token fails with `InvalidConfig`. */
  readonly token: string | Redacted.Redacted
}

/**
 * `meta`: extra top-level keys merged into the message, as the seed's `meta` argument.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const options: Mixpanel.MessageOptions = { meta: { $source: "server" } }
 * const program = Mixpanel.track("u1", "Signed Up", { plan: "pro" }, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MessageOptions {
  readonly meta?: Message.Properties | undefined
}

/**
 * Options of a user profile update: `meta`, and the modifiers that go beside the operation (`$ip`,
 * `$ignore_time`, `$ignore_alias`, `$latitude` with `$longitude`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * // Leave "last seen" alone, and geolocate the profile from the user's address
 * const options: Mixpanel.ProfileOptions = { $ignore_time: true, $ip: "203.0.113.7" }
 * const program = Mixpanel.peopleSet("u1", { plan: "pro" }, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ProfileOptions extends MessageOptions, Message.Modifiers {}

/**
 * One event of `trackBatch`.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const events: Array<Mixpanel.BatchEvent> = [
 *   { distinctId: "u1", event: "Page Viewed", properties: { path: "/pricing" } },
 *   { distinctId: "u2", event: "Page Viewed", properties: { path: "/docs" } }
 * ]
 * const program = Mixpanel.trackBatch(events)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchEvent {
  readonly distinctId: string
  readonly event: string
  readonly properties?: Message.EventPropertiesInput | undefined
  readonly meta?: Message.Properties | undefined
}

/**
 * One event of `importEvents`: a `BatchEvent` with its time (milliseconds since the epoch, or a `Date`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const rows = [{ user: "u1", sku: "A-1", placedAt: "2024-03-01T12:00:00Z" }]
 * const events = rows.map(
 *   (row): Mixpanel.ImportedEvent => ({
 *     distinctId: row.user,
 *     event: "Order Placed",
 *     time: new Date(row.placedAt),
 *     properties: { sku: row.sku }
 *   })
 * )
 * const program = Mixpanel.importEvents(events)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ImportedEvent extends BatchEvent {
  readonly time: number | Date
}

/**
 * A user profile update as `peopleUpdate` takes it: the message without `$token` (`$time` optional).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const update: Mixpanel.ProfileUpdateInput = { $distinct_id: "u1", $set: { plan: "pro" } }
 * const program = Mixpanel.peopleUpdate(update)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ProfileUpdateInput = Omit<Message.ProfileUpdate, "$token" | "$time"> & { readonly $time?: number }

/**
 * A group profile update as `groupUpdate` takes it: the message without `$token` (`$time` optional).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const update: Mixpanel.GroupUpdateInput = {
 *   $group_key: "company_id",
 *   $group_id: "acme",
 *   $set_once: { created: new Date("2020-01-01") }
 * }
 * const program = Mixpanel.groupUpdate(update)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type GroupUpdateInput = Omit<Message.GroupUpdate, "$token" | "$time"> & { readonly $time?: number }

/**
 * Every operation, by what it returns: an `Effect` in `Service`, the error or `undefined` in `Unsafe`.
 *
 * @example
 * ```ts
 * import type { Mixpanel } from "effect-mixpanel"
 *
 * // What an operation gives back, for a function that works with either face
 * type TrackResult<F extends Mixpanel.Operations<unknown>> = ReturnType<F["track"]>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Operations<Result> {
  /** Tracks an event for `distinctId` (`/track`), with `time` from the `Clock` and a fresh `$insert_id` unless `properties` give them. Seed: `track`. */
  readonly track: <P extends Message.EventPropertiesOf<P>>(
    distinctId: string,
    event: string,
    properties?: P,
    options?: MessageOptions
  ) => Result
  /** Tracks several events in as few requests as Mixpanel allows. Valid events are sent even if some are invalid; the call then fails naming the first invalid one. */
  readonly trackBatch: (events: Iterable<BatchEvent>) => Result
  /** Imports a historical event (`/import`, which needs `importAuth` on the consumer). `time` is milliseconds since the epoch or a `Date`. Seed: `import_data`. */
  readonly importEvent: <P extends Message.EventPropertiesOf<P>>(
    distinctId: string,
    event: string,
    time: number | Date,
    properties?: P,
    options?: MessageOptions
  ) => Result
  /** Imports several historical events in as few requests as Mixpanel allows. */
  readonly importEvents: (events: Iterable<ImportedEvent>) => Result
  /** Links `aliasId` to the existing `original` id (`$create_alias`). Sent at once, even through a buffering consumer. Seed: `alias`. */
  readonly alias: (aliasId: string, original: string, options?: MessageOptions) => Result
  /** Merges two identities (`$merge`, through `/import`). */
  readonly merge: (distinctId1: string, distinctId2: string, options?: MessageOptions) => Result
  /** Sets properties of a user profile (`$set`), creating the profile if needed. Seed: `people_set`. */
  readonly peopleSet: <P extends Message.PropertiesOf<P>>(
    distinctId: string,
    properties: P,
    options?: ProfileOptions
  ) => Result
  /** Sets properties of a user profile that are not set yet (`$set_once`). Seed: `people_set_once`. */
  readonly peopleSetOnce: <P extends Message.PropertiesOf<P>>(
    distinctId: string,
    properties: P,
    options?: ProfileOptions
  ) => Result
  /** Adds to numeric properties of a user profile (`$add`); negative numbers subtract. Seed: `people_increment`. */
  readonly peopleIncrement: (
    distinctId: string,
    properties: { readonly [key: string]: number },
    options?: ProfileOptions
  ) => Result
  /** Appends values to list properties of a user profile (`$append`). Seed: `people_append`. */
  readonly peopleAppend: <P extends Message.PropertiesOf<P>>(
    distinctId: string,
    properties: P,
    options?: ProfileOptions
  ) => Result
  /** Merges values into list properties of a user profile, without duplicates (`$union`). Seed: `people_union`. */
  readonly peopleUnion: (
    distinctId: string,
    properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
    options?: ProfileOptions
  ) => Result
  /** Removes values from list properties of a user profile (`$remove`). */
  readonly peopleRemove: <P extends Message.PropertiesOf<P>>(
    distinctId: string,
    properties: P,
    options?: ProfileOptions
  ) => Result
  /** Removes properties from a user profile (`$unset`). Seed: `people_unset`. */
  readonly peopleUnset: (distinctId: string, names: ReadonlyArray<string>, options?: ProfileOptions) => Result
  /** Deletes a user profile (`$delete`). Seed: `people_delete`. */
  readonly peopleDelete: (distinctId: string, options?: ProfileOptions) => Result
  /** Records a charge on a user profile (`$append` to `$transactions`), with `$time` now unless `properties` give one. Seed: `people_track_charge`. */
  readonly peopleTrackCharge: <P extends Message.PropertiesOf<P>>(
    distinctId: string,
    amount: number,
    properties?: P,
    options?: ProfileOptions
  ) => Result
  /** Clears every charge of a user profile (`$unset` of `$transactions`). Seed: `people_clear_charges`. */
  readonly peopleClearCharges: (distinctId: string, options?: ProfileOptions) => Result
  /** Sends a profile update that the caller writes (`$distinct_id` and one operation); the token and `$time` are added. Seed: `people_update`. */
  readonly peopleUpdate: (update: ProfileUpdateInput, options?: ProfileOptions) => Result
  /** Sets properties of a group profile (`$set`). */
  readonly groupSet: <P extends Message.PropertiesOf<P>>(
    groupKey: string,
    groupId: string | number,
    properties: P,
    options?: MessageOptions
  ) => Result
  /** Sets properties of a group profile that are not set yet (`$set_once`). */
  readonly groupSetOnce: <P extends Message.PropertiesOf<P>>(
    groupKey: string,
    groupId: string | number,
    properties: P,
    options?: MessageOptions
  ) => Result
  /** Merges values into list properties of a group profile (`$union`). */
  readonly groupUnion: (
    groupKey: string,
    groupId: string | number,
    properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
    options?: MessageOptions
  ) => Result
  /** Removes values from list properties of a group profile (`$remove`). */
  readonly groupRemove: <P extends Message.PropertiesOf<P>>(
    groupKey: string,
    groupId: string | number,
    properties: P,
    options?: MessageOptions
  ) => Result
  /** Removes properties from a group profile (`$unset`). */
  readonly groupUnset: (
    groupKey: string,
    groupId: string | number,
    names: ReadonlyArray<string>,
    options?: MessageOptions
  ) => Result
  /** Deletes a group profile (`$delete`). */
  readonly groupDelete: (groupKey: string, groupId: string | number, options?: MessageOptions) => Result
  /** Sends a group update that the caller writes (`$group_key`, `$group_id` and one operation). */
  readonly groupUpdate: (update: GroupUpdateInput, options?: MessageOptions) => Result
}

/**
 * Every operation. Each fails with `InvalidMessage` before sending anything it cannot send, and with the
 * consumer's error when delivery fails.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * // A function that takes the service as an argument rather than from the context
 * const onboard = (mixpanel: Mixpanel.Service, userId: string) =>
 *   Effect.all([mixpanel.track(userId, "Onboarded"), mixpanel.peopleSetOnce(userId, { onboarded: new Date() })], {
 *     discard: true
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Operations<Effect.Effect<void, SendError>> {}

/**
 * The service's operations for code that is not Effect: each call reads its arguments, builds the message
 * and hands it to the consumer at once, and returns the typed error, or `undefined` when the message was
 * accepted (with `layerBuffered`, accepted for delivery). No fiber is made per call: where the consumer must
 * wait (`layerDirect`, which sends before it returns; `overflow: "wait"` with a full buffer; `alias`), the
 * call starts the work in the background, returns `undefined`, and a failure of it is logged as a warning.
 * Time is the `Clock` of the layer the service was built in; no span is made.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, ManagedRuntime } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * const runtime = ManagedRuntime.make(
 *   Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *     Layer.provideMerge(Consumer.layerBuffered()),
 *     Layer.provide(FetchHttpClient.layer)
 *   )
 * )
 *
 * // in a callback of a framework that is not Effect
 * export const onSignup = async (userId: string) => {
 *   const mixpanel = await runtime.runPromise(Mixpanel.unsafe)
 *   const error = mixpanel.track(userId, "Signed Up", { plan: "pro" })
 *   if (error !== undefined) console.warn(error.message)
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Unsafe extends Operations<SendError | undefined> {}

/**
 * The `Mixpanel` service. Its operations are also this module's accessor functions (`Mixpanel.track`, ...);
 * provide it with `layer` or `layerConfig`, over a `Consumer`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const signUp = (userId: string, plan: string) =>
 *   Effect.gen(function* () {
 *     const mixpanel = yield* Mixpanel.Mixpanel
 *     yield* mixpanel.track(userId, "Signed Up", { plan })
 *     yield* mixpanel.peopleSet(userId, { plan })
 *   })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Mixpanel extends Context.Tag("effect-mixpanel/Mixpanel")<Mixpanel, Service>() {}

/**
 * The synchronous face of the service in context (see `Unsafe`): get it once, call it from code that is
 * not Effect without a fiber per call. A `Mixpanel` service not built by this library (a stand-in of a
 * test) gets a face that runs each operation on a fiber of its own.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const program = Effect.gen(function* () {
 *   const mixpanel = yield* Mixpanel.unsafe
 *   const error = mixpanel.track("u1", "Signed Up", { plan: "pro" })
 *   console.log(error === undefined ? "accepted" : error.message)
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(Mixpanel.layer({ token: "T" }).pipe(Layer.provide(TestConsumer.layer)))))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const unsafe: Effect.Effect<Unsafe, never, Mixpanel> = Effect.flatMap(Mixpanel, internal.unsafeOf)

/**
 * Builds the service over the `Consumer` in context. An empty token fails with `InvalidConfig`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * // Two projects from one application, over one consumer
 * const program = Effect.gen(function* () {
 *   const production = yield* Mixpanel.make({ token: "PRODUCTION_TOKEN" })
 *   const staging = yield* Mixpanel.make({ token: "STAGING_TOKEN" })
 *   yield* production.track("u1", "Signed Up")
 *   yield* staging.track("u1", "Signed Up")
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestConsumer.layer)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, InvalidConfig, Consumer> = internal.make

/**
 * The service as a layer; it needs a `Consumer`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Mixpanel, TestConsumer } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("user-1", "Signed Up", { plan: "pro" })
 *
 * program.pipe(
 *   Effect.provide(Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(Layer.provideMerge(TestConsumer.layer))),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Mixpanel, InvalidConfig, Consumer> =>
  Layer.effect(Mixpanel, make(options))

/**
 * The service as a layer with its options read from `Config`; by default the token is the environment
 * variable `MIXPANEL_TOKEN`, read as `Redacted`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { Mixpanel } from "effect-mixpanel"
 *
 * // The token from MIXPANEL_TOKEN, or from a variable of your own
 * const MixpanelLive = Mixpanel.layerConfig()
 * const FromOwnVariable = Mixpanel.layerConfig({ token: Config.redacted("ANALYTICS_TOKEN") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = { token: redactedVariable("MIXPANEL_TOKEN") }
): Layer.Layer<Mixpanel, InvalidConfig | ConfigError.ConfigError, Consumer> =>
  Layer.effect(Mixpanel, Effect.flatMap(Config.unwrap(options), make))

/**
 * Tracks an event for `distinctId` (`/track`), with `time` from the `Clock` and a fresh `$insert_id` unless `properties` give them.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Signed Up", { plan: "pro", referrer: "newsletter" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const track = <P extends Message.EventPropertiesOf<P>>(
  distinctId: string,
  event: string,
  properties?: P,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.track(distinctId, event, properties, options))

/**
 * Tracks several events in as few requests as Mixpanel allows. Valid events are sent even if some are invalid; the call then fails naming the first invalid one.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.trackBatch([
 *   { distinctId: "u1", event: "Page Viewed", properties: { path: "/pricing" } },
 *   { distinctId: "u2", event: "Page Viewed", properties: { path: "/docs" } }
 * ])
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const trackBatch = (events: Iterable<BatchEvent>): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.trackBatch(events))

/**
 * Imports a historical event (`/import`, which needs `importAuth` on the consumer). `time` is milliseconds since the epoch or a `Date`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.importEvent("u1", "Order Placed", new Date("2024-03-01T12:00:00Z"), { total: 42.5 })
 *
 * const ImportLive = Mixpanel.layer({ token: "YOUR_TOKEN" }).pipe(
 *   Layer.provide(Consumer.layerDirect({ importAuth: Consumer.apiSecret("YOUR_API_SECRET") })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const main = program.pipe(Effect.provide(ImportLive))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const importEvent = <P extends Message.EventPropertiesOf<P>>(
  distinctId: string,
  event: string,
  time: number | Date,
  properties?: P,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.importEvent(distinctId, event, time, properties, options))

/**
 * Imports several historical events in as few requests as Mixpanel allows.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * // The order id as `$insert_id`: imported twice, an order still counts once
 * const orders = [{ id: "o-1001", user: "u1", total: 42.5, placedAt: 1709294400000 }]
 * const program = Mixpanel.importEvents(
 *   orders.map((order) => ({
 *     distinctId: order.user,
 *     event: "Order Placed",
 *     time: order.placedAt,
 *     properties: { $insert_id: order.id, total: order.total }
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const importEvents = (events: Iterable<ImportedEvent>): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.importEvents(events))

/**
 * Links `aliasId` to the existing `original` id (`$create_alias`). Sent at once, even through a buffering consumer.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.alias("user-42", "anon-7f3c")
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const alias = (
  aliasId: string,
  original: string,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.alias(aliasId, original, options))

/**
 * Merges two identities (`$merge`, through `/import`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * // goes through /import: the consumer needs `importAuth`
 * const program = Mixpanel.merge("anon-7f3c", "user-42")
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const merge = (
  distinctId1: string,
  distinctId2: string,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.merge(distinctId1, distinctId2, options))

/**
 * Sets properties of a user profile (`$set`), creating the profile if needed.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleSet("u1", { $name: "Ada Lovelace", $email: "ada@example.com", plan: "pro" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleSet = <P extends Message.PropertiesOf<P>>(
  distinctId: string,
  properties: P,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleSet(distinctId, properties, options))

/**
 * Sets properties of a user profile that are not set yet (`$set_once`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleSetOnce("u1", { signup_source: "newsletter" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleSetOnce = <P extends Message.PropertiesOf<P>>(
  distinctId: string,
  properties: P,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleSetOnce(distinctId, properties, options))

/**
 * Adds to numeric properties of a user profile (`$add`); negative numbers subtract.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleIncrement("u1", { logins: 1, credits: -5 })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleIncrement = (
  distinctId: string,
  properties: { readonly [key: string]: number },
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleIncrement(distinctId, properties, options))

/**
 * Appends values to list properties of a user profile (`$append`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleAppend("u1", { viewed_plans: "enterprise" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleAppend = <P extends Message.PropertiesOf<P>>(
  distinctId: string,
  properties: P,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleAppend(distinctId, properties, options))

/**
 * Merges values into list properties of a user profile, without duplicates (`$union`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleUnion("u1", { interests: ["analytics", "effect"] })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUnion = (
  distinctId: string,
  properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUnion(distinctId, properties, options))

/**
 * Removes values from list properties of a user profile (`$remove`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleRemove("u1", { interests: "effect" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleRemove = <P extends Message.PropertiesOf<P>>(
  distinctId: string,
  properties: P,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleRemove(distinctId, properties, options))

/**
 * Removes properties from a user profile (`$unset`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleUnset("u1", ["trial_ends"])
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUnset = (
  distinctId: string,
  names: ReadonlyArray<string>,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUnset(distinctId, names, options))

/**
 * Deletes a user profile (`$delete`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleDelete("u1")
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleDelete = (distinctId: string, options?: ProfileOptions): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleDelete(distinctId, options))

/**
 * Records a charge on a user profile (`$append` to `$transactions`), with `$time` now unless `properties` give one.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleTrackCharge("u1", 29.99, { plan: "pro" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleTrackCharge = <P extends Message.PropertiesOf<P>>(
  distinctId: string,
  amount: number,
  properties?: P,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleTrackCharge(distinctId, amount, properties, options))

/**
 * Clears every charge of a user profile (`$unset` of `$transactions`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleClearCharges("u1")
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleClearCharges = (
  distinctId: string,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleClearCharges(distinctId, options))

/**
 * Sends a profile update that the caller writes (`$distinct_id` and one operation); the token and `$time` are added.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.peopleUpdate({ $distinct_id: "u1", $add: { logins: 1 } }, { $ignore_time: true })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUpdate = (
  update: ProfileUpdateInput,
  options?: ProfileOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUpdate(update, options))

/**
 * Sets properties of a group profile (`$set`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupSet("company_id", "acme", { name: "Acme Inc.", seats: 40 })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupSet = <P extends Message.PropertiesOf<P>>(
  groupKey: string,
  groupId: string | number,
  properties: P,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupSet(groupKey, groupId, properties, options))

/**
 * Sets properties of a group profile that are not set yet (`$set_once`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupSetOnce("company_id", "acme", { created: new Date("2020-01-01") })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupSetOnce = <P extends Message.PropertiesOf<P>>(
  groupKey: string,
  groupId: string | number,
  properties: P,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupSetOnce(groupKey, groupId, properties, options))

/**
 * Merges values into list properties of a group profile (`$union`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupUnion("company_id", "acme", { features: ["sso"] })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUnion = (
  groupKey: string,
  groupId: string | number,
  properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUnion(groupKey, groupId, properties, options))

/**
 * Removes values from list properties of a group profile (`$remove`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupRemove("company_id", "acme", { features: "beta" })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupRemove = <P extends Message.PropertiesOf<P>>(
  groupKey: string,
  groupId: string | number,
  properties: P,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupRemove(groupKey, groupId, properties, options))

/**
 * Removes properties from a group profile (`$unset`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupUnset("company_id", "acme", ["trial_ends"])
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUnset = (
  groupKey: string,
  groupId: string | number,
  names: ReadonlyArray<string>,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUnset(groupKey, groupId, names, options))

/**
 * Deletes a group profile (`$delete`).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupDelete("company_id", 42)
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupDelete = (
  groupKey: string,
  groupId: string | number,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupDelete(groupKey, groupId, options))

/**
 * Sends a group update that the caller writes (`$group_key`, `$group_id` and one operation).
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.groupUpdate({ $group_key: "company_id", $group_id: "acme", $union: { regions: ["EU"] } })
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUpdate = (
  update: GroupUpdateInput,
  options?: MessageOptions
): Effect.Effect<void, SendError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUpdate(update, options))
