/**
 * The `Mixpanel` service: builds each message from the caller's arguments, encodes and checks it with the
 * schemas of `Message`, and hands its JSON to the `Consumer`.
 */
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { Consumer } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import * as Message from "../Message.js"
import type {
  BatchEvent,
  GroupUpdateInput,
  ImportedEvent,
  MessageOptions,
  Options,
  ProfileOptions,
  ProfileUpdateInput,
  Service
} from "../Mixpanel.js"
import { InvalidConfig, InvalidMessage, type SendError } from "../MixpanelError.js"
import * as Ids from "./ids.js"
import * as Json from "./json.js"
import { formatDate, formatPath, utf8Length } from "./json.js"
import { version } from "./version.js"

/** The `mp_lib` of every event. */
export const libraryName = "effect-mixpanel"

const invalid = (operation: string, error: ParseResult.ParseIssue, prefix = ""): InvalidMessage => {
  const [issue] = ParseResult.ArrayFormatter.formatIssueSync(error)
  const path = formatPath(issue?.path ?? [])
  return new InvalidMessage({
    operation,
    field:
      prefix === "" ? path : path === "" ? prefix : path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`,
    detail: issue?.message ?? ParseResult.TreeFormatter.formatIssueSync(error)
  })
}

/** Encodes one message of `schema` to its JSON text, with `meta` merged in; `Left` names what is wrong. */
const encoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = ParseResult.encodeEither(schema)
  const encodeMeta = ParseResult.encodeEither(Message.Meta)
  return (
    operation: string,
    message: A,
    meta: Message.Properties | undefined,
    prefix = ""
  ): Either.Either<string, InvalidMessage> => {
    const encoded = encode(message)
    if (Either.isLeft(encoded)) return Either.left(invalid(operation, encoded.left, prefix))
    let wire: object = encoded.right as object
    if (meta !== undefined) {
      const extra = encodeMeta(meta)
      if (Either.isLeft(extra))
        return Either.left(invalid(operation, extra.left, prefix === "" ? "meta" : `${prefix}.meta`))
      const clash = Object.keys(extra.right).find((key) => key in wire)
      if (clash !== undefined) {
        return Either.left(
          new InvalidMessage({ operation, field: `meta.${clash}`, detail: "the message sets this key itself" })
        )
      }
      wire = { ...wire, ...extra.right }
    }
    const json = JSON.stringify(wire)
    const bytes = utf8Length(json)
    if (bytes > Message.maxMessageBytes) {
      return Either.left(
        new InvalidMessage({
          operation,
          field: prefix,
          detail: `the message is ${bytes} bytes of JSON; Mixpanel takes at most ${Message.maxMessageBytes}`
        })
      )
    }
    return Either.right(json)
  }
}

const encodeEvent = encoder(Message.Event)
const encodeProfile = encoder(Message.ProfileUpdate)
const encodeGroup = encoder(Message.GroupUpdate)

const toMillis = (time: number | Date): number => (typeof time === "number" ? time : time.getTime())

const isPlainObject = (value: unknown): value is Message.Properties => {
  if (typeof value !== "object" || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const isAcceptedDistinctId = (id: unknown): id is string =>
  typeof id === "string" && (id.length > 36 || !Message.placeholderIds.has(id.toLowerCase()))

/**
 * Keys of an event's properties that the library sets: a caller who sets one takes the schema's path,
 * which checks the value and lets it override the library's.
 */
const librarySetKeys = ["token", "distinct_id", "time", "$insert_id", "mp_lib", "$lib_version"] as const

/** A JSON text of at most this many UTF-16 units is under `maxMessageBytes` whatever it holds. */
const surelySmall = Math.floor(Message.maxMessageBytes / 3)

/**
 * Spans that go to Effect's own tracer are recorded nowhere, and cost more than building the message
 * itself; operation spans are made only when an application has installed a tracer of its own.
 */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

export const make = (options: Options): Effect.Effect<Service, InvalidConfig, Consumer> =>
  Effect.gen(function* () {
    const token = Redacted.isRedacted(options.token) ? Redacted.value(options.token) : options.token
    if (token.trim() === "") {
      return yield* new InvalidConfig({ option: "token", detail: "the project token is empty" })
    }
    const consumer = yield* Consumer
    const nextInsertId = yield* Ids.makeGenerator()

    /**
     * Runs an operation: its body gets the time from the fiber's `Clock`, and the result is wrapped in a
     * span when a tracer is installed. One primitive step, read straight from the fiber's services: the
     * hot path of `track` pays for no more than it needs.
     */
    const operation = (name: string, endpoint: Endpoint) => {
      const spanName = `Mixpanel.${name}`
      const span = { attributes: { endpoint }, captureStackTrace: false } as const
      return (body: (now: number) => Effect.Effect<void, SendError>): Effect.Effect<void, SendError> =>
        Effect.withFiberRuntime((fiber) => {
          const services = fiber.currentDefaultServices
          const effect = body(Context.get(services, Clock.Clock).unsafeCurrentTimeMillis())
          return Context.get(services, Tracer.Tracer) === nativeTracer
            ? effect
            : Effect.withSpan(effect, spanName, span)
        })
    }
    const operations = new Map<string, ReturnType<typeof operation>>()
    const traced = (name: string, endpoint: Endpoint) => {
      let run = operations.get(name)
      if (run === undefined) {
        run = operation(name, endpoint)
        operations.set(name, run)
      }
      return run
    }

    const send = (endpoint: Endpoint, json: Either.Either<string, InvalidMessage>) =>
      Either.isLeft(json) ? Effect.fail(json.left) : consumer.send(endpoint, json.right)

    const eventMessage = (
      event: string,
      distinctId: string,
      time: number,
      insertId: string,
      properties: Message.Properties | undefined
    ): Message.Event => ({
      event,
      properties: {
        token,
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        mp_lib: libraryName,
        $lib_version: version,
        ...properties
      }
    })

    /**
     * Encodes a tracked or imported event. The common case (no `meta`, none of the keys the library sets
     * overridden) is checked here in the same terms as `Message.Event`, and costs one walk of the properties
     * and one `JSON.stringify`; anything else goes through the schema, which also words the errors. A test
     * holds both paths to the same output.
     */
    // The part of every event's JSON that is the same for every event of this service.
    const fixedJson = `"token":${JSON.stringify(token)}`
    const libraryJson = `"mp_lib":${JSON.stringify(libraryName)},"$lib_version":${JSON.stringify(version)}`

    const encodeTracked = (
      operation: string,
      event: string,
      distinctId: string,
      time: number,
      properties: Message.Properties | undefined,
      meta: Message.Properties | undefined,
      prefix = ""
    ): Either.Either<string, InvalidMessage> => {
      const insertId = nextInsertId()
      if (
        meta === undefined &&
        typeof event === "string" &&
        event !== "" &&
        isAcceptedDistinctId(distinctId) &&
        Number.isFinite(time) &&
        time >= 0 &&
        (properties === undefined || (isPlainObject(properties) && !librarySetKeys.some((key) => key in properties)))
      ) {
        const walked = properties === undefined ? undefined : Json.toJson(properties, "format")
        if (walked === undefined || !Json.isIssue(walked)) {
          // The JSON that `JSON.stringify` would write for the message below, with the fixed part written
          // once per service: the properties are the only object serialized per event.
          const rest = walked === undefined ? "}" : JSON.stringify(walked.value)
          const json = `{"event":${JSON.stringify(event)},"properties":{${fixedJson},"distinct_id":${JSON.stringify(distinctId)},"time":${time},"$insert_id":"${insertId}",${libraryJson}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}}`
          if (json.length <= surelySmall) return Either.right(json)
        }
      }
      return encodeEvent(operation, eventMessage(event, distinctId, time, insertId, properties), meta, prefix)
    }

    const tracking = traced("track", "events")
    const track: Service["track"] = (distinctId, event, properties, options) =>
      tracking((now) => send("events", encodeTracked("track", event, distinctId, now, properties, options?.meta)))

    // Valid messages go out even when others in the same call are invalid; the call then fails naming the
    // first invalid one.
    const sendMany = (
      endpoint: Endpoint,
      encoded: ReadonlyArray<Either.Either<string, InvalidMessage>>
    ): Effect.Effect<void, SendError> => {
      const [invalids, valid] = Arr.partitionMap(encoded, (result) => result)
      const sent = valid.length === 0 ? Effect.void : consumer.sendBatch(endpoint, valid)
      return Arr.isNonEmptyReadonlyArray(invalids) ? Effect.zipRight(sent, Effect.fail(invalids[0])) : sent
    }

    const trackBatch: Service["trackBatch"] = (events) =>
      traced(
        "trackBatch",
        "events"
      )((now) =>
        sendMany(
          "events",
          Arr.map(Arr.fromIterable(events), (event: BatchEvent, i) =>
            encodeTracked(
              "trackBatch",
              event.event,
              event.distinctId,
              now,
              event.properties,
              event.meta,
              `events[${i}]`
            )
          )
        )
      )

    const importMessage = (event: ImportedEvent, operation: string, prefix = "") =>
      encodeTracked(
        operation,
        event.event,
        event.distinctId,
        toMillis(event.time),
        event.properties,
        event.meta,
        prefix
      )

    const importEvent: Service["importEvent"] = (distinctId, event, time, properties, options) =>
      traced(
        "importEvent",
        "imports"
      )(() =>
        send(
          "imports",
          importMessage(
            {
              distinctId,
              event,
              time,
              ...(properties === undefined ? {} : { properties }),
              ...(options?.meta === undefined ? {} : { meta: options.meta })
            },
            "importEvent"
          )
        )
      )

    const importEvents: Service["importEvents"] = (events) =>
      traced(
        "importEvents",
        "imports"
      )(() =>
        sendMany(
          "imports",
          Arr.map(Arr.fromIterable(events), (event, i) => importMessage(event, "importEvents", `events[${i}]`))
        )
      )

    const alias: Service["alias"] = (aliasId, original, options) =>
      traced(
        "alias",
        "events"
      )(() => {
        const json = encodeEvent(
          "alias",
          { event: "$create_alias", properties: { token, distinct_id: original, alias: aliasId } },
          options?.meta
        )
        return Either.isLeft(json) ? Effect.fail(json.left) : consumer.sendNow("events", json.right)
      })

    const merge: Service["merge"] = (distinctId1, distinctId2, options) =>
      traced(
        "merge",
        "imports"
      )((now) =>
        send(
          "imports",
          encodeEvent(
            "merge",
            {
              event: "$merge",
              properties: { token, time: now, $insert_id: nextInsertId(), $distinct_ids: [distinctId1, distinctId2] }
            },
            options?.meta
          )
        )
      )

    const profile = (name: string, update: (now: number) => ProfileUpdateInput, options: ProfileOptions | undefined) =>
      traced(
        name,
        "people"
      )((now) => {
        const { meta, ...modifiers } = options ?? {}
        return send("people", encodeProfile(name, { $token: token, $time: now, ...modifiers, ...update(now) }, meta))
      })

    const group = (name: string, update: GroupUpdateInput, options: MessageOptions | undefined) =>
      traced(
        name,
        "groups"
      )((now) => send("groups", encodeGroup(name, { $token: token, $time: now, ...update }, options?.meta)))

    return {
      track,
      trackBatch,
      importEvent,
      importEvents,
      alias,
      merge,
      peopleSet: (distinctId, properties, options) =>
        profile("peopleSet", () => ({ $distinct_id: distinctId, $set: properties }), options),
      peopleSetOnce: (distinctId, properties, options) =>
        profile("peopleSetOnce", () => ({ $distinct_id: distinctId, $set_once: properties }), options),
      peopleIncrement: (distinctId, properties, options) =>
        profile("peopleIncrement", () => ({ $distinct_id: distinctId, $add: properties }), options),
      peopleAppend: (distinctId, properties, options) =>
        profile("peopleAppend", () => ({ $distinct_id: distinctId, $append: properties }), options),
      peopleUnion: (distinctId, properties, options) =>
        profile("peopleUnion", () => ({ $distinct_id: distinctId, $union: properties }), options),
      peopleRemove: (distinctId, properties, options) =>
        profile("peopleRemove", () => ({ $distinct_id: distinctId, $remove: properties }), options),
      peopleUnset: (distinctId, names, options) =>
        profile("peopleUnset", () => ({ $distinct_id: distinctId, $unset: names }), options),
      peopleDelete: (distinctId, options) =>
        profile("peopleDelete", () => ({ $distinct_id: distinctId, $delete: "" }), options),
      peopleTrackCharge: (distinctId, amount, properties, options) =>
        profile(
          "peopleTrackCharge",
          (now) => ({
            $distinct_id: distinctId,
            $append: { $transactions: { $time: formatDate(new Date(now)), ...properties, $amount: amount } }
          }),
          options
        ),
      peopleClearCharges: (distinctId, options) =>
        profile("peopleClearCharges", () => ({ $distinct_id: distinctId, $unset: ["$transactions"] }), options),
      peopleUpdate: (update, options) => profile("peopleUpdate", () => update, options),
      groupSet: (groupKey, groupId, properties, options) =>
        group("groupSet", { $group_key: groupKey, $group_id: groupId, $set: properties }, options),
      groupSetOnce: (groupKey, groupId, properties, options) =>
        group("groupSetOnce", { $group_key: groupKey, $group_id: groupId, $set_once: properties }, options),
      groupUnion: (groupKey, groupId, properties, options) =>
        group("groupUnion", { $group_key: groupKey, $group_id: groupId, $union: properties }, options),
      groupRemove: (groupKey, groupId, properties, options) =>
        group("groupRemove", { $group_key: groupKey, $group_id: groupId, $remove: properties }, options),
      groupUnset: (groupKey, groupId, names, options) =>
        group("groupUnset", { $group_key: groupKey, $group_id: groupId, $unset: names }, options),
      groupDelete: (groupKey, groupId, options) =>
        group("groupDelete", { $group_key: groupKey, $group_id: groupId, $delete: "" }, options),
      groupUpdate: (update, options) => group("groupUpdate", update, options)
    }
  })
