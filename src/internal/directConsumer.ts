/**
 * `Consumer.layerDirect`: every call is one HTTP request (per batch within Mixpanel's limits), retried on
 * transient failures, and the caller waits for the outcome.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { DirectOptions, Service } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import type { InvalidConfig, MixpanelError } from "../MixpanelError.js"
import * as Batch from "./batch.js"
import * as Errors from "./errors.js"
import * as Ids from "./ids.js"
import * as Retry from "./retry.js"
import * as Transport from "./transport.js"

/** The direct consumer's default retry policy (and `sendNow`'s in the buffered consumer). */
export const defaultRetry = {
  schedule: Retry.backoff("1 second", "30 seconds"),
  times: 3
}

export const make = (options: DirectOptions): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const transport = yield* Transport.make(options)
    const nextRequestId = yield* Ids.makeGenerator()
    const retry = {
      schedule: options.retrySchedule ?? defaultRetry.schedule,
      times: options.maxRetries ?? defaultRetry.times
    }
    const limits = { maxItems: Batch.maxItems, maxBytes: Batch.maxBytes }

    const sendOne = (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<void, MixpanelError> =>
      Effect.suspend(() => Retry.retryTransient(transport.send(endpoint, messages, nextRequestId()), retry)).pipe(
        Effect.asVoid,
        Effect.withSpan("Mixpanel.request", { attributes: { endpoint, messages: messages.length } })
      )

    // Every batch gets its own request even if an earlier one failed: one bad batch costs no other its delivery.
    const sendBatch = (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<void, MixpanelError> => {
      const batches = Batch.split(messages, limits)
      if (batches.length <= 1) return batches.length === 0 ? Effect.void : sendOne(endpoint, messages)
      return Effect.forEach(batches, (batch) => Effect.either(sendOne(endpoint, batch))).pipe(
        Effect.flatMap((results) => {
          const errors = results.filter(Either.isLeft).map((result) => result.left)
          return Arr.isNonEmptyReadonlyArray(errors) ? Effect.fail(Errors.combine(errors)) : Effect.void
        })
      )
    }

    const send = (endpoint: Endpoint, message: string) => sendOne(endpoint, [message])
    return { send, sendNow: send, sendBatch, flush: Effect.void }
  })
