/**
 * The test server's faults: their constructors, the queue of scripted faults, the seeded random draws,
 * and the answer a status or body fault gives.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import type * as Api from "../../MixpanelTestServer.js"
import * as Options from "../options.js"
import { mulberry32 } from "../prng.js"
import { type Answer, mixpanelError, rateLimitBody, statusText } from "./answers.js"

/** @internal */
export const Fault: Api.FaultConstructors = {
  status: (status, options) => ({
    _tag: "Status",
    status,
    ...(options?.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}),
    ...(options?.body !== undefined ? { body: options.body } : {})
  }),
  rateLimited: (retryAfter) => ({
    _tag: "Status",
    status: 429,
    body: rateLimitBody,
    ...(retryAfter !== undefined ? { retryAfter } : {})
  }),
  drop: { _tag: "Drop" },
  lostAnswer: { _tag: "LostAnswer" },
  stall: { _tag: "Stall" },
  slow: (delay) => ({ _tag: "Slow", millis: Duration.toMillis(delay) }),
  body: (body, status) => ({ _tag: "Body", body, ...(status !== undefined ? { status } : {}) })
}

const httpStatus = Options.integer(100, 599).option

const atLeastZero = Schema.Number.pipe(Schema.filter((n) => n >= 0 || "must be a number of 0 or more"))

const fraction = Schema.Number.pipe(Schema.filter((n) => (n >= 0 && n <= 1) || "must be a number from 0 to 1"))

/** A `Retry-After` as the server writes it: seconds, or the header's text (which Node refuses beyond printable ASCII). */
const retryAfter = Schema.Union(Schema.Number, Schema.String).pipe(
  Schema.filter(
    (value) =>
      (typeof value === "number" ? value >= 0 : /^[\t\x20-\x7e]*$/.test(value)) ||
      "must be a number of seconds (0 or more) or a header's text in printable ASCII"
  )
)

const faultTags: ReadonlyArray<unknown> = ["Status", "Drop", "LostAnswer", "Stall", "Slow", "Body"]

/**
 * A fault as `Fault`'s constructors make it, checked where a test hands it over (`fail`, `failOn`,
 * `failRandomly`): a malformed one (`{}`, a status of 42) is refused there, not answered as a 500 that looks
 * like the consumer's doing.
 */
export const FaultSchema = Schema.compose(
  Schema.Unknown.pipe(
    Schema.filter(
      (value) =>
        (typeof value === "object" && value !== null && faultTags.includes((value as { _tag?: unknown })._tag)) ||
        "expected a fault made by MixpanelTestServer.Fault, such as Fault.status(503) or Fault.drop"
    )
  ),
  Schema.Union(
    Schema.Struct({
      _tag: Schema.Literal("Status"),
      status: httpStatus,
      retryAfter: Schema.optional(retryAfter),
      body: Schema.optional(Schema.String)
    }),
    Schema.Struct({ _tag: Schema.Literal("Drop", "LostAnswer", "Stall") }),
    Schema.Struct({
      _tag: Schema.Literal("Slow"),
      // setTimeout's limit: beyond it Node waits 1 ms instead, with a warning
      millis: atLeastZero.pipe(Schema.filter((n) => n <= 2_147_483_647 || "must be at most 2147483647 ms (24.8 days)"))
    }),
    Schema.Struct({ _tag: Schema.Literal("Body"), body: Schema.String, status: Schema.optional(httpStatus) })
  ),
  { strict: false }
)

/** A route, as `failOn` and `RandomFaults.endpoints` name it. */
export const RouteSchema = Options.literal("events", "people", "groups", "imports", "flags", "flagDefinitions").option

/** `RandomFaults`: its keys checked, so that a misspelt `rat` does not leave faults off without a word. */
export const RandomFaultsSchema = Schema.Struct({
  rate: Schema.optional(fraction),
  faults: Schema.optional(Schema.Array(FaultSchema)),
  lostAnswer: Schema.optional(fraction),
  seed: Schema.optional(Schema.Number.pipe(Schema.filter((n) => Number.isFinite(n) || "must be a finite number"))),
  endpoints: Schema.optional(Schema.Array(RouteSchema))
}).annotations({ description: "an object { rate?, faults?, lostAnswer?, seed?, endpoints? }" })

/** The flags routes take only the faults meant for them, so that a poller never eats a consumer's. */
export const isFlagsRoute = (route: Api.Route): route is Api.FlagsRoute =>
  route === "flags" || route === "flagDefinitions"

interface Queued {
  readonly fault: Api.Fault
  readonly route: Api.Route | undefined
}

interface Random {
  readonly options: Api.RandomFaults
  readonly next: () => number
}

/** The faults waiting for requests: a queue of scripted ones, then random draws. */
export interface Faults {
  /** Queues faults, for any ingestion endpoint (`route` undefined) or for one route. */
  readonly push: (route: Api.Route | undefined, faults: ReadonlyArray<Api.Fault>) => void
  /** The fault a request to `route` takes as it arrives, if any. */
  readonly take: (route: Api.Route) => Api.Fault | undefined
  readonly setRandom: (options: Api.RandomFaults | undefined) => void
  readonly stop: () => void
  readonly pending: () => number
}

/** @internal */
export const makeFaults = (random: Api.RandomFaults | undefined): Faults => {
  let queue: Array<Queued> = []
  const seeded = (options: Api.RandomFaults | undefined): Random | undefined =>
    options === undefined ? undefined : { options, next: mulberry32(options.seed ?? 0) }
  let state = seeded(random)

  const draw = (route: Api.Route): Api.Fault | undefined => {
    if (state === undefined) return undefined
    const { endpoints, faults = [], rate = 0, lostAnswer = 0 } = state.options
    if (endpoints === undefined ? isFlagsRoute(route) : !endpoints.includes(route)) return undefined
    // the draws of a mix without `lostAnswer` are those of earlier versions, so that seeds replay
    if (faults.length > 0 && state.next() < rate) {
      return faults[Math.min(faults.length - 1, Math.floor(state.next() * faults.length))]
    }
    return lostAnswer > 0 && state.next() < lostAnswer ? Fault.lostAnswer : undefined
  }

  return {
    push: (route, faults) => {
      for (const fault of faults) queue.push({ fault, route })
    },
    take: (route) => {
      const flags = isFlagsRoute(route)
      const index = queue.findIndex((q) => q.route === route || (q.route === undefined && !flags))
      if (index < 0) return draw(route)
      const [taken] = queue.splice(index, 1)
      return taken?.fault
    },
    setRandom: (options) => {
      state = seeded(options)
    },
    stop: () => {
      queue = []
      state = undefined
    },
    pending: () => queue.length
  }
}

/** The answer of a fault that answers. */
export const faultAnswer = (fault: Api.StatusFault | Api.BodyFault): Answer => {
  if (fault._tag === "Body") return { status: fault.status ?? 200, body: fault.body, json: true }
  const body =
    fault.body ?? (fault.status === 429 ? rateLimitBody : mixpanelError(fault.status, statusText(fault.status)))
  return {
    status: fault.status,
    body,
    json: true,
    ...(fault.retryAfter !== undefined ? { headers: { "retry-after": String(fault.retryAfter) } } : {})
  }
}
