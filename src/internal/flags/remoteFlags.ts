/**
 * `RemoteFlags`: every lookup is one `GET /flags` with the context (`context=<JSON>`) and the flag key
 * (`flag_key`); Mixpanel evaluates. A failed request falls back with `BackendError`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Context, ServedVariant } from "../../FeatureFlags.js"
import type { Mixpanel } from "../../Mixpanel.js"
import { FlagsError, type InvalidConfig } from "../../MixpanelError.js"
import type { Options, Service } from "../../RemoteFlags.js"
import * as Http from "./http.js"
import * as Schemas from "./schemas.js"
import * as FlagService from "./service.js"

const path = "/flags"

const decodeResponse = Schema.decodeUnknownEither(Schemas.RemoteResponse)
const decodeVariant = Schema.decodeUnknownEither(Schemas.RemoteVariant)

const malformed = (error: ParseResult.ParseError, input: unknown, flagKey?: string) =>
  new FlagsError({
    path,
    reason: "Malformed",
    status: 200,
    ...(flagKey !== undefined ? { flagKey } : {}),
    detail: Schemas.describeIssue(error, input)
  })

const toServed = (variant: typeof Schemas.RemoteVariant.Type): ServedVariant => ({
  source: "remote",
  key: variant.variant_key,
  value: variant.variant_value,
  ...(variant.experiment_id !== undefined ? { experimentId: variant.experiment_id } : {}),
  ...(variant.is_experiment_active !== undefined ? { isExperimentActive: variant.is_experiment_active } : {}),
  ...(variant.is_qa_tester !== undefined ? { isQaTester: variant.is_qa_tester } : {})
})

/** The `flags` object of a response (none is the same as empty, as in the official SDKs). */
const flagsOf = (body: unknown): Effect.Effect<Readonly<Record<string, unknown>>, FlagsError> => {
  const decoded = decodeResponse(body)
  return Either.isLeft(decoded) ? Effect.fail(malformed(decoded.left, body)) : Effect.succeed(decoded.right.flags ?? {})
}

const variantOf = (flagKey: string, raw: unknown): Either.Either<ServedVariant, FlagsError> =>
  Either.mapBoth(decodeVariant(raw), { onLeft: (error) => malformed(error, raw, flagKey), onRight: toServed })

const decodeOptions = Http.decoder({})

export const make = (
  options: Options
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Mixpanel | Scope.Scope> =>
  Effect.gen(function* () {
    const requester = yield* Http.make(yield* decodeOptions(options))

    const fetch = (context: Context, flagKey?: string) =>
      Effect.flatMap(
        requester.get(path, {
          context: JSON.stringify(context),
          ...(flagKey !== undefined ? { flag_key: flagKey } : {})
        }),
        flagsOf
      )

    const lookup = (flagKey: string, context: Context): Effect.Effect<FlagService.Lookup> =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        const flags = yield* fetch(context, flagKey)
        const latencyMillis = (yield* Clock.currentTimeMillis) - start
        const raw = Object.hasOwn(flags, flagKey) ? flags[flagKey] : undefined
        // the server lists only the flags that serve the context: absent means unknown or not in a rollout
        if (!raw) return { outcome: { _tag: "Fallback", reason: { _tag: "FlagNotFound" } } } as const
        const variant = variantOf(flagKey, raw)
        if (Either.isLeft(variant)) return yield* variant.left
        return { outcome: { _tag: "Served", variant: variant.right }, latencyMillis } as const
      }).pipe(
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logWarning("remote flag evaluation failed; serving the fallback", error.message).pipe(
              Effect.annotateLogs({ flag: flagKey })
            ),
            { outcome: { _tag: "Fallback", reason: { _tag: "BackendError", error } } } as const
          )
        )
      )

    const all = (context: Context) =>
      Effect.flatMap(fetch(context), (flags) =>
        Effect.gen(function* () {
          const served: Array<readonly [string, ServedVariant]> = []
          for (const [key, raw] of Object.entries(flags)) {
            if (!raw) continue
            const variant = variantOf(key, raw)
            if (Either.isRight(variant)) served.push([key, variant.right])
            else yield* Effect.logWarning("a remote flag variant is malformed", variant.left.message)
          }
          return Object.fromEntries(served)
        })
      )

    return yield* FlagService.make({ mode: "remote", lookup, all })
  })
