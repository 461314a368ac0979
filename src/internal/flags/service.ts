/**
 * What both modes share: turning an evaluation outcome into the caller's answer, and exposure events.
 *
 * Exposure events go through the `Mixpanel` service in fibers of a `FiberSet` owned by the layer's scope,
 * so that a lookup never waits on analytics delivery (the official SDKs do not either); closing the scope
 * waits for them, so none is lost at shutdown.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type {
  Context,
  FallbackVariant,
  LookupOptions,
  SelectedVariant,
  ServedVariant,
  Service
} from "../../FeatureFlags.js"
import { exposureEvent } from "../../FeatureFlags.js"
import type * as Message from "../../Message.js"
import { Mixpanel } from "../../Mixpanel.js"
import { type FlagsError, InvalidMessage, type MixpanelError } from "../../MixpanelError.js"
import * as Issues from "../issues.js"
import * as Json from "../json.js"
import type { Outcome } from "./evaluate.js"
import { optionalNullable } from "./schemas.js"

/**
 * A lookup's arguments, read once: the flag key a string, the context a plain object of JSON values. From
 * untyped callers anything else is an `InvalidMessage`, and nothing is looked up.
 */
const readLookup = (
  operation: string,
  flagKey: unknown,
  context: unknown
): { readonly context: Context } | { readonly error: InvalidMessage } => {
  if (typeof flagKey !== "string") {
    return { error: new InvalidMessage({ operation, field: "flagKey", detail: "expected a string" }) }
  }
  return readContext(operation, context)
}

const readContext = (
  operation: string,
  context: unknown
): { readonly context: Context } | { readonly error: InvalidMessage } => {
  if (!Json.isPlainObject(context)) {
    return { error: new InvalidMessage({ operation, field: "context", detail: "expected a plain object" }) }
  }
  const read = Json.snapshot(context)
  if (Json.isIssue(read)) {
    const path = Json.formatPath(read.path)
    return {
      error: new InvalidMessage({ operation, field: path === "" ? "context" : `context.${path}`, detail: read.detail })
    }
  }
  return { context: read.value as Context }
}

/** What an exposure event takes from a served variant (its `value` is not sent). */
const ExposedVariant = Schema.Struct({
  source: Schema.Literal("local", "remote").annotations({
    message: () => 'expected "local" or "remote": a variant a flag served (a fallback has no exposure)'
  }),
  key: Schema.String,
  experimentId: optionalNullable(Schema.String),
  isExperimentActive: optionalNullable(Schema.Boolean),
  isQaTester: optionalNullable(Schema.Boolean)
})

type ExposedVariant = Schema.Schema.Type<typeof ExposedVariant>

const decodeVariant = ParseResult.decodeUnknownEither(ExposedVariant)

/** `trackExposure`'s variant, read once: from untyped callers anything but a served variant is an `InvalidMessage`. */
const readVariant = (variant: unknown): { readonly variant: ExposedVariant } | { readonly error: InvalidMessage } => {
  const error = (field: string, detail: string) =>
    ({ error: new InvalidMessage({ operation: "trackExposure", field, detail }) }) as const
  if (!Json.isPlainObject(variant)) return error("variant", "expected a variant served by getVariant or getAllVariants")
  let read: Either.Either<ExposedVariant, ParseResult.ParseIssue>
  try {
    read = decodeVariant(variant)
  } catch {
    return error("variant", "reading the variant threw an exception")
  }
  if (Either.isRight(read)) return { variant: read.right }
  const issue = Issues.first(read.left)
  return error(`variant.${Json.formatPath(issue.path)}`, issue.detail)
}

/** An outcome, with the time the remote request took (remote mode). */
export interface Lookup {
  readonly outcome: Outcome
  readonly latencyMillis?: number
}

export interface Mode {
  readonly mode: "local" | "remote"
  readonly lookup: (flagKey: string, context: Context) => Effect.Effect<Lookup>
  readonly all: (context: Context) => Effect.Effect<Readonly<Record<string, ServedVariant>>, FlagsError>
}

/** The properties of the exposure event, in the order and under the conditions the official SDKs send them. */
export const exposureProperties = (
  flagKey: string,
  variant: ExposedVariant,
  latencyMillis: number | undefined
): Message.Properties => {
  const properties: Record<string, Message.PropertyValue> = {
    "Experiment name": flagKey,
    "Variant name": variant.key,
    $experiment_type: "feature_flag",
    "Flag evaluation mode": variant.source
  }
  if (latencyMillis !== undefined) properties["Variant fetch latency (ms)"] = latencyMillis
  if (variant.experimentId !== undefined) properties.$experiment_id = variant.experimentId
  if (variant.isExperimentActive !== undefined) properties.$is_experiment_active = variant.isExperimentActive
  if (variant.isQaTester !== undefined) properties.$is_qa_tester = variant.isQaTester
  return properties
}

