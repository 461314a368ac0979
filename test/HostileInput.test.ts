/**
 * Every public entry point called from plain JavaScript with hostile and odd values: a typed failure or a
 * success, never a defect, a throw or a changed `Object.prototype`; what is accepted arrives unaltered.
 */

import * as vm from "node:vm"
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, FastCheck as fc, Layer } from "effect"
import { Consumer, FeatureFlags, LocalFlags, Mixpanel, MixpanelError, RemoteFlags, TestConsumer } from "../src/index.js"
import { MixpanelTestServer } from "../src/testing.js"

type Untyped = (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>

// ---------------------------------------------------------------------------------------------------
// the hostile values, by name
// ---------------------------------------------------------------------------------------------------

const nested = (depth: number): unknown => {
  let value: unknown = 0
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
const cycle: Record<string, unknown> = {}
cycle.self = cycle
const revocable = Proxy.revocable({}, {})
revocable.revoke()
class Point {
  x = 1
}

const hostile: ReadonlyArray<readonly [string, () => unknown]> = [
  ["a function", () => () => 1],
  ["a symbol", () => Symbol("s")],
  ["a bigint", () => 10n],
  ["a cycle", () => cycle],
  ["NaN", () => Number.NaN],
  ["Infinity", () => Number.POSITIVE_INFINITY],
  ["an invalid Date", () => new Date(Number.NaN)],
  ["a 10 MB string", () => "x".repeat(10_000_000)],
  ["a 999,000-character string", () => "y".repeat(999_000)],
  ["an array nested 10^5 deep", () => nested(100_000)],
  ["10^5 keys", () => Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))],
  ["a __proto__ key", () => JSON.parse('{"__proto__":{"polluted":true}}')],
  ["a lone surrogate", () => "\ud800"],
  [
    "a throwing getter",
    () => ({
      get x() {
        throw new Error("getter")
      }
    })
  ],
  [
    "a throwing toJSON",
    () => ({
      toJSON() {
        throw new Error("toJSON")
      }
    })
  ],
  [
    "a throwing toString",
    () => ({
      toString() {
        throw new Error("toString")
      }
    })
  ],
  [
    "a Proxy whose traps throw",
    () =>
      new Proxy(
        {},
        {
          ownKeys: () => {
            throw new Error("trap")
          },
          get: () => {
            throw new Error("trap")
          },
          getPrototypeOf: () => {
            throw new Error("trap")
          }
        }
      )
  ],
  ["a revoked Proxy", () => revocable.proxy],
  ["a Map", () => new Map([[1, 2]])],
  ["a Set", () => new Set([1])],
  ["a Buffer", () => Buffer.from("x")],
  ["a typed array", () => new Uint8Array(2)],
  ["a class instance", () => new Point()],
  ["null", () => null],
  ["undefined", () => undefined],
  ["a string", () => "abc"],
  ["a number", () => 5],
  ["an empty object", () => ({})],
  ["__proto__ as a string", () => "__proto__"],
  ["a Date past year 9999", () => new Date("+010000-01-01T00:00:00Z")]
]

// ---------------------------------------------------------------------------------------------------
// the entry points, with valid arguments to vary one at a time
// ---------------------------------------------------------------------------------------------------

interface Entry {
  readonly name: string
  readonly call: (service: Mixpanel.Service) => Untyped
  readonly valid: ReadonlyArray<unknown>
}

