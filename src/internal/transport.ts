/**
 * One HTTP request to Mixpanel's ingestion API for a batch of encoded messages, and the reading of its
 * response into success or a `MixpanelError`. No retries here: see `retry.ts`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ImportAuth, TransportOptions } from "../Consumer.js"
import * as Endpoint from "../Endpoint.js"
import { FailedRecord, InvalidConfig, RequestError, ResponseError, Undelivered } from "../MixpanelError.js"
import { undeliveredAll } from "./errors.js"
import { version } from "./version.js"

/** The API host of each data residency region. */
export const regionUrls = {
  US: "https://api.mixpanel.com",
  EU: "https://api-eu.mixpanel.com",
  IN: "https://api-in.mixpanel.com"
} as const

/** Default time to wait for one response. */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(10)

/** What a delivered request reports. */
export interface Delivered {
  readonly messages: number
}

/** The resolved, checked settings of a transport. */
export interface Transport {
  readonly baseUrl: URL
  readonly send: (
    endpoint: Endpoint.Endpoint,
    messages: ReadonlyArray<string>,
    requestId: string
  ) => Effect.Effect<Delivered, RequestError | ResponseError | InvalidConfig>
}

const isLoopback = (hostname: string) =>
  hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname)

const carriesSecret = (auth: ImportAuth | undefined) => auth !== undefined && auth._tag !== "ProjectToken"

/** Checks the options once, when a consumer is built, so that a bad setting fails at start-up. */
export const resolveBaseUrl = (options: TransportOptions): Effect.Effect<URL, InvalidConfig> =>
  Effect.gen(function* () {
    const text = options.baseUrl === undefined ? regionUrls[options.region ?? "US"] : String(options.baseUrl)
    const url = yield* Effect.try({
      try: () => new URL(text),
      catch: () => new InvalidConfig({ option: "baseUrl", detail: "not a valid URL" })
    })
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return yield* new InvalidConfig({ option: "baseUrl", detail: `${url.protocol} is not http: or https:` })
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname) && carriesSecret(options.importAuth)) {
      return yield* new InvalidConfig({
        option: "baseUrl",
        detail: `refusing to send an /import secret over plain HTTP to ${url.hostname}; use https or a loopback host`
      })
    }
    if (options.requestTimeout !== undefined && !Duration.greaterThan(Duration.decode(options.requestTimeout), 0)) {
      return yield* new InvalidConfig({ option: "requestTimeout", detail: "must be longer than zero" })
    }
    return url
  })

const userAgent = `effect-mixpanel/${version}`

const withAuth = (
  request: HttpClientRequest.HttpClientRequest,
  auth: ImportAuth | undefined
): Effect.Effect<HttpClientRequest.HttpClientRequest, InvalidConfig> => {
  if (auth === undefined) {
    return new InvalidConfig({
      option: "importAuth",
      detail: "/import needs credentials: a service account, the project's API secret, or the project token"
    })
  }
  switch (auth._tag) {
    case "ServiceAccount":
      return Effect.succeed(
        request.pipe(
          HttpClientRequest.basicAuth(auth.username, auth.secret),
          HttpClientRequest.appendUrlParam("project_id", auth.projectId)
        )
      )
    case "ApiSecret":
      return Effect.succeed(HttpClientRequest.basicAuth(request, auth.secret, ""))
    case "ProjectToken":
      return Effect.succeed(HttpClientRequest.basicAuth(request, auth.token, ""))
  }
}

const gzip = (text: string): Effect.Effect<Uint8Array> =>
  Effect.promise(async () => {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))
    return new Uint8Array(await new Response(stream).arrayBuffer())
  })

const formEscapes: Readonly<Record<string, string>> = { "%": "%25", "&": "%26", "+": "%2B", "=": "%3D", ";": "%3B" }

/**
 * The `data=` of a form body. Form decoders take any byte as itself except `%` (an escape), `+` (a space),
 * and `&`, `=` and `;` (separators), so only those are escaped: JSON then travels nearly as it is, where
 * `encodeURIComponent` would escape every quote, brace and colon (40% more bytes, three times the time).
 */
export const formData = (json: string): string => `data=${json.replace(/[%&+=;]/g, (c) => formEscapes[c] ?? c)}`

/** The request for one batch: form `data=` for `/track`, `/engage`, `/groups`; a JSON array for `/import`. */
export const makeRequest = (
  baseUrl: URL,
  options: TransportOptions,
  endpoint: Endpoint.Endpoint,
  messages: ReadonlyArray<string>,
  requestId: string
): Effect.Effect<HttpClientRequest.HttpClientRequest, InvalidConfig> => {
  const json = messages.length === 1 ? `[${messages[0]}]` : `[${messages.join(",")}]`
  const base = HttpClientRequest.post(new URL(Endpoint.path[endpoint], baseUrl)).pipe(
    HttpClientRequest.setUrlParams({ ip: options.geolocate === true ? "1" : "0", verbose: "1" }),
    HttpClientRequest.setHeaders({ "user-agent": userAgent, "x-request-id": requestId })
  )
  if (endpoint !== "imports") {
    return Effect.succeed(HttpClientRequest.bodyText(base, formData(json), "application/x-www-form-urlencoded"))
  }
  return withAuth(HttpClientRequest.appendUrlParam(base, "strict", "1"), options.importAuth).pipe(
    Effect.flatMap((request) =>
      options.gzip === true
        ? Effect.map(gzip(json), (body) =>
            request.pipe(
              HttpClientRequest.setHeader("content-encoding", "gzip"),
              HttpClientRequest.bodyUint8Array(body, "application/json")
            )
          )
        : Effect.succeed(HttpClientRequest.bodyText(request, json, "application/json"))
    )
  )
}

