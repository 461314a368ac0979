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
import type * as Message from "./Message.js"
import type { InvalidConfig, MixpanelError } from "./MixpanelError.js"

/**
 * Options of the `Mixpanel` service.
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
 * @since 0.1.0
 * @category models
 */
export interface ProfileOptions extends MessageOptions, Message.Modifiers {}

/**
 * One event of `trackBatch`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchEvent {
  readonly distinctId: string
  readonly event: string
  readonly properties?: Message.Properties | undefined
  readonly meta?: Message.Properties | undefined
}

/**
 * One event of `importEvents`: a `BatchEvent` with its time (milliseconds since the epoch, or a `Date`).
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
 * @since 0.1.0
 * @category models
 */
export type ProfileUpdateInput = Omit<Message.ProfileUpdate, "$token" | "$time"> & { readonly $time?: number }

/**
 * A group profile update as `groupUpdate` takes it: the message without `$token` (`$time` optional).
 *
 * @since 0.1.0
 * @category models
 */
export type GroupUpdateInput = Omit<Message.GroupUpdate, "$token" | "$time"> & { readonly $time?: number }

/**
 * Every operation. Each fails with `InvalidMessage` before sending anything it cannot send, and with the
 * consumer's error when delivery fails.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Tracks an event for `distinctId` (`/track`), with `time` from the `Clock` and a fresh `$insert_id` unless `properties` give them. Seed: `track`. */
  readonly track: (
    distinctId: string,
    event: string,
    properties?: Message.Properties,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Tracks several events in as few requests as Mixpanel allows. Valid events are sent even if some are invalid; the call then fails naming the first invalid one. */
  readonly trackBatch: (events: Iterable<BatchEvent>) => Effect.Effect<void, MixpanelError>
  /** Imports a historical event (`/import`, which needs `importAuth` on the consumer). `time` is milliseconds since the epoch or a `Date`. Seed: `import_data`. */
  readonly importEvent: (
    distinctId: string,
    event: string,
    time: number | Date,
    properties?: Message.Properties,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Imports several historical events in as few requests as Mixpanel allows. */
  readonly importEvents: (events: Iterable<ImportedEvent>) => Effect.Effect<void, MixpanelError>
  /** Links `aliasId` to the existing `original` id (`$create_alias`). Sent at once, even through a buffering consumer. Seed: `alias`. */
  readonly alias: (aliasId: string, original: string, options?: MessageOptions) => Effect.Effect<void, MixpanelError>
  /** Merges two identities (`$merge`, through `/import`). */
  readonly merge: (
    distinctId1: string,
    distinctId2: string,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Sets properties of a user profile (`$set`), creating the profile if needed. Seed: `people_set`. */
  readonly peopleSet: (
    distinctId: string,
    properties: Message.Properties,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Sets properties of a user profile that are not set yet (`$set_once`). Seed: `people_set_once`. */
  readonly peopleSetOnce: (
    distinctId: string,
    properties: Message.Properties,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Adds to numeric properties of a user profile (`$add`); negative numbers subtract. Seed: `people_increment`. */
  readonly peopleIncrement: (
    distinctId: string,
    properties: { readonly [key: string]: number },
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Appends values to list properties of a user profile (`$append`). Seed: `people_append`. */
  readonly peopleAppend: (
    distinctId: string,
    properties: Message.Properties,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Merges values into list properties of a user profile, without duplicates (`$union`). Seed: `people_union`. */
  readonly peopleUnion: (
    distinctId: string,
    properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Removes values from list properties of a user profile (`$remove`). */
  readonly peopleRemove: (
    distinctId: string,
    properties: Message.Properties,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Removes properties from a user profile (`$unset`). Seed: `people_unset`. */
  readonly peopleUnset: (
    distinctId: string,
    names: ReadonlyArray<string>,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Deletes a user profile (`$delete`). Seed: `people_delete`. */
  readonly peopleDelete: (distinctId: string, options?: ProfileOptions) => Effect.Effect<void, MixpanelError>
  /** Records a charge on a user profile (`$append` to `$transactions`), with `$time` now unless `properties` give one. Seed: `people_track_charge`. */
  readonly peopleTrackCharge: (
    distinctId: string,
    amount: number,
    properties?: Message.Properties,
    options?: ProfileOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Clears every charge of a user profile (`$unset` of `$transactions`). Seed: `people_clear_charges`. */
  readonly peopleClearCharges: (distinctId: string, options?: ProfileOptions) => Effect.Effect<void, MixpanelError>
  /** Sends a profile update that the caller writes (`$distinct_id` and one operation); the token and `$time` are added. Seed: `people_update`. */
  readonly peopleUpdate: (update: ProfileUpdateInput, options?: ProfileOptions) => Effect.Effect<void, MixpanelError>
  /** Sets properties of a group profile (`$set`). */
  readonly groupSet: (
    groupKey: string,
    groupId: string | number,
    properties: Message.Properties,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Sets properties of a group profile that are not set yet (`$set_once`). */
  readonly groupSetOnce: (
    groupKey: string,
    groupId: string | number,
    properties: Message.Properties,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Merges values into list properties of a group profile (`$union`). */
  readonly groupUnion: (
    groupKey: string,
    groupId: string | number,
    properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Removes values from list properties of a group profile (`$remove`). */
  readonly groupRemove: (
    groupKey: string,
    groupId: string | number,
    properties: Message.Properties,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Removes properties from a group profile (`$unset`). */
  readonly groupUnset: (
    groupKey: string,
    groupId: string | number,
    names: ReadonlyArray<string>,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Deletes a group profile (`$delete`). */
  readonly groupDelete: (
    groupKey: string,
    groupId: string | number,
    options?: MessageOptions
  ) => Effect.Effect<void, MixpanelError>
  /** Sends a group update that the caller writes (`$group_key`, `$group_id` and one operation). */
  readonly groupUpdate: (update: GroupUpdateInput, options?: MessageOptions) => Effect.Effect<void, MixpanelError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Mixpanel extends Context.Tag("effect-mixpanel/Mixpanel")<Mixpanel, Service>() {}

/**
 * Builds the service over the `Consumer` in context.
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
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = { token: Config.redacted("MIXPANEL_TOKEN") }
): Layer.Layer<Mixpanel, InvalidConfig | ConfigError.ConfigError, Consumer> =>
  Layer.effect(Mixpanel, Effect.flatMap(Config.unwrap(options), make))

/**
 * Tracks an event for `distinctId` (`/track`), with `time` from the `Clock` and a fresh `$insert_id` unless `properties` give them.
 *
 * @since 0.1.0
 * @category accessors
 */
export const track = (
  distinctId: string,
  event: string,
  properties?: Message.Properties,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.track(distinctId, event, properties, options))

/**
 * Tracks several events in as few requests as Mixpanel allows. Valid events are sent even if some are invalid; the call then fails naming the first invalid one.
 *
 * @since 0.1.0
 * @category accessors
 */
export const trackBatch = (events: Iterable<BatchEvent>): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.trackBatch(events))

/**
 * Imports a historical event (`/import`, which needs `importAuth` on the consumer). `time` is milliseconds since the epoch or a `Date`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const importEvent = (
  distinctId: string,
  event: string,
  time: number | Date,
  properties?: Message.Properties,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.importEvent(distinctId, event, time, properties, options))

/**
 * Imports several historical events in as few requests as Mixpanel allows.
 *
 * @since 0.1.0
 * @category accessors
 */
export const importEvents = (events: Iterable<ImportedEvent>): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.importEvents(events))

/**
 * Links `aliasId` to the existing `original` id (`$create_alias`). Sent at once, even through a buffering consumer.
 *
 * @since 0.1.0
 * @category accessors
 */
export const alias = (
  aliasId: string,
  original: string,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.alias(aliasId, original, options))

/**
 * Merges two identities (`$merge`, through `/import`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const merge = (
  distinctId1: string,
  distinctId2: string,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.merge(distinctId1, distinctId2, options))

/**
 * Sets properties of a user profile (`$set`), creating the profile if needed.
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleSet = (
  distinctId: string,
  properties: Message.Properties,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleSet(distinctId, properties, options))

/**
 * Sets properties of a user profile that are not set yet (`$set_once`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleSetOnce = (
  distinctId: string,
  properties: Message.Properties,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleSetOnce(distinctId, properties, options))

/**
 * Adds to numeric properties of a user profile (`$add`); negative numbers subtract.
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleIncrement = (
  distinctId: string,
  properties: { readonly [key: string]: number },
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleIncrement(distinctId, properties, options))

/**
 * Appends values to list properties of a user profile (`$append`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleAppend = (
  distinctId: string,
  properties: Message.Properties,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleAppend(distinctId, properties, options))

/**
 * Merges values into list properties of a user profile, without duplicates (`$union`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUnion = (
  distinctId: string,
  properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUnion(distinctId, properties, options))

/**
 * Removes values from list properties of a user profile (`$remove`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleRemove = (
  distinctId: string,
  properties: Message.Properties,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleRemove(distinctId, properties, options))

/**
 * Removes properties from a user profile (`$unset`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUnset = (
  distinctId: string,
  names: ReadonlyArray<string>,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUnset(distinctId, names, options))

/**
 * Deletes a user profile (`$delete`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleDelete = (
  distinctId: string,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleDelete(distinctId, options))

/**
 * Records a charge on a user profile (`$append` to `$transactions`), with `$time` now unless `properties` give one.
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleTrackCharge = (
  distinctId: string,
  amount: number,
  properties?: Message.Properties,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleTrackCharge(distinctId, amount, properties, options))

/**
 * Clears every charge of a user profile (`$unset` of `$transactions`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleClearCharges = (
  distinctId: string,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleClearCharges(distinctId, options))

/**
 * Sends a profile update that the caller writes (`$distinct_id` and one operation); the token and `$time` are added.
 *
 * @since 0.1.0
 * @category accessors
 */
export const peopleUpdate = (
  update: ProfileUpdateInput,
  options?: ProfileOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.peopleUpdate(update, options))

/**
 * Sets properties of a group profile (`$set`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupSet = (
  groupKey: string,
  groupId: string | number,
  properties: Message.Properties,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupSet(groupKey, groupId, properties, options))

/**
 * Sets properties of a group profile that are not set yet (`$set_once`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupSetOnce = (
  groupKey: string,
  groupId: string | number,
  properties: Message.Properties,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupSetOnce(groupKey, groupId, properties, options))

/**
 * Merges values into list properties of a group profile (`$union`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUnion = (
  groupKey: string,
  groupId: string | number,
  properties: { readonly [key: string]: ReadonlyArray<Message.PropertyValue> },
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUnion(groupKey, groupId, properties, options))

/**
 * Removes values from list properties of a group profile (`$remove`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupRemove = (
  groupKey: string,
  groupId: string | number,
  properties: Message.Properties,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupRemove(groupKey, groupId, properties, options))

/**
 * Removes properties from a group profile (`$unset`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUnset = (
  groupKey: string,
  groupId: string | number,
  names: ReadonlyArray<string>,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUnset(groupKey, groupId, names, options))

/**
 * Deletes a group profile (`$delete`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupDelete = (
  groupKey: string,
  groupId: string | number,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupDelete(groupKey, groupId, options))

/**
 * Sends a group update that the caller writes (`$group_key`, `$group_id` and one operation).
 *
 * @since 0.1.0
 * @category accessors
 */
export const groupUpdate = (
  update: GroupUpdateInput,
  options?: MessageOptions
): Effect.Effect<void, MixpanelError, Mixpanel> =>
  Effect.flatMap(Mixpanel, (mixpanel) => mixpanel.groupUpdate(update, options))
