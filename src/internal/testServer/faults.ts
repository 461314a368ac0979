/**
 * The test server's faults: their constructors, the queue of scripted faults, the seeded random draws,
 * and the answer a status or body fault gives.
 */
import * as Duration from "effect/Duration"
import type * as Api from "../../MixpanelTestServer.js"
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