/** `Retry-After` as seconds or as an HTTP date, relative to `now`. */
export const parseRetryAfter = (header: string | undefined, now: number): Duration.Duration | undefined => {
  if (header === undefined) return undefined
  const text = header.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Duration.seconds(Number(text))
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - now))
}

interface Body {
  readonly status?: unknown
  readonly error?: unknown
  readonly failed_records?: unknown
}

const parseBody = (text: string): Body | undefined => {
  try {
    const body: unknown = JSON.parse(text)
    return typeof body === "object" && body !== null ? (body as Body) : undefined
  } catch {
    return undefined
  }
}

const failedRecords = (body: Body | undefined): ReadonlyArray<FailedRecord> => {
  if (!Array.isArray(body?.failed_records)) return []
  return body.failed_records.flatMap((record: unknown) => {
    if (typeof record !== "object" || record === null) return []
    const { field, index, insert_id, message } = record as Record<string, unknown>
    if (typeof index !== "number") return []
    return [
      new FailedRecord({
        index,
        detail: typeof message === "string" ? message : "rejected",
        ...(typeof insert_id === "string" ? { insertId: insert_id } : {}),
        ...(typeof field === "string" ? { field } : {})
      })
    ]
  })
}

const statusReason = (status: number): ResponseError["reason"] => {
  if (status === 400) return "Rejected"
  if (status === 401 || status === 403) return "Unauthorized"
  if (status === 413) return "TooLarge"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "ServerError"
  return "UnexpectedStatus"
}

/**
 * Reads a response the way Mixpanel writes it: `1`, `{"status":1}` or `{"code":200}` is success; a
 * `status: 0` body or an error status is a `ResponseError` with the server's text. Of a strict `/import`
 * that failed some records, only those records are undelivered: the rest were imported.
 */
export const readResponse = (
  endpoint: Endpoint.Endpoint,
  messages: ReadonlyArray<string>,
  response: HttpClientResponse.HttpClientResponse,
  text: string,
  now: number
): Effect.Effect<Delivered, ResponseError> => {
  const status = response.status
  const body = parseBody(text)
  const serverError = typeof body?.error === "string" && body.error !== "" ? { serverError: body.error } : {}
  const all = () => undeliveredAll(endpoint, messages)
  if (status >= 200 && status < 300) {
    const trimmed = text.trim()
    if (trimmed === "1" || body?.status === 1 || (endpoint === "imports" && body !== undefined && !("error" in body))) {
      return Effect.succeed({ messages: messages.length })
    }
    if (trimmed === "0" || body?.status === 0) {
      return new ResponseError({ endpoint, reason: "Rejected", status, undelivered: all(), ...serverError })
    }
    return new ResponseError({
      endpoint,
      reason: "Malformed",
      status,
      serverError: `unexpected response body (${text.length} characters)`,
      undelivered: all()
    })
  }
  const failed = status === 400 ? failedRecords(body) : []
  const retryAfter = parseRetryAfter(response.headers["retry-after"], now)
  const undelivered =
    failed.length > 0
      ? failed.flatMap((record) => {
          const json = messages[record.index]
          return json === undefined ? [] : [new Undelivered({ endpoint, json })]
        })
      : all()
  return new ResponseError({
    endpoint,
    reason: statusReason(status),
    status,
    undelivered,
    failedRecords: failed,
    ...serverError,
    ...(retryAfter === undefined ? {} : { retryAfter })
  })
}

const transportError = (
  endpoint: Endpoint.Endpoint,
  messages: ReadonlyArray<string>,
  error: HttpClientError.HttpClientError
) =>
  new RequestError({
    endpoint,
    reason: "Transport",
    // The platform's own description names the method and URL, which hold no secret (auth is a header).
    detail: error.reason,
    undelivered: undeliveredAll(endpoint, messages)
  })

/** Builds a transport over the `HttpClient` in context. */
export const make = (options: TransportOptions): Effect.Effect<Transport, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const baseUrl = yield* resolveBaseUrl(options)
    const client = yield* HttpClient.HttpClient
    const timeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
    const timeoutText = `no response within ${Duration.format(timeout)}`
    const send = (endpoint: Endpoint.Endpoint, messages: ReadonlyArray<string>, requestId: string) =>
      makeRequest(baseUrl, options, endpoint, messages, requestId).pipe(
        Effect.flatMap((request) =>
          client.execute(request).pipe(
            Effect.flatMap((response) => Effect.map(response.text, (text) => [response, text] as const)),
            Effect.mapError((error) => transportError(endpoint, messages, error)),
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () =>
                new RequestError({
                  endpoint,
                  reason: "Timeout",
                  detail: timeoutText,
                  undelivered: undeliveredAll(endpoint, messages)
                })
            })
          )
        ),
        Effect.flatMap(([response, text]) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => readResponse(endpoint, messages, response, text, now))
        )
      )
    return { baseUrl, send }
  })
