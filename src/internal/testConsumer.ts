/** `TestConsumer.layer`: a `Consumer` that records instead of sending. */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Service as ConsumerService } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import * as Message from "../Message.js"
import { InvalidMessage, type SendError } from "../MixpanelError.js"
import type { Recorded, Service } from "../TestConsumer.js"
import * as Args from "./consumer/args.js"
import * as Errors from "./errors.js"
import * as Issues from "./issues.js"
import { formatPath } from "./json.js"

const decoders = new Map<Endpoint, (json: string) => Either.Either<unknown, ParseResult.ParseError>>([
  ["events", Schema.decodeUnknownEither(Schema.parseJson(Message.Event))],
  ["imports", Schema.decodeUnknownEither(Schema.parseJson(Message.Event))],
  ["people", Schema.decodeUnknownEither(Schema.parseJson(Message.ProfileUpdate))],
  ["groups", Schema.decodeUnknownEither(Schema.parseJson(Message.GroupUpdate))]
])

export const make = Effect.sync(() => {
  let recorded: Array<Recorded> = []
  let failures: Array<SendError> = []
  let flushes = 0

  // A scripted failure fails the whole call, and carries the call's messages as undelivered. A message is
  // decoded as the server would read it: one that is not a valid message fails the call, recording nothing.
  const record = (operation: string, endpoint: Endpoint, messages: ReadonlyArray<string>, immediate: boolean) =>
    Effect.suspend((): Effect.Effect<void, SendError> => {
      const failure = failures.shift()
      if (failure !== undefined) {
        return Effect.fail(Errors.withUndelivered(failure, Errors.undeliveredAll(endpoint, messages)) as SendError)
      }
      const decode = decoders.get(endpoint) as (json: string) => Either.Either<unknown, ParseResult.ParseError>
      const decoded: Array<Recorded> = []
      for (let i = 0; i < messages.length; i++) {
        const json = messages[i] as string
        const message = decode(json)
        if (Either.isLeft(message)) {
          const { detail, path } = Issues.first(message.left.issue)
          const field = formatPath(path)
          return Effect.fail(
            new InvalidMessage({
              operation,
              field: messages.length === 1 ? field : `messages[${i}]${field === "" ? "" : `.${field}`}`,
              detail
            })
          )
        }
        decoded.push({ endpoint, json, immediate, message: message.right } as Recorded)
      }
      recorded.push(...decoded)
      return Effect.void
    })

  const one =
    (operation: string, immediate: boolean) =>
    (endpoint: Endpoint, message: string): Effect.Effect<void, SendError> => {
      const invalid = Args.checkOne(operation, endpoint, message)
      return invalid === undefined ? record(operation, endpoint, [message], immediate) : Effect.fail(invalid)
    }

  const consumer: ConsumerService = {
    send: one("Consumer.send", false),
    sendBatch: (endpoint, messages) =>
      Effect.flatMap(Args.checkMany("Consumer.sendBatch", endpoint, messages), (checked) =>
        record("Consumer.sendBatch", endpoint, checked, false)
      ),
    sendNow: one("Consumer.sendNow", true),
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
