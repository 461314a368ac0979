/**
 * The `Mixpanel` service: reads the caller's arguments once (`json.ts`), builds each message from them,
 * encodes and checks it with the schemas of `Message`, and hands its JSON to the `Consumer`. Any argument,
 * from any caller, ends as a message or an `InvalidMessage` naming the argument: never a defect.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { Consumer } from "../Consumer.js"
import type { Endpoint } from "../Endpoint.js"
import * as Message from "../Message.js"
import type { Options, Service, Unsafe } from "../Mixpanel.js"
import { type InvalidConfig, InvalidMessage, isMixpanelError, type SendError } from "../MixpanelError.js"
import * as Args from "./consumer/args.js"
import { type Outgoing, text } from "./consumer/unwritten.js"
import * as Ids from "./ids.js"
import * as Json from "./json.js"
import { formatTime } from "./json.js"
import {
  bad,
  eventHints,
  metaOf,
  modifierNames,
  modifierOptions,
  readDistinctId,
  readEventName,
  readItems,
  readObject,
  readOptions,
  readSnapshot,
  readTime,
  unknownKey
} from "./mixpanel/arguments.js"
import {
  encodeEvent,
  encodeGroup,
  encodeProfile,
  eventJson,
  eventTemplate,
  fromIssue,
  join,
  type Read,
  surelyUnderLimit,
  tooLarge,
  UnwrittenEvent,
  underLimit
} from "./mixpanel/encode.js"
import * as Rules from "./options.js"
import * as Fields from "./rules.js"
import { version } from "./version.js"

/** The `mp_lib` of every event. */
export const libraryName = "effect-mixpanel"

// ---------------------------------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------------------------------

/** Where a service built here keeps its synchronous face (`Mixpanel.unsafe`). */
export const UnsafeTypeId: unique symbol = Symbol.for("effect-mixpanel/Mixpanel/unsafe")

/**
 * The synchronous face of `service`: its own when this library built it; else each call runs the
 * operation on a fiber of the caller's runtime, and a failure is logged.
 */
export const unsafeOf = (service: Service): Effect.Effect<Unsafe> => {
  const own = (service as Service & { readonly [UnsafeTypeId]?: Unsafe })[UnsafeTypeId]
  if (own !== undefined) return Effect.succeed(own)
  return Effect.map(Effect.runtime<never>(), (runtime) => {
    const runFork = Runtime.runFork(runtime)
    const face: Record<string, unknown> = {}
    for (const [name, op] of Object.entries(service)) {
      face[name] = (...args: ReadonlyArray<unknown>) => {
        const effect = (op as (...a: ReadonlyArray<unknown>) => Effect.Effect<void, SendError>)(...args)
        runFork(Effect.catchAll(effect, (failure) => Effect.logWarning(`Mixpanel.${name}: ${failure.message}`)))
        return undefined
      }
    }
    return face as unknown as Unsafe
  })
}

/**
 * Spans that go to Effect's own tracer are recorded nowhere, and cost more than building the message
 * itself; operation spans are made only when an application has installed a tracer of its own.
 */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

const decodeOptions = Rules.decoder(Schema.Struct({ token: Rules.secret(Message.Token) }))

/**
 * Keys of an event's properties that the library sets: a caller who sets one takes the schema's path,
 * which checks the value and lets it override the library's.
 */
const librarySetKeys: ReadonlySet<string> = new Set([
  "token",
  "distinct_id",
  "time",
  "$insert_id",
  "mp_lib",
  "$lib_version"
])

