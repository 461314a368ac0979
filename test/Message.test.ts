import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Layer, ParseResult, Schema, TestClock } from "effect"
import { Consumer, Message, Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))

// Keys that cannot collide with the properties the library sets itself (token, time, ...).
const key = fc.string({ minLength: 1, maxLength: 12 }).map((k) => `p ${k}`)
// What JSON can carry: `fc.jsonValue` also makes -0, which JSON writes as 0 (as it does for Mixpanel), and
// nested `__proto__` keys, which the library refuses (a test of its own covers them).
const jsonProperties = fc
  .dictionary(key, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 })
  .filter((properties) => !JSON.stringify(properties).includes('"__proto__"'))
  .map((properties) => JSON.parse(JSON.stringify(properties)) as Record<string, unknown>)

describe("Message: any JSON-able properties", () => {
  it.effect.prop("encode and decode back unchanged", { properties: jsonProperties }, ({ properties }) =>
    Effect.gen(function* () {
      const encoded = yield* Schema.encode(Message.Properties)(properties as Message.Properties)
      expect(yield* Schema.decodeUnknown(Message.Properties)(JSON.parse(JSON.stringify(encoded)))).toEqual(properties)
    })
  )

  it.effect.prop(
    "reach the consumer unchanged inside a tracked event",
    { properties: jsonProperties },
    ({ properties }) =>
      Effect.gen(function* () {
        yield* Mixpanel.track("u1", "E", properties as Message.Properties)
        const [recorded] = yield* TestConsumer.recorded
        const sent = JSON.parse(recorded?.json ?? "{}") as { properties: Record<string, unknown> }
        for (const [k, v] of Object.entries(properties)) expect(sent.properties[k]).toEqual(v)
      }).pipe(Effect.provide(TestMixpanel)),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop(
    "take the same bytes through the fast path as through the schema",
    {
      properties: fc.dictionary(
        // any key: integer-like ones (written first by JSON.stringify), __proto__, Unicode, the library's own
        fc.oneof(
          key,
          fc.stringMatching(/^(0|[1-9]\d{0,3})$/),
          fc.constantFrom("__proto__", "constructor", "toString", "token", "time", "$insert_id", "mp_lib"),
          fc.string({ unit: "grapheme", maxLength: 6 })
        ),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.date({ noInvalidDate: true })),
        { maxKeys: 8 }
      ),
      distinctId: fc.string({ maxLength: 40 }),
      event: fc.string({ unit: "grapheme", maxLength: 20 }),
      time: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ min: 0, max: 4e12, noNaN: true }))
    },
    ({ distinctId, event, properties, time }) =>
      Effect.gen(function* () {
        // `meta: {}` sends the same message the long way, through Message.Event.
        const fast = yield* Effect.either(Mixpanel.importEvent(distinctId, event, time, properties as never))
        const slow = yield* Effect.either(
          Mixpanel.importEvent(distinctId, event, time, properties as never, { meta: {} })
        )
        expect(fast._tag).toBe(slow._tag)
        if (fast._tag === "Left" && slow._tag === "Left") expect(fast.left.message).toBe(slow.left.message)
        const sent = (yield* TestConsumer.recorded).map((r) => r.json.replace(/"\$insert_id":"[^"]*"/, ""))
        expect(sent[0]).toBe(sent[1])
      }).pipe(Effect.provide(TestMixpanel)),
    { fastCheck: { numRuns: 500 } }
  )

  it.effect.prop(
    "take the same bytes on the wire when the buffer's workers write them as through the schema",
    {
      events: fc.array(
        fc.record({
          properties: fc.dictionary(
            fc.oneof(key, fc.string({ unit: "grapheme", maxLength: 6 }), fc.constantFrom("time", "a=b&c", "100%+;")),
            fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.date({ noInvalidDate: true })),
            { maxKeys: 8 }
          ),
          distinctId: fc.string({ minLength: 1, maxLength: 40 }),
          event: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 })
        }),
        { minLength: 1, maxLength: 20 }
      )
    },
    ({ events }) =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make()
        const bodies: Array<string> = []
        // every request body as it goes on the wire (neither endpoint is gzipped here)
        const capture = Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, (client) =>
            HttpClient.transform(client, (effect, request) => {
              if (request.body._tag === "Uint8Array") bodies.push(Buffer.from(request.body.body).toString("utf8"))
              return effect
            })
          )
        ).pipe(Layer.provide(FetchHttpClient.layer))
        const layer = Mixpanel.layer({ token: "T" }).pipe(
          Layer.provideMerge(
            Consumer.layerBuffered({ baseUrl: server.url, importAuth: Consumer.projectToken("T"), gzip: false })
          ),
          Layer.provide(capture)
        )
        yield* TestClock.setTime(1_736_942_400_123)
        // the same events twice: as the library writes them itself (fast), and through Message.Event (`meta`)
        const send = (meta: {} | undefined) =>
          Effect.gen(function* () {
            for (const { distinctId, event, properties } of events) {
              const options = meta === undefined ? undefined : { meta }
              yield* Effect.either(Mixpanel.track(distinctId, event, properties as never, options))
              yield* Effect.either(Mixpanel.importEvent(distinctId, event, 1_736_942_400, properties as never, options))
            }
            yield* Consumer.flush
          })
        yield* send(undefined).pipe(Effect.provide(layer))
        const fast = bodies.splice(0)
        yield* send({}).pipe(Effect.provide(layer))
        const withoutIds = (body: string) => body.replace(/"\$insert_id":"[^"]*"/g, "")
        expect(fast.map(withoutIds)).toEqual(bodies.map(withoutIds))
      }).pipe(Effect.scoped),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect.prop(
    "with dates, encode every Date as YYYY-MM-DDTHH:MM:SS in UTC",
    {
      date: fc.date({
        min: new Date("0001-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true
      })
    },
    ({ date }) =>
      Effect.gen(function* () {
        const encoded = yield* Schema.encode(Message.Properties)({ at: date, nested: [{ at: date }] })
        const text = date.toISOString().slice(0, 19)
        expect(encoded).toEqual({ at: text, nested: [{ at: text }] })
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/)
      })
  )

  it.effect(
    "encode dates at the calendar's edges as toISOString does: leap days, centuries, before 1970, years 1000 and 9999",
    () =>
      Effect.gen(function* () {
        const edges = [
          "1000-01-01T00:00:00.000Z",
          "0999-12-31T23:59:59.999Z",
          "1600-02-29T12:00:00.000Z",
          "1899-12-31T23:59:59.000Z",
          "1900-03-01T00:00:00.000Z",
          "1969-12-31T23:59:59.999Z",
          "1970-01-01T00:00:00.000Z",
          "2000-02-29T23:59:59.500Z",
          "2024-12-31T23:59:59.000Z",
          "2100-02-28T00:00:01.000Z",
          "2100-03-01T00:00:00.000Z",
          "9999-12-31T23:59:59.999Z"
        ].map((text) => new Date(text))
        const encoded = yield* Schema.encode(Message.Properties)({ edges })
        expect(encoded).toEqual({ edges: edges.map((date) => date.toISOString().slice(0, 19)) })
      })
  )
})

