/**
 * The wire formats of Mixpanel's flags API as Schemas: flag definitions (`GET /flags/definitions`) and
 * remote evaluations (`GET /flags`). Field names stay as Mixpanel writes them. Where the official SDKs
 * accept `null` for an optional field, so do these.
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { JsonValue } from "../../Message.js"
import { maxDepth } from "../json.js"

/**
 * Whether `u` is a JSON value whose arrays and objects nest at most `levels` deep: the walk stops there,
 * so any value, however deep, is safe to check.
 */
const isJsonWithin = (u: unknown, levels: number, depth = 1): u is JsonValue => {
  if (u === null || typeof u === "string" || typeof u === "boolean") return true
  if (typeof u === "number") return Number.isFinite(u)
  if (typeof u !== "object" || depth > levels) return false
  if (Array.isArray(u)) return u.every((item) => isJsonWithin(item, levels, depth + 1))
  const proto = Object.getPrototypeOf(u)
  if (proto !== Object.prototype && proto !== null) return false
  return Object.values(u).every((item) => isJsonWithin(item, levels, depth + 1))
}

const isJson = (u: unknown): u is JsonValue => isJsonWithin(u, maxDepth)

/** Any JSON value nested at most 100 levels deep, as a message may be. */
export const Json: Schema.Schema<JsonValue> = Schema.declare(isJson, {
  identifier: "JsonValue",
  description: "a JSON value"
})

/** An optional field that may also be `null`, as the official SDKs accept. */
export const optionalNullable = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(Schema.NullOr(schema))

export const Variant = Schema.Struct({
  key: Schema.String,
  value: Json,
  is_control: optionalNullable(Schema.Boolean),
  split: optionalNullable(Schema.Number)
}).annotations({ identifier: "Variant" })

export const Rollout = Schema.Struct({
  rollout_percentage: Schema.Number,
  runtime_evaluation_rule: Schema.optional(Json),
  runtime_evaluation_definition: optionalNullable(Schema.Record({ key: Schema.String, value: Json })),
  variant_override: optionalNullable(Schema.Struct({ key: Schema.String })),
  // a `null` split counts as 0, as the official SDKs read it
  variant_splits: optionalNullable(Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Number) }))
}).annotations({ identifier: "Rollout" })

export const RuleSet = Schema.Struct({
  variants: Schema.NonEmptyArray(Variant),
  rollout: Schema.Array(Rollout),
  test: optionalNullable(
    Schema.Struct({ users: optionalNullable(Schema.Record({ key: Schema.String, value: Schema.String })) })
  )
}).annotations({ identifier: "RuleSet" })

export const FlagDefinition = Schema.Struct({
  key: Schema.String,
  context: Schema.String,
  ruleset: RuleSet,
  hash_salt: optionalNullable(Schema.String),
  experiment_id: optionalNullable(Schema.String),
  is_experiment_active: optionalNullable(Schema.Boolean),
  id: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  name: optionalNullable(Schema.String),
  status: optionalNullable(Schema.String),
  project_id: optionalNullable(Schema.Number)
}).annotations({ identifier: "FlagDefinition" })

export const DefinitionsResponse = Schema.Struct({
  flags: Schema.Array(Schema.Unknown)
}).annotations({ identifier: "DefinitionsResponse" })

export const RemoteVariant = Schema.Struct({
  variant_key: Schema.String,
  variant_value: Json,
  experiment_id: optionalNullable(Schema.String),
  is_experiment_active: optionalNullable(Schema.Boolean),
  is_qa_tester: optionalNullable(Schema.Boolean)
}).annotations({ identifier: "RemoteVariant" })

export const RemoteResponse = Schema.Struct({
  code: Schema.optional(Schema.Number),
  flags: optionalNullable(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}).annotations({ identifier: "RemoteResponse" })

/** The most characters of a decoding issue kept in an error's `detail`. */
const maxIssue = 500

/** The deepest input an issue is quoted from: deeper than any definition or variant can be, with room to spare. */
const maxQuoted = 2 * maxDepth

/**
 * What is wrong with an `input` that failed to decode, as a line for an error's `detail`: the first issue
 * and its path, cut to 500 characters. An issue quotes the value it is about, and quoting recurses once per
 * level, so an input nested deeper than 200 levels is not quoted: it overflowed the stack. `input` is parsed
 * JSON, which nests as deep as its text, and a schema here stops at its own depth, so decoding is safe.
 */
export const describeIssue = (error: ParseResult.ParseError, input: unknown): string => {
  if (!isJsonWithin(input, maxQuoted)) return `malformed, and nested more than ${maxQuoted} levels deep`
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const at = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.map(String).join(".")}`
  const text = `${issue?.message ?? error.message}${at}`
  return text.length > maxIssue ? `${text.slice(0, maxIssue)}…` : text
}
