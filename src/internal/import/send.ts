/**
 * The importer's one adapter onto the library's delivery internals: every use the importer makes of them
 * is in this file, so that a rewrite of the transport or of the consumer re-points only this.
 *
 * It uses the transport's one-request send (`transport.make` and its `send`: per-request outcome, with
 * strict `/import`'s per-record failures), the retry policy (`retry.retryTransient`, `retry.backoff`),
 * Mixpanel's item limit (`batch.maxItems`), the request id generator (`ids.makeGenerator`) and the UTF-8
 * size of a message (`json.utf8Length`). It does not use the `Consumer` service: a buffered consumer confirms nothing per batch (only per flush, as a
 * list of failed messages), and a direct consumer merges the failures of a call's requests into one error,
 * while the importer must confirm each batch in order (for its checkpoint) and tie each failed record back
 * to its source line (for its rejects file).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { TransportOptions } from "../../Consumer.js"
import type { Endpoint } from "../../Endpoint.js"
import type { InvalidConfig, RequestError, ResponseError } from "../../MixpanelError.js"
import * as Batch from "../batch.js"
import * as Ids from "../ids.js"
import * as Json from "../json.js"
import * as Retry from "../retry.js"
import * as Transport from "../transport.js"

/** Mixpanel's limit on the messages of one request: 2000. */
export const maxItems: number = Batch.maxItems

/** The size of a message as Mixpanel counts it against its byte limit: its UTF-8 bytes. */
export const byteLength: (json: string) => number = Json.utf8Length

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

/** One request for a batch of messages, retried on transient failures; fails with the last error. */
export type Send = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>
) => Effect.Effect<void, RequestError | ResponseError | InvalidConfig>

/**
 * A sender over the `HttpClient` in context. With `strict: false`, `/import` is asked not to validate
 * each record (Mixpanel then drops what it cannot ingest without saying which).
 */
export const make = (
  options: TransportOptions & { readonly strict: boolean; readonly retry: RetryPolicy }
): Effect.Effect<Send, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    // The transport always asks for strict validation; a lenient import says otherwise on its requests.
    const http = options.strict
      ? client
      : HttpClient.mapRequest(client, (request) =>
          request.url.endsWith("/import") ? HttpClientRequest.setUrlParam(request, "strict", "0") : request
        )
    const transport = yield* Effect.provideService(Transport.make(options), HttpClient.HttpClient, http)
    const nextRequestId = yield* Ids.makeGenerator()
    const retry = {
      schedule: Retry.backoff(options.retry.delay, options.retry.maxDelay).pipe(Schedule.upTo(options.retry.maxTime)),
      times: options.retry.times
    }
    return (endpoint, messages) =>
      Effect.suspend(() => {
        // One id for every try of a request, so that the server's logs can tell a retry from a new request.
        const requestId = nextRequestId()
        return Retry.retryTransient(transport.send(endpoint, messages, requestId), retry)
      }).pipe(Effect.asVoid)
  })
