/**
 * The options of `layerDirect`, `layerBuffered` and `layerDurable`: one schema per layer, its defaults,
 * and the same rules read from the environment for the `Config` twins (the names are in
 * docs/configuration.md).
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type {
  BufferedOptions,
  DirectOptions,
  DurableOptions,
  ImportAuth,
  OnUndelivered,
  Overflow,
  TransportOptions
} from "../../Consumer.js"
import type { InvalidConfig, MixpanelError } from "../../MixpanelError.js"
import * as Http from "../http.js"
import * as Options from "../options.js"
import * as Batch from "./batch.js"
import * as Retry from "./retry.js"

// ---------------------------------------------------------------------------------------------------
// rules
// ---------------------------------------------------------------------------------------------------

/** The rule of each option, its environment variable, and its default. */
export const rules = {
  region: Options.region,
  baseUrl: Options.url,
  requestTimeout: Options.duration(0, "1 hour", { exclusiveMin: true }),
  gzip: Options.boolean,
  geolocate: Options.boolean,
  maxRetries: Options.integer(0, 1000),
  maxBatchSize: Options.integer(1, Batch.maxItems),
  maxBatchBytes: Options.integer(1024, 10 * 1024 * 1024),
  flushInterval: Options.duration("1 millis", "1 day"),
  capacity: Options.integer(1, 10_000_000),
  capacityBytes: Options.integer(1024, 16 * 1024 * 1024 * 1024),
  overflow: Options.literal("wait", "dropNewest", "dropOldest"),
  maxConcurrentRequests: Options.integer(1, 64),
  maxRetryTime: Options.duration(0, "1 day"),
  shutdownTimeout: Options.duration(0, "1 day"),
  pollInterval: Options.duration("1 millis", "1 hour")
}

/** The defaults, as `DirectOptions` and `BufferedOptions` document them. */
export const defaults = {
  requestTimeout: Http.defaultTimeout,
  /** The direct consumer's retries, also those of the buffered consumer's `sendNow`. */
  direct: {
    schedule: Retry.backoff("1 second", "30 seconds"),
    maxRetries: 3,
    maxRetryTime: Duration.infinity
  } satisfies Retry.Policy,
  maxBatchSize: Batch.maxItems,
  maxBatchBytes: Batch.maxBytes,
  flushInterval: Duration.seconds(10),
  capacity: 100_000,
  capacityBytes: 64 * 1024 * 1024,
  overflow: "dropNewest" as Overflow,
  maxConcurrentRequests: 4,
  maxRetries: 10,
  maxRetryTime: Duration.minutes(5),
  shutdownTimeout: Duration.seconds(10),
  pollInterval: Duration.seconds(1)
}

const transportFields = {
  region: Schema.optional(rules.region.option),
  baseUrl: Schema.optional(rules.baseUrl.option),
  importAuth: Schema.optional(Options.importAuth),
  requestTimeout: Schema.optional(rules.requestTimeout.option),
  gzip: Schema.optional(rules.gzip.option),
  geolocate: Schema.optional(rules.geolocate.option),
  transformClient: Schema.optional(Options.fn)
}

/** A secret goes over https, or over plain http to this machine only. */
const secretsSafe = (options: { readonly baseUrl?: URL | undefined; readonly importAuth?: ImportAuth | undefined }) =>
  options.baseUrl === undefined ||
  options.importAuth === undefined ||
  options.importAuth._tag === "ProjectToken" ||
  Http.safeForSecrets(options.baseUrl) || {
    path: ["baseUrl"],
    message: `refusing to send an /import secret over plain HTTP to ${options.baseUrl.hostname}; use https or a loopback host`
  }

const DirectSchema = Schema.Struct({
  ...transportFields,
  maxRetries: Schema.optional(rules.maxRetries.option),
  retrySchedule: Schema.optional(Options.schedule)
}).pipe(Schema.filter(secretsSafe))

const bufferedFields = {
  ...transportFields,
  maxBatchSize: Schema.optional(rules.maxBatchSize.option),
  maxBatchBytes: Schema.optional(rules.maxBatchBytes.option),
  flushInterval: Schema.optional(rules.flushInterval.option),
  capacity: Schema.optional(rules.capacity.option),
  capacityBytes: Schema.optional(rules.capacityBytes.option),
  overflow: Schema.optional(rules.overflow.option),
  maxConcurrentRequests: Schema.optional(rules.maxConcurrentRequests.option),
  maxRetries: Schema.optional(rules.maxRetries.option),
  maxRetryTime: Schema.optional(rules.maxRetryTime.option),
  shutdownTimeout: Schema.optional(rules.shutdownTimeout.option),
  retrySchedule: Schema.optional(Options.schedule),
  onUndelivered: Schema.optional(Options.fn)
}

