/**
 * What the buffered consumer says about the messages it handles: the metrics, the `DeliveryFailure` of
 * each message it did not deliver (built from the error that decided it), and the words of the log lines.
 * Nothing here holds a message's contents in a log or a metric: only counts, endpoints, reasons and
 * statuses.
 */
import * as Duration from "effect/Duration"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import type { Endpoint } from "../../Endpoint.js"
import {
  DeliveryFailure,
  type DeliveryOutcome,
  type DeliveryReason,
  type MixpanelError,
  type RequestError,
  type ResponseError
} from "../../MixpanelError.js"
import { type Outgoing, text } from "./unwritten.js"

// ---------------------------------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------------------------------

/** Every metric of the buffered consumer; each is tagged with `endpoint`, and the outcomes with `reason`. */
export const metrics = {
  enqueued: Metric.counter("mixpanel_messages_enqueued", {
    description: "Messages accepted into the buffer",
    incremental: true
  }),
  delivered: Metric.counter("mixpanel_messages_delivered", {
    description: "Messages Mixpanel accepted",
    incremental: true
  }),
  retried: Metric.counter("mixpanel_messages_retried", {
    description: "Messages sent again after a transient failure (counted once per retry)",
    incremental: true
  }),
  rejected: Metric.counter("mixpanel_messages_rejected", {
    description: "Messages refused for what they are (by Mixpanel, or too large for any request)",
    incremental: true
  }),
  dropped: Metric.counter("mixpanel_messages_dropped", {
    description: "Messages the consumer let go of: buffer full, retries exhausted, or sent after shutdown",
    incremental: true
  }),
  undelivered: Metric.counter("mixpanel_messages_undelivered", {
    description: "Messages still waiting or in flight when the shutdown deadline passed",
    incremental: true
  }),
  bufferDepth: Metric.gauge("mixpanel_buffer_depth", {
    description: "Messages held by the consumer: buffered, in flight or waiting for a retry"
  }),
  bufferBytes: Metric.gauge("mixpanel_buffer_bytes", {
    description: "UTF-8 bytes of the messages held by the consumer"
  }),
  batchSize: Metric.histogram(
    "mixpanel_batch_size",
    MetricBoundaries.exponential({ start: 1, factor: 2, count: 12 }),
    "Messages per request"
  ),
  requestLatency: Metric.histogram(
    "mixpanel_request_latency_ms",
    MetricBoundaries.exponential({ start: 5, factor: 2, count: 14 }),
    "Time from sending a request to reading its whole response, in milliseconds"
  )
}

/**
 * Label sets are cached so that every update of a metric passes the same array: the metric's own cache is
 * keyed by the array, so a fresh array per update would cost a registry lookup each time.
 */
const labelCache = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/** The labels of `endpoint`, and of `reason` when given. */
export const labels = (endpoint: Endpoint, reason?: DeliveryReason): ReadonlyArray<MetricLabel.MetricLabel> => {
  const key = reason === undefined ? endpoint : `${endpoint}/${reason}`
  let cached = labelCache.get(key)
  if (cached === undefined) {
    cached =
      reason === undefined
        ? [MetricLabel.make("endpoint", endpoint)]
        : [MetricLabel.make("endpoint", endpoint), MetricLabel.make("reason", reason)]
    labelCache.set(key, cached)
  }
  return cached
}

const outcomeCounter = (outcome: DeliveryOutcome) =>
  outcome === "Rejected" ? metrics.rejected : outcome === "Dropped" ? metrics.dropped : metrics.undelivered

/** Counts each failure under its outcome, endpoint and reason. */
export const count = (failures: ReadonlyArray<DeliveryFailure>): void => {
  for (const failure of failures) {
    outcomeCounter(failure.outcome).unsafeUpdate(1, labels(failure.endpoint, failure.reason))
  }
}

// ---------------------------------------------------------------------------------------------------
// failures
// ---------------------------------------------------------------------------------------------------

