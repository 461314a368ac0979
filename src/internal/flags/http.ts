/**
 * One `GET` to Mixpanel's flags API, as the official SDKs send it: the query parameters `token`, `mp_lib`,
 * `$lib_version` (and `project_id` with a service account), HTTP Basic auth (`token:` or the service
 * account), a fresh W3C `traceparent`, and a timeout. The answer is parsed JSON, or a `FlagsError`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Consumer from "../../Consumer.js"
import type { ConnectionOptions } from "../../FeatureFlags.js"
import { FlagsError, InvalidConfig } from "../../MixpanelError.js"
import { libraryName } from "../mixpanel.js"
import * as Transport from "../transport.js"
import { version } from "../version.js"

export type Path = FlagsError["path"]

/** Sends flags requests and parses their JSON answers. */
export interface Requester {
  readonly get: (path: Path, params?: Readonly<Record<string, string>>) => Effect.Effect<unknown, FlagsError>
}

/** Longest server error text kept in an error's `detail`. */
const maxDetail = 500

const hex = (words: number): Effect.Effect<string> =>
  Effect.gen(function* () {
    let out = ""
    for (let i = 0; i < words; i++) out += (yield* Random.nextIntBetween(0, 0x10000)).toString(16).padStart(4, "0")
    return out
  })

/** `00-<trace id>-<parent id>-01` (sampled), from Effect's `Random`. All-zero ids are invalid: never sent. */
export const traceparent: Effect.Effect<string> = Effect.gen(function* () {
  const trace = yield* hex(8)
  const parent = yield* hex(4)
  const nonZero = (id: string) => (/^0+$/.test(id) ? `${id.slice(0, -1)}1` : id)
  return `00-${nonZero(trace)}-${nonZero(parent)}-01`
})

const statusReason = (status: number): FlagsError["reason"] => {
  if (status === 401 || status === 403) return "Unauthorized"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "ServerError"
  return "UnexpectedStatus"
}

/** The server's error text: the `error` of a JSON body, or the body itself, cut short. */
const serverText = (text: string): string => {
  let detail = text.trim()
  try {
    const body: unknown = JSON.parse(text)
    if (typeof body === "object" && body !== null && "error" in body && typeof body.error === "string") {
      detail = body.error
    }
  } catch {
    // not JSON: the text as it is
  }
  if (detail === "") return "no error text"
  return detail.length > maxDetail ? `${detail.slice(0, maxDetail)}…` : detail
}

export const make = (options: ConnectionOptions): Effect.Effect<Requester, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const token = Redacted.isRedacted(options.token) ? Redacted.value(options.token) : options.token
    if (token === "") return yield* new InvalidConfig({ option: "token", detail: "the project token is empty" })
    const account = options.serviceAccount === undefined ? undefined : Consumer.serviceAccount(options.serviceAccount)
    // the same checks as the consumers: a valid URL, and no service-account secret over plain HTTP but to loopback
    const baseUrl = yield* Transport.resolveBaseUrl({
      region: options.region,
      baseUrl: options.baseUrl,
      requestTimeout: options.requestTimeout,
      importAuth: account
    })
    const client = yield* HttpClient.HttpClient
    const timeout = Duration.decode(options.requestTimeout ?? Transport.defaultRequestTimeout)
    const common: Record<string, string> = { mp_lib: libraryName, $lib_version: version, token }
    if (account?._tag === "ServiceAccount") common.project_id = account.projectId
    const authorize =
      account?._tag === "ServiceAccount"
        ? HttpClientRequest.basicAuth(account.username, account.secret)
        : HttpClientRequest.basicAuth(token, "")

    // Never the platform's own description of a failure: it names the URL, and the URL holds the token.
    const scrub = (text: string) => text.split(token).join("<token>")
    const transportError = (path: Path, error: HttpClientError.HttpClientError) => {
      const cause = error.cause instanceof Error ? `: ${scrub(error.cause.message)}` : ""
      return new FlagsError({ path, reason: "Transport", detail: `${error.reason}${cause}` })
    }

    const get = (path: Path, params: Readonly<Record<string, string>> = {}): Effect.Effect<unknown, FlagsError> =>
      Effect.gen(function* () {
        const request = HttpClientRequest.get(new URL(path, baseUrl)).pipe(
          HttpClientRequest.setUrlParams({ ...common, ...params }),
          HttpClientRequest.setHeaders({
            "content-type": "application/json",
            "user-agent": `${libraryName}/${version}`,
            traceparent: yield* traceparent
          }),
          authorize
        )
        const [status, text] = yield* client.execute(request).pipe(
          Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
          Effect.mapError((error) => transportError(path, error)),
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () =>
              new FlagsError({ path, reason: "Timeout", detail: `no response within ${Duration.format(timeout)}` })
          })
        )
        if (status !== 200) {
          return yield* new FlagsError({ path, reason: statusReason(status), status, detail: serverText(text) })
        }
        return yield* Effect.try({
          try: (): unknown => JSON.parse(text),
          catch: () =>
            new FlagsError({
              path,
              reason: "Malformed",
              status,
              detail: `the body is not JSON (${text.length} characters)`
            })
        })
      }).pipe(Effect.withSpan("Mixpanel.flags.request", { attributes: { path } }))

    return { get }
  })