// The durable consumer's: the engine's options, without the cap (the store's), and the poll
const { capacity: _capacity, capacityBytes: _capacityBytes, overflow: _overflow, ...engineFields } = bufferedFields

/** Where a store's option given to the durable consumer belongs. */
const storeOptionDetail = "give it to DurableStore.layerSqlite or DurableStore.layer"

// Given to the consumer, the store's options would be dropped without a word: the cap would not be the one set
const storeOption = Schema.optional(
  Schema.Undefined.annotations({ message: () => `is the durable store's option: ${storeOptionDetail}` })
)

const DurableSchema = Schema.Struct({
  ...engineFields,
  pollInterval: Schema.optional(rules.pollInterval.option),
  capacity: storeOption,
  capacityBytes: storeOption,
  overflow: storeOption
}).pipe(Schema.filter(secretsSafe))

const BufferedSchema = Schema.Struct(bufferedFields).pipe(
  Schema.filter(secretsSafe),
  Schema.filter(
    (options) =>
      (options.capacityBytes ?? defaults.capacityBytes) >= (options.maxBatchBytes ?? defaults.maxBatchBytes) || {
        path: ["capacityBytes"],
        message: "must be at least maxBatchBytes: the buffer must hold one full request"
      }
  )
)

// ---------------------------------------------------------------------------------------------------
// settings
// ---------------------------------------------------------------------------------------------------

/** How a consumer reaches Mixpanel, checked. */
export interface Transport {
  readonly http: Http.Settings
  readonly importAuth: ImportAuth | undefined
  readonly gzip: boolean
  readonly geolocate: boolean
}

type TransportInput = Schema.Schema.Type<typeof DirectSchema>

const transport = (options: TransportInput): Transport => ({
  http: {
    baseUrl: options.baseUrl ?? new URL(Http.regionUrls[options.region ?? "US"]),
    timeout: options.requestTimeout ?? defaults.requestTimeout,
    transformClient: options.transformClient as Http.TransformClient | undefined
  },
  importAuth: options.importAuth as ImportAuth | undefined,
  gzip: options.gzip ?? false,
  geolocate: options.geolocate ?? false
})

/** The direct consumer's settings. */
export interface Direct extends Transport {
  readonly retry: Retry.Policy
}

const decodeDirect = Options.decoder(DirectSchema)

/** `DirectOptions` checked, with their defaults. */
export const direct = (options: unknown): Effect.Effect<Direct, InvalidConfig> =>
  Effect.map(decodeDirect(options ?? {}), (options) => ({
    ...transport(options),
    retry: {
      schedule:
        (options.retrySchedule as Schedule.Schedule<unknown, MixpanelError> | undefined) ?? defaults.direct.schedule,
      maxRetries: options.maxRetries ?? defaults.direct.maxRetries,
      maxRetryTime: defaults.direct.maxRetryTime
    }
  }))

/** The buffered consumer's settings. */
export interface Buffered extends Transport {
  readonly maxBatchSize: number
  readonly maxBatchBytes: number
  readonly flushInterval: Duration.Duration
  readonly capacity: number
  readonly capacityBytes: number
  readonly overflow: Overflow
  readonly maxConcurrentRequests: number
  readonly retrySchedule: Schedule.Schedule<unknown, MixpanelError>
  readonly maxRetries: number
  readonly maxRetryTime: Duration.Duration
  readonly shutdownTimeout: Duration.Duration
  readonly onUndelivered: OnUndelivered<unknown> | undefined
}

const decodeBuffered = Options.decoder(BufferedSchema)

/** The engine's options (those of both the buffered and the durable consumer) checked, with their defaults. */
const engine = (options: Schema.Struct.Type<typeof engineFields>) => ({
  ...transport(options),
  maxBatchSize: options.maxBatchSize ?? defaults.maxBatchSize,
  maxBatchBytes: options.maxBatchBytes ?? defaults.maxBatchBytes,
  flushInterval: options.flushInterval ?? defaults.flushInterval,
  maxConcurrentRequests: options.maxConcurrentRequests ?? defaults.maxConcurrentRequests,
  retrySchedule:
    (options.retrySchedule as Schedule.Schedule<unknown, MixpanelError> | undefined) ?? Retry.mixpanelBackoff,
  maxRetries: options.maxRetries ?? defaults.maxRetries,
  maxRetryTime: options.maxRetryTime ?? defaults.maxRetryTime,
  shutdownTimeout: options.shutdownTimeout ?? defaults.shutdownTimeout,
  onUndelivered: options.onUndelivered as OnUndelivered<unknown> | undefined
})

