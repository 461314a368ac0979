/**
 * The embedded Mixpanel: a `node:http` server on loopback that serves the ingestion endpoints and the
 * flags API, keeps what it received, and applies faults. The parts are in `testServer/`: reading the
 * wire (`wire.ts`), Mixpanel's rules per item (`events.ts`, `profiles.ts`), the answers (`serve.ts`,
 * `answers.ts`, and `lenient.ts` for the old behaviour), what it keeps (`records.ts`), its request log
 * (`requestLog.ts`), faults (`faults.ts`), credentials (`auth.ts`) and flags (`flags.ts`).
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { Endpoint } from "../Endpoint.js"
import * as Message from "../Message.js"
import type * as Api from "../MixpanelTestServer.js"
import * as Options from "./options.js"
import { type Answer, errorAnswer, statusText, tooManyBytes, write } from "./testServer/answers.js"
import {
  Fault,
  FaultSchema,
  faultAnswer,
  isFlagsRoute,
  makeFaults,
  RandomFaultsSchema,
  RouteSchema
} from "./testServer/faults.js"
import { type FlagsState, serveFlags } from "./testServer/flags.js"
import { serveLenient } from "./testServer/lenient.js"
import { makeRecords } from "./testServer/records.js"
import { type Logging, makeRequestLog } from "./testServer/requestLog.js"
import { answerOnly, type Served, type Settings, serve } from "./testServer/serve.js"
import { decodeBody, type Parsed, parseItems, readBody, readPayload, routeOf, sizeAsSent } from "./testServer/wire.js"

/** @internal */
export const tag = Context.GenericTag<Api.MixpanelTestServer>("effect-mixpanel/MixpanelTestServer")

export { Fault }

/**
 * `auth`: a service account needs its `projectId`, since Mixpanel takes one only with `project_id` (without
 * it every service-account request would be 401); credentials are what a client can send (`Options.credential`).
 */
const Auth = Schema.Struct({
  serviceAccount: Schema.optional(
    Schema.Struct({ username: Options.credential, secret: Options.credential, projectId: Options.projectId })
  ),
  apiSecret: Schema.optional(Options.credential),
  token: Schema.optional(Options.credential)
}).annotations({ description: "an object { serviceAccount?, apiSecret?, token? }" })

/**
 * The options a server listens and limits by, checked as the layers' are (from JavaScript, any value), and
 * a key that is no option refused, nested ones too (`auth.apisecret`): misspelt, it would leave its
 * default in place without a word. The others are read where they are used.
 */
const decodeOptions = Options.decoder(
  Schema.Struct({
    port: Schema.optional(Options.integer(0, 65535).option),
    host: Schema.optional(
      Options.string((host) => (host === "" ? "must be an address such as 127.0.0.1" : undefined)).option
    ),
    maxItems: Schema.optional(Options.integer(1).option),
    maxBytes: Schema.optional(Options.integer(1).option),
    checkTime: Schema.optional(Options.boolean.option),
    now: Schema.optional(Options.fn),
    token: Schema.optional(Message.Token),
    auth: Schema.optional(Auth),
    rejectRecord: Schema.optional(Options.fn),
    lenient: Schema.optional(Options.boolean.option),
    failRandomly: Schema.optional(RandomFaultsSchema),
    flagDefinitions: Schema.optional(Schema.Unknown),
    remoteFlags: Schema.optional(Schema.Unknown)
  })
)

/**
 * The arguments of the methods that set faults, checked as the options are: a bad one throws an
 * `InvalidConfig` naming it (`fail[0].status`, `failRandomly.rate`), where it would otherwise be taken and
 * answered later as a 500 or not at all.
 */
const argument = <A, I>(name: string, schema: Schema.Schema<A, I>) => {
  const decode = Options.decoder(Schema.Struct({ [name]: schema }))
  return <V>(value: V): V => {
    const checked = Effect.runSync(Effect.either(decode({ [name]: value })))
    if (Either.isLeft(checked)) throw checked.left
    return value
  }
}

const checkFail = argument("fail", Schema.Array(FaultSchema))
const checkFailOn = argument("failOn", Schema.Tuple(RouteSchema, Schema.Array(FaultSchema)))
const checkFailRandomly = argument("failRandomly", Schema.UndefinedOr(RandomFaultsSchema))
const checkEndpoint = argument("endpoint", Schema.UndefinedOr(Options.literal(...Endpoint.literals).option))
const checkDefinitions = argument(
  "setFlagDefinitions",
  Schema.Array(Schema.Unknown).pipe(
    Schema.filter((definitions) => {
      try {
        JSON.stringify(definitions)
        return true
      } catch {
        return "must be JSON: an array of definitions, well-formed or not"
      }
    })
  )
)