// Values that JSON has no place for, and what the error should say about each.
const nonJson = fc.constantFrom(
  { value: Number.NaN, detail: /finite/ },
  { value: Number.POSITIVE_INFINITY, detail: /finite/ },
  { value: Number.NEGATIVE_INFINITY, detail: /finite/ },
  { value: undefined, detail: /undefined/ },
  { value: () => 1, detail: /function/ },
  { value: Symbol("s"), detail: /symbol/ },
  { value: 10n, detail: /bigint/ },
  { value: new Map([[1, 2]]), detail: /Map/ },
  { value: new Uint8Array(2), detail: /Uint8Array/ },
  { value: new Date(Number.NaN), detail: /invalid Date/ }
)

// Where to hide the bad value: a path of object keys and array positions below `properties.bad`.
const step = fc.oneof(fc.constant<number>(0), fc.stringMatching(/^[a-z]{1,6}$/))
const hidden = fc.record({ path: fc.array(step, { maxLength: 4 }), bad: nonJson, siblings: jsonProperties })

const bury = (path: ReadonlyArray<string | number>, value: unknown): unknown =>
  path.reduceRight<unknown>((inner, s) => (typeof s === "number" ? [inner] : { [s]: inner }), value)

const pathText = (path: ReadonlyArray<string | number>) =>
  path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")