/** `BufferedOptions` checked, with their defaults. */
export const buffered = (options: unknown): Effect.Effect<Buffered, InvalidConfig> =>
  Effect.map(decodeBuffered(options ?? {}), (options) => ({
    ...engine(options),
    capacity: options.capacity ?? defaults.capacity,
    capacityBytes: options.capacityBytes ?? Math.max(defaults.capacityBytes, options.maxBatchBytes ?? 0),
    overflow: options.overflow ?? defaults.overflow
  }))

/** The durable consumer's settings: the engine's, and how often it looks at the store. */
export interface Durable extends Buffered {
  readonly pollInterval: Duration.Duration
}

const decodeDurable = Options.decoder(DurableSchema)

/**
 * `DurableOptions` checked, with their defaults. The cap and its overflow policy are the store's
 * (`overflow` is taken from it); `capacity` and `capacityBytes` keep their defaults, which bound the
 * failures a flush's `DeliveryError` lists.
 */
export const durable = (options: unknown, overflow: Overflow): Effect.Effect<Durable, InvalidConfig> =>
  Effect.map(decodeDurable(options ?? {}), (options) => ({
    ...engine(options),
    capacity: defaults.capacity,
    capacityBytes: defaults.capacityBytes,
    overflow,
    pollInterval: options.pollInterval ?? defaults.pollInterval
  }))

// ---------------------------------------------------------------------------------------------------
// the environment
// ---------------------------------------------------------------------------------------------------

const isCredential = Options.checkedBy(Options.credential)

/**
 * An optional secret variable, refused by its name when it is set to nothing, or (`credential`) when it is
 * not what HTTP Basic can carry: the options' own check would name the option, and a command line's flag
 * stands for the variable.
 */
const secretVariable = (name: string, credential = true): Config.Config<Option.Option<Redacted.Redacted>> =>
  Config.option(
    Options.redactedVariable(name).pipe(
      Options.refusedAt(name, (value: Redacted.Redacted) =>
        Redacted.value(value) === ""
          ? { message: "is set, but to nothing" }
          : !credential || isCredential(Redacted.value(value))
      )
    )
  )

/** An optional variable of the service account, refused by its name when `schema` refuses it. */
const accountVariable = <A, I>(name: string, schema: Schema.Schema<A, I>): Config.Config<Option.Option<string>> => {
  const check = Options.checkedBy(schema)
  return Config.option(Config.string(name)).pipe(
    Options.refusedAt(name, (value: Option.Option<string>) => Option.isNone(value) || check(value.value))
  )
}

/**
 * `/import` credentials, in Mixpanel's order of preference: a service account (all three variables), else
 * the API secret, else the project token. A service account missing one of its variables is an error, and
 * so is a credential that its rule refuses (naming the variable: the options' own check would name the
 * option). The token is checked as a credential only where it is the one.
 */
export const importAuthConfig: Config.Config<ImportAuth | undefined> = Config.all({
  username: accountVariable("MIXPANEL_SERVICE_ACCOUNT_USERNAME", Options.credential),
  secret: secretVariable("MIXPANEL_SERVICE_ACCOUNT_SECRET"),
  projectId: accountVariable("MIXPANEL_PROJECT_ID", Options.projectId),
  apiSecret: secretVariable("MIXPANEL_API_SECRET"),
  token: secretVariable("MIXPANEL_TOKEN", false)
}).pipe(
  Config.mapOrFail(({ apiSecret, projectId, secret, token, username }) => {
    if (Option.isSome(username)) {
      if (Option.isNone(secret) || Option.isNone(projectId)) {
        const missing = Option.isNone(secret) ? "MIXPANEL_SERVICE_ACCOUNT_SECRET" : "MIXPANEL_PROJECT_ID"
        return Either.left(
          ConfigError.MissingData([missing], `MIXPANEL_SERVICE_ACCOUNT_USERNAME is set, so ${missing} is needed too`)
        )
      }
      return Either.right<ImportAuth>({
        _tag: "ServiceAccount",
        username: username.value,
        secret: secret.value,
        projectId: projectId.value
      })
    }
    // Half a service account is a mistake, not a choice of the API secret or the token
    if (Option.isSome(secret) || Option.isSome(projectId)) {
      const given = Option.isSome(secret) ? "MIXPANEL_SERVICE_ACCOUNT_SECRET" : "MIXPANEL_PROJECT_ID"
      return Either.left(
        ConfigError.MissingData(
          ["MIXPANEL_SERVICE_ACCOUNT_USERNAME"],
          `${given} is set, so MIXPANEL_SERVICE_ACCOUNT_USERNAME is needed too`
        )
      )
    }
    if (Option.isSome(apiSecret)) return Either.right<ImportAuth>({ _tag: "ApiSecret", secret: apiSecret.value })
    if (Option.isNone(token)) return Either.right(undefined)
    const checked = isCredential(Redacted.value(token.value))
    return checked === true
      ? Either.right<ImportAuth>({ _tag: "ProjectToken", token: token.value })
      : Either.left(ConfigError.InvalidData(["MIXPANEL_TOKEN"], `as the /import credentials, ${checked.message}`))
  })
)

