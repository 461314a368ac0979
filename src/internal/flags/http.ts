/**
 * One `GET` to Mixpanel's flags API, as the official SDKs send it: the query parameters `token`, `mp_lib`,
 * `$lib_version` (and `project_id` with a service account), HTTP Basic auth (`token:` or the service
 * account), over the shared HTTP module (base URL, user agent, timeout, `transformClient`, trace context).
 * The answer is parsed JSON, or a `FlagsError`; the connection options are checked by their schema.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ConnectionOptions } from "../../FeatureFlags.js"
import * as Message from "../../Message.js"
import { FlagsError, type InvalidConfig } from "../../MixpanelError.js"
import * as ConsumerOptions from "../consumer/options.js"
import * as Http from "../http.js"
import * as Options from "../options.js"
import { version } from "../version.js"

export type Path = FlagsError["path"]

/** Sends flags requests and parses their JSON answers. */
export interface Requester {
  readonly get: (path: Path, params?: Readonly<Record<string, string>>) => Effect.Effect<unknown, FlagsError>
}

/** The fields of `ConnectionOptions`, by their rules; the flags layers add theirs. */
export const connectionFields = {
  token: Options.secret(Message.Token),
  region: Schema.optional(ConsumerOptions.rules.region.option),
  baseUrl: Schema.optional(ConsumerOptions.rules.baseUrl.option),
  requestTimeout: Schema.optional(ConsumerOptions.rules.requestTimeout.option),
  serviceAccount: Schema.optional(
    Schema.Struct({
      username: Options.credential,
      secret: Options.secret(Options.credential),
      projectId: Options.projectId
    })
  ),
  transformClient: Schema.optional(Options.fn)
}

/** A secret goes over https, or over plain http to this machine only. */
export const secretsSafe = (options: { readonly baseUrl?: URL | undefined; readonly serviceAccount?: unknown }) =>
  options.baseUrl === undefined ||
  options.serviceAccount === undefined ||
  Http.safeForSecrets(options.baseUrl) || {
    path: ["baseUrl"],
    message: `refusing to send a service account's secret over plain HTTP to ${options.baseUrl.hostname}; use https or a loopback host`
  }

/** The connection options, checked. */
export type Connection = Schema.Schema.Type<Schema.Struct<typeof connectionFields>>

/** How the flags layers reach Mixpanel, from the environment. */
export const connectionConfig: Config.Config<ConnectionOptions> = Config.all({
  token: Options.redactedVariable("MIXPANEL_TOKEN"),
  region: Options.env("MIXPANEL_REGION", ConsumerOptions.rules.region),
  baseUrl: Options.env("MIXPANEL_BASE_URL", ConsumerOptions.rules.baseUrl),
  requestTimeout: Options.env("MIXPANEL_REQUEST_TIMEOUT", ConsumerOptions.rules.requestTimeout),
  serviceAccount: ConsumerOptions.importAuthConfig.pipe(
    Config.map((auth) =>
      auth?._tag === "ServiceAccount"
        ? { username: auth.username, secret: auth.secret, projectId: auth.projectId }
        : undefined
    )
  )
}).pipe(Config.map(ConsumerOptions.defined), Options.refusedAt("MIXPANEL_BASE_URL", secretsSafe))

const statusReason = (status: number): FlagsError["reason"] => {
  if (status === 401 || status === 403) return "Unauthorized"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "ServerError"
  return "UnexpectedStatus"
}

/** Longest server error text kept in an error's `detail`. */
const maxDetail = 500

const ErrorBody = Schema.parseJson(Schema.Struct({ error: Schema.String }))
const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)
const decodeJson = Schema.decodeUnknownEither(Schema.parseJson())

/** The server's error text: the `error` of a JSON body, or the body itself, cut short. */
const serverText = (text: string): string => {
  const detail = Option.match(decodeErrorBody(text), { onNone: () => text.trim(), onSome: (body) => body.error })
  if (detail === "") return "no error text"
  return detail.length > maxDetail ? `${detail.slice(0, maxDetail)}…` : detail
}

/** A requester for checked connection options. */
export const make = (connection: Connection): Effect.Effect<Requester, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const token = Redacted.value(connection.token)
    const http = yield* Http.make({
      baseUrl: connection.baseUrl ?? new URL(Http.regionUrls[connection.region ?? "US"]),
      timeout: connection.requestTimeout ?? Http.defaultTimeout,
      transformClient: connection.transformClient as Http.TransformClient | undefined
    })
    const account = connection.serviceAccount
    const common: Record<string, string> = { mp_lib: "effect-mixpanel", $lib_version: version, token }
    if (account !== undefined) common.project_id = account.projectId
    const authorization =
      account !== undefined
        ? Http.basicAuth(account.username, Redacted.value(account.secret))
        : Http.basicAuth(token, "")

    const get = (path: Path, params: Readonly<Record<string, string>> = {}): Effect.Effect<unknown, FlagsError> =>
      Effect.gen(function* () {
        const request = HttpClientRequest.get(http.url(path)).pipe(
          HttpClientRequest.setUrlParams({ ...common, ...params }),
          HttpClientRequest.setHeaders({ "content-type": "application/json", authorization })
        )
        const { status, text } = yield* http.execute(request).pipe(
          Effect.mapError((failure) => new FlagsError({ path, reason: failure.reason, detail: failure.detail })),
          // a defect of the HTTP client is a failed request too: a lookup falls back, a fetch is reported, and
          // polling goes on
          Effect.catchAllDefect((defect) =>
            Effect.fail(
              new FlagsError({ path, reason: "Transport", detail: `the HTTP client died: ${describeDefect(defect)}` })
            )
          )
        )
        if (status !== 200) {
          return yield* new FlagsError({ path, reason: statusReason(status), status, detail: serverText(text) })
        }
        const body = decodeJson(text)
        if (body._tag === "Left") {
          return yield* new FlagsError({
            path,
            reason: "Malformed",
            status,
            detail: `the body is not JSON (${text.length} characters)`
          })
        }
        return body.right
      }).pipe(Effect.withSpan("Mixpanel.flags.request", { kind: "client", attributes: { path } }))

    return { get }
  })

/** Longest text of a defect kept in an error's `detail`. */
const maxDefect = 300

/** A defect in a line: an error's name and message, cut short; any other value is only named by its type. */
export const describeDefect = (defect: unknown): string => {
  const text = defect instanceof Error ? `${defect.name}: ${defect.message}` : `a thrown ${typeof defect}`
  return text.length > maxDefect ? `${text.slice(0, maxDefect)}…` : text
}

/** Checks connection options (and a flags layer's own fields) once, at layer build. */
export const decoder = <F extends Schema.Struct.Fields>(fields: F) =>
  Options.decoder(
    Schema.Struct({ ...connectionFields, ...fields }).pipe(Schema.filter(secretsSafe)) as unknown as Schema.Schema<
      Connection & Schema.Struct.Type<F>,
      unknown
    >
  ) as (input: unknown) => Effect.Effect<Connection & Schema.Struct.Type<F>, InvalidConfig>