describe("Message: any non-JSON input", () => {
  it.effect.prop(
    "fails with an InvalidMessage naming the field, never a defect, and sends nothing",
    { hidden },
    ({ hidden: { bad, path, siblings } }) =>
      Effect.gen(function* () {
        const properties = { ...siblings, bad: bury(path, bad.value) } as Message.Properties
        const exit = yield* Effect.exit(Mixpanel.track("u1", "E", properties))
        expect(exit._tag).toBe("Failure")
        const error = yield* Effect.flip(Mixpanel.track("u1", "E", properties))
        expect(error).toBeInstanceOf(MixpanelError.InvalidMessage)
        expect(error).toMatchObject({ field: `properties.bad${pathText(path)}` })
        expect((error as MixpanelError.InvalidMessage).detail).toMatch(bad.detail)
        expect(yield* TestConsumer.recorded).toEqual([])
      }).pipe(Effect.provide(TestMixpanel)),
    { fastCheck: { numRuns: 300 } }
  )

  it.effect.prop("a cycle anywhere fails as circular", { path: fc.array(step, { maxLength: 4 }) }, ({ path }) =>
    Effect.gen(function* () {
      const loop: Record<string, unknown> = {}
      loop.again = bury(path, loop)
      const error = yield* Effect.flip(Mixpanel.peopleSet("u1", { loop: loop as never }))
      expect(error).toMatchObject({ _tag: "InvalidMessage", field: `properties.loop.again${pathText(path)}` })
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("nesting deep enough to overflow JSON.stringify fails, not dies", () =>
    Effect.gen(function* () {
      const deep = bury(
        Array.from({ length: 50_000 }, () => 0),
        1
      )
      const error = yield* Effect.flip(Mixpanel.track("u1", "E", { deep: deep as never }))
      expect(error).toMatchObject({ _tag: "InvalidMessage" })
      expect((error as MixpanelError.InvalidMessage).detail).toMatch(/levels deep/)
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect(
    "an own __proto__ property fails the schemas decoded or encoded directly, by name, as in Mixpanel.track",
    () =>
      Effect.gen(function* () {
        const tracked = yield* Effect.flip(Mixpanel.track("u1", "E", JSON.parse('{"__proto__":{"a":1}}')))
        expect(tracked).toMatchObject({ field: "properties.__proto__" })
        // an own key, as JSON.parse and Object.defineProperty make it (assigned, it would set the prototype)
        const withProto = (record: object, value: unknown) =>
          Object.defineProperty({ ...record }, "__proto__", {
            value,
            enumerable: true,
            writable: true,
            configurable: true
          })
        const profile = { $token: "T", $distinct_id: "u1" }
        const group = { $token: "T", $group_key: "company", $group_id: "acme" }
        const cases: ReadonlyArray<readonly [Schema.Schema<unknown, unknown>, unknown, ReadonlyArray<string>]> = [
          [
            Message.Event as never,
            JSON.parse('{"event":"E","properties":{"token":"T","distinct_id":"u1","__proto__":{"a":1}}}'),
            ["properties", "__proto__"]
          ],
          [
            Message.Event as never,
            { event: "E", properties: withProto({ token: "T" }, "p") },
            ["properties", "__proto__"]
          ],
          [Message.EventProperties as never, withProto({ token: "T" }, undefined), ["__proto__"]],
          [Message.ProfileUpdate as never, { ...profile, $union: withProto({}, ["x"]) }, ["$union", "__proto__"]],
          [Message.ProfileUpdate as never, { ...profile, $add: withProto({}, 1) }, ["$add", "__proto__"]],
          [Message.ProfileUpdate as never, { ...profile, $set: withProto({}, 1) }, ["$set", "__proto__"]],
          [Message.GroupUpdate as never, { ...group, $union: withProto({}, ["x"]) }, ["$union", "__proto__"]]
        ]
        for (const [schema, input, path] of cases) {
          for (const result of [Schema.decodeUnknownEither(schema)(input), Schema.encodeUnknownEither(schema)(input)]) {
            expect(Either.isLeft(result), path.join(".")).toBe(true)
            if (Either.isRight(result)) continue
            const [issue] = ParseResult.ArrayFormatter.formatErrorSync(result.left)
            expect(issue).toMatchObject({ path, message: (tracked as MixpanelError.InvalidMessage).detail })
          }
        }
      }).pipe(Effect.provide(TestMixpanel))
  )
})