const operations: ReadonlyArray<Entry> = [
  { name: "track", call: (s) => s.track as Untyped, valid: ["u1", "E", { a: 1 }, { meta: { m: 1 } }] },
  { name: "trackBatch", call: (s) => s.trackBatch as Untyped, valid: [[{ distinctId: "u1", event: "E" }]] },
  { name: "importEvent", call: (s) => s.importEvent as Untyped, valid: ["u1", "E", 1_700_000_000_000, { a: 1 }, {}] },
  {
    name: "importEvents",
    call: (s) => s.importEvents as Untyped,
    valid: [[{ distinctId: "u1", event: "E", time: 1_700_000_000_000 }]]
  },
  { name: "alias", call: (s) => s.alias as Untyped, valid: ["a1", "u1", {}] },
  { name: "merge", call: (s) => s.merge as Untyped, valid: ["u1", "u2", {}] },
  { name: "peopleSet", call: (s) => s.peopleSet as Untyped, valid: ["u1", { a: 1 }, { $ip: "1.2.3.4" }] },
  { name: "peopleSetOnce", call: (s) => s.peopleSetOnce as Untyped, valid: ["u1", { a: 1 }, {}] },
  { name: "peopleIncrement", call: (s) => s.peopleIncrement as Untyped, valid: ["u1", { n: 1 }, {}] },
  { name: "peopleAppend", call: (s) => s.peopleAppend as Untyped, valid: ["u1", { l: "x" }, {}] },
  { name: "peopleUnion", call: (s) => s.peopleUnion as Untyped, valid: ["u1", { l: ["x"] }, {}] },
  { name: "peopleRemove", call: (s) => s.peopleRemove as Untyped, valid: ["u1", { l: "x" }, {}] },
  { name: "peopleUnset", call: (s) => s.peopleUnset as Untyped, valid: ["u1", ["a"], {}] },
  { name: "peopleDelete", call: (s) => s.peopleDelete as Untyped, valid: ["u1", {}] },
  { name: "peopleTrackCharge", call: (s) => s.peopleTrackCharge as Untyped, valid: ["u1", 5, { sku: "x" }, {}] },
  { name: "peopleClearCharges", call: (s) => s.peopleClearCharges as Untyped, valid: ["u1", {}] },
  { name: "peopleUpdate", call: (s) => s.peopleUpdate as Untyped, valid: [{ $distinct_id: "u1", $set: { a: 1 } }, {}] },
  { name: "groupSet", call: (s) => s.groupSet as Untyped, valid: ["company", "acme", { a: 1 }, {}] },
  { name: "groupSetOnce", call: (s) => s.groupSetOnce as Untyped, valid: ["company", "acme", { a: 1 }, {}] },
  { name: "groupUnion", call: (s) => s.groupUnion as Untyped, valid: ["company", "acme", { l: ["x"] }, {}] },
  { name: "groupRemove", call: (s) => s.groupRemove as Untyped, valid: ["company", "acme", { l: "x" }, {}] },
  { name: "groupUnset", call: (s) => s.groupUnset as Untyped, valid: ["company", "acme", ["a"], {}] },
  { name: "groupDelete", call: (s) => s.groupDelete as Untyped, valid: ["company", "acme", {}] },
  {
    name: "groupUpdate",
    call: (s) => s.groupUpdate as Untyped,
    valid: [{ $group_key: "company", $group_id: "acme", $set: { a: 1 } }, {}]
  }
]

const prototypeNames = () => Object.getOwnPropertyNames(Object.prototype).sort()

/** The outcome of one call: success, or a typed error of this library; a defect fails the test. */
const typedOutcome = <R>(effect: Effect.Effect<unknown, unknown, R>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(Effect.suspend(() => effect))
    if (Exit.isSuccess(exit)) return "ok" as const
    expect(exit.cause._tag, `a defect, not a typed error: ${String(exit.cause)}`).toBe("Fail")
    const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(MixpanelError.isMixpanelError(error)).toBe(true)
    // errors stay short and quote no value
    const message = (error as { message: string }).message
    expect(message.length, message.slice(0, 2000)).toBeLessThan(400)
    return error as MixpanelError.MixpanelError
  })

const TestMixpanel = Mixpanel.layer({ token: "T" }).pipe(Layer.provideMerge(TestConsumer.layer))

