/**
 * The one way this library talks HTTP, for ingestion and for flags: the application's `HttpClient` (with
 * the caller's `transformClient`), the base URL, the user agent, a timeout over the whole exchange, and
 * failures that keep their cause and say what a reader can act on: method, host, path and the system
 * error (`connect ECONNREFUSED 127.0.0.1:1`), never a query string or a header (they carry credentials).
 *
 * The platform client's own `http.client` span is off for these requests: its attributes hold the URL and
 * its query (the token, a flag lookup's distinct id and properties). The library's spans around them
 * (`Mixpanel.request`, `Mixpanel.flags.request`) carry safe attributes, and their trace context is sent
 * (`traceparent`, `b3`) as the platform client would send its span's.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { constTrue } from "effect/Function"
import * as Tracer from "effect/Tracer"
import { InvalidConfig } from "../MixpanelError.js"
import { version } from "./version.js"

/** The `User-Agent` of every request. */
export const userAgent = `effect-mixpanel/${version}`

/** The API host of each data residency region. */
export const regionUrls = {
  US: "https://api.mixpanel.com",
  EU: "https://api-eu.mixpanel.com",
  IN: "https://api-in.mixpanel.com"
} as const

/** Default time to wait for one response. */
export const defaultTimeout: Duration.Duration = Duration.seconds(10)

/** A hook over the client: a proxy header, a policy of the application's own. */
export type TransformClient = (client: HttpClient.HttpClient) => HttpClient.HttpClient

/** How to reach Mixpanel. */
export interface Settings {
  readonly baseUrl: URL
  readonly timeout: Duration.Duration
  readonly transformClient?: TransformClient | undefined
}

/** An exchange that did not reach an answer. */
export interface Failure {
  readonly reason: "Transport" | "Timeout"
  /** `POST 127.0.0.1:1/track: connect ECONNREFUSED 127.0.0.1:1`, `… no response within 10 seconds`. */
  readonly detail: string
  readonly cause?: unknown
}

/** A whole answer. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly text: string
}

/** Sends requests to Mixpanel. */
export interface Http {
  readonly baseUrl: URL
  /** The URL of `path` on the base URL. */
  readonly url: (path: string) => URL
  /** Sends `request` and reads its whole answer, within the timeout. */
  readonly execute: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<Answer, Failure>
}

const isLoopback = (hostname: string) =>
  hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * An HTTP Basic `Authorization` value. Credentials are checked to be printable ASCII where they are options;
 * anything else is encoded as Latin-1 here rather than thrown on (as `btoa` would), and Mixpanel refuses it.
 */
export const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`, "latin1").toString("base64")}`

/** Whether a secret may travel to `url`: over https, or over plain http to this machine only. */
export const safeForSecrets = (url: URL): boolean => url.protocol === "https:" || isLoopback(url.hostname)

/** The system error at the bottom of a failure: `connect ECONNREFUSED 127.0.0.1:1`, `getaddrinfo ENOTFOUND x`. */
export const systemError = (error: unknown): string | undefined => {
  let deepest: string | undefined
  const seen = new Set<unknown>()
  let current: unknown = error
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current)
    const { cause, code, errors, message } = current as {
      cause?: unknown
      code?: unknown
      errors?: unknown
      message?: unknown
    }
    if (typeof code === "string" && typeof message === "string") {
      return message.includes(code) ? message : `${code}: ${message}`
    }
    if (typeof message === "string" && message !== "") deepest = message
    current = cause ?? (Array.isArray(errors) ? errors[0] : undefined)
  }
  return deepest
}

const target = (request: HttpClientRequest.HttpClientRequest): { readonly text: string; readonly search: string } => {
  const url = new URL(request.url)
  return { text: `${request.method} ${url.host}${url.pathname}`, search: url.search }
}

const transportFailure = (
  request: HttpClientRequest.HttpClientRequest,
  error: HttpClientError.HttpClientError
): Failure => {
  const { search, text } = target(request)
  const system = systemError(error.cause) ?? error.reason
  // a system error never holds the query, but a client's own message might: never let it through
  const detail = search.length > 1 ? system.split(search.slice(1)).join("<query>") : system
  // the cause below the platform's error: the platform's holds the request, and so its credentials
  return { reason: "Transport", detail: `${text}: ${detail}`, cause: error.cause ?? error.reason }
}

/** The user's `transformClient` applied: what it throws or returns instead of a client is an `InvalidConfig`. */
const transformed = (client: HttpClient.HttpClient, transform: TransformClient | undefined) => {
  if (transform === undefined) return Effect.succeed(client)
  const invalid = (detail: string) => new InvalidConfig({ option: "transformClient", detail })
  try {
    const result: unknown = transform(client)
    return typeof result === "object" && result !== null && HttpClient.TypeId in result
      ? Effect.succeed(result as HttpClient.HttpClient)
      : Effect.fail(invalid("must return an HttpClient"))
  } catch {
    return Effect.fail(invalid("threw an exception"))
  }
}

/**
 * `request` with the current span's trace context, where the platform client would add its own span's:
 * while tracing is on and the application has not turned propagation off (`HttpClient.withTracerPropagation`).
 */
const withTraceContext = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.withFiberRuntime<HttpClientRequest.HttpClientRequest>((fiber) => {
    const span = Context.getOrElse(fiber.currentContext, Tracer.ParentSpan, () => undefined)
    return Effect.succeed(
      span?._tag === "Span" &&
        fiber.getFiberRef(FiberRef.currentTracerEnabled) &&
        fiber.getFiberRef(HttpClient.currentTracerPropagation)
        ? HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span))
        : request
    )
  })

/** The `Http` over the `HttpClient` in context. */
export const make = (settings: Settings): Effect.Effect<Http, InvalidConfig, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (platform) =>
    Effect.map(
      transformed(
        platform.pipe(
          HttpClient.mapRequest(HttpClientRequest.setHeader("user-agent", userAgent)),
          HttpClient.mapRequestEffect(withTraceContext)
        ),
        settings.transformClient
      ),
      (traced) => {
        // Outermost, so that no span of the platform client's is made below the user's transformation either
        const client = HttpClient.withTracerDisabledWhen(traced, constTrue)
        const { baseUrl, timeout } = settings
        const timeoutText = `no response within ${Duration.format(timeout)}`
        const execute = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Answer, Failure> =>
          client.execute(request).pipe(
            Effect.flatMap((response) =>
              Effect.map(
                response.text,
                (text): Answer => ({ status: response.status, headers: response.headers, text })
              )
            ),
            Effect.mapError((error) => transportFailure(request, error)),
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: (): Failure => ({ reason: "Timeout", detail: `${target(request).text}: ${timeoutText}` })
            })
          )
        return { baseUrl, url: (path) => new URL(path, baseUrl), execute }
      }
    )
  )
