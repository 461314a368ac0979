/**
 * The wire formats of Mixpanel's flags API as Schemas: flag definitions (`GET /flags/definitions`) and
 * remote evaluations (`GET /flags`). Field names stay as Mixpanel writes them. Where the official SDKs
 * accept `null` for an optional field, so do these.
 */
import * as Schema from "effect/Schema"
import type { JsonValue } from "../../Message.js"

const isJson = (u: unknown, depth = 0): u is JsonValue => {
  if (u === null || typeof u === "string" || typeof u === "boolean") return true
  if (typeof u === "number") return Number.isFinite(u)
  if (typeof u !== "object" || depth > 100) return false
  if (Array.isArray(u)) return u.every((item) => isJson(item, depth + 1))
  const proto = Object.getPrototypeOf(u)
  if (proto !== Object.prototype && proto !== null) return false
  return Object.values(u).every((item) => isJson(item, depth + 1))
}

/** Any JSON value. */
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
