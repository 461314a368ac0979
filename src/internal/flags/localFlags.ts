/**
 * `LocalFlags`: flag definitions fetched at start and then on a schedule, evaluated in process.
 *
 * State is one immutable snapshot swapped whole by each successful fetch, so a lookup reads one `Ref` and
 * evaluates. A failed fetch changes nothing but the reported error. Fetches never overlap: the first one,
 * the polling fiber's and `refresh` share one permit.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Context } from "../../FeatureFlags.js"
import type { Options, Service, Status } from "../../LocalFlags.js"
import type { Mixpanel } from "../../Mixpanel.js"
import { FlagsError, type InvalidConfig } from "../../MixpanelError.js"
import { defined } from "../consumer/options.js"
import * as Rules from "../options.js"
import * as Evaluate from "./evaluate.js"
import * as Http from "./http.js"
import * as Schemas from "./schemas.js"
import * as FlagService from "./service.js"

/** Default time between two fetches of the definitions. */
export const defaultPollingInterval: Duration.Duration = Duration.seconds(60)

interface State {
  /** Each flag by key: ready to evaluate, or the reason its definition was refused. */
  readonly flags: ReadonlyMap<string, Evaluate.CompiledFlag | FlagsError>
  readonly ready: boolean
  readonly lastSuccess: Option.Option<number>
  readonly lastError: Option.Option<FlagsError>
  readonly invalid: ReadonlyArray<FlagsError>
}

const initial: State = {
  flags: new Map(),
  ready: false,
  lastSuccess: Option.none(),
  lastError: Option.none(),
  invalid: []
}

const path = "/flags/definitions"

const decodeResponse = Schema.decodeUnknownEither(Schemas.DefinitionsResponse)
const decodeFlag = Schema.decodeUnknownEither(Schemas.FlagDefinition)

/** The flags of a response: good ones compiled, malformed ones as errors (by key when they have one). */
export const readDefinitions = (
  body: unknown
): Either.Either<
  {
    readonly flags: ReadonlyMap<string, Evaluate.CompiledFlag | FlagsError>
    readonly invalid: ReadonlyArray<FlagsError>
  },
  FlagsError
> =>
  Either.map(
    Either.mapLeft(
      decodeResponse(body),
      (error) => new FlagsError({ path, reason: "Malformed", status: 200, detail: Schemas.describeIssue(error, body) })
    ),
    (response) => {
      const flags = new Map<string, Evaluate.CompiledFlag | FlagsError>()
      const invalid: Array<FlagsError> = []
      response.flags.forEach((raw, index) => {
        const decoded = decodeFlag(raw)
        if (Either.isRight(decoded)) {
          // a later definition of the same key replaces an earlier one, as in the official SDKs
          flags.set(decoded.right.key, Evaluate.compile(decoded.right))
          return
        }
        const key =
          typeof raw === "object" && raw !== null && "key" in raw && typeof raw.key === "string" ? raw.key : undefined
        const error = new FlagsError({
          path,
          reason: "InvalidDefinition",
          ...(key !== undefined ? { flagKey: key } : {}),
          detail: `flag ${index}: ${Schemas.describeIssue(decoded.left, raw)}`
        })
        invalid.push(error)
        if (key !== undefined) flags.set(key, error)
      })
      return { flags, invalid }
    }
  )

const toStatus = (state: State): Status => {
  let flags = 0
  for (const flag of state.flags.values()) if (!(flag instanceof FlagsError)) flags++
  return {
    ready: state.ready,
    flags,
    lastSuccess: state.lastSuccess,
    lastError: state.lastError,
    invalidFlags: state.invalid
  }
}

const pollingInterval = Rules.duration("1 second", "1 day")

const decodeOptions = Http.decoder({
  polling: Schema.optional(Rules.boolean.option),
  pollingInterval: Schema.optional(pollingInterval.option)
})