export const make = (options: Options): Effect.Effect<Service, InvalidConfig, Consumer> =>
  Effect.gen(function* () {
    const token = Redacted.value((yield* decodeOptions(options)).token)
    const consumer = yield* Consumer
    const target = Args.trusted(consumer)
    const clock = yield* Effect.clock
    const runFork = Runtime.runFork(yield* Effect.runtime<never>()) as (effect: Effect.Effect<void>) => unknown
    const nextInsertId = yield* Ids.makeGenerator()

    /** Messages for the consumer from one operation; a batch also carries the error of its invalid items. */
    interface Dispatch {
      readonly endpoint: Endpoint
      readonly messages: ReadonlyArray<Outgoing>
      /** Past any buffer (`alias`): the consumer's `sendNow`. */
      readonly immediate: boolean
      readonly error: InvalidMessage | undefined
    }
    type Outcome = Either.Either<Dispatch, InvalidMessage>

    const send = (endpoint: Endpoint, json: Read<Outgoing>): Outcome =>
      Either.map(json, (message) => ({ endpoint, messages: [message], immediate: false, error: undefined }))

    /**
     * Where the messages go: a consumer that writes their JSON itself when it sends them (the memory
     * buffer) takes them unwritten; any other is given their text (only this library's events are ever
     * unwritten, and only for a consumer that takes them).
     */
    const later = target.writesLater
    const writesLater = later !== undefined
    const sendBatch =
      later?.sendBatch ??
      ((endpoint: Endpoint, messages: ReadonlyArray<Outgoing>) => target.sendBatch(endpoint, messages.map(text)))
    const unsafeSendText = target.unsafeSend
    const unsafeSend =
      later?.unsafeSend ??
      (unsafeSendText === undefined
        ? undefined
        : (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>, context?: Context.Context<never>) =>
            unsafeSendText(endpoint, messages.map(text), context))

    /** Hands an operation's messages to the consumer, as an effect. */
    const dispatch = ({ endpoint, immediate, messages }: Dispatch): Effect.Effect<void, SendError> =>
      messages.length === 0
        ? Effect.void
        : immediate
          ? consumer.sendNow(endpoint, text(messages[0] as Outgoing))
          : messages.length === 1 && !writesLater
            ? target.send(endpoint, messages[0] as string)
            : sendBatch(endpoint, messages)

    /**
     * Hands an operation's messages to the consumer now, synchronously where it can take them so: done
     * (`undefined`), refused (the error), or the effect still to run (the consumer must wait, or has no
     * synchronous entry). `context` is the calling fiber's, if there is one.
     */
    const handOver = (
      dispatched: Dispatch,
      context?: Context.Context<never>
    ): SendError | undefined | Effect.Effect<void, SendError> =>
      dispatched.messages.length === 0
        ? undefined
        : dispatched.immediate || unsafeSend === undefined
          ? dispatch(dispatched)
          : unsafeSend(dispatched.endpoint, dispatched.messages, context)

    /**
     * An operation from its body, which reads the arguments and builds the messages at a given time, in two
     * faces. As an `Effect`: the time from the fiber's `Clock`, one primitive step read straight from the
     * fiber's services, the messages handed over in that step (the hot path pays for no more than it
     * needs); with a tracer installed, a span around the hand-over. Synchronous (`Mixpanel.unsafe`): the
     * time from the layer's `Clock`, a fiber only when the consumer must wait; the typed error returned,
     * not thrown. Either way the valid messages of a batch go before its error is reported.
     */
    const operation = <Args extends ReadonlyArray<unknown>>(
      name: string,
      endpoint: Endpoint,
      body: (now: number, ...args: Args) => Outcome
    ) => {
      const spanName = `Mixpanel.${name}`
      const span = { attributes: { endpoint }, captureStackTrace: false } as const
      const effect = (...args: Args): Effect.Effect<void, SendError> =>
        Effect.withFiberRuntime((fiber) => {
          const services = fiber.currentDefaultServices
          const outcome = body(Context.get(services, Clock.Clock).unsafeCurrentTimeMillis(), ...args)
          if (Either.isLeft(outcome)) return Effect.fail(outcome.left)
          const { error } = outcome.right
          let sent: Effect.Effect<void, SendError>
          if (Context.get(services, Tracer.Tracer) === nativeTracer) {
            const handed = handOver(outcome.right, fiber.currentContext)
            sent = handed === undefined ? Effect.void : Effect.isEffect(handed) ? handed : Effect.fail(handed)
          } else sent = Effect.withSpan(dispatch(outcome.right), spanName, span)
          return error === undefined ? sent : Effect.zipRight(sent, Effect.fail(error))
        })
      const unsafe = (...args: Args): SendError | undefined => {
        const outcome = body(clock.unsafeCurrentTimeMillis(), ...args)
        if (Either.isLeft(outcome)) return outcome.left
        const sent = handOver(outcome.right)
        // A refusal is an Effect too (an error one may `yield*`): it is returned, not run
        if (isMixpanelError(sent)) return sent
        if (sent === undefined) return outcome.right.error
        runFork(
          Effect.catchAll(sent, (failure) =>
            Effect.logWarning(`Mixpanel.${name}: ${failure.message}`).pipe(
              Effect.annotateLogs({ package: "effect-mixpanel", "mixpanel.operation": name })
            )
          )
        )
        return outcome.right.error
      }
      return { effect, unsafe }
    }

    const template = eventTemplate(token, libraryName, version)

    /**
     * A tracked or imported event as `Message.Event`: the message `eventJson` writes, for the schema to
     * check and to name the field of an event too large; a `time` of the caller's own wins. Made off the
     * fast path only.
     */
    const trackedEvent = (
      event: string,
      distinctId: string,
      time: number,
      insertId: string,
      props: Record<string, unknown> | undefined
    ): Message.Event => {
      const properties = {
        token,
        distinct_id: distinctId,
        time,
        $insert_id: insertId,
        mp_lib: libraryName,
        $lib_version: version,
        ...(props as Message.Properties | undefined)
      }
      // a `Date` given as `time` goes as its milliseconds, as Mixpanel reads `time`
      const date = Json.laterTime(properties.time)
      return { event, properties: date === undefined ? properties : { ...properties, time: date } }
    }

    /**
     * Encodes a tracked or imported event from its arguments. The common case (no `meta`, none of the keys
     * the library sets, no integer-like keys, which `JSON.stringify` would write first) is checked by the
     * same rules as `Message.Event` and costs one walk of the properties, and its JSON is written by
     * `eventJson` (later, by the worker that sends it, for a consumer that takes unwritten messages);
     * anything else goes through the schema, which also words the errors. A property test holds both to
     * the same bytes.
     */
    const encodeTracked = (
      operation: string,
      distinctIdArg: unknown,
      eventArg: unknown,
      time: number,
      propertiesArg: unknown,
      metaArg: unknown,
      prefix: string,
      names: { readonly distinctId: string; readonly event: string; readonly properties: string; readonly meta: string }
    ): Read<Outgoing> => {
      const distinctId = readDistinctId(operation, join(prefix, names.distinctId), distinctIdArg, false)
      if (Either.isLeft(distinctId)) return distinctId
      const event = readEventName(operation, join(prefix, names.event), eventArg)
      if (Either.isLeft(event)) return event
      const properties = readSnapshot(operation, join(prefix, names.properties), propertiesArg)
      if (Either.isLeft(properties)) return Either.left(properties.left)
      const meta = readObject(operation, join(prefix, names.meta), metaArg)
      if (Either.isLeft(meta)) return Either.left(meta.left)
      const insertId = nextInsertId()
      const props = properties.right?.value as Record<string, unknown> | undefined
      if (meta.right === undefined && Fields.isTime(time) && (props === undefined || plainKeys(props))) {
        if (writesLater) {
          const unwritten = new UnwrittenEvent(
            template,
            event.right,
            distinctId.right,
            time,
            insertId,
            props,
            properties.right?.size ?? 0
          )
          if (surelyUnderLimit(unwritten)) return Either.right(unwritten)
        }
        const json = eventJson(template, event.right, distinctId.right, time, insertId, props)
        if (underLimit(json)) return Either.right(json)
        const renames = { event: names.event, "properties.distinct_id": names.distinctId, properties: names.properties }
        return Either.left(
          tooLarge(operation, json, trackedEvent(event.right, distinctId.right, time, insertId, props), {
            prefix,
            meta: join(prefix, names.meta),
            renames
          })
        )
      }
      return encodeEvent(operation, trackedEvent(event.right, distinctId.right, time, insertId, props), meta.right, {
        prefix,
        meta: join(prefix, names.meta),
        renames: { properties: names.properties }
      })
    }

    const trackNames = { distinctId: "distinctId", event: "event", properties: "properties", meta: "options.meta" }
    const itemNames = { distinctId: "distinctId", event: "event", properties: "properties", meta: "meta" }

    const track = operation(
      "track",
      "events",
      (now, distinctId: unknown, event: unknown, properties?: unknown, options?: unknown): Outcome => {
        const read = readOptions("track", options, ["meta"], eventHints)
        if (Either.isLeft(read)) return Either.left(read.left)
        return send(
          "events",
          encodeTracked("track", distinctId, event, now, properties, read.right.meta, "", trackNames)
        )
      }
    )

    /**
     * Valid messages go out even when others in the same call are invalid; the call then fails naming the
     * first invalid one and counting the others (only the first error is kept).
     */
    const sendMany = (
      operation: string,
      endpoint: Endpoint,
      itemsArg: unknown,
      encode: (item: unknown, prefix: string) => Read<Outgoing>
    ): Outcome => {
      const items = readItems(operation, itemsArg)
      if (Either.isLeft(items)) return Either.left(items.left)
      const valid: Array<Outgoing> = []
      let first: InvalidMessage | undefined
      let invalid = 0
      // every index, a hole too (which `forEach` would skip): a hole is read as `undefined`, and refused
      const all = items.right
      for (let i = 0; i < all.length; i++) {
        const encoded = encode(all[i], `events[${i}]`)
        if (Either.isRight(encoded)) valid.push(encoded.right)
        else {
          invalid++
          first ??= encoded.left
        }
      }
      const error =
        first === undefined || invalid === 1
          ? first
          : new InvalidMessage({
              operation,
              field: first.field,
              detail: `${first.detail} (and ${invalid - 1} more of the ${items.right.length} events are invalid)`
            })
      return Either.right({ endpoint, messages: valid, immediate: false, error })
    }

    /** The fields of one item of a batch, read once; another field is refused, as `track` refuses an unknown option. */
    const readItem = (operation: string, item: unknown, prefix: string, names: ReadonlyArray<string>) => {
      if (!Json.isPlainObject(item)) return bad(operation, prefix, "expected an object describing one event")
      try {
        const other = Object.keys(item).find((key) => !names.includes(key))
        if (other !== undefined) {
          return bad(
            operation,
            join(prefix, Json.formatPath([other])),
            `is not a field of an event here${unknownKey(other, "fields", names, eventHints)}`
          )
        }
        const fields: Record<string, unknown> = {}
        for (const name of names) fields[name] = item[name]
        return Either.right(fields)
      } catch {
        return bad(operation, prefix, "reading the event threw an exception")
      }
    }

    const trackBatch = operation("trackBatch", "events", (now, events: unknown) =>
      sendMany("trackBatch", "events", events, (item, prefix) =>
        Either.flatMap(readItem("trackBatch", item, prefix, ["distinctId", "event", "properties", "meta"]), (e) =>
          encodeTracked("trackBatch", e.distinctId, e.event, now, e.properties, e.meta, prefix, itemNames)
        )
      )
    )

    const importOne = (
      operation: string,
      e: Record<string, unknown>,
      prefix: string,
      names: typeof trackNames & { readonly time: string }
    ) =>
      Either.flatMap(readTime(operation, join(prefix, names.time), e.time), (time) =>
        encodeTracked(operation, e.distinctId, e.event, time, e.properties, e.meta, prefix, names)
      )

    const importEvent = operation(
      "importEvent",
      "imports",
      (_, distinctId: unknown, event: unknown, time: unknown, properties?: unknown, options?: unknown): Outcome => {
        const read = readOptions("importEvent", options, ["meta"], eventHints)
        if (Either.isLeft(read)) return Either.left(read.left)
        return send(
          "imports",
          importOne("importEvent", { distinctId, event, time, properties, meta: read.right.meta }, "", {
            ...trackNames,
            time: "time"
          })
        )
      }
    )

    const importEvents = operation("importEvents", "imports", (_, events: unknown) =>
      sendMany("importEvents", "imports", events, (item, prefix) =>
        Either.flatMap(
          readItem("importEvents", item, prefix, ["distinctId", "event", "time", "properties", "meta"]),
          (e) => importOne("importEvents", e, prefix, { ...itemNames, time: "time" })
        )
      )
    )

    const alias = operation("alias", "events", (_, aliasId: unknown, original: unknown, options?: unknown): Outcome => {
      const read = Either.all({
        alias: readDistinctId("alias", "aliasId", aliasId, true),
        original: readDistinctId("alias", "original", original, true),
        options: Either.flatMap(readOptions("alias", options, ["meta"]), (o) => metaOf("alias", o))
      })
      if (Either.isLeft(read)) return Either.left(read.left)
      const json = encodeEvent(
        "alias",
        { event: "$create_alias", properties: { token, distinct_id: read.right.original, alias: read.right.alias } },
        read.right.options,
        {
          prefix: "",
          meta: "options.meta",
          renames: { "properties.alias": "aliasId", "properties.distinct_id": "original" }
        }
      )
      return Either.map(json, (message) => ({
        endpoint: "events" as const,
        messages: [message],
        immediate: true,
        error: undefined
      }))
    })

    const merge = operation(
      "merge",
      "imports",
      (now, distinctId1: unknown, distinctId2: unknown, options?: unknown): Outcome => {
        const read = Either.all({
          first: readDistinctId("merge", "distinctId1", distinctId1, true),
          second: readDistinctId("merge", "distinctId2", distinctId2, true),
          options: Either.flatMap(readOptions("merge", options, ["meta"]), (o) => metaOf("merge", o))
        })
        if (Either.isLeft(read)) return Either.left(read.left)
        return send(
          "imports",
          encodeEvent(
            "merge",
            {
              event: "$merge",
              properties: {
                token,
                time: now,
                $insert_id: nextInsertId(),
                $distinct_ids: [read.right.first, read.right.second]
              }
            },
            read.right.options,
            { prefix: "", meta: "options.meta" }
          )
        )
      }
    )

    /** Sends a profile update from its read parts: the modifiers of the options go beside the operation. */
    const sendProfile = (
      name: string,
      now: number,
      id: Read<string>,
      options: unknown,
      op: Read<Record<string, unknown>>,
      renames: Readonly<Record<string, string>>,
      others?: string
    ): Outcome => {
      const read = Either.all({ id, options: readOptions(name, options, modifierNames), operation: op })
      if (Either.isLeft(read)) return Either.left(read.left)
      const { meta, ...modifiers } = read.right.options
      const checkedMeta = metaOf(name, { meta })
      if (Either.isLeft(checkedMeta)) return Either.left(checkedMeta.left)
      const message = { $token: token, $distinct_id: read.right.id, $time: now, ...modifiers, ...read.right.operation }
      return send(
        "people",
        encodeProfile(name, message as Message.ProfileUpdate, checkedMeta.right, {
          prefix: "",
          meta: "options.meta",
          renames,
          ...(others === undefined ? {} : { others })
        })
      )
    }

    /** A profile operation of the seed's shape: `(distinctId, ...arguments, options)`. */
    const profile = <Args extends ReadonlyArray<unknown>>(
      name: string,
      build: (now: number, ...args: Args) => Read<Record<string, unknown>>,
      renames: Readonly<Record<string, string>> = {}
    ) =>
      operation(name, "people", (now, distinctId: unknown, ...rest: ReadonlyArray<unknown>) => {
        // the arguments `build` takes after `now`, then the options, wherever an untyped caller stopped
        const arity = Math.max(0, build.length - 1)
        return sendProfile(
          name,
          now,
          readDistinctId(name, "distinctId", distinctId, true),
          rest[arity],
          build(now, ...(rest.slice(0, arity) as unknown as Args)),
          { $distinct_id: "distinctId", ...modifierOptions, ...renames }
        )
      })

    const operand = (operation: string, field: string, op: string) => (_: number, value: unknown) =>
      Either.map(
        value === undefined ? bad(operation, field, "expected a plain object") : readObject(operation, field, value),
        (read) => ({ [op]: read })
      )

    const names = (operation: string, op: string) => (_: number, value: unknown) => {
      const snapshot = Json.snapshot(value)
      if (Json.isIssue(snapshot)) return Either.left(fromIssue(operation, snapshot, "names"))
      return Array.isArray(snapshot.value)
        ? Either.right({ [op]: snapshot.value })
        : bad(operation, "names", "expected an array of property names")
    }

    const charge = (now: number, amount: unknown, properties: unknown) => {
      if (typeof amount !== "number" || !Number.isFinite(amount)) {
        return bad("peopleTrackCharge", "amount", "expected a finite number")
      }
      return Either.map(readObject("peopleTrackCharge", "properties", properties), (props) => ({
        $append: { $transactions: { $time: formatTime(now), ...props, $amount: amount } }
      }))
    }

    /** A whole update given by the caller: no `$token`, and nothing Mixpanel does not know (the schema says). */
    const update = (operation: string, value: unknown): Read<Record<string, unknown>> => {
      const read = readObject(operation, "update", value)
      if (Either.isLeft(read)) return Either.left(read.left)
      if (read.right === undefined) return bad(operation, "update", "expected a plain object")
      if (Object.hasOwn(read.right, "$token"))
        return bad(operation, "update.$token", "the service sets the token itself")
      return Either.right(read.right)
    }

    const group = (
      name: string,
      now: number,
      groupKey: unknown,
      groupId: unknown,
      op: Read<Record<string, unknown>>,
      options: unknown,
      renames: Readonly<Record<string, string>> = {},
      others?: string
    ): Outcome => {
      const read = Either.all({
        key:
          typeof groupKey !== "string"
            ? bad(name, "groupKey", "expected a string")
            : groupKey === ""
              ? bad(name, "groupKey", "a group key cannot be empty")
              : Either.right(groupKey),
        id:
          (typeof groupId === "string" && groupId !== "") || (typeof groupId === "number" && Number.isFinite(groupId))
            ? Either.right(groupId)
            : bad(name, "groupId", "expected a non-empty string or a finite number"),
        options: Either.flatMap(readOptions(name, options, ["meta"]), (o) => metaOf(name, o)),
        operation: op
      })
      if (Either.isLeft(read)) return Either.left(read.left)
      return send(
        "groups",
        encodeGroup(
          name,
          {
            $token: token,
            $group_key: read.right.key,
            $group_id: read.right.id,
            $time: now,
            ...read.right.operation
          } as Message.GroupUpdate,
          read.right.options,
          {
            prefix: "",
            meta: "options.meta",
            renames: { $group_key: "groupKey", $group_id: "groupId", ...renames },
            ...(others === undefined ? {} : { others })
          }
        )
      )
    }

    /** A group operation of the seed's shape: `(groupKey, groupId, argument, options)`. */
    const groupOperation = (
      name: string,
      build: (value: unknown) => Read<Record<string, unknown>>,
      renames: Readonly<Record<string, string>>
    ) =>
      operation(name, "groups", (now, groupKey: unknown, groupId: unknown, value: unknown, options?: unknown) =>
        group(name, now, groupKey, groupId, build(value), options, renames)
      )

    const groupUpdate = operation("groupUpdate", "groups", (now, value: unknown, options?: unknown): Outcome => {
      const read = update("groupUpdate", value)
      if (Either.isLeft(read)) return Either.left(read.left)
      const { $group_id, $group_key, ...op } = read.right
      return group(
        "groupUpdate",
        now,
        $group_key,
        $group_id,
        Either.right(op),
        options,
        { $group_key: "update.$group_key", $group_id: "update.$group_id" },
        "update"
      )
    })

    const peopleUpdate = operation("peopleUpdate", "people", (now, value: unknown, options?: unknown): Outcome => {
      const read = update("peopleUpdate", value)
      if (Either.isLeft(read)) return Either.left(read.left)
      const { $distinct_id, ...op } = read.right
      const id = readDistinctId("peopleUpdate", "update.$distinct_id", $distinct_id, true)
      return sendProfile("peopleUpdate", now, id, options, Either.right(op), modifierOptions, "update")
    })

    const operations = {
      track,
      trackBatch,
      importEvent,
      importEvents,
      alias,
      merge,
      peopleSet: profile("peopleSet", operand("peopleSet", "properties", "$set"), { $set: "properties" }),
      peopleSetOnce: profile("peopleSetOnce", operand("peopleSetOnce", "properties", "$set_once"), {
        $set_once: "properties"
      }),
      peopleIncrement: profile("peopleIncrement", operand("peopleIncrement", "properties", "$add"), {
        $add: "properties"
      }),
      peopleAppend: profile("peopleAppend", operand("peopleAppend", "properties", "$append"), {
        $append: "properties"
      }),
      peopleUnion: profile("peopleUnion", operand("peopleUnion", "properties", "$union"), { $union: "properties" }),
      peopleRemove: profile("peopleRemove", operand("peopleRemove", "properties", "$remove"), {
        $remove: "properties"
      }),
      peopleUnset: profile("peopleUnset", names("peopleUnset", "$unset"), { $unset: "names" }),
      peopleDelete: profile("peopleDelete", () => Either.right({ $delete: "" })),
      peopleTrackCharge: profile("peopleTrackCharge", charge, { $append: "properties" }),
      peopleClearCharges: profile("peopleClearCharges", () => Either.right({ $unset: ["$transactions"] })),
      peopleUpdate,
      groupSet: groupOperation("groupSet", (value) => operand("groupSet", "properties", "$set")(0, value), {
        $set: "properties"
      }),
      groupSetOnce: groupOperation(
        "groupSetOnce",
        (value) => operand("groupSetOnce", "properties", "$set_once")(0, value),
        {
          $set_once: "properties"
        }
      ),
      groupUnion: groupOperation("groupUnion", (value) => operand("groupUnion", "properties", "$union")(0, value), {
        $union: "properties"
      }),
      groupRemove: groupOperation("groupRemove", (value) => operand("groupRemove", "properties", "$remove")(0, value), {
        $remove: "properties"
      }),
      groupUnset: groupOperation("groupUnset", (value) => names("groupUnset", "$unset")(0, value), { $unset: "names" }),
      groupDelete: operation("groupDelete", "groups", (now, groupKey: unknown, groupId: unknown, options?: unknown) =>
        group("groupDelete", now, groupKey, groupId, Either.right({ $delete: "" }), options)
      ),
      groupUpdate
    }

    const service: Record<string, unknown> = {}
    const unsafe: Record<string, unknown> = {}
    for (const [name, op] of Object.entries(operations)) {
      service[name] = op.effect
      unsafe[name] = op.unsafe
    }
    return Object.assign(service, { [UnsafeTypeId]: unsafe }) as unknown as Service
  })

/**
 * Whether the fast path may write `record`'s keys after the library's: none of them is one the library sets,
 * and none might be integer-like (`JSON.stringify` writes those first). `record` is a snapshot: own keys only.
 */
const plainKeys = (record: object): boolean => {
  for (const key in record) {
    const c = key.charCodeAt(0)
    if ((c >= 48 && c <= 57) || librarySetKeys.has(key)) return false
  }
  return true
}
