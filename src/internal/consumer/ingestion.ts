/**
 * One request to Mixpanel's ingestion API for a batch of encoded messages, and the reading of its answer
 * into success or a `MixpanelError`. No retries here: see `retry.ts` and `deliver.ts`.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ImportAuth } from "../../Consumer.js"
import * as Endpoint from "../../Endpoint.js"
import { FailedRecord, InvalidConfig, RequestError, ResponseError, Undelivered } from "../../MixpanelError.js"
import { undeliveredAll } from "../errors.js"
import * as Http from "../http.js"
import { body, isForm, textOf } from "./batch.js"
import * as Bodies from "./bodies.js"
import type { Sendable } from "./placed.js"

/** What the requests of a consumer carry besides their messages. */
export interface Settings {
  readonly importAuth: ImportAuth | undefined
  readonly gzip: boolean
  readonly geolocate: boolean
  /** zlib's level for gzipped bodies on Node, 1 (fastest) to 9; zlib's default, 6, when not given. */
  readonly gzipLevel?: number | undefined
}

/** Sends one batch. */
export interface Ingestion {
  readonly baseUrl: URL
  /**
   * One try of the request `requestId` (the same for its retries), numbered `attempt` from 1, in a
   * `Mixpanel.request` span.
   */
  readonly send: (
    endpoint: Endpoint.Endpoint,
    messages: ReadonlyArray<Sendable>,
    requestId: string,
    attempt: number
  ) => Effect.Effect<void, RequestError | ResponseError | InvalidConfig>
}

/** The `Authorization` header and query of `/import`, made once. */
const importCredentials = (
  auth: ImportAuth | undefined
): { readonly header: Redacted.Redacted; readonly params: Readonly<Record<string, string>> } | undefined => {
  if (auth === undefined) return undefined
  switch (auth._tag) {
    case "ServiceAccount":
      return {
        header: Redacted.make(Http.basicAuth(auth.username, Redacted.value(auth.secret))),
        params: { project_id: auth.projectId, strict: "1" }
      }
    case "ApiSecret":
      return { header: Redacted.make(Http.basicAuth(Redacted.value(auth.secret), "")), params: { strict: "1" } }
    case "ProjectToken":
      return { header: Redacted.make(Http.basicAuth(Redacted.value(auth.token), "")), params: { strict: "1" } }
  }
}

/** Mixpanel's answers: `1`/`0`, or a JSON object (verbose, or `/import`). */
const Answer = Schema.parseJson(
  Schema.Union(
    Schema.Literal(0, 1),
    Schema.Struct({
      status: Schema.optional(Schema.Unknown),
      error: Schema.optional(Schema.NullOr(Schema.String)),
      code: Schema.optional(Schema.Number),
      failed_records: Schema.optional(Schema.Array(Schema.Unknown))
    })
  )
)
type Answer = typeof Answer.Type

const decodeAnswer = Schema.decodeUnknownOption(Answer)

const WireFailedRecord = Schema.Struct({
  index: Schema.Number,
  insert_id: Schema.optional(Schema.NullOr(Schema.String)),
  field: Schema.optional(Schema.NullOr(Schema.String)),
  message: Schema.optional(Schema.NullOr(Schema.String))
})

const decodeFailedRecord = Schema.decodeUnknownOption(WireFailedRecord)

