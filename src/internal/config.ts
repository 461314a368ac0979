/**
 * The environment variables the consumers read through `Config`, with their defaults. The table in
 * docs/configuration.md lists the same names.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { BufferedOptions, DirectOptions, ImportAuth, TransportOptions } from "../Consumer.js"
import type { ConnectionOptions } from "../FeatureFlags.js"
import type * as LocalFlags from "../LocalFlags.js"

const optional = <A>(config: Config.Config<A>) => Config.option(config).pipe(Config.map(Option.getOrUndefined))

/**
 * `/import` credentials, in Mixpanel's order of preference: a service account (all three variables), else
 * the API secret, else the project token. A service account missing one of its variables is an error.
 */
export const importAuth: Config.Config<ImportAuth | undefined> = Config.all({
  username: optional(Config.string("MIXPANEL_SERVICE_ACCOUNT_USERNAME")),
  secret: optional(Config.redacted("MIXPANEL_SERVICE_ACCOUNT_SECRET")),
  projectId: optional(Config.string("MIXPANEL_PROJECT_ID")),
  apiSecret: optional(Config.redacted("MIXPANEL_API_SECRET")),
  token: optional(Config.redacted("MIXPANEL_TOKEN"))
}).pipe(
  Config.mapOrFail(({ apiSecret, projectId, secret, token, username }) => {
    if (username !== undefined) {
      if (secret === undefined || projectId === undefined) {
        const missing = secret === undefined ? "MIXPANEL_SERVICE_ACCOUNT_SECRET" : "MIXPANEL_PROJECT_ID"
        return Either.left(
          ConfigError.MissingData([missing], `MIXPANEL_SERVICE_ACCOUNT_USERNAME is set, so ${missing} is needed too`)
        )
      }
      return Either.right<ImportAuth>({ _tag: "ServiceAccount", username, secret, projectId })
    }
    if (apiSecret !== undefined) return Either.right<ImportAuth>({ _tag: "ApiSecret", secret: apiSecret })
    if (token !== undefined) return Either.right<ImportAuth>({ _tag: "ProjectToken", token })
    return Either.right(undefined)
  })
)

/** How to reach Mixpanel: region or base URL, credentials, timeout, gzip, geolocation. */
export const transport: Config.Config<TransportOptions> = Config.all({
  region: optional(Config.literal("US", "EU", "IN")("MIXPANEL_REGION")),
  baseUrl: optional(Config.url("MIXPANEL_BASE_URL")),
  importAuth,
  requestTimeout: optional(Config.duration("MIXPANEL_REQUEST_TIMEOUT")),
  gzip: optional(Config.boolean("MIXPANEL_GZIP")),
  geolocate: optional(Config.boolean("MIXPANEL_GEOLOCATE"))
})

/** The direct consumer's options: the transport's, and `MIXPANEL_MAX_RETRIES`. */
export const direct: Config.Config<DirectOptions> = Config.all({
  transport,
  maxRetries: optional(
    Config.integer("MIXPANEL_MAX_RETRIES").pipe(
      Config.validate({
        message: "must be 0 or more",
        validation: (n) => n >= 0
      })
    )
  )
}).pipe(Config.map(({ maxRetries, transport }) => ({ ...transport, maxRetries })))

const positive = (name: string) =>
  optional(Config.integer(name).pipe(Config.validate({ message: "must be 1 or more", validation: (n) => n >= 1 })))

/** The buffered consumer's options: the transport's, and its knobs. */
export const buffered: Config.Config<BufferedOptions> = Config.all({
  transport,
  maxBatchSize: positive("MIXPANEL_MAX_BATCH_SIZE"),
  maxBatchBytes: positive("MIXPANEL_MAX_BATCH_BYTES"),
  flushInterval: optional(Config.duration("MIXPANEL_FLUSH_INTERVAL")),
  capacity: positive("MIXPANEL_CAPACITY"),
  capacityBytes: positive("MIXPANEL_CAPACITY_BYTES"),
  overflow: optional(Config.literal("wait", "dropNewest", "dropOldest")("MIXPANEL_OVERFLOW")),
  maxConcurrentRequests: positive("MIXPANEL_MAX_CONCURRENT_REQUESTS"),
  maxRetries: optional(
    Config.integer("MIXPANEL_MAX_RETRIES").pipe(
      Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 })
    )
  ),
  maxRetryTime: optional(Config.duration("MIXPANEL_MAX_RETRY_TIME")),
  shutdownTimeout: optional(Config.duration("MIXPANEL_SHUTDOWN_TIMEOUT"))
}).pipe(Config.map(({ transport, ...knobs }) => ({ ...transport, ...knobs })))

/** How the flags layers reach Mixpanel: the token, region or base URL, a service account, the timeout. */
export const flagsConnection: Config.Config<ConnectionOptions> = Config.all({
  token: Config.redacted("MIXPANEL_TOKEN"),
  region: optional(Config.literal("US", "EU", "IN")("MIXPANEL_REGION")),
  baseUrl: optional(Config.url("MIXPANEL_BASE_URL")),
  requestTimeout: optional(Config.duration("MIXPANEL_REQUEST_TIMEOUT")),
  serviceAccount: importAuth.pipe(
    Config.map((auth) =>
      auth?._tag === "ServiceAccount"
        ? { username: auth.username, secret: auth.secret, projectId: auth.projectId }
        : undefined
    )
  )
})

/** `LocalFlags`' options: the connection, and `MIXPANEL_FLAGS_POLLING_INTERVAL`. */
export const localFlags: Config.Config<LocalFlags.Options> = Config.all({
  connection: flagsConnection,
  pollingInterval: optional(Config.duration("MIXPANEL_FLAGS_POLLING_INTERVAL"))
}).pipe(Config.map(({ connection, pollingInterval }) => ({ ...connection, pollingInterval })))