/** `record` without its `undefined` values (what `exactOptionalPropertyTypes` wants of options). */
export const defined = <A extends object>(record: A): { [K in keyof A]: Exclude<A[K], undefined> } => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value
  return out as { [K in keyof A]: Exclude<A[K], undefined> }
}

/** How to reach Mixpanel, from the environment. */
export const transportConfig: Config.Config<TransportOptions> = Config.all({
  region: Options.env("MIXPANEL_REGION", rules.region),
  baseUrl: Options.env("MIXPANEL_BASE_URL", rules.baseUrl),
  importAuth: importAuthConfig,
  requestTimeout: Options.env("MIXPANEL_REQUEST_TIMEOUT", rules.requestTimeout),
  gzip: Options.env("MIXPANEL_GZIP", rules.gzip),
  geolocate: Options.env("MIXPANEL_GEOLOCATE", rules.geolocate)
}).pipe(Config.map(defined), Options.refusedAt("MIXPANEL_BASE_URL", secretsSafe))

/** The direct consumer's options, from the environment. */
export const directConfig: Config.Config<DirectOptions> = Config.all({
  transport: transportConfig,
  maxRetries: Options.env("MIXPANEL_MAX_RETRIES", rules.maxRetries)
}).pipe(Config.map(({ maxRetries, transport }) => defined({ ...transport, maxRetries })))

/** The engine's options, from the environment: those of both the buffered and the durable consumer. */
const engineConfig = {
  maxBatchSize: Options.env("MIXPANEL_MAX_BATCH_SIZE", rules.maxBatchSize),
  maxBatchBytes: Options.env("MIXPANEL_MAX_BATCH_BYTES", rules.maxBatchBytes),
  flushInterval: Options.env("MIXPANEL_FLUSH_INTERVAL", rules.flushInterval),
  maxConcurrentRequests: Options.env("MIXPANEL_MAX_CONCURRENT_REQUESTS", rules.maxConcurrentRequests),
  maxRetries: Options.env("MIXPANEL_MAX_RETRIES", rules.maxRetries),
  maxRetryTime: Options.env("MIXPANEL_MAX_RETRY_TIME", rules.maxRetryTime),
  shutdownTimeout: Options.env("MIXPANEL_SHUTDOWN_TIMEOUT", rules.shutdownTimeout)
}

/** The buffered consumer's options, from the environment. */
export const bufferedConfig: Config.Config<BufferedOptions> = Config.all({
  transport: transportConfig,
  ...engineConfig,
  capacity: Options.env("MIXPANEL_CAPACITY", rules.capacity),
  capacityBytes: Options.env("MIXPANEL_CAPACITY_BYTES", rules.capacityBytes),
  overflow: Options.env("MIXPANEL_OVERFLOW", rules.overflow)
}).pipe(Config.map(({ transport, ...knobs }) => defined({ ...transport, ...knobs })))

/**
 * A variable of the buffered consumer's cap, refused when set: the durable consumer's cap is the store's,
 * which does not read the environment, and given in code to the consumer the option fails its build too.
 */
const storeVariable = (name: string, option: string): Config.Config<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(
    Options.refusedAt(
      name,
      (value: Option.Option<string>) =>
        Option.isNone(value) || { message: `is the durable store's option ${option}: ${storeOptionDetail}` }
    )
  )

/** The durable consumer's options, from the environment: the engine's, and the poll (the cap is the store's). */
export const durableConfig: Config.Config<DurableOptions> = Config.all({
  transport: transportConfig,
  ...engineConfig,
  pollInterval: Options.env("MIXPANEL_POLL_INTERVAL", rules.pollInterval),
  capacity: storeVariable("MIXPANEL_CAPACITY", "capacity"),
  capacityBytes: storeVariable("MIXPANEL_CAPACITY_BYTES", "capacityBytes"),
  overflow: storeVariable("MIXPANEL_OVERFLOW", "overflow")
}).pipe(
  Config.map(({ capacity: _capacity, capacityBytes: _capacityBytes, overflow: _overflow, transport, ...knobs }) =>
    defined({ ...transport, ...knobs })
  )
)