const failedRecords = (answer: Answer | undefined): ReadonlyArray<FailedRecord> => {
  if (typeof answer !== "object" || answer.failed_records === undefined) return []
  return answer.failed_records.flatMap((record) =>
    Option.match(decodeFailedRecord(record), {
      onNone: () => [],
      onSome: ({ field, index, insert_id, message }) => [
        new FailedRecord({
          index,
          detail: message ?? "rejected",
          ...(typeof insert_id === "string" && insert_id !== "" ? { insertId: insert_id } : {}),
          ...(typeof field === "string" ? { field } : {})
        })
      ]
    })
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

/** The JSON texts of a request's messages, for the errors that report them. */
const texts = (endpoint: Endpoint.Endpoint, messages: ReadonlyArray<Sendable>): ReadonlyArray<string> =>
  messages.map((message) => textOf(endpoint, message))

const statusReason = (status: number): ResponseError["reason"] => {
  if (status === 400) return "Rejected"
  if (status === 401 || status === 403) return "Unauthorized"
  if (status === 413) return "TooLarge"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "ServerError"
  return "UnexpectedStatus"
}

/** Longest server error text kept in an error. */
const maxServerText = 500

const serverText = (answer: Answer | undefined, text: string): { readonly serverError?: string } => {
  const error = typeof answer === "object" && typeof answer.error === "string" ? answer.error : text.trim()
  if (error === "" || error === "0" || error === "1") return {}
  return { serverError: error.length > maxServerText ? `${error.slice(0, maxServerText)}…` : error }
}

/**
 * Reads an answer the way Mixpanel writes it: `1`, `{"status":1}` or `{"code":200}` is success; a
 * `status: 0` body or an error status is a `ResponseError` with the server's text. Of a strict `/import`
 * that failed some records, only those records are undelivered: the rest were imported.
 */
export const readAnswer = (
  endpoint: Endpoint.Endpoint,
  messages: ReadonlyArray<Sendable>,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  text: string,
  now: number
): Either.Either<void, ResponseError> => {
  const answer = Option.getOrUndefined(decodeAnswer(text))
  const all = () => undeliveredAll(endpoint, texts(endpoint, messages))
  if (status >= 200 && status < 300) {
    if (answer === 1 || (typeof answer === "object" && answer.status === 1)) return Either.void
    if (endpoint === "imports" && typeof answer === "object" && (answer.error ?? null) === null) return Either.void
    if (answer === 0 || (typeof answer === "object" && answer.status === 0)) {
      return Either.left(
        new ResponseError({ endpoint, reason: "Rejected", status, undelivered: all(), ...serverText(answer, text) })
      )
    }
    return Either.left(
      new ResponseError({
        endpoint,
        reason: "Malformed",
        status,
        serverError: `unexpected response body (${text.length} characters)`,
        undelivered: all()
      })
    )
  }
  const failed = status === 400 ? failedRecords(answer) : []
  const retryAfter = parseRetryAfter(headers["retry-after"], now)
  const undelivered =
    failed.length > 0
      ? failed.flatMap((record) => {
          const message = messages[record.index]
          return message === undefined ? [] : [new Undelivered({ endpoint, json: textOf(endpoint, message) })]
        })
      : all()
  return Either.left(
    new ResponseError({
      endpoint,
      reason: statusReason(status),
      status,
      undelivered,
      failedRecords: failed,
      ...serverText(answer, text),
      ...(retryAfter === undefined ? {} : { retryAfter })
    })
  )
}

/** Node's zlib, loaded at the first gzipped body, so that other runtimes never import it; `undefined` elsewhere. */
let nodeZlib: Promise<typeof import("node:zlib") | undefined> | undefined
const loadZlib = () =>
  (nodeZlib ??=
    typeof process === "object" && typeof process.versions?.node === "string"
      ? import("node:zlib").catch(() => undefined)
      : Promise.resolve(undefined))

/**
 * A body gzipped at `level` (zlib's default, 6, when undefined). On Node, by zlib in its thread pool in one
 * call: the web streams' `CompressionStream` (the same zlib) hands the bytes over in small chunks through
 * promises, which cost the importer about a tenth of its CPU and 10 MB of memory (docs/benchmarks.md).
 * Elsewhere, by `CompressionStream`, at its own level.
 */
const gzip = (bytes: Uint8Array, level: number | undefined): Effect.Effect<Uint8Array> =>
  Effect.promise(async () => {
    const zlib = await loadZlib()
    if (zlib !== undefined) {
      return new Promise<Uint8Array>((resolve, reject) =>
        // zlib fails only on a bad option or out of memory: a defect, not the request's to handle
        zlib.gzip(bytes, { level: level ?? zlib.constants.Z_DEFAULT_COMPRESSION }, (error, compressed) =>
          error === null ? resolve(compressed) : reject(error)
        )
      )
    }
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"))
    return new Uint8Array(await new Response(stream).arrayBuffer())
  })

/** Builds the ingestion requests of a consumer over `http`, with the bodies they write into. */
export const make = (http: Http.Http, settings: Settings, bodies: Bodies.Bodies = Bodies.make()): Ingestion => {
  const credentials = importCredentials(settings.importAuth)
  const urls: { readonly [E in Endpoint.Endpoint]: URL } = {
    events: http.url(Endpoint.path.events),
    people: http.url(Endpoint.path.people),
    groups: http.url(Endpoint.path.groups),
    imports: http.url(Endpoint.path.imports)
  }
  const common = { ip: settings.geolocate ? "1" : "0", verbose: "1" }
  const noCredentials = new InvalidConfig({
    option: "importAuth",
    detail: "/import needs credentials: a service account, the project's API secret, or the project token"
  })

  /**
   * The request of a batch, the size of its body as sent, and the body buffer it borrows until its answer
   * (gzipped, the body before compression, which the messages placed in it are read from): back to the pool
   * after a 2xx, kept out of it otherwise.
   */
  const request = (
    endpoint: Endpoint.Endpoint,
    messages: ReadonlyArray<Sendable>,
    requestId: string
  ): Effect.Effect<
    { readonly request: HttpClientRequest.HttpClientRequest; readonly bytes: number; readonly lent: Uint8Array },
    InvalidConfig
  > => {
    const base = HttpClientRequest.post(urls[endpoint]).pipe(
      HttpClientRequest.setUrlParams(common),
      HttpClientRequest.setHeader("x-request-id", requestId)
    )
    if (isForm(endpoint)) {
      const form = body(endpoint, messages, bodies.take)
      return Effect.succeed({
        request: HttpClientRequest.bodyUint8Array(base, form, "application/x-www-form-urlencoded"),
        bytes: form.length,
        lent: form
      })
    }
    if (credentials === undefined) return Effect.fail(noCredentials)
    const authorized = base.pipe(
      HttpClientRequest.appendUrlParams(credentials.params),
      HttpClientRequest.setHeader("authorization", Redacted.value(credentials.header))
    )
    const json = body(endpoint, messages, bodies.take)
    return settings.gzip
      ? Effect.map(gzip(json, settings.gzipLevel), (compressed) => ({
          request: authorized.pipe(
            HttpClientRequest.setHeader("content-encoding", "gzip"),
            HttpClientRequest.bodyUint8Array(compressed, "application/json")
          ),
          bytes: compressed.length,
          lent: json
        }))
      : Effect.succeed({
          request: HttpClientRequest.bodyUint8Array(authorized, json, "application/json"),
          bytes: json.length,
          lent: json
        })
  }

  const send = (
    endpoint: Endpoint.Endpoint,
    messages: ReadonlyArray<Sendable>,
    requestId: string,
    attempt: number
  ): Effect.Effect<void, RequestError | ResponseError | InvalidConfig> =>
    Effect.flatMap(request(endpoint, messages, requestId), ({ bytes, lent, request }) =>
      http.execute(request).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit) && exit.value.status >= 200 && exit.value.status < 300) bodies.giveBack(lent)
            else bodies.spoil(lent)
          })
        ),
        Effect.mapError(
          (failure) =>
            new RequestError({
              endpoint,
              reason: failure.reason,
              detail: failure.detail,
              undelivered: undeliveredAll(endpoint, texts(endpoint, messages)),
              ...(failure.cause === undefined ? {} : { cause: failure.cause })
            })
        ),
        Effect.flatMap(({ headers, status, text }) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => readAnswer(endpoint, messages, status, headers, text, now))
        ),
        Effect.withSpan("Mixpanel.request", {
          kind: "client",
          attributes: { endpoint, messages: messages.length, bytes, attempt, request_id: requestId }
        })
      )
    )

  return { baseUrl: http.baseUrl, send }
}
