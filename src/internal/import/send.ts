/**
 * The importer's one adapter onto the library's delivery internals: every use the importer makes of them
 * is in this file, so that a rewrite of the consumers re-points only this.
 *
 * It uses the consumers' options check (`consumer/options.ts`: base URL, credentials, timeout), the HTTP
 * exchange (`http.ts`), one request and the reading of its answer (`consumer/ingestion.ts`), and seeing a
 * batch through (`consumer/deliver.ts`: retries by `consumer/retry.ts`, halving on a 413, a strict
 * `/import`'s failed records numbered in the batch), with Mixpanel's limits (`consumer/batch.ts`). It does
 * not use the `Consumer` service: a buffered consumer confirms nothing per batch, and a direct consumer
 * merges the failures of a call's requests into one error, while the importer must confirm each batch in
 * order (for its checkpoint) and tie each refused record back to its source line (for its rejects file).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { TransportOptions } from "../../Consumer.js"
import type { Endpoint } from "../../Endpoint.js"
import type { InvalidConfig } from "../../MixpanelError.js"
import * as Batch from "../consumer/batch.js"
import * as Deliver from "../consumer/deliver.js"
import * as Ingestion from "../consumer/ingestion.js"
import * as ConsumerOptions from "../consumer/options.js"
import * as Retry from "../consumer/retry.js"
import * as Http from "../http.js"
import * as Ids from "../ids.js"

/** Mixpanel's limit on the messages of one request: 2000. */
export const maxItems: number = Batch.maxItems

/** The bytes `json` takes in the body of a request to `endpoint`. */
export const wireBytes: (endpoint: Endpoint, json: string) => number = Batch.wireBytes

/** The size of a body of `count` messages whose `wireBytes` add up to `bytes`. */
export const bodyBytes: (endpoint: Endpoint, count: number, bytes: number) => number = Batch.bodyBytes

/** How the importer retries a request. */
export interface RetryPolicy {
  /** The first delay; each next one doubles, jittered, up to `maxDelay`. */
  readonly delay: Duration.DurationInput
  readonly maxDelay: Duration.DurationInput
  /** Most retries of one request. */
  readonly times: number
  /** Longest time from a request's first try to its last retry. */
  readonly maxTime: Duration.DurationInput
}

/** What stops an import: a request's failure that more tries cannot fix. */
export type Failure = Deliver.SendError

/** A message the server refused: its index in the batch, and the reason. */
export type Refused = readonly [index: number, reason: string]

/**
 * Delivers a batch of messages, in as many requests as it takes, and returns those the server refused:
 * strict `/import` names them (the others were imported); a request refused as a whole (400), or too
 * large (413), is split in halves until each refused message is alone, so that one bad message costs no
 * other its delivery. Anything else that fails (retries exhausted, credentials refused) is the import's failure.
 */
export type Send = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>
) => Effect.Effect<ReadonlyArray<Refused>, Failure>

const kept = "the request was refused, the updates Mixpanel found valid kept (it names only the first refusal): "

const reasonOf = (record: { readonly field?: string | undefined; readonly detail: string }) =>
  record.field === undefined ? record.detail : `${record.field}: ${record.detail}`

/**
 * A sender over the `HttpClient` in context. With `strict: false`, `/import` is asked not to validate
 * each record (Mixpanel then drops what it cannot ingest without saying which).
 */
export const make = (
  options: TransportOptions & {
    readonly strict: boolean
    readonly retry: RetryPolicy
    /** Most requests in flight at once; a batch waiting out a retry's delay holds none. */
    readonly requests: number
    /** The failure that stopped the import, if one did: no request starts after it, each fails with it. */
    readonly stopped: () => Failure | undefined
  }
): Effect.Effect<Send, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { baseUrl, geolocate, gzip, importAuth, region, requestTimeout, transformClient } = options
    const transport = yield* ConsumerOptions.direct(
      ConsumerOptions.defined({ baseUrl, geolocate, gzip, importAuth, region, requestTimeout, transformClient })
    )
    const client = yield* HttpClient.HttpClient
    // Ingestion always asks for strict validation; a lenient import says otherwise on its requests.
    const platform = options.strict
      ? client
      : HttpClient.mapRequest(client, (request) =>
          request.url.endsWith("/import") ? HttpClientRequest.setUrlParam(request, "strict", "0") : request
        )
    const http = yield* Effect.provideService(Http.make(transport.http), HttpClient.HttpClient, platform)
    // Level 1: a third of level 6's CPU for bodies about a fifth larger (docs/benchmarks.md); on a machine
    // of few cores the compression competes with the reading and building of messages.
    const ingestion = Ingestion.make(http, { ...transport, gzipLevel: 1 })
    const nextRequestId = yield* Ids.makeGenerator()
    const slots = yield* Effect.makeSemaphore(options.requests)
    const policy: Retry.Policy = {
      schedule: Retry.backoff(options.retry.delay, options.retry.maxDelay),
      maxRetries: options.retry.times,
      maxRetryTime: Duration.decode(options.retry.maxTime)
    }

    /** The outcomes of `indices` of `messages`, each index in exactly one part. */
    const parts = (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<Array<Deliver.Part>> =>
      Effect.suspend(() => {
        const settled: Array<Deliver.Part> = []
        return Deliver.deliver({
          messages,
          send: (part) => {
            // One id for every try of a request, so that the server's logs can tell a retry from a new one.
            const requestId = nextRequestId()
            return (attempt) =>
              slots.withPermits(1)(
                Effect.suspend(() => {
                  const stopped = options.stopped()
                  return stopped === undefined
                    ? ingestion.send(endpoint, part, requestId, attempt)
                    : Effect.fail(stopped)
                })
              )
          },
          policy,
          settle: (part) => Effect.sync(() => settled.push(part))
        }).pipe(Effect.as(settled))
      })

    const send: Send = (endpoint, messages) =>
      Effect.flatMap(parts(endpoint, messages), (settled) => {
        const refused: Array<Refused> = []
        const halves: Array<ReadonlyArray<number>> = []
        for (const part of settled) {
          if (part._tag === "Delivered") continue
          const error = part.error
          if (error._tag !== "ResponseError") return Effect.fail(error)
          if (error.failedRecords.length > 0) {
            for (const record of error.failedRecords) refused.push([record.index, reasonOf(record)])
          } else if (error.reason !== "Rejected" && error.reason !== "TooLarge") {
            return Effect.fail(error)
          } else if (part.indices.length === 1) {
            refused.push([part.indices[0] as number, error.serverError ?? error.message])
          } else if (error.status < 300) {
            // `/engage` and `/groups` answer `0` when any update is refused, keep the others, and name only the
            // first refusal: sending halves again would apply the kept updates twice (an `$add` would count
            // double), so the request's updates are reported refused together.
            const reason = `${kept}${error.serverError ?? error.message}`
            for (const index of part.indices) refused.push([index, reason])
          } else {
            const half = Math.ceil(part.indices.length / 2)
            halves.push(part.indices.slice(0, half), part.indices.slice(half))
          }
        }
        if (halves.length === 0) return Effect.succeed(refused)
        return Effect.map(
          Effect.forEach(halves, (indices) =>
            Effect.map(
              send(
                endpoint,
                indices.map((i) => messages[i] as string)
              ),
              (inner) => inner.map(([i, reason]): Refused => [indices[i] as number, reason])
            )
          ),
          (more) => [...refused, ...more.flat()]
        )
      })
    return send
  })
