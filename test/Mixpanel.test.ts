import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted, Supervisor, TestClock } from "effect"
import { Consumer, Mixpanel, MixpanelError, TestConsumer } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import packageJson from "../package.json" with { type: "json" }

const token = "project-token"
const now = Date.UTC(2026, 10, 28, 12, 30, 15, 123)
const nowText = "2026-11-28T12:30:15"
const insertId = expect.stringMatching(/^[A-Za-z0-9-]{1,36}$/)
const lib = { mp_lib: "effect-mixpanel", $lib_version: packageJson.version }

const TestMixpanel = Mixpanel.layer({ token: Redacted.make(token) }).pipe(Layer.provideMerge(TestConsumer.layer))

/** Runs `program` at `now` and returns what reached the consumer. */
const sent = <E>(program: Effect.Effect<void, E, Mixpanel.Mixpanel>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(now)
    yield* program
    return yield* TestConsumer.recorded
  }).pipe(Effect.provide(TestMixpanel))

interface Case {
  readonly name: string
  readonly program: Effect.Effect<void, MixpanelError.MixpanelError, Mixpanel.Mixpanel>
  readonly endpoint: "events" | "imports" | "people" | "groups"
  readonly messages: ReadonlyArray<unknown>
  readonly immediate?: boolean
}

const event = (name: string, distinctId: string, properties: object, time = now) => ({
  event: name,
  properties: { token, distinct_id: distinctId, time, $insert_id: insertId, ...lib, ...properties }
})
const profile = (operation: object, extra: object = {}) => ({
  $token: token,
  $distinct_id: "u1",
  $time: now,
  ...extra,
  ...operation
})
const group = (operation: object) => ({
  $token: token,
  $group_key: "company",
  $group_id: "acme",
  $time: now,
  ...operation
})