/** One `DeliveryFailure`; the fields are ours, so the schema check is skipped. */
export const failure = (
  endpoint: Endpoint,
  json: string,
  outcome: DeliveryOutcome,
  reason: DeliveryReason,
  detail: string,
  extra?: { readonly status?: number | undefined; readonly field?: string | undefined }
): DeliveryFailure =>
  new DeliveryFailure(
    {
      endpoint,
      json,
      outcome,
      reason,
      detail,
      ...(extra?.status === undefined ? {} : { status: extra.status }),
      ...(extra?.field === undefined ? {} : { field: extra.field })
    },
    true
  )

/** The same outcome for every message of a batch (those still unwritten are written for their report). */
export const failures = (
  endpoint: Endpoint,
  messages: ReadonlyArray<Outgoing>,
  outcome: DeliveryOutcome,
  reason: DeliveryReason,
  detail: string,
  status?: number
): Array<DeliveryFailure> =>
  messages.map((message) => failure(endpoint, text(message), outcome, reason, detail, { status }))

/** What went wrong, in a few words and without the message counts that an error's `message` ends with. */
export const describe = (error: MixpanelError): string => {
  switch (error._tag) {
    case "ResponseError": {
      const server = error.serverError === undefined ? "" : `: ${error.serverError}`
      return `HTTP ${error.status}${server}`
    }
    case "RequestError":
      return error.reason === "Timeout" ? `timeout (${error.detail})` : `transport error (${error.detail})`
    default:
      return error.message
  }
}

const responseReason = (error: ResponseError): DeliveryReason => {
  switch (error.reason) {
    case "Rejected":
      return "Invalid"
    case "Unauthorized":
      return "Unauthorized"
    case "TooLarge":
      return "TooLarge"
    case "Malformed":
      return "Malformed"
    default:
      return "UnexpectedStatus"
  }
}

/**
 * The outcome of a batch that failed for good (no retry, no split): every message rejected with the
 * error's reason, except after a strict `/import` that named its failed records: then only those are
 * rejected, each with the server's own reason, and the rest were imported.
 */
export const rejections = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>,
  error: MixpanelError
): Array<DeliveryFailure> => {
  switch (error._tag) {
    case "ResponseError": {
      if (error.failedRecords.length > 0) {
        const seen = new Set<number>()
        return error.failedRecords.flatMap((record) => {
          const json = messages[record.index]
          if (json === undefined || seen.has(record.index)) return []
          seen.add(record.index)
          return [
            failure(endpoint, json, "Rejected", "FailedRecord", record.detail, {
              status: error.status,
              field: record.field
            })
          ]
        })
      }
      return failures(endpoint, messages, "Rejected", responseReason(error), describe(error), error.status)
    }
    case "RequestError":
      // only reached when a transport error is not retried, which `isTransient` never says
      return failures(endpoint, messages, "Dropped", "RetriesExhausted", describe(error))
    default:
      // `InvalidConfig` from the transport: credentials for `/import` are missing
      return failures(endpoint, messages, "Rejected", "Unauthorized", error.message)
  }
}

/** The outcome of a batch whose transient failures outlasted the retry budget. */
export const exhausted = (
  endpoint: Endpoint,
  messages: ReadonlyArray<string>,
  error: RequestError | ResponseError,
  tries: number,
  elapsed: number
): Array<DeliveryFailure> =>
  failures(
    endpoint,
    messages,
    "Dropped",
    "RetriesExhausted",
    `gave up after ${tries} ${tries === 1 ? "try" : "tries"} in ${Duration.format(Duration.millis(elapsed))}; last: ${describe(error)}`,
    error._tag === "ResponseError" ? error.status : undefined
  )

// ---------------------------------------------------------------------------------------------------
// logs
// ---------------------------------------------------------------------------------------------------

/** How each outcome reads in a log line. */
export const verbs: { readonly [O in DeliveryOutcome]: string } = {
  Rejected: "rejected",
  Dropped: "dropped",
  Undelivered: "undelivered at shutdown"
}