/**
 * For a failure to track an exposure event from `trackExposure`: the argument each field that can fail came
 * from (the other fields are read before, or are the library's own).
 */
const exposureOrigins: ReadonlyMap<string, string> = new Map([
  ["distinctId", "context.distinct_id"],
  [Json.formatPath(["properties", "Experiment name"]), "flagKey"],
  [Json.formatPath(["properties", "Variant name"]), "variant.key"],
  [Json.formatPath(["properties", "$experiment_id"]), "variant.experimentId"]
])

/** `error`, as `trackExposure`'s: naming its argument, not the property of the event it became. */
const asExposureError = (error: MixpanelError): MixpanelError =>
  error._tag === "InvalidMessage"
    ? new InvalidMessage({
        operation: "trackExposure",
        field: exposureOrigins.get(error.field) ?? error.field,
        detail: error.detail
      })
    : error

export const make = (mode: Mode): Effect.Effect<Service, never, Mixpanel | Scope.Scope> =>
  Effect.gen(function* () {
    const mixpanel = yield* Mixpanel
    const exposures = yield* FiberSet.make<void, never>()
    // registered after the set's own finalizer, so it runs first: wait for the exposures, then close the set
    yield* Effect.addFinalizer(() => FiberSet.awaitEmpty(exposures))

    const track = (flagKey: string, variant: ExposedVariant, context: Context, latencyMillis: number | undefined) =>
      mixpanel.track(context.distinct_id, exposureEvent, exposureProperties(flagKey, variant, latencyMillis))

    const startExposure = (
      flagKey: string,
      variant: ServedVariant,
      context: Context,
      latencyMillis: number | undefined
    ): Effect.Effect<void> => {
      if (!context.distinct_id) {
        return Effect.logWarning("no exposure event: the context has no distinct_id").pipe(
          Effect.annotateLogs({ flag: flagKey })
        )
      }
      const tracked = track(flagKey, variant, context, latencyMillis).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning("the exposure event could not be tracked", error.message).pipe(
            Effect.annotateLogs({ flag: flagKey })
          )
        )
      )
      return Effect.asVoid(FiberSet.run(exposures, tracked))
    }

    const getVariant = <A>(
      flagKey: string,
      fallback: { readonly key?: string; readonly value: A },
      context: Context,
      options?: LookupOptions
    ): Effect.Effect<SelectedVariant<A>> => {
      const read = readLookup("getVariant", flagKey, context)
      if ("error" in read) {
        const selected: FallbackVariant<A> = {
          source: "fallback",
          ...(fallback.key !== undefined ? { key: fallback.key } : {}),
          value: fallback.value,
          reason: { _tag: "InvalidInput", error: read.error }
        }
        return Effect.succeed(selected)
      }
      return Effect.flatMap(
        mode.lookup(flagKey, read.context),
        ({ latencyMillis, outcome }): Effect.Effect<SelectedVariant<A>> => {
          if (outcome._tag === "Served") {
            const variant = outcome.variant
            return options?.exposure === false
              ? Effect.succeed(variant)
              : Effect.as(startExposure(flagKey, variant, read.context, latencyMillis), variant)
          }
          const selected: FallbackVariant<A> = {
            source: "fallback",
            ...(fallback.key !== undefined ? { key: fallback.key } : {}),
            value: fallback.value,
            reason: outcome.reason
          }
          return Effect.succeed(selected)
        }
      )
    }

    const getVariantValue = <A>(flagKey: string, fallbackValue: A, context: Context, options?: LookupOptions) =>
      Effect.map(getVariant(flagKey, { value: fallbackValue }, context, options), (variant) => variant.value)

    const trackExposure = (
      flagKey: string,
      variant: ServedVariant,
      context: Context
    ): Effect.Effect<void, MixpanelError> => {
      const read = readLookup("trackExposure", flagKey, context)
      if ("error" in read) return Effect.fail(read.error)
      const exposed = readVariant(variant)
      if ("error" in exposed) return Effect.fail(exposed.error)
      return read.context.distinct_id
        ? Effect.mapError(track(flagKey, exposed.variant, read.context, undefined), asExposureError)
        : new InvalidMessage({
            operation: "trackExposure",
            field: "context.distinct_id",
            detail: "an exposure event needs the context's distinct_id"
          })
    }

    const service: Service = {
      mode: mode.mode,
      getVariant,
      getVariantValue,
      isEnabled: (flagKey, context, options) =>
        Effect.map(getVariantValue(flagKey, false, context, options), (value) => value === true),
      getAllVariants: (context) => {
        const read = readContext("getAllVariants", context)
        return "error" in read ? Effect.fail(read.error) : mode.all(read.context)
      },
      trackExposure,
      awaitExposures: FiberSet.awaitEmpty(exposures)
    }
    return service
  })
