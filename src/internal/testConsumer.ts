/** `TestConsumer.layer`: a `Consumer` that records instead of sending. */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Service as ConsumerService } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import * as Message from "../Message.js"
import type { MixpanelError } from "../MixpanelError.js"
import type { Recorded, Service } from "../TestConsumer.js"
import * as Errors from "./errors.js"

const decoders = {
  events: Schema.decodeUnknownSync(Schema.parseJson(Message.Event)),
  imports: Schema.decodeUnknownSync(Schema.parseJson(Message.Event)),
  people: Schema.decodeUnknownSync(Schema.parseJson(Message.ProfileUpdate)),
  groups: Schema.decodeUnknownSync(Schema.parseJson(Message.GroupUpdate))
}

export const make = Effect.sync(() => {
  let recorded: Array<Recorded> = []
  let failures: Array<MixpanelError> = []
  let flushes = 0

  // A scripted failure fails the whole call, and carries the call's messages as undelivered.
  const record = (endpoint: Endpoint, messages: ReadonlyArray<string>, immediate: boolean) =>
    Effect.suspend(() => {
      const failure = failures.shift()
      if (failure !== undefined) {
        return Effect.fail(Errors.withUndelivered(failure, Errors.undeliveredAll(endpoint, messages)))
      }
      for (const json of messages) {
        recorded.push({ endpoint, json, immediate, message: decoders[endpoint](json) } as Recorded)
      }
      return Effect.void
    })

  const consumer: ConsumerService = {
    send: (endpoint, message) => record(endpoint, [message], false),
    sendBatch: (endpoint, messages) => record(endpoint, messages, false),
    sendNow: (endpoint, message) => record(endpoint, [message], true),
    flush: Effect.sync(() => {
      flushes++
    })
  }

  const of = <E extends Endpoint>(endpoint: E) =>
    Effect.sync(() =>
      recorded.flatMap((entry) => (entry.endpoint === endpoint ? [entry.message as Recorded<E>["message"]] : []))
    )

  const service: Service = {
    recorded: Effect.sync(() => recorded.slice()),
    events: of("events"),
    imports: of("imports"),
    people: of("people"),
    groups: of("groups"),
    flushes: Effect.sync(() => flushes),
    clear: Effect.sync(() => {
      recorded = []
      failures = []
      flushes = 0
    }),
    failNext: (error, times = 1) =>
      Effect.sync(() => {
        for (let i = 0; i < times; i++) failures.push(error)
      })
  }
  return { consumer, service }
})