/** @internal */
export const start = (options: Api.Options = {}): Promise<Api.StartedServer> => {
  const checked = Effect.runSync(Effect.either(decodeOptions(options)))
  if (Either.isLeft(checked)) return Promise.reject(checked.left)
  const lenient = options.lenient ?? false
  const settings: Settings = {
    maxItems: options.maxItems ?? 2000,
    maxBytes: options.maxBytes ?? 2 * 1024 * 1024,
    auth: options.auth,
    rules: {
      token: options.token,
      checkTime: options.checkTime ?? false,
      now: options.now ?? Date.now,
      rejectRecord: options.rejectRecord
    }
  }
  // a body larger than this after gunzip is 413 without being read further, so that a gzip bomb cannot
  // exhaust memory (the lenient server counts the decoded JSON, which can be a third of the form body)
  const maxDecompressed = Math.max(4 * settings.maxBytes, 1024 * 1024)
  const records = makeRecords()
  const faults = makeFaults(options.failRandomly)
  const flags: FlagsState = { definitions: options.flagDefinitions ?? [], remote: options.remoteFlags ?? {} }
  const log = makeRequestLog()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let closing: Promise<void> | undefined

  /** A real delay, cancelled when the server closes. */
  const delay = (millis: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, millis)
      timers.add(timer)
    })

  /**
   * Applies a fault that stands in for the answer: answers (or drops or stalls) the request and says it is
   * done. `Slow` only waits and `LostAnswer` acts after serving: the request then goes on as usual.
   */
  const preempt = async (
    fault: Api.Fault,
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    record: (status: number | undefined) => void
  ): Promise<boolean> => {
    switch (fault._tag) {
      case "Drop":
        record(undefined)
        req.socket.destroy()
        return true
      case "Stall":
        // the connection stays open until the client gives up or `close` destroys it
        record(undefined)
        return true
      case "Slow":
        await delay(fault.millis)
        return false
      case "LostAnswer":
        return false
      default: {
        const answer = faultAnswer(fault)
        record(answer.status)
        write(res, answer)
        return true
      }
    }
  }

  /** Answers a served request, unless its answer is to be lost: the connection is then cut instead. */
  const finish = (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    fault: Api.Fault | undefined,
    answer: Answer,
    record: (status: number | undefined) => void
  ): void => {
    if (fault?._tag === "LostAnswer") {
      record(undefined)
      req.socket.destroy()
      return
    }
    record(answer.status)
    write(res, answer)
  }

  /** What an ingestion request holds: its size as Mixpanel counts it, its items, and its form, if any. */
  interface Received {
    readonly bytes: number
    readonly parsed: Parsed
    readonly form?: ReadonlyMap<string, string> | undefined
    /** The answer when the body cannot even be decoded. */
    readonly early?: Answer
  }

  const notRead: Parsed = { error: "not read" }

  const read = async (req: Http.IncomingMessage, url: URL, method: string): Promise<Received> => {
    const raw = await readBody(req)
    const decoded = await decodeBody(raw, req.headers["content-encoding"] ?? "", maxDecompressed)
    switch (decoded._tag) {
      case "TooLarge":
        return { bytes: raw.length, parsed: notRead, early: tooManyBytes(settings.maxBytes) }
      case "Broken":
        return { bytes: raw.length, parsed: notRead, early: errorAnswer(400, decoded.error) }
      case "Unsupported":
        return {
          bytes: raw.length,
          parsed: notRead,
          early: errorAnswer(415, `unsupported content encoding ${decoded.encoding}`)
        }
      case "Body": {
        const payload = readPayload(lenient, method, url, req.headers["content-type"] ?? "", decoded.body)
        if ("error" in payload) return { bytes: sizeAsSent(method, url, decoded.body), parsed: payload }
        // the lenient server counts the decoded JSON, as earlier versions did
        const bytes = lenient ? Buffer.byteLength(payload.text) : sizeAsSent(method, url, decoded.body)
        return { bytes, parsed: bytes > settings.maxBytes ? notRead : parseItems(payload), form: payload.form }
      }
    }
  }

  const handle = async (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    url: URL,
    endpoint: Endpoint,
    fault: Api.Fault | undefined,
    { record, saw }: Logging
  ): Promise<void> => {
    const method = req.method ?? "GET"
    const { bytes, early, form, parsed } = await read(req, url, method)
    saw(bytes, "items" in parsed ? parsed.items.length : 0)
    if (fault !== undefined && (await preempt(fault, req, res, record))) return
    const served: Served =
      early !== undefined
        ? answerOnly(early)
        : (lenient ? serveLenient : serve)(settings, {
            endpoint,
            param: (name) => url.searchParams.get(name) ?? form?.get(name),
            authorization: req.headers.authorization,
            projectId: url.searchParams.get("project_id"),
            bytes,
            parsed
          })
    records.keep(endpoint, served.accepted)
    records.drop(served.dropped)
    finish(req, res, fault, served.answer, record)
  }

  const handleFlags = async (
    req: Http.IncomingMessage,
    res: Http.ServerResponse,
    url: URL,
    route: Api.FlagsRoute,
    fault: Api.Fault | undefined,
    { record, saw }: Logging
  ): Promise<void> => {
    const body = await readBody(req)
    saw(body.length, 0)
    if (fault !== undefined && (await preempt(fault, req, res, record))) return
    const [answer, served] = await serveFlags(options, flags, route, url, req.headers.authorization)
    saw(body.length, served)
    finish(req, res, fault, answer, record)
  }

  const server = Http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    res.on("error", () => {})
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const route = routeOf(url.pathname, lenient)
    const method = req.method ?? "GET"
    // the flags API is read with GET only
    const allowed = method === "GET" || (method === "POST" && route !== undefined && !isFlagsRoute(route))
    if (route === undefined || !allowed) {
      const status = route === undefined ? 404 : 405
      log.logging(req, url, route, undefined).record(status)
      req.resume()
      write(res, errorAnswer(status, statusText(status)))
      return
    }
    // the fault is chosen as the request arrives, so that queued faults go to requests in arrival order
    const fault = faults.take(route)
    const logged = log.logging(req, url, route, fault)
    const handled = isFlagsRoute(route)
      ? handleFlags(req, res, url, route, fault, logged)
      : handle(req, res, url, route, fault, logged)
    // a hook of the test's that throws, or a client gone before its body was read: logged all the same
    handled.catch((error: unknown) => {
      const gone = req.socket.destroyed
      logged.record(gone ? undefined : 500)
      if (!gone) write(res, errorAnswer(500, error instanceof Error ? error.message : String(error)))
    })
  })

  const close = (): Promise<void> => {
    if (closing === undefined) {
      closing = new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        // destroys stalled and kept-alive connections too, so that closing never waits on a client
        server.closeAllConnections()
      })
    }
    return closing
  }

  return new Promise<Api.StartedServer>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      const port = (server.address() as AddressInfo).port
      const host = options.host ?? "127.0.0.1"
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        // the rules refuse an event without a string `event` and an object `properties` (events.ts, lenient.ts)
        received: ((endpoint: Endpoint) =>
          records.received(checkEndpoint(endpoint))) as Api.MixpanelTestServer["received"],
        receivedCount: (endpoint) => records.receivedCount(checkEndpoint(endpoint)),
        duplicates: (endpoint) => records.duplicates(checkEndpoint(endpoint)),
        dropped: (endpoint) => records.dropped(checkEndpoint(endpoint)),
        requests: log.requests,
        clear: () => {
          records.clear()
          log.clear()
        },
        fail: (...queued) => faults.push(undefined, checkFail(queued)),
        failOn: (route, ...queued) => {
          checkFailOn([route, queued])
          faults.push(route, queued)
        },
        failRandomly: (random) => faults.setRandom(checkFailRandomly(random)),
        stopFailing: faults.stop,
        pendingFaults: faults.pending,
        setFlagDefinitions: (definitions) => {
          flags.definitions = checkDefinitions(definitions)
        },
        setRemoteFlags: (remote) => {
          flags.remote = remote
        },
        close
      })
    })
  })
}

const toService = (server: Api.StartedServer): Api.MixpanelTestServer => {
  const { close: _close, ...service } = server
  return service
}

/** @internal */
export const make = (options: Api.Options = {}): Effect.Effect<Api.MixpanelTestServer, never, Scope.Scope> =>
  Effect.flatMap(Effect.clock, (clock) =>
    Effect.acquireRelease(
      Effect.promise(() => start({ ...options, now: options.now ?? (() => clock.unsafeCurrentTimeMillis()) })),
      (server) => Effect.promise(() => server.close())
    )
  ).pipe(Effect.map(toService))

/** @internal */
export const layer = (options: Api.Options = {}): Layer.Layer<Api.MixpanelTestServer> =>
  Layer.scoped(tag, make(options))