/** `LocalFlags`' options from the environment: the connection, and `MIXPANEL_FLAGS_POLLING_INTERVAL`. */
export const config: Config.Config<Options> = Config.all({
  connection: Http.connectionConfig,
  pollingInterval: Rules.env("MIXPANEL_FLAGS_POLLING_INTERVAL", pollingInterval)
}).pipe(Config.map(({ connection, pollingInterval }) => defined({ ...connection, pollingInterval })))

export const make = (
  options: Options
): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient | Mixpanel | Scope.Scope> =>
  Effect.gen(function* () {
    const connection = yield* decodeOptions(options)
    const polling = connection.polling ?? true
    const interval = connection.pollingInterval ?? defaultPollingInterval
    const requester = yield* Http.make(connection)
    const state = yield* Ref.make(initial)
    const permit = yield* Effect.makeSemaphore(1)

    const store = (body: unknown) =>
      Effect.gen(function* () {
        // a throw while reading is a failed fetch: the stack overflow of a deeply nested body was one
        const read = yield* Effect.try({
          try: () => readDefinitions(body),
          catch: (defect) =>
            new FlagsError({
              path,
              reason: "Malformed",
              status: 200,
              detail: `reading the definitions threw ${Http.describeDefect(defect)}`
            })
        })
        if (Either.isLeft(read)) return yield* read.left
        const now = yield* Clock.currentTimeMillis
        const previous = yield* Ref.getAndSet(state, {
          flags: read.right.flags,
          ready: true,
          lastSuccess: Option.some(now),
          lastError: Option.none(),
          invalid: read.right.invalid
        })
        // each malformed flag is logged once, not on every poll while it stays malformed
        const known = new Set(previous.invalid.map((error) => error.message))
        for (const error of read.right.invalid) {
          if (!known.has(error.message)) yield* Effect.logWarning("a flag definition is malformed", error.message)
        }
      })

    const refresh: Effect.Effect<void, FlagsError> = permit.withPermits(1)(
      requester.get(path).pipe(
        Effect.flatMap(store),
        Effect.tapError((error) =>
          Ref.update(state, (current) => ({ ...current, lastError: Option.some(error) })).pipe(
            Effect.zipRight(
              Effect.logWarning("fetching the flag definitions failed; the last good ones stay", error.message)
            )
          )
        ),
        Effect.withSpan("Mixpanel.flags.refresh")
      )
    )

    const lookup = (flagKey: string, context: Context): Effect.Effect<FlagService.Lookup> =>
      Effect.map(Ref.get(state), (current): FlagService.Lookup => {
        if (!current.ready) return { outcome: { _tag: "Fallback", reason: { _tag: "NotReady" } } }
        const flag = current.flags.get(flagKey)
        if (flag === undefined) return { outcome: { _tag: "Fallback", reason: { _tag: "FlagNotFound" } } }
        if (flag instanceof FlagsError) {
          return { outcome: { _tag: "Fallback", reason: { _tag: "InvalidDefinition", error: flag } } }
        }
        return { outcome: Evaluate.evaluate(flag, flagKey, context) }
      })

    const all = (context: Context) =>
      Effect.map(Ref.get(state), (current) => {
        const compiled: Array<readonly [string, Evaluate.CompiledFlag]> = []
        for (const [key, flag] of current.flags) if (!(flag instanceof FlagsError)) compiled.push([key, flag])
        return Evaluate.evaluateAll(compiled, context)
      })

    const base = yield* FlagService.make({ mode: "local", lookup, all })

    // a failure is reported by `refresh` itself; any defect left (a logger that throws) is logged, and polling
    // goes on
    const poll = refresh.pipe(
      Effect.catchAllDefect((defect) =>
        Effect.logError("fetching the flag definitions died; polling goes on", Http.describeDefect(defect))
      ),
      Effect.ignore
    )

    // the first fetch is awaited, so that a healthy start serves flags at once; its failure is only reported
    yield* poll
    if (polling) yield* Effect.forkScoped(poll.pipe(Effect.schedule(Schedule.spaced(interval))))

    const service: Service = {
      ...base,
      status: Effect.map(Ref.get(state), toStatus),
      refresh
    }
    return service
  })