// Each operation's wire message, field by field, as the seed builds it (with the additions of DESIGN.md:
// time in milliseconds from the Clock, an $insert_id on every event).
const cases: ReadonlyArray<Case> = [
  {
    name: "track",
    program: Mixpanel.track("u1", "Signed Up", { plan: "pro", seats: 3, trial: false, tags: ["a"], owner: null }),
    endpoint: "events",
    messages: [event("Signed Up", "u1", { plan: "pro", seats: 3, trial: false, tags: ["a"], owner: null })]
  },
  {
    name: "track with a Date, nested values and meta",
    program: Mixpanel.track(
      "u1",
      "Paid",
      { at: new Date(Date.UTC(2013, 3, 1, 9, 2, 0, 999)), cart: { items: [{ sku: "x", when: new Date(0) }] } },
      { meta: { $source: "server" } }
    ),
    endpoint: "events",
    messages: [
      {
        ...event("Paid", "u1", {
          at: "2013-04-01T09:02:00",
          cart: { items: [{ sku: "x", when: "1970-01-01T00:00:00" }] }
        }),
        $source: "server"
      }
    ]
  },
  {
    name: "track with the caller's time and $insert_id",
    program: Mixpanel.track("", "Anonymous", { time: 1_700_000_000_000, $insert_id: "my-id-1" }),
    endpoint: "events",
    messages: [
      {
        event: "Anonymous",
        properties: { token, distinct_id: "", time: 1_700_000_000_000, $insert_id: "my-id-1", ...lib }
      }
    ]
  },
  {
    name: "trackBatch",
    program: Mixpanel.trackBatch([
      { distinctId: "u1", event: "A" },
      { distinctId: "u2", event: "B", properties: { n: 1 }, meta: { $x: true } }
    ]),
    endpoint: "events",
    messages: [event("A", "u1", {}), { ...event("B", "u2", { n: 1 }), $x: true }]
  },
  {
    name: "importEvent with a Date",
    program: Mixpanel.importEvent("u1", "Old", new Date(Date.UTC(2020, 0, 1)), { source: "backfill" }),
    endpoint: "imports",
    messages: [event("Old", "u1", { source: "backfill" }, Date.UTC(2020, 0, 1))]
  },
  {
    name: "importEvents",
    program: Mixpanel.importEvents([
      { distinctId: "u1", event: "Old", time: 1_600_000_000_000 },
      { distinctId: "u2", event: "Older", time: new Date(1_500_000_000_000), properties: { k: "v" } }
    ]),
    endpoint: "imports",
    messages: [event("Old", "u1", {}, 1_600_000_000_000), event("Older", "u2", { k: "v" }, 1_500_000_000_000)]
  },
  {
    name: "alias",
    program: Mixpanel.alias("new-id", "original-id"),
    endpoint: "events",
    immediate: true,
    messages: [{ event: "$create_alias", properties: { token, distinct_id: "original-id", alias: "new-id" } }]
  },
  {
    name: "merge",
    program: Mixpanel.merge("id-a", "id-b"),
    endpoint: "imports",
    messages: [
      { event: "$merge", properties: { token, time: now, $insert_id: insertId, $distinct_ids: ["id-a", "id-b"] } }
    ]
  },
  {
    name: "peopleSet",
    program: Mixpanel.peopleSet("u1", { Address: "1313 Mockingbird Lane", Birthday: "1948-01-01" }),
    endpoint: "people",
    messages: [profile({ $set: { Address: "1313 Mockingbird Lane", Birthday: "1948-01-01" } })]
  },
  {
    name: "peopleSet with modifiers and meta",
    program: Mixpanel.peopleSet(
      "u1",
      { plan: "pro" },
      {
        $ip: "203.0.113.9",
        $ignore_time: true,
        $ignore_alias: true,
        $latitude: 48.85,
        $longitude: 2.35,
        meta: { $x: 1 }
      }
    ),
    endpoint: "people",
    messages: [
      {
        ...profile(
          { $set: { plan: "pro" } },
          { $ip: "203.0.113.9", $ignore_time: true, $ignore_alias: true, $latitude: 48.85, $longitude: 2.35 }
        ),
        $x: 1
      }
    ]
  },
  {
    name: "peopleSetOnce",
    program: Mixpanel.peopleSetOnce("u1", { "First Login": "2013-04-01T13:20:00" }),
    endpoint: "people",
    messages: [profile({ $set_once: { "First Login": "2013-04-01T13:20:00" } })]
  },
  {
    name: "peopleIncrement",
    program: Mixpanel.peopleIncrement("u1", { "Coins Gathered": 12, Lives: -1 }),
    endpoint: "people",
    messages: [profile({ $add: { "Coins Gathered": 12, Lives: -1 } })]
  },
  {
    name: "peopleAppend",
    program: Mixpanel.peopleAppend("u1", { "Power Ups": "Bubble Lead" }),
    endpoint: "people",
    messages: [profile({ $append: { "Power Ups": "Bubble Lead" } })]
  },
  {
    name: "peopleUnion",
    program: Mixpanel.peopleUnion("u1", { "Items purchased": ["socks", "shirts"] }),
    endpoint: "people",
    messages: [profile({ $union: { "Items purchased": ["socks", "shirts"] } })]
  },
  {
    name: "peopleRemove",
    program: Mixpanel.peopleRemove("u1", { "Items purchased": "socks" }),
    endpoint: "people",
    messages: [profile({ $remove: { "Items purchased": "socks" } })]
  },
  {
    name: "peopleUnset",
    program: Mixpanel.peopleUnset("u1", ["Days Overdue"]),
    endpoint: "people",
    messages: [profile({ $unset: ["Days Overdue"] })]
  },
  {
    name: "peopleDelete",
    program: Mixpanel.peopleDelete("u1", { $ignore_alias: true }),
    endpoint: "people",
    messages: [profile({ $delete: "" }, { $ignore_alias: true })]
  },
  {
    name: "peopleTrackCharge without properties",
    program: Mixpanel.peopleTrackCharge("u1", 50),
    endpoint: "people",
    messages: [profile({ $append: { $transactions: { $time: nowText, $amount: 50 } } })]
  },
  {
    name: "peopleTrackCharge with its own $time",
    program: Mixpanel.peopleTrackCharge("u1", 9.99, { $time: "2013-04-01T09:02:00", sku: "x" }),
    endpoint: "people",
    messages: [profile({ $append: { $transactions: { $time: "2013-04-01T09:02:00", sku: "x", $amount: 9.99 } } })]
  },
  {
    name: "peopleClearCharges",
    program: Mixpanel.peopleClearCharges("u1"),
    endpoint: "people",
    messages: [profile({ $unset: ["$transactions"] })]
  },
  {
    name: "peopleUpdate",
    program: Mixpanel.peopleUpdate({ $distinct_id: "u1", $set: { a: 1 }, $ip: "0" }),
    endpoint: "people",
    messages: [profile({ $set: { a: 1 } }, { $ip: "0" })]
  },
  {
    name: "groupSet",
    program: Mixpanel.groupSet("company", "acme", { size: 50 }),
    endpoint: "groups",
    messages: [group({ $set: { size: 50 } })]
  },
  {
    name: "groupSetOnce",
    program: Mixpanel.groupSetOnce("company", "acme", { founded: 1999 }),
    endpoint: "groups",
    messages: [group({ $set_once: { founded: 1999 } })]
  },
  {
    name: "groupUnion",
    program: Mixpanel.groupUnion("company", "acme", { plans: ["pro"] }),
    endpoint: "groups",
    messages: [group({ $union: { plans: ["pro"] } })]
  },
  {
    name: "groupRemove",
    program: Mixpanel.groupRemove("company", "acme", { plans: "free" }),
    endpoint: "groups",
    messages: [group({ $remove: { plans: "free" } })]
  },
  {
    name: "groupUnset",
    program: Mixpanel.groupUnset("company", "acme", ["size"]),
    endpoint: "groups",
    messages: [group({ $unset: ["size"] })]
  },
  {
    name: "groupDelete",
    program: Mixpanel.groupDelete("company", "acme"),
    endpoint: "groups",
    messages: [group({ $delete: "" })]
  },
  {
    name: "groupUpdate",
    program: Mixpanel.groupUpdate({ $group_key: "company", $group_id: "acme", $set_once: { a: "b" } }),
    endpoint: "groups",
    messages: [group({ $set_once: { a: "b" } })]
  }
]

