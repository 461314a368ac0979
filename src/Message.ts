/**
 * The messages Mixpanel ingests, as Effect Schemas: events (live and imported), user profile updates and
 * group profile updates, with every property value checked to be JSON.
 *
 * The `Type` side of each schema is what the library builds from a caller's arguments (dates as `Date`);
 * the `Encoded` side is exactly what goes on the wire (dates as `YYYY-MM-DDTHH:MM:SS` in UTC, as the seed
 * writes them). Anything Mixpanel would reject, or that cannot be JSON, fails with a `ParseError` whose
 * path names the field; the `Mixpanel` service turns it into an `InvalidMessage`.
 *
 * @since 0.1.0
 */
import type * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import * as Json from "./internal/json.js"
import * as Rules from "./internal/rules.js"

/**
 * A property value as a caller gives it: JSON, plus `Date`.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * const value: Message.PropertyValue = { plan: "pro", seats: 40, renewsAt: new Date("2025-01-01"), tags: ["b2b"] }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type PropertyValue =
  | string
  | number
  | boolean
  | null
  | Date
  | ReadonlyArray<PropertyValue>
  | { readonly [key: string]: PropertyValue }

/**
 * A JSON value, as it goes on the wire.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * // A Date goes on the wire as a string
 * const wire: Message.JsonValue = Schema.encodeSync(Message.PropertyValue)(new Date("2024-03-01T12:00:00Z"))
 * console.log(wire) // "2024-03-01T12:00:00"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

/**
 * An object of property values, as a caller gives them.
 *
 * @example
 * ```ts
 * import { Mixpanel, Message } from "effect-mixpanel"
 *
 * const properties: Message.Properties = { plan: "pro", trial: false, renewsAt: new Date("2025-01-01") }
 * const program = Mixpanel.track("u1", "Subscribed", properties)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Properties {
  readonly [key: string]: PropertyValue
}

/**
 * An object of JSON values, as properties go on the wire.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * const wire: Message.JsonObject = Schema.encodeSync(Message.Properties)({ renewsAt: new Date("2025-01-01T00:00:00Z") })
 * console.log(wire) // { renewsAt: "2025-01-01T00:00:00" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonObject {
  readonly [key: string]: JsonValue
}

const jsonIssue = (ast: AST.AST, input: unknown, issue: Json.Issue): ParseResult.ParseIssue => {
  const type = new ParseResult.Type(ast, input, issue.detail)
  const [head, ...tail] = issue.path
  return head === undefined ? type : new ParseResult.Pointer(tail.length === 0 ? head : [head, ...tail], input, type)
}

const jsonSchema = <A, I>(identifier: string, description: string, objectOnly: boolean) => {
  // The walk proves the shape: encoding returns a JSON value (`I`); decoding (which Schema also runs to
  // validate the type side of a filtered struct) lets valid dates through (`A`).
  const check =
    <Out>(dates: "format" | "keep") =>
    () =>
    (input: unknown, _: AST.ParseOptions, ast: AST.Declaration): Either.Either<Out, ParseResult.ParseIssue> => {
      if (objectOnly && !Json.isPlainObject(input)) {
        return ParseResult.fail(new ParseResult.Type(ast, input, "expected a plain object of properties"))
      }
      const result = Json.snapshot(input, dates)
      return Json.isIssue(result)
        ? ParseResult.fail(jsonIssue(ast, input, result))
        : ParseResult.succeed(result.value as Out)
    }
  return Schema.declare<A, I, []>(
    [],
    { decode: check<A>("keep"), encode: check<I>("format") },
    { identifier, description }
  )
}

/**
 * What a caller may pass as properties: any object type whose values are property values, an `interface`
 * included (an interface has no index signature, so it is not assignable to `Properties`), checked key by
 * key; functions, symbols, `undefined` and class instances are refused as types, as the runtime refuses
 * them as values.
 *
 * @example
 * ```ts
 * import type { Message } from "effect-mixpanel"
 *
 * interface SignupInput {
 *   readonly plan: string
 *   readonly seats: number
 *   readonly tags: ReadonlyArray<string>
 * }
 *
 * const ok = <P extends Message.PropertiesOf<P>>(properties: P): P => properties
 * ok<SignupInput>({ plan: "pro", seats: 5, tags: ["b2b"] })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type PropertiesOf<P> = { readonly [K in keyof P]: PropertyInput<P[K]> }

/**
 * The properties the library sets on every tracked and imported event, as a caller may give them in
 * `properties` to set them instead: `time` in milliseconds since the epoch or as a `Date` (sent as its
 * milliseconds, the one `Date` not sent as text: Mixpanel reads `time` as a number), the others as strings.
 *
 * @example
 * ```ts
 * import { Mixpanel } from "effect-mixpanel"
 *
 * const program = Mixpanel.track("u1", "Order Placed", { time: new Date("2024-03-01T12:00:00Z"), $insert_id: "o-1001" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LibraryProperties {
  readonly token?: string
  readonly distinct_id?: string
  readonly time?: number | Date
  readonly $insert_id?: string
}

/**
 * An event's properties as a caller gives them: property values, with `LibraryProperties`' types for the
 * keys the library sets.
 *
 * @example
 * ```ts
 * import type { Message } from "effect-mixpanel"
 *
 * const properties: Message.EventPropertiesInput = { plan: "pro", time: new Date("2024-03-01T12:00:00Z") }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type EventPropertiesInput = Properties & LibraryProperties

/**
 * `PropertiesOf` for an event's properties: the keys the library sets take `LibraryProperties`' types, so
 * that `{ time: "yesterday" }` or `{ $insert_id: 5 }`, which the run-time check refuses, do not compile.
 *
 * @example
 * ```ts
 * import type { Message } from "effect-mixpanel"
 *
 * const ok = <P extends Message.EventPropertiesOf<P>>(properties: P): P => properties
 * ok({ plan: "pro", time: new Date() })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type EventPropertiesOf<P> = {
  readonly [K in keyof P]: K extends keyof LibraryProperties
    ? Exclude<LibraryProperties[K], undefined>
    : PropertyInput<P[K]>
}

/**
 * One property value as `PropertiesOf` checks it: a JSON value or a `Date`, or an array or object type
 * (an `interface` too) made of them.
 *
 * @example
 * ```ts
 * import type { Message } from "effect-mixpanel"
 *
 * const at: Message.PropertyInput<Date> = new Date()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type PropertyInput<V> = V extends string | number | boolean | null | Date
  ? V
  : V extends ReadonlyArray<infer I>
    ? ReadonlyArray<PropertyInput<I>>
    : V extends (...args: ReadonlyArray<never>) => unknown
      ? never
      : V extends object
        ? { readonly [K in keyof V]: PropertyInput<V[K]> }
        : never

/**
 * One property value: any JSON value, or a `Date` (encoded as `YYYY-MM-DDTHH:MM:SS`, UTC). Functions,
 * symbols, bigints, `undefined`, `NaN`, `Infinity`, class instances other than `Date`, and cycles fail.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.PropertyValue)(new Date())) // true
 * console.log(Schema.is(Message.PropertyValue)(Number.NaN)) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const PropertyValue: Schema.Schema<PropertyValue, JsonValue> = jsonSchema(
  "PropertyValue",
  "a JSON value or a Date",
  false
)

/**
 * An object of property values.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * const result = Schema.encodeEither(Message.Properties)({ price: 9.99, discount: Number.POSITIVE_INFINITY })
 * console.log(result._tag) // "Left": the path of the issue names `discount`
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Properties: Schema.Schema<Properties, JsonObject> = jsonSchema(
  "Properties",
  "an object of JSON values and Dates",
  true
)

/**
 * The project token, as it appears inside every message.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.Token)("")) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Token = Schema.String.pipe(
  Schema.filter(Rules.isToken, { message: () => "the project token is empty" }),
  Schema.annotations({ identifier: "Token" })
)

/**
 * An event name: any non-empty string.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.EventName)("Signed Up")) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventName = Schema.String.pipe(
  Schema.filter(Rules.isEventName, { message: () => "an event name cannot be empty" }),
  Schema.annotations({ identifier: "EventName" })
)

/**
 * Placeholder ids that Mixpanel refuses as a `distinct_id` (compared without regard to case).
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Message.placeholderIds.has("anonymous")) // true
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const placeholderIds: ReadonlySet<string> = Rules.placeholderIds

/**
 * A `distinct_id` for an event: any string but Mixpanel's placeholder ids; `""` means the event is tied to
 * no user.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.DistinctId)("u1")) // true
 * console.log(Schema.is(Message.DistinctId)("Undefined")) // false: a placeholder, in any case
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const DistinctId = Schema.String.pipe(
  Schema.filter(Rules.isDistinctId, {
    message: () => "a placeholder id (such as `null` or `anonymous`) that Mixpanel refuses"
  }),
  Schema.annotations({ identifier: "DistinctId" })
)

/**
 * A `$distinct_id` for a profile update: a `DistinctId` that is not empty.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.ProfileDistinctId)("")) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProfileDistinctId = DistinctId.pipe(
  Schema.minLength(1, { message: () => "a profile update needs a non-empty distinct id" })
)

/**
 * An `$insert_id`: 1 to 36 characters of `[A-Za-z0-9-]`. Mixpanel deduplicates events on it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.InsertId)("order-1001")) // true
 * console.log(Schema.is(Message.InsertId)("order#1001")) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const InsertId = Schema.String.pipe(
  Schema.pattern(Rules.insertIdPattern, {
    message: () => "an $insert_id is 1 to 36 characters of letters, digits and '-'"
  }),
  Schema.annotations({ identifier: "InsertId" })
)

/**
 * A time in milliseconds since the Unix epoch.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.Time)(Date.UTC(2024, 2, 1))) // true
 * console.log(Schema.is(Message.Time)(-1)) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Time = Schema.Number.annotations({
  message: () => "expected a number of milliseconds since the epoch"
}).pipe(
  Schema.filter(Rules.isTime, {
    message: () => "a time must be a finite number of milliseconds since the epoch, not before 1970"
  }),
  Schema.annotations({ identifier: "Time" })
)

/**
 * An own property named `__proto__`, refused by name (as `Mixpanel.track` refuses it) in the records of a
 * message whose other keys Schema copies one by one: assigned to the copy, `__proto__` would set its
 * prototype, and the property would be lost without a word.
 */
