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

/**
 * A property value as a caller gives it: JSON, plus `Date`.
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
 * @since 0.1.0
 * @category models
 */
export interface Properties {
  readonly [key: string]: PropertyValue
}

/**
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
      if (
        objectOnly &&
        (typeof input !== "object" || input === null || Array.isArray(input) || input instanceof Date)
      ) {
        return ParseResult.fail(new ParseResult.Type(ast, input, "expected an object of properties"))
      }
      const result = Json.toJson(input, dates)
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
 * One property value: any JSON value, or a `Date` (encoded as `YYYY-MM-DDTHH:MM:SS`, UTC). Functions,
 * symbols, bigints, `undefined`, `NaN`, `Infinity`, class instances other than `Date`, and cycles fail.
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
 * @since 0.1.0
 * @category schemas
 */
export const Token = Schema.String.pipe(
  Schema.minLength(1, { message: () => "the project token is empty" }),
  Schema.annotations({ identifier: "Token" })
)

/**
 * An event name: any non-empty string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventName = Schema.String.pipe(
  Schema.minLength(1, { message: () => "an event name cannot be empty" }),
  Schema.annotations({ identifier: "EventName" })
)

/**
 * Placeholder ids that Mixpanel refuses as a `distinct_id` (compared without regard to case).
 *
 * @since 0.1.0
 * @category models
 */
export const placeholderIds: ReadonlySet<string> = new Set([
  "00000000-0000-0000-0000-000000000000",
  "anon",
  "anonymous",
  "nil",
  "none",
  "null",
  "n/a",
  "na",
  "undefined",
  "unknown",
  "<nil>",
  "0",
  "-1",
  "true",
  "false",
  "[]",
  "{}"
])

/**
 * A `distinct_id` for an event: any string but Mixpanel's placeholder ids; `""` means the event is tied to
 * no user.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DistinctId = Schema.String.pipe(
  Schema.filter((id) => !placeholderIds.has(id.toLowerCase()) || `"${id}" is a placeholder id that Mixpanel refuses`),
  Schema.annotations({ identifier: "DistinctId" })
)

/**
 * A `$distinct_id` for a profile update: a `DistinctId` that is not empty.
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
 * @since 0.1.0
 * @category schemas
 */
export const InsertId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9-]{1,36}$/, {
    message: () => "an $insert_id is 1 to 36 characters of letters, digits and '-'"
  }),
  Schema.annotations({ identifier: "InsertId" })
)

/**
 * A time in milliseconds since the Unix epoch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Time = Schema.Number.pipe(
  Schema.finite({ message: () => "a time must be a finite number of milliseconds since the epoch" }),
  Schema.nonNegative({ message: () => "a time cannot be before 1970" }),
  Schema.annotations({ identifier: "Time" })
)

const extraProperties = Schema.Record({ key: Schema.String, value: PropertyValue })

/**
 * The properties of an event: the caller's own, beside the ones the library sets. `time` and
 * `$insert_id` are set on every tracked and imported event; `alias` sends neither, as Mixpanel's own SDKs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventProperties = Schema.Struct(
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
 * @since 0.1.0
 * @category schemas
 */
export const Event = Schema.Struct({
  event: EventName,
  properties: EventProperties
}).annotations({ identifier: "Event" })

/**
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
 * @since 0.1.0
 * @category models
 */
export interface Modifiers extends Schema.Schema.Type<typeof Modifiers> {}

const PropertyNames = Schema.Array(Schema.String)
const Increments = Schema.Record({
  key: Schema.String,
  value: Schema.Number.pipe(Schema.finite({ message: () => "$add takes finite numbers" }))
})
const Lists = Schema.Record({ key: Schema.String, value: Schema.Array(PropertyValue) })

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
 * @since 0.1.0
 * @category models
 */
export const profileOperationNames = Object.keys(profileOperations) as ReadonlyArray<keyof typeof profileOperations>

/**
 * The operations of a group profile update (no `$add`, no `$append`); a message holds exactly one.
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
 * @since 0.1.0
 * @category models
 */
export interface ProfileUpdate extends Schema.Schema.Type<typeof ProfileUpdate> {}

/**
 * A group key, such as `company_id`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GroupKey = Schema.String.pipe(Schema.minLength(1, { message: () => "a group key cannot be empty" }))

/**
 * A group id: a non-empty string, or a number.
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
 * @since 0.1.0
 * @category models
 */
export interface GroupUpdate extends Schema.Schema.Type<typeof GroupUpdate> {}

/**
 * Extra top-level keys merged into a message (the seed's `meta`). A key the message sets itself cannot
 * be overridden this way.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Meta = Properties

/**
 * The largest message Mixpanel ingests: 1 MB of JSON (the stricter reading of Mixpanel's "1MB").
 *
 * @since 0.1.0
 * @category models
 */
export const maxMessageBytes = 1_000_000