describe("Mixpanel: the wire message of each operation", () => {
  for (const c of cases) {
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const recorded = yield* sent(c.program)
        expect(recorded.map((r) => r.endpoint)).toEqual(c.messages.map(() => c.endpoint))
        expect(recorded.map((r) => JSON.parse(r.json))).toEqual(c.messages)
        expect(recorded.every((r) => r.immediate === (c.immediate ?? false))).toBe(true)
      })
    )
  }

  it.effect("gives every event a different $insert_id", () =>
    Effect.gen(function* () {
      const recorded = yield* sent(
        Effect.all([Mixpanel.track("u1", "A"), Mixpanel.track("u1", "A"), Mixpanel.importEvent("u1", "A", now)])
      )
      const ids = recorded.map(
        (r) => (JSON.parse(r.json) as { properties: { $insert_id: string } }).properties.$insert_id
      )
      expect(new Set(ids).size).toBe(3)
    })
  )

  it.effect("never changes the caller's properties", () =>
    Effect.gen(function* () {
      const at = new Date(0)
      const properties = { at, nested: { at, list: [at] } }
      const recorded = yield* sent(Mixpanel.track("u1", "E", properties))
      expect(properties).toEqual({ at, nested: { at, list: [at] } })
      expect(properties.nested.list[0]).toBeInstanceOf(Date)
      expect(JSON.parse(recorded[0]?.json ?? "{}").properties).toMatchObject({
        at: "1970-01-01T00:00:00",
        nested: { list: ["1970-01-01T00:00:00"] }
      })
    })
  )

  it.effect("takes the time from the Clock", () =>
    Effect.gen(function* () {
      const recorded = yield* sent(Effect.zipRight(TestClock.adjust("90 seconds"), Mixpanel.peopleSet("u1", { a: 1 })))
      expect(recorded[0]?.message).toMatchObject({ $time: now + 90_000 })
    })
  )
})

interface Invalid {
  readonly name: string
  readonly program: Effect.Effect<void, MixpanelError.MixpanelError, Mixpanel.Mixpanel>
  readonly operation: string
  readonly field: string
  readonly detail: RegExp
}

const circular: Record<string, unknown> = { a: 1 }
circular.self = circular