describe("hostile input", () => {
  const before = prototypeNames()

  for (const operation of operations) {
    it.effect(`Mixpanel.${operation.name}: each argument replaced by each hostile value`, () =>
      Effect.gen(function* () {
        const service = yield* Mixpanel.Mixpanel
        for (let position = 0; position < operation.valid.length; position++) {
          for (const [, make] of hostile) {
            const args = operation.valid.slice()
            args[position] = make()
            yield* typedOutcome(operation.call(service)(...args))
          }
        }
        expect(prototypeNames()).toEqual(before)
        expect(({} as Record<string, unknown>).polluted).toBe(undefined)
      }).pipe(Effect.provide(TestMixpanel))
    )
  }

  it.effect.prop(
    "any arguments, to any operation: success or a typed error",
    {
      index: fc.nat(operations.length - 1),
      args: fc.array(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withSparseArray: true
        }),
        { maxLength: 5 }
      )
    },
    ({ args, index }) =>
      Effect.gen(function* () {
        const service = yield* Mixpanel.Mixpanel
        yield* typedOutcome((operations[index] as Entry).call(service)(...args))
        expect(prototypeNames()).toEqual(before)
      }).pipe(Effect.provide(TestMixpanel)),
    { fastCheck: { numRuns: 500 } }
  )

  it.effect("the named cases of the issue fail typed, naming the argument", () =>
    Effect.gen(function* () {
      const s = (yield* Mixpanel.Mixpanel) as unknown as Record<string, Untyped>
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, unknown>, string, RegExp]> = [
        [s.groupDelete?.("😀", nested(100_000), {}) as never, "groupId", /string|number/],
        [s.peopleDelete?.(nested(100_000)) as never, "distinctId", /string/],
        [
          s.track?.("u", "E", hostile.find(([name]) => name === "a throwing getter")?.[1]()) as never,
          "properties.x",
          /threw/
        ],
        [s.merge?.("a", "b", revocable.proxy) as never, "options", /plain object/],
        [s.importEvents?.(" ") as never, "events", /array/],
        [s.importEvent?.("u", "E", "yesterday") as never, "time", /Date/],
        [s.trackBatch?.("y".repeat(999_000)) as never, "events", /array/],
        [s.track?.("u", "E", "abc") as never, "properties", /plain object/],
        [s.peopleIncrement?.("u", new Date(Number.NaN)) as never, "properties", /plain object/],
        [s.peopleTrackCharge?.("u", null) as never, "amount", /number/],
        [s.peopleTrackCharge?.("u", "5") as never, "amount", /number/],
        [s.merge?.(null, "u") as never, "distinctId1", /string/],
        [s.alias?.(null, "") as never, "aliasId", /string/],
        [s.peopleSet?.("u", { a: 1 }, { $token: "OTHER" }) as never, "options.$token", /not an option/],
        [s.track?.("u", "E", { blob: "x".repeat(10_000_000) }) as never, "properties.blob", /1000000/],
        [s.track?.("u", "E", JSON.parse('{"__proto__":1}')) as never, "properties.__proto__", /prototype/],
        // a value not even of the field's type is said as such, not with the rule for its strings
        [s.track?.("u", "E", { token: 5 }) as never, "properties.token", /^expected a string$/],
        [s.track?.("u", "E", { distinct_id: 5 }) as never, "properties.distinct_id", /^expected a string$/],
        [s.peopleUnion?.("u", { tags: 5 }) as never, "properties.tags", /a list \(an array\) of values/],
        // a field a batch item does not have is not ignored (trackBatch takes no time)
        [s.trackBatch?.([{ distinctId: "u", event: "E", time: 5 }]) as never, "events[0].time", /not a field/],
        // a collection says how to make it JSON
        [s.peopleUnset?.("u", new Set(["a"])) as never, "names", /pass an array \(Array\.from\(set\)\)/],
        [s.track?.("u", "E", { m: new Map() }) as never, "properties.m", /Object\.fromEntries\(map\)/],
        // the argument, not the property of the message it becomes
        [s.alias?.("a".repeat(1_100_000), "u") as never, "aliasId", /1000000/]
      ]
      for (const [effect, field, detail] of cases) {
        const error = yield* typedOutcome(effect)
        expect(error).not.toBe("ok")
        if (error === "ok") continue
        expect(error).toMatchObject({ _tag: "InvalidMessage" })
        expect((error as MixpanelError.InvalidMessage).field).toContain(field)
        expect((error as MixpanelError.InvalidMessage).detail).toMatch(detail)
      }
      expect(yield* TestConsumer.recorded).toEqual([])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("a long key is cut to 40 characters in the path, whether or not it reads as an identifier", () =>
    Effect.gen(function* () {
      const s = (yield* Mixpanel.Mixpanel) as unknown as Record<string, Untyped>
      const long = "k".repeat(100_000)
      const cut = `["${"k".repeat(40)}…"]`
      const cases: ReadonlyArray<readonly [Effect.Effect<unknown, unknown>, string]> = [
        [s.track?.("u", "E", { [long]: 1n }) as never, `properties${cut}`],
        [s.track?.("u", "E", { a: { [long]: [1n] } }) as never, `properties.a${cut}[0]`],
        [s.track?.("u", "E", { [`${"k".repeat(40)}`]: 1n }) as never, `properties.${"k".repeat(40)}`],
        [s.track?.("u", "E", {}, { [long]: 1 }) as never, `options${cut}`],
        [s.trackBatch?.([{ distinctId: "u", event: "E", [long]: 1 }]) as never, `events[0]${cut}`],
        [s.trackBatch?.([{ distinctId: "u", event: "E", "first name": 1 }]) as never, `events[0]["first name"]`]
      ]
      for (const [effect, field] of cases) {
        const error = yield* typedOutcome(effect)
        expect(error).toMatchObject({ _tag: "InvalidMessage", field })
      }
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("a plain object or a Date of another realm (node:vm, a jest environment) is taken as this realm's", () =>
    Effect.gen(function* () {
      const other = (code: string) => vm.runInNewContext(code) as Record<string, string>
      yield* Mixpanel.track("u", "E", { nested: other("({ plan: 'pro', tags: ['a'] })") })
      yield* Mixpanel.track("u", "E", other("({ plan: 'team' })"))
      yield* Mixpanel.track("u", "E", { at: other("new Date(Date.UTC(2024, 2, 1, 12))") as never })
      yield* Mixpanel.trackBatch([other("({ distinctId: 'u', event: 'Batched' })") as never])
      const events = yield* TestConsumer.events
      expect(events.map((event) => event.event)).toEqual(["E", "E", "E", "Batched"])
      expect(events[0]?.properties.nested).toEqual({ plan: "pro", tags: ["a"] })
      expect(events[1]?.properties.plan).toBe("team")
      expect(events[2]?.properties.at).toBe("2024-03-01T12:00:00")
      const invalid = yield* Effect.flip(Mixpanel.track("u", "E", { at: other("new Date(NaN)") as never }))
      expect(invalid).toMatchObject({ field: "properties.at", detail: "an invalid Date" })
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("an object that is no JSON value is named with its article, never as 'a Object'", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [new Error("x"), "an Error is not a JSON value; pass a plain object"],
        [new ArrayBuffer(2), "an ArrayBuffer is not a JSON value; pass a plain object"],
        [new Uint8Array(2), "a Uint8Array is not a JSON value; pass a plain object"],
        [new Point(), "a Point is not a JSON value; pass a plain object"],
        [Object.create({ inherited: 1 }), "an object with a custom prototype is not a JSON value; pass a plain object"]
      ]
      for (const [value, detail] of cases) {
        const error = yield* Effect.flip(Mixpanel.track("u", "E", { value: value as never }))
        expect(error).toMatchObject({ field: "properties.value", detail })
      }
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("a message over 1 MB names the field that makes it so, however its text is written", () =>
    Effect.gen(function* () {
      const s = (yield* Mixpanel.Mixpanel) as unknown as Record<string, Untyped>
      // 400,000 characters of 3 bytes each: 1.2 MB of JSON, though fewer than a million characters
      const euros = "€".repeat(400_000)
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [s.track?.("u", "E", { s: euros }), "properties.s"],
        [s.track?.("u", "E", { nested: { list: [1, euros] } }), "properties.nested.list[1]"],
        [s.track?.("u".repeat(1_000_000), "E"), "distinctId"],
        [s.track?.(euros, "E"), "distinctId"],
        [s.track?.("u", "e".repeat(2_000_000)), "event"],
        [s.track?.("u", euros, {}, { meta: { a: 1 } }), "event"],
        [s.track?.("u", "E", {}, { meta: { notes: euros } }), "options.meta.notes"],
        [
          s.trackBatch?.([
            { distinctId: "u", event: "E" },
            { distinctId: euros, event: "E" }
          ]),
          "events[1].distinctId"
        ],
        [s.importEvent?.("u", "E", Date.UTC(2024, 0, 1), { notes: euros }), "properties.notes"],
        [s.peopleSet?.("u", { notes: euros }), "properties.notes"],
        [s.groupSet?.("company", "acme", { notes: euros }), "properties.notes"]
      ]
      for (const [effect, field] of cases) {
        const error = yield* typedOutcome(effect as Effect.Effect<unknown, unknown>)
        expect(error).toMatchObject({ _tag: "InvalidMessage", field })
        expect((error as MixpanelError.InvalidMessage).detail).toMatch(
          /^the message is \d+ bytes of JSON, \d+ of them in this field; Mixpanel takes less than 1000000$/
        )
      }
      // only the batch's valid event went
      expect((yield* TestConsumer.events).map((event) => event.properties.distinct_id)).toEqual(["u"])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect(
    "a message over the limit in characters names the field that holds most of it, not the one that passed the limit",
    () =>
      Effect.gen(function* () {
        const large = "x".repeat(900_000)
        const small = "y".repeat(300_000)
        for (const [properties, field] of [
          // the count passed the limit in `other`, after `notes`: `notes` was named only when it came last
          [{ notes: large, other: small }, "properties.notes"],
          [{ other: small, notes: large }, "properties.notes"],
          [{ nested: { deep: { notes: large } }, other: small }, "properties.nested.deep.notes"],
          [{ list: [small, large] }, "properties.list[1]"],
          // none holds half: the whole
          [{ a: small, b: small, c: small, d: small }, "properties"]
        ] as const) {
          expect(yield* Effect.flip(Mixpanel.track("u", "E", properties))).toMatchObject({
            _tag: "InvalidMessage",
            field,
            detail: "more than 1000000 bytes of JSON, Mixpanel's limit on a message"
          })
        }
      }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("valid input that looks hostile goes through: own keys named constructor, toString, hasOwnProperty", () =>
    Effect.gen(function* () {
      yield* Mixpanel.track("u", "E", { constructor: 1, toString: "x", hasOwnProperty: true })
      yield* Mixpanel.track("u", "E", {}, { meta: { constructor: 1, toString: 2 } })
      yield* Mixpanel.track("u", "E", { at: new Date("+010000-01-01T00:00:01Z") })
      const [first, second, third] = yield* TestConsumer.events
      expect(first?.properties).toMatchObject({ constructor: 1, toString: "x", hasOwnProperty: true })
      expect(JSON.parse((yield* TestConsumer.recorded)[1]?.json ?? "{}")).toMatchObject({ constructor: 1, toString: 2 })
      expect(second).toBeDefined()
      // past year 9999 the seconds are kept
      expect(third?.properties.at).toBe("+010000-01-01T00:00:01")
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("a hole or an undefined entry in a batch is refused naming its index, never skipped", () =>
    Effect.gen(function* () {
      const s = (yield* Mixpanel.Mixpanel) as unknown as Record<string, Untyped>
      const event = { distinctId: "u", event: "E" }
      const imported = { ...event, time: Date.UTC(2024, 0, 1) }
      // arrays with holes: `[, event]` and `[imported, , imported]`
      const holes: ReadonlyArray<readonly [unknown, string]> = [
        [s.trackBatch?.(Object.assign(new Array(2), { 1: event })), "events[0]"],
        [s.trackBatch?.([event, undefined]), "events[1]"],
        [s.importEvents?.(Object.assign(new Array(3), { 0: imported, 2: imported })), "events[1]"]
      ]
      for (const [effect, field] of holes) {
        const error = yield* typedOutcome(effect as Effect.Effect<unknown, unknown>)
        expect(error).toMatchObject({
          _tag: "InvalidMessage",
          field,
          detail: "expected an object describing one event"
        })
      }
      // the valid items of each batch went, and nothing stood in for a hole
      expect((yield* TestConsumer.recorded).map((message) => message.endpoint)).toEqual([
        "events",
        "events",
        "imports",
        "imports"
      ])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("a failing batch item costs one error, not one per item", () =>
    Effect.gen(function* () {
      const items = Array.from({ length: 200_000 }, () => ({ distinctId: "u", event: "" }))
      const error = yield* Effect.flip(Mixpanel.trackBatch(items))
      expect(error).toMatchObject({ _tag: "InvalidMessage", field: "events[0].event" })
      expect((error as MixpanelError.InvalidMessage).detail).toMatch(/199999 more of the 200000/)
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("an endless iterable of events is read no further than a million, and refused", () =>
    Effect.gen(function* () {
      let read = 0
      const endless = {
        *[Symbol.iterator]() {
          while (true) yield { distinctId: `u${read++}`, event: "Endless" }
        }
      }
      const error = yield* Effect.flip(Mixpanel.trackBatch(endless))
      expect(error).toMatchObject({ _tag: "InvalidMessage", field: "events" })
      expect(error.message).toContain("more than 1,000,000 events")
      expect(read).toBe(1_000_001)
      expect(yield* TestConsumer.events).toEqual([])
    }).pipe(Effect.provide(TestMixpanel))
  )
})

describe("hostile input to the consumers, the options and the flags", () => {
  const before = prototypeNames()
  const values = () => hostile.map(([, make]) => make())

  it.scoped(
    "a buffered consumer's send, sendBatch and sendNow fail typed; valid events interleaved arrive once, unaltered",
    () =>
      Effect.gen(function* () {
        const server = yield* MixpanelTestServer.make({ token: "T" })
        const handed: Array<string> = []
        yield* Effect.gen(function* () {
          const consumer = yield* Consumer.Consumer
          let i = 0
          for (const endpoint of [...values(), "events"]) {
            for (const message of values()) {
              yield* typedOutcome(consumer.send(endpoint as never, message as never))
              yield* typedOutcome(consumer.sendBatch(endpoint as never, [message] as never))
              yield* typedOutcome(consumer.sendBatch(endpoint as never, message as never))
              const json = JSON.stringify({
                event: "E",
                properties: { token: "T", distinct_id: "u", time: 1, $insert_id: `v-${i++}`, x: 'a&b=c+d%e;"é' }
              })
              handed.push(json)
              yield* consumer.send("events", json)
            }
          }
          yield* typedOutcome(consumer.sendNow("__proto__" as never, "{}"))
          // the strings among the hostile values were taken as messages and refused by the server: their
          // requests answered 0, which does not say which items were kept (Mixpanel keeps the valid ones)
          yield* Effect.exit(Consumer.flush)
        }).pipe(
          Effect.provide(Consumer.layerBuffered({ baseUrl: server.url }).pipe(Layer.provide(FetchHttpClient.layer)))
        )
        expect(prototypeNames()).toEqual(before)
        expect(server.received("events").map((item) => JSON.stringify(item))).toEqual(handed)
      })
  )

  it.scoped("a message nested more than 100 levels deep is refused at send; the messages around it arrive", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ token: "T" })
      const message = (id: string, value: string) =>
        `{"event":"E","properties":{"token":"T","distinct_id":"u","time":1,"$insert_id":"${id}","v":${value}}}`
      const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`
      const outcomes = yield* Effect.gen(function* () {
        const consumer = yield* Consumer.Consumer
        yield* consumer.send("events", message("good-1", deep(90)))
        const refused = [
          yield* Effect.flip(consumer.send("events", message("deep", deep(10_000)))),
          yield* Effect.flip(consumer.sendBatch("events", [message("good-x", "1"), message("deep", deep(120))]))
        ]
        // Brackets inside a string are text
        yield* consumer.send("events", message("good-2", JSON.stringify(deep(500))))
        yield* Consumer.flush
        return refused
      }).pipe(
        Effect.provide(Consumer.layerBuffered({ baseUrl: server.url }).pipe(Layer.provide(FetchHttpClient.layer)))
      )
      expect(outcomes).toMatchObject([
        { _tag: "InvalidMessage", field: "message", detail: "nested more than 100 levels deep" },
        { _tag: "InvalidMessage", field: "messages[1]", detail: "nested more than 100 levels deep" }
      ])
      expect(server.received("events").map((e) => (e.properties as { $insert_id: string }).$insert_id)).toEqual([
        "good-1",
        "good-2"
      ])
    })
  )

  it.effect("a negative or NaN duration is refused, where Effect would read it as zero", () =>
    Effect.gen(function* () {
      for (const option of ["shutdownTimeout", "maxRetryTime", "flushInterval"] as const) {
        for (const value of [-1, Number.NaN, "-5 seconds"]) {
          const error = yield* Effect.flip(
            Effect.scoped(Layer.build(Consumer.layerBuffered({ [option]: value }).pipe(Layer.provide(Unavailable))))
          )
          expect(error).toMatchObject({ _tag: "InvalidConfig", option })
        }
      }
      const fromEnvironment = yield* Effect.flip(
        Effect.scoped(
          Layer.build(
            Consumer.layerBufferedConfig().pipe(
              Layer.provide(Unavailable),
              Layer.provide(
                Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["MIXPANEL_SHUTDOWN_TIMEOUT", "-5 seconds"]])))
              )
            )
          )
        )
      )
      expect(String(fromEnvironment)).toContain("MIXPANEL_SHUTDOWN_TIMEOUT")
      for (const timeout of [-1, Number.NaN, "banana", null, {}]) {
        const error = yield* Effect.flip(
          Consumer.flushWithin(timeout as never).pipe(Effect.provide(TestConsumer.layer))
        )
        expect(error).toMatchObject({ _tag: "InvalidMessage", operation: "Consumer.flushWithin", field: "timeout" })
      }
      // Zero is a duration: no wait at all
      yield* Consumer.flushWithin(0).pipe(Effect.provide(TestConsumer.layer))
    })
  )

  it.effect("the direct consumer's send fails typed", () =>
    Effect.gen(function* () {
      const consumer = yield* Consumer.Consumer
      for (const endpoint of values()) {
        for (const message of values()) yield* typedOutcome(consumer.send(endpoint as never, message as never))
      }
      expect(prototypeNames()).toEqual(before)
    }).pipe(
      Effect.provide(Consumer.layerDirect({ baseUrl: "http://127.0.0.1:9" }).pipe(Layer.provide(FetchHttpClient.layer)))
    )
  )

  /** An HTTP client that answers 503 at once, so that options that happen to be valid reach nothing real. */
  const Unavailable = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.succeed(HttpClientResponse.fromWeb(request, new Response("down", { status: 503 })))
    )
  )

  /** Remote flags whose server is down, their exposure events recorded by `TestConsumer`. */
  const UnavailableFlags = RemoteFlags.layer({ token: "T" }).pipe(
    Layer.provide(Unavailable),
    Layer.provideMerge(TestMixpanel)
  )

  const layers: ReadonlyArray<readonly [string, (options: unknown) => Layer.Layer<never, unknown, never>]> = [
    ["Consumer.layerDirect", (o) => Layer.discard(Consumer.layerDirect(o as never).pipe(Layer.provide(Unavailable)))],
    [
      "Consumer.layerBuffered",
      (o) => Layer.discard(Consumer.layerBuffered(o as never).pipe(Layer.provide(Unavailable)))
    ],
    ["Mixpanel.layer", (o) => Layer.discard(Mixpanel.layer(o as never).pipe(Layer.provide(TestConsumer.layer)))],
    [
      "LocalFlags.layer",
      (o) =>
        Layer.discard(
          LocalFlags.layer(o as never).pipe(
            Layer.provide(Unavailable),
            Layer.provide(Mixpanel.layer({ token: "T" }).pipe(Layer.provide(TestConsumer.layer)))
          )
        )
    ],
    [
      "RemoteFlags.layer",
      (o) =>
        Layer.discard(
          RemoteFlags.layer(o as never).pipe(
            Layer.provide(Unavailable),
            Layer.provide(Mixpanel.layer({ token: "T" }).pipe(Layer.provide(TestConsumer.layer)))
          )
        )
    ]
  ]

  for (const [name, layer] of layers) {
    it.effect(`${name}: any options, as a whole or one by one, build or fail with InvalidConfig`, () =>
      Effect.gen(function* () {
        const names = [
          "token",
          "baseUrl",
          "region",
          "requestTimeout",
          "importAuth",
          "maxRetries",
          "retrySchedule",
          "maxConcurrentRequests",
          "capacity",
          "flushInterval",
          "pollingInterval",
          "serviceAccount",
          "onUndelivered",
          "transformClient"
        ]
        const attempts: Array<unknown> = [...values()]
        for (const option of names) for (const value of values()) attempts.push({ token: "T", [option]: value })
        attempts.push(
          { maxConcurrentRequests: 1e6 },
          { importAuth: Consumer.apiSecret("秘密") },
          { importAuth: { _tag: "X" } }
        )
        for (const options of attempts) {
          const outcome = yield* typedOutcome(Effect.scoped(Layer.build(layer(options))))
          if (outcome !== "ok") expect(outcome._tag).toBe("InvalidConfig")
        }
        expect(prototypeNames()).toEqual(before)
      })
    )
  }

  it.effect("trackExposure names the argument a field came from, not the property of the event it becomes", () =>
    Effect.gen(function* () {
      const variant = { source: "remote", key: "on", value: true }
      const cases: ReadonlyArray<readonly [string, unknown, unknown, unknown, RegExp]> = [
        ["variant.source", "f", { key: "on", value: true }, { distinct_id: "u" }, /missing/],
        ["variant.source", "f", { ...variant, source: "fallback" }, { distinct_id: "u" }, /"local" or "remote"/],
        ["variant.key", "f", { source: "local", value: true }, { distinct_id: "u" }, /missing/],
        ["variant.key", "f", { ...variant, key: 5 }, { distinct_id: "u" }, /string/],
        ["variant.key", "f", { ...variant, key: "k".repeat(1_100_000) }, { distinct_id: "u" }, /1000000/],
        ["variant.experimentId", "f", { ...variant, experimentId: 5 }, { distinct_id: "u" }, /string/],
        [
          "variant.experimentId",
          "f",
          { ...variant, experimentId: "e".repeat(1_100_000) },
          { distinct_id: "u" },
          /1000000/
        ],
        ["variant.isExperimentActive", "f", { ...variant, isExperimentActive: "yes" }, { distinct_id: "u" }, /boolean/],
        ["variant.isQaTester", "f", { ...variant, isQaTester: 1 }, { distinct_id: "u" }, /boolean/],
        ["variant", "f", null, { distinct_id: "u" }, /served/],
        ["flagKey", "f".repeat(1_100_000), variant, { distinct_id: "u" }, /1000000/],
        ["context.distinct_id", "f", variant, { distinct_id: 5 }, /string/],
        ["context.distinct_id", "f", variant, { distinct_id: "anonymous" }, /placeholder/]
      ]
      for (const [field, flagKey, served, context, detail] of cases) {
        const error = yield* Effect.flip(
          FeatureFlags.trackExposure(flagKey as never, served as never, context as never)
        )
        expect(error, field).toMatchObject({ _tag: "InvalidMessage", operation: "trackExposure", field })
        expect((error as MixpanelError.InvalidMessage).detail).toMatch(detail)
      }
      expect(yield* TestConsumer.events).toEqual([])
      // any hostile value as the variant or as one of its fields: a typed failure, never a defect
      for (const value of [
        ...values(),
        ...values().flatMap((v) => Object.keys(variant).map((k) => ({ ...variant, [k]: v })))
      ]) {
        yield* typedOutcome(FeatureFlags.trackExposure("f", value as never, { distinct_id: "u" }))
      }
      expect(prototypeNames()).toEqual(before)
    }).pipe(Effect.provide(UnavailableFlags))
  )

  it.effect("flag lookups with a hostile context or key fall back, typed", () =>
    Effect.gen(function* () {
      for (const value of values()) {
        const variant = yield* FeatureFlags.getVariant("f", { value: false }, value as never)
        // what is not a context is InvalidInput; what is one (`{}`, 10^5 keys) reaches the (failing) server
        expect(variant.source === "fallback" && variant.reason._tag).toMatch(/^(InvalidInput|BackendError)$/)
        const keyed = yield* FeatureFlags.getVariant(value as never, { value: false }, { distinct_id: "u" })
        expect(keyed.source).toBe("fallback")
        yield* typedOutcome(FeatureFlags.getAllVariants(value as never))
      }
      expect(prototypeNames()).toEqual(before)
    }).pipe(Effect.provide(UnavailableFlags))
  )
})
