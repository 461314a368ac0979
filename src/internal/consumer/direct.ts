/**
 * `Consumer.layerDirect`: every call is one HTTP request per batch within Mixpanel's limits (counted on
 * the body as sent), retried on transient failures, split on a 413, and the caller waits for the outcome.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Service } from "../../Consumer.js"
import type { Endpoint } from "../../Endpoint.js"
import {
  FailedRecord,
  type InvalidConfig,
  type MixpanelError,
  ResponseError,
  type SendError
} from "../../MixpanelError.js"
import * as Errors from "../errors.js"
import * as Http from "../http.js"
import * as Ids from "../ids.js"
import * as Args from "./args.js"
import * as Batch from "./batch.js"
import * as Deliver from "./deliver.js"
import * as Ingestion from "./ingestion.js"
import * as Options from "./options.js"
import * as Report from "./report.js"
import type * as Retry from "./retry.js"

/** A policy that logs the first failed try of a request at Warning, the next ones at Debug. */
export const loggedPolicy = (policy: Retry.Policy, endpoint: Endpoint): Retry.Policy => ({
  ...policy,
  onRetry: (error, tries, delay) =>
    (tries === 1 ? Effect.logWarning : Effect.logDebug)(
      `Mixpanel request failed (${Report.describe(error)}); try ${tries + 1} in ${Duration.format(delay)}`
    ).pipe(
      Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.endpoint": endpoint }),
      Effect.zipRight(policy.onRetry === undefined ? Effect.void : policy.onRetry(error, tries, delay))
    )
})

/** A strict `/import`'s failed records numbered by their place in the whole call, not in its request. */
const numbered = (error: Deliver.SendError, offset: number): MixpanelError =>
  offset === 0 || error._tag !== "ResponseError" || error.failedRecords.length === 0
    ? error
    : new ResponseError({
        ...error,
        failedRecords: error.failedRecords.map(
          (record) => new FailedRecord({ ...record, index: record.index + offset })
        )
      })

/** Sends `messages` now, in as many requests as the limits need; fails with every message not delivered. */
export const sender = (ingestion: Ingestion.Ingestion, policy: Retry.Policy, nextRequestId: () => string) => {
  return (endpoint: Endpoint, messages: ReadonlyArray<string>): Effect.Effect<void, SendError> =>
    Effect.suspend(() => {
      const errors: Array<MixpanelError> = []
      let offset = 0
      return Effect.forEach(
        Batch.split(endpoint, messages, Batch.mixpanelLimits),
        (batch) =>
          Deliver.deliver({
            messages: batch,
            send: (part) => {
              const requestId = nextRequestId()
              return (attempt) => ingestion.send(endpoint, part, requestId, attempt)
            },
            policy: loggedPolicy(policy, endpoint),
            settle: (part) => Effect.sync(() => part._tag === "Failed" && errors.push(numbered(part.error, offset)))
          }).pipe(Effect.ensuring(Effect.sync(() => (offset += batch.length)))),
        { discard: true }
      ).pipe(
        Effect.flatMap(() =>
          Arr.isNonEmptyReadonlyArray(errors) ? Effect.fail(Errors.combine(errors) as SendError) : Effect.void
        )
      )
    })
}

export const make = (options: unknown): Effect.Effect<Service, InvalidConfig, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const settings = yield* Options.direct(options)
    const http = yield* Http.make(settings.http)
    const ingestion = Ingestion.make(http, settings)
    const send = sender(ingestion, settings.retry, yield* Ids.makeGenerator())
    const one =
      (operation: string) =>
      (endpoint: Endpoint, message: string): Effect.Effect<void, SendError> => {
        const invalid = Args.checkMessage(operation, endpoint, message)
        return invalid === undefined ? send(endpoint, [message]) : Effect.fail(invalid)
      }
    const trusted: Args.Trusted = {
      send: (endpoint, message) => send(endpoint, [message]),
      sendBatch: (endpoint, messages) => (messages.length === 0 ? Effect.void : send(endpoint, messages))
    }
    return {
      send: one("Consumer.send"),
      sendNow: one("Consumer.sendNow"),
      sendBatch: (endpoint, messages) =>
        Effect.flatMap(Args.checkMessages("Consumer.sendBatch", endpoint, messages), (checked) =>
          trusted.sendBatch(endpoint, checked)
        ),
      flush: Effect.void,
      [Args.TrustedTypeId]: trusted
    }
  })