// What Mixpanel would refuse, or what cannot be JSON, fails before anything is sent, naming the field.
const invalids: ReadonlyArray<Invalid> = [
  {
    name: "empty event name",
    program: Mixpanel.track("u1", ""),
    operation: "track",
    field: "event",
    detail: /cannot be empty/
  },
  {
    name: "placeholder distinct id",
    program: Mixpanel.track("undefined", "E"),
    operation: "track",
    field: "distinctId",
    detail: /placeholder/
  },
  {
    name: "bad $insert_id",
    program: Mixpanel.track("u1", "E", { $insert_id: "has spaces" }),
    operation: "track",
    field: "properties.$insert_id",
    detail: /\$insert_id/
  },
  {
    name: "$insert_id over 36 characters",
    program: Mixpanel.importEvent("u1", "E", now, { $insert_id: "a".repeat(37) }),
    operation: "importEvent",
    field: "properties.$insert_id",
    detail: /36/
  },
  {
    name: "NaN",
    program: Mixpanel.track("u1", "E", { price: Number.NaN }),
    operation: "track",
    field: "properties.price",
    detail: /finite/
  },
  {
    name: "a cycle",
    program: Mixpanel.track("u1", "E", { data: circular as never }),
    operation: "track",
    field: "properties.data.self",
    detail: /circular/
  },
  {
    name: "an invalid Date",
    program: Mixpanel.peopleSet("u1", { at: new Date(Number.NaN) }),
    operation: "peopleSet",
    field: "properties.at",
    detail: /invalid Date/
  },
  {
    name: "a message over 1 MB",
    program: Mixpanel.track("u1", "E", { blob: "é".repeat(500_001) }),
    operation: "track",
    field: "properties.blob",
    detail: /1000000/
  },
  {
    name: "a bad event inside a batch",
    program: Mixpanel.trackBatch([
      { distinctId: "u1", event: "ok" },
      { distinctId: "u1", event: "bad", properties: { n: Number.POSITIVE_INFINITY } }
    ]),
    operation: "trackBatch",
    field: "events[1].properties.n",
    detail: /finite/
  },
  {
    name: "an empty profile id",
    program: Mixpanel.peopleSet("", { a: 1 }),
    operation: "peopleSet",
    field: "distinctId",
    detail: /non-empty/
  },
  {
    name: "$add of a string",
    program: Mixpanel.peopleIncrement("u1", { n: "1" as unknown as number }),
    operation: "peopleIncrement",
    field: "properties.n",
    detail: /number/
  },
  {
    name: "latitude without longitude",
    program: Mixpanel.peopleSet("u1", { a: 1 }, { $latitude: 1 }),
    operation: "peopleSet",
    field: "",
    detail: /together/
  },
  {
    name: "two operations in one update",
    program: Mixpanel.peopleUpdate({ $distinct_id: "u1", $set: { a: 1 }, $unset: ["b"] }),
    operation: "peopleUpdate",
    field: "update",
    detail: /one operation/
  },
  {
    name: "an empty group key",
    program: Mixpanel.groupSet("", "acme", { a: 1 }),
    operation: "groupSet",
    field: "groupKey",
    detail: /group key/
  },
  {
    name: "meta overriding the message",
    program: Mixpanel.track("u1", "E", {}, { meta: { event: "other" } }),
    operation: "track",
    field: "options.meta.event",
    detail: /sets this key itself/
  }
]