const noProtoKey = {
  ["__proto__"]: Schema.optionalWith(Schema.Never.annotations({ message: () => Json.protoKeyDetail }), { exact: true })
}

/**
 * `Schema.Struct(fields, record)` refusing an own `__proto__` (`noProtoKey`). Its type leaves the refused
 * key out: `readonly __proto__?: never` beside an index signature is an error (TS2411) in a user's project
 * compiled without `exactOptionalPropertyTypes`, where the optional key's type takes in `undefined`.
 */
const refusingProtoKey = <Fields extends Schema.Struct.Fields, Record extends Schema.IndexSignature.Record>(
  fields: Fields,
  record: Record
): Schema.TypeLiteral<Fields, readonly [Record]> =>
  Schema.Struct({ ...fields, ...noProtoKey }, record) as unknown as Schema.TypeLiteral<Fields, readonly [Record]>

const extraProperties = Schema.Record({ key: Schema.String, value: PropertyValue })

/**
 * The properties of an event: the caller's own, beside the ones the library sets. `time` and
 * `$insert_id` are set on every tracked and imported event; `alias` sends neither, as Mixpanel's own SDKs.
 * A property named `__proto__` fails, here and in the `$union` and `$add` of profile and group updates, as in
 * `Mixpanel.track`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * const properties = Schema.decodeUnknownSync(Message.EventProperties)({ token: "T", distinct_id: "u1", plan: "pro" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventProperties = refusingProtoKey(
  {
    token: Token,
    distinct_id: Schema.optional(DistinctId),
    time: Schema.optional(Time),
    $insert_id: Schema.optional(InsertId)
  },
  extraProperties
)

/**
 * An event, for `/track` or `/import`: `{ event, properties }`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * // A message as it was sent, checked as Mixpanel would
 * const event = Schema.decodeUnknownSync(Schema.parseJson(Message.Event))(
 *   '{"event":"Signed Up","properties":{"token":"T","distinct_id":"u1","time":1709294400000}}'
 * )
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Event = Schema.Struct({
  event: EventName,
  properties: EventProperties
}).annotations({ identifier: "Event" })

/**
 * The type of `Event`.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * const event: Message.Event = { event: "Signed Up", properties: { token: "T", distinct_id: "u1", plan: "pro" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Event extends Schema.Schema.Type<typeof Event> {}

const Latitude = Schema.Number.pipe(Schema.between(-90, 90, { message: () => "a latitude is between -90 and 90" }))
const Longitude = Schema.Number.pipe(
  Schema.between(-180, 180, { message: () => "a longitude is between -180 and 180" })
)

/**
 * The modifiers a profile update may carry beside its operation: `$ip` (geolocate from this address),
 * `$ignore_time` (do not update `$last_seen`), `$ignore_alias`, and `$latitude` with `$longitude`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.Modifiers)({ $ip: "203.0.113.7", $ignore_time: true })) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Modifiers = Schema.Struct({
  $ip: Schema.optional(Schema.String),
  $ignore_time: Schema.optional(Schema.Boolean),
  $ignore_alias: Schema.optional(Schema.Boolean),
  $latitude: Schema.optional(Latitude),
  $longitude: Schema.optional(Longitude)
})

/**
 * The type of `Modifiers`.
 *
 * @example
 * ```ts
 * import { Message, Mixpanel } from "effect-mixpanel"
 *
 * const berlin: Message.Modifiers = { $latitude: 52.52, $longitude: 13.405 }
 * const program = Mixpanel.peopleSet("u1", { city: "Berlin" }, berlin)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Modifiers extends Schema.Schema.Type<typeof Modifiers> {}

const PropertyNames = Schema.Array(Schema.String)
const Increments = refusingProtoKey(
  {},
  Schema.Record({
    key: Schema.String,
    value: Schema.Number.pipe(Schema.finite({ message: () => "$add takes finite numbers" }))
  })
)
const Lists = refusingProtoKey(
  {},
  Schema.Record({
    key: Schema.String,
    value: Schema.Array(PropertyValue).annotations({ description: "a list (an array) of values" })
  })
)

const groupOperations = {
  $set: Schema.optional(Properties),
  $set_once: Schema.optional(Properties),
  $union: Schema.optional(Lists),
  $remove: Schema.optional(Properties),
  $unset: Schema.optional(PropertyNames),
  $delete: Schema.optional(Schema.Literal(""))
}

const profileOperations = {
  ...groupOperations,
  $add: Schema.optional(Increments),
  $append: Schema.optional(Properties)
}

/**
 * The operations of a user profile update; a message holds exactly one.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Message.profileOperationNames)
 * // [ '$set', '$set_once', '$union', '$remove', '$unset', '$delete', '$add', '$append' ]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const profileOperationNames = Object.keys(profileOperations) as ReadonlyArray<keyof typeof profileOperations>

/**
 * The operations of a group profile update (no `$add`, no `$append`); a message holds exactly one.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Message.groupOperationNames) // [ '$set', '$set_once', '$union', '$remove', '$unset', '$delete' ]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const groupOperationNames = Object.keys(groupOperations) as ReadonlyArray<keyof typeof groupOperations>

const exactlyOne = (names: ReadonlyArray<string>) => (message: object) => {
  const present = names.filter((name) => name in message && (message as Record<string, unknown>)[name] !== undefined)
  return (
    present.length === 1 ||
    (present.length === 0
      ? `a profile update needs one of ${names.join(", ")}`
      : `a profile update holds one operation, not ${present.join(" and ")}`)
  )
}

const modifierLocation = (message: Modifiers) =>
  (message.$latitude === undefined) === (message.$longitude === undefined) || "$latitude and $longitude go together"

/**
 * A user profile update, for `/engage`: `{ $token, $distinct_id, $time, <operation>, ...modifiers }`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * const result = Schema.decodeUnknownEither(Message.ProfileUpdate)({
 *   $token: "T",
 *   $distinct_id: "u1",
 *   $set: { plan: "pro" },
 *   $unset: ["trial_ends"]
 * })
 * console.log(result._tag) // "Left": a profile update holds one operation, not $set and $unset
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProfileUpdate = Schema.Struct({
  $token: Token,
  $distinct_id: ProfileDistinctId,
  $time: Schema.optional(Time),
  ...Modifiers.fields,
  ...profileOperations
})
  .pipe(Schema.filter(exactlyOne(profileOperationNames)), Schema.filter(modifierLocation))
  .annotations({ identifier: "ProfileUpdate" })

/**
 * The type of `ProfileUpdate`.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * const update: Message.ProfileUpdate = { $token: "T", $distinct_id: "u1", $add: { logins: 1 } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ProfileUpdate extends Schema.Schema.Type<typeof ProfileUpdate> {}

/**
 * A group key, such as `company_id`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.GroupKey)("company_id")) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const GroupKey = Schema.String.pipe(Schema.minLength(1, { message: () => "a group key cannot be empty" }))

/**
 * A group id: a non-empty string, or a number.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.GroupId)(42)) // true
 * console.log(Schema.is(Message.GroupId)("")) // false
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const GroupId = Schema.Union(
  Schema.String.pipe(Schema.minLength(1, { message: () => "a group id cannot be empty" })),
  Schema.Number.pipe(Schema.finite())
)

/**
 * A group profile update, for `/groups`: `{ $token, $group_key, $group_id, $time, <operation> }`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * const update = Schema.decodeUnknownSync(Message.GroupUpdate)({
 *   $token: "T",
 *   $group_key: "company_id",
 *   $group_id: "acme",
 *   $set: { seats: 40 }
 * })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const GroupUpdate = Schema.Struct({
  $token: Token,
  $group_key: GroupKey,
  $group_id: GroupId,
  $time: Schema.optional(Time),
  ...groupOperations
})
  .pipe(Schema.filter(exactlyOne(groupOperationNames)))
  .annotations({ identifier: "GroupUpdate" })

/**
 * The type of `GroupUpdate`.
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * const update: Message.GroupUpdate = { $token: "T", $group_key: "company_id", $group_id: "acme", $delete: "" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface GroupUpdate extends Schema.Schema.Type<typeof GroupUpdate> {}

/**
 * Extra top-level keys merged into a message (the seed's `meta`). A key the message sets itself cannot
 * be overridden this way.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Message } from "effect-mixpanel"
 *
 * console.log(Schema.is(Message.Meta)({ $source: "server" })) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Meta = Properties

/**
 * The largest message Mixpanel ingests: 1 MB of JSON (the stricter reading of Mixpanel's "1MB").
 *
 * @example
 * ```ts
 * import { Message } from "effect-mixpanel"
 *
 * // Whether properties leave room in a message (the rest of an event takes a few hundred bytes)
 * const fits = (properties: Message.Properties): boolean =>
 *   new TextEncoder().encode(JSON.stringify(properties)).length < Message.maxMessageBytes - 1024
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const maxMessageBytes: number = Json.maxBytes