describe("Mixpanel: invalid input", () => {
  for (const c of invalids) {
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(c.program).pipe(Effect.provide(TestMixpanel))
        expect(error).toBeInstanceOf(MixpanelError.InvalidMessage)
        expect(error).toMatchObject({ operation: c.operation, field: c.field })
        expect((error as MixpanelError.InvalidMessage).detail).toMatch(c.detail)
        expect(error.message).not.toContain(token)
      })
    )
  }

  it.effect("errors a new user meets name what to fix", () =>
    Effect.gen(function* () {
      const run = <E>(effect: Effect.Effect<unknown, E, Mixpanel.Mixpanel>, options: object = { token: "T" }) =>
        Effect.flip(
          effect.pipe(
            Effect.provide(Mixpanel.layer(options as Mixpanel.Options).pipe(Layer.provide(TestConsumer.layer)))
          )
        )
      // `Mixpanel.layer({ token: process.env.MIXPANEL_TOKEN! })` with the variable unset
      expect((yield* run(Mixpanel.track("u1", "E"), { token: undefined })).message).toBe(
        "invalid option `token`: is missing or not a string: expected a string or a Redacted string"
      )
      // set, but to nothing
      expect((yield* run(Mixpanel.track("u1", "E"), { token: " " })).message).toBe(
        "invalid option `token`: the project token is empty"
      )
      expect((yield* run(Mixpanel.track(undefined as never, "E"))).message).toBe(
        "track: invalid `distinctId`: expected a string"
      )
      expect(
        (yield* run(Mixpanel.peopleUpdate({ $distinct_id: "u1", $set: { a: 1 }, $custom: true } as never))).message
      ).toBe("peopleUpdate: invalid `update.$custom`: is not a field this message can hold")
      expect((yield* run(Mixpanel.peopleUpdate({ $distinct_id: "u1", $sett: { a: 1 } } as never))).message).toBe(
        "peopleUpdate: invalid `update.$sett`: is not a field this message can hold: did you mean $set?"
      )
      expect((yield* run(Mixpanel.peopleSet("u1", { a: 1 }, { $token: "OTHER" } as never))).message).toBe(
        "peopleSet: invalid `options.$token`: is not an option of peopleSet (its options: meta, $ip, $ignore_time, $ignore_alias, $latitude, $longitude)"
      )
      expect((yield* run(Mixpanel.peopleSet("u1", { a: 1 }, { $ignoretime: true } as never))).message).toBe(
        "peopleSet: invalid `options.$ignoretime`: is not an option of peopleSet: did you mean $ignore_time? (its options: meta, $ip, $ignore_time, $ignore_alias, $latitude, $longitude)"
      )
      // a misspelt option is named with the list it is not in, labelled; an event's IP goes in its properties
      expect((yield* run(Mixpanel.track("u1", "E", {}, { metaa: {} } as never))).message).toBe(
        "track: invalid `options.metaa`: is not an option of track: did you mean meta? (its options: meta)"
      )
      expect((yield* run(Mixpanel.track("u1", "E", {}, { ip: "203.0.113.7" } as never))).message).toBe(
        "track: invalid `options.ip`: is not an option of track: an event's IP address goes in its properties, as `ip` (its options: meta)"
      )
      expect(
        (yield* run(Mixpanel.trackBatch([{ distinctId: "u1", event: "E", ip: "203.0.113.7" } as never]))).message
      ).toBe(
        "trackBatch: invalid `events[0].ip`: is not a field of an event here: an event's IP address goes in its properties, as `ip` (its fields: distinctId, event, properties, meta)"
      )
      // a profile's IP is its `$ip` modifier
      expect((yield* run(Mixpanel.peopleSet("u1", { a: 1 }, { ip: "203.0.113.7" } as never))).message).toBe(
        "peopleSet: invalid `options.ip`: is not an option of peopleSet: did you mean $ip? (its options: meta, $ip, $ignore_time, $ignore_alias, $latitude, $longitude)"
      )
      // a host, and a host and port (which the URL parser reads as the scheme `localhost:`)
      for (const baseUrl of ["api.mixpanel.com", "localhost:4100"]) {
        const noScheme = yield* Effect.flip(
          Layer.build(Consumer.layerDirect({ baseUrl })).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
        )
        expect(noScheme.message).toBe(
          "invalid option `baseUrl`: has no scheme: write it in full, e.g. https://api.mixpanel.com"
        )
      }
    })
  )

  it.effect(
    "an event's own time may be a Date, sent as its milliseconds; the types refuse what the run time refuses",
    () =>
      Effect.gen(function* () {
        const at = new Date("2024-03-01T12:00:00Z")
        yield* Mixpanel.track("u1", "E", { time: at, renewsAt: at })
        yield* Mixpanel.trackBatch([{ distinctId: "u1", event: "E", properties: { time: at } }])
        yield* Mixpanel.importEvent("u1", "E", 0, { time: at })
        yield* Mixpanel.importEvents([{ distinctId: "u1", event: "E", time: 0, properties: { time: at } }])
        const events = [...(yield* TestConsumer.events), ...(yield* TestConsumer.imports)]
        expect(events.map((event) => event.properties.time)).toEqual([
          at.getTime(),
          at.getTime(),
          at.getTime(),
          at.getTime()
        ])
        // any other Date is sent as text
        expect(events[0]?.properties.renewsAt).toBe("2024-03-01T12:00:00")
        const refused: ReadonlyArray<readonly [Effect.Effect<void, unknown, Mixpanel.Mixpanel>, string]> = [
          // @ts-expect-error an $insert_id is a string
          [Mixpanel.track("u1", "E", { $insert_id: 5 }), "properties.$insert_id"],
          // @ts-expect-error a distinct_id is a string
          [Mixpanel.track("u1", "E", { distinct_id: 42 }), "properties.distinct_id"],
          // @ts-expect-error a time is milliseconds or a Date
          [Mixpanel.track("u1", "E", { time: "yesterday" }), "properties.time"],
          [
            // @ts-expect-error the same in a batch
            Mixpanel.trackBatch([{ distinctId: "u1", event: "E", properties: { $insert_id: 5 } }]),
            "events[0].properties.$insert_id"
          ]
        ]
        for (const [program, field] of refused) {
          expect(yield* Effect.flip(program)).toMatchObject({ _tag: "InvalidMessage", field })
        }
        // what the run time says of a time that is not one: what it should be
        // @ts-expect-error a time is milliseconds or a Date
        expect((yield* Effect.flip(Mixpanel.track("u1", "E", { time: "yesterday" }))).detail).toBe(
          "expected a number of milliseconds since the epoch"
        )
      }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("properties typed with an interface are accepted, and checked like any others", () =>
    Effect.gen(function* () {
      interface Address {
        readonly city: string
      }
      interface SignupInput {
        readonly plan: string
        readonly seats: number
        readonly startedAt: Date
        readonly tags: ReadonlyArray<string>
        readonly address: Address
      }
      const input: SignupInput = {
        plan: "pro",
        seats: 5,
        startedAt: new Date(0),
        tags: ["b2b"],
        address: { city: "Paris" }
      }
      yield* Mixpanel.track("u1", "Signed Up", input)
      yield* Mixpanel.peopleSet("u1", input)
      yield* Mixpanel.groupSet("company", "acme", input)
      const [event] = yield* TestConsumer.events
      expect(event?.properties).toMatchObject({
        plan: "pro",
        seats: 5,
        startedAt: "1970-01-01T00:00:00",
        address: { city: "Paris" }
      })
      interface WithFunction {
        readonly plan: string
        readonly render: () => string
      }
      const bad: WithFunction = { plan: "pro", render: () => "x" }
      // @ts-expect-error a function is not a property value, in an interface as elsewhere
      const error = yield* Effect.flip(Mixpanel.track("u1", "E", bad))
      expect(error).toMatchObject({ _tag: "InvalidMessage", field: "properties.render" })
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("sends the valid events of a batch that holds an invalid one", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(
        Mixpanel.trackBatch([
          { distinctId: "u1", event: "ok-1" },
          { distinctId: "u1", event: "" },
          { distinctId: "u1", event: "ok-2" }
        ])
      )
      expect(Either.isLeft(result)).toBe(true)
      expect((yield* TestConsumer.events).map((e) => e.event)).toEqual(["ok-1", "ok-2"])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("an invalid message sends nothing", () =>
    Effect.gen(function* () {
      yield* Effect.flip(Mixpanel.track("u1", "E", { f: (() => 1) as never }))
      expect(yield* TestConsumer.recorded).toEqual([])
    }).pipe(Effect.provide(TestMixpanel))
  )

  it.effect("an empty token fails the layer with InvalidConfig", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Mixpanel.track("u1", "E").pipe(
          Effect.provide(Mixpanel.layer({ token: " " }).pipe(Layer.provide(TestConsumer.layer)))
        )
      )
      expect(error).toBeInstanceOf(MixpanelError.InvalidConfig)
      expect(error).toMatchObject({ option: "token" })
    })
  )

  it.effect("layerConfig reads the token from MIXPANEL_TOKEN", () =>
    Effect.gen(function* () {
      const layer = Mixpanel.layerConfig().pipe(Layer.provideMerge(TestConsumer.layer))
      const withToken = ConfigProvider.fromMap(new Map([["MIXPANEL_TOKEN", "from-env"]]))
      const [event] = yield* Mixpanel.track("u1", "E").pipe(
        Effect.zipRight(TestConsumer.events),
        Effect.provide(layer),
        Effect.withConfigProvider(withToken)
      )
      expect(event?.properties.token).toBe("from-env")
      const missing = yield* Effect.flip(
        Mixpanel.track("u1", "E").pipe(
          Effect.provide(layer),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
        )
      )
      expect(String(missing)).toContain("MIXPANEL_TOKEN")
    })
  )
})

describe("Mixpanel.unsafe: the operations for code that is not Effect", () => {
  /** `Mixpanel` over a buffered consumer that sends to `server`. */
  const bufferedTo = (server: MixpanelTestServer.MixpanelTestServer) =>
    Mixpanel.layer({ token: "T" }).pipe(
      Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url })),
      Layer.provide(FetchHttpClient.layer)
    )

  it.scoped("accepts at once into a buffered consumer, returns errors as values, and the events arrive", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ token: "T" })
      const layer = bufferedTo(server)
      const results = yield* Effect.gen(function* () {
        const mixpanel = yield* Mixpanel.unsafe
        const accepted = [mixpanel.track("u1", "Signed Up", { plan: "pro" }), mixpanel.peopleSet("u1", { plan: "pro" })]
        const invalid = mixpanel.track("u1", "")
        const untyped = (mixpanel.track as (...args: ReadonlyArray<unknown>) => unknown)(null, "E", () => 1)
        yield* Consumer.flush
        return { accepted, invalid, untyped }
      }).pipe(Effect.provide(layer))
      expect(results.accepted).toEqual([undefined, undefined])
      expect(results.invalid).toMatchObject({ _tag: "InvalidMessage", field: "event" })
      expect(results.untyped).toMatchObject({ _tag: "InvalidMessage", field: "distinctId" })
      expect(server.received("events").map((e) => e.event)).toEqual(["Signed Up"])
      expect(server.received("people")).toMatchObject([{ $set: { plan: "pro" } }])
    })
  )

  it.scoped("returns the consumer's refusal: an import without credentials is an InvalidConfig, not accepted", () =>
    Effect.gen(function* () {
      const server = yield* MixpanelTestServer.make({ token: "T" })
      const layer = bufferedTo(server)
      const results = yield* Effect.gen(function* () {
        const mixpanel = yield* Mixpanel.unsafe
        const refused = [mixpanel.importEvent("u1", "Bought", Date.now()), mixpanel.merge("a", "b")]
        yield* Consumer.flush
        return refused
      }).pipe(Effect.provide(layer))
      expect(results).toMatchObject([
        { _tag: "InvalidConfig", option: "importAuth" },
        { _tag: "InvalidConfig", option: "importAuth" }
      ])
      expect(server.requests()).toEqual([])
    })
  )

  it.scoped("makes no fiber per call when the consumer takes messages at once", () =>
    Effect.gen(function* () {
      class Counter extends Supervisor.AbstractSupervisor<number> {
        started = 0
        value = Effect.sync(() => this.started)
        override onStart() {
          this.started++
        }
      }
      const counter = new Counter()
      const server = yield* MixpanelTestServer.make({ token: "T" })
      const context = yield* Layer.build(
        Mixpanel.layer({ token: "T" }).pipe(
          Layer.provideMerge(Consumer.layerBuffered({ baseUrl: server.url, flushInterval: "1 hour" })),
          Layer.provide(FetchHttpClient.layer)
        )
      ).pipe(Effect.supervised(counter))
      const mixpanel = yield* Mixpanel.unsafe.pipe(Effect.provide(context))
      const before = counter.started
      for (let i = 0; i < 100; i++) expect(mixpanel.track(`u${i}`, "E", { i })).toBe(undefined)
      expect(counter.started - before).toBe(0)
    })
  )

  it.effect("over a consumer that must wait, the work goes on in the background", () =>
    Effect.gen(function* () {
      const mixpanel = yield* Mixpanel.unsafe
      expect(mixpanel.track("u1", "E")).toBe(undefined)
      expect(mixpanel.alias("a1", "u1")).toBe(undefined)
      yield* Effect.yieldNow()
      expect((yield* TestConsumer.events).map((e) => e.event)).toEqual(["E", "$create_alias"])
    }).pipe(Effect.provide(TestMixpanel))
  )
})
