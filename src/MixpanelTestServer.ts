/**
 * An embedded, Mixpanel-compatible ingestion server for integration tests, demos and benchmarks.
 *
 * It is a real HTTP server on loopback (`127.0.0.1`, a free port by default) that speaks `/track`,
 * `/engage`, `/groups` and `/import` the way Mixpanel does, so that a test fails where production would:
 * form `data=` bodies (raw or base64 JSON), JSON and NDJSON bodies, gzip, `verbose=1`, strict import with
 * `failed_records` (the default, as at Mixpanel), `/import` authentication, the item limit (400) and the
 * byte limit on the body as sent (413), and Mixpanel's rules for each item: what it refuses (answered `0`,
 * or listed in `failed_records`, the good items kept) and what it drops without a word (kept out of
 * `received` and listed in `dropped`). It records what it accepted (events deduplicated the way Mixpanel
 * does) and every request it saw, and it can be told to fail: 5xx, 429 with or without `Retry-After`,
 * dropped connections, lost answers, stalls, slow answers and broken bodies, scripted or at random with a
 * seed. `docs/testing-server.md` has the table of every rule, with its source.
 *
 * It also serves Mixpanel's feature flags API for `LocalFlags` and `RemoteFlags`: `GET /flags/definitions`
 * answers with the definitions a test sets (`setFlagDefinitions`), and `GET /flags` with the remote
 * evaluations a test sets (`setRemoteFlags`); both can be failed with `failOn("flagDefinitions", ...)` or
 * `failOn("flags", ...)`.
 *
 * Node only: it is built on `node:http` and `node:zlib`. It lives in the `effect-mixpanel/testing` entry
 * so that the main entry stays free of Node built-ins.
 *
 * The handle's methods are synchronous and read in-process state, so Effect code and plain Promise code
 * use them the same way.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make()
 *   server.fail(MixpanelTestServer.Fault.rateLimited(1))
 *   // ... point a consumer at `server.url`, send, then:
 *   return server.received("events")
 * })
 *
 * Effect.runPromise(Effect.scoped(program))
 * ```
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { Endpoint } from "./Endpoint.js"
import * as internal from "./internal/testServer.js"

/**
 * A JSON object as the server decoded it from a request: one event, profile update or group update.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const isSignUp = (event: MixpanelTestServer.JsonObject): boolean => event.event === "Signed Up"
 *
 * const signUps = (server: MixpanelTestServer.MixpanelTestServer) => server.received("events").filter(isSignUp).length
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type JsonObject = { readonly [key: string]: unknown }

/**
 * An event as the server accepted it on `/track` or `/import`: its rules refuse any item without a
 * non-empty string `event` and an object `properties` (in `lenient` mode too), so `received("events")`
 * and `received("imports")` give these, and a test reads `event.properties.distinct_id` without a cast.
 * The properties are JSON as sent, `unknown` until checked (`toBe`, `toEqual`, `typeof`).
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // The users who signed up, as the server received them
 * const signedUp = (server: MixpanelTestServer.MixpanelTestServer): ReadonlyArray<unknown> =>
 *   server
 *     .received("events")
 *     .filter((event: MixpanelTestServer.ReceivedEvent) => event.event === "Signed Up")
 *     .map((event) => event.properties.distinct_id)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedEvent extends JsonObject {
  readonly event: string
  readonly properties: JsonObject
}

/**
 * The routes of the feature flags API: `flagDefinitions` is `GET /flags/definitions`, `flags` is
 * `GET /flags`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make()
 *   const route: MixpanelTestServer.FlagsRoute = "flagDefinitions"
 *   server.failOn(route, MixpanelTestServer.Fault.status(503)) // the next fetch of the definitions fails
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type FlagsRoute = "flags" | "flagDefinitions"

/**
 * Everything the server serves: the four ingestion endpoints and the two flags routes.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // The requests to one route, e.g. to count the polls of LocalFlags
 * const requestsTo = (server: MixpanelTestServer.MixpanelTestServer, route: MixpanelTestServer.Route) =>
 *   server.requests().filter((request) => request.endpoint === route)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Route = Endpoint | FlagsRoute

/**
 * One `GET /flags` request, as a `RemoteFlags` function sees it: the decoded `context` parameter and the
 * `flag_key` parameter, if any.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // Serve the new checkout to the users of one company only
 * const remoteFlags = (request: MixpanelTestServer.RemoteFlagsRequest) =>
 *   request.context.company_id === "acme" ? { "new-checkout": { variant_key: "on", variant_value: true } } : {}
 *
 * const server = MixpanelTestServer.make({ remoteFlags })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RemoteFlagsRequest {
  readonly context: JsonObject
  readonly flagKey: string | undefined
}

/**
 * What `GET /flags` serves: the variants by flag key (e.g.
 * `{ "new-checkout": { variant_key: "on", variant_value: true } }`), or a function from the request to
 * them. The server answers `{"code":200,"flags":{...}}`, keeping only the requested flag when the request
 * names one (`flag_key`); a function may answer with a promise (an `async` function). A key whose value is
 * `undefined` is no flag (what a conditional's `{}` branch
 * makes of the key under plain `strict`).
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const remoteFlags: MixpanelTestServer.RemoteFlags = {
 *   "new-checkout": { variant_key: "on", variant_value: true, experiment_id: "exp-7" }
 * }
 *
 * const server = MixpanelTestServer.make({ remoteFlags })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RemoteFlags =
  | { readonly [flagKey: string]: JsonObject | undefined }
  | ((
      request: RemoteFlagsRequest
    ) =>
      | { readonly [flagKey: string]: JsonObject | undefined }
      | PromiseLike<{ readonly [flagKey: string]: JsonObject | undefined }>)

/**
 * Answer with an HTTP status. `retryAfter` sets the `Retry-After` header: a number is seconds, a string
 * is sent as it is (e.g. an HTTP date). Without `body` the server answers with a Mixpanel-style JSON
 * error (for 429, Mixpanel's own rate-limit text).
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // 503, with `Retry-After: 2`
 * const unavailable: MixpanelTestServer.StatusFault = MixpanelTestServer.Fault.status(503, { retryAfter: 2 })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusFault {
  readonly _tag: "Status"
  readonly status: number
  readonly retryAfter?: number | string
  readonly body?: string
}

/**
 * Read the request, then destroy the connection without an answer.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const drop: MixpanelTestServer.DropFault = MixpanelTestServer.Fault.drop
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DropFault {
  readonly _tag: "Drop"
}

/**
 * Serve the request (its items are recorded as received, like any other), then destroy the connection
 * instead of answering: the client sees a transport error for a request that did reach Mixpanel, the way
 * a timeout or a reset after the server's work loses an answer. A client that retries sends the items
 * again; Mixpanel's deduplication on `$insert_id` is what keeps events from counting twice.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const lost: MixpanelTestServer.LostAnswerFault = MixpanelTestServer.Fault.lostAnswer
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LostAnswerFault {
  readonly _tag: "LostAnswer"
}

/**
 * Read the request and never answer: the connection stays open until the client gives up or the server
 * closes (closing destroys it, so a stall never keeps the server from closing).
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // With a consumer's `requestTimeout`, this tests its timeout
 * const stall: MixpanelTestServer.StallFault = MixpanelTestServer.Fault.stall
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StallFault {
  readonly _tag: "Stall"
}

/**
 * Answer normally, after a real delay of `millis`. With `LostAnswer`, the only faults whose requests are
 * served and their items recorded.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const slow: MixpanelTestServer.SlowFault = MixpanelTestServer.Fault.slow("200 millis")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SlowFault {
  readonly _tag: "Slow"
  readonly millis: number
}

/**
 * Answer with a broken body such as `garbage` or `{"status":`, with `status` (default 200) and
 * `Content-Type: application/json`.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // A success status with a body that is not Mixpanel's
 * const garbage: MixpanelTestServer.BodyFault = MixpanelTestServer.Fault.body("garbage")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BodyFault {
  readonly _tag: "Body"
  readonly status?: number
  readonly body: string
}

/**
 * What the server can do to a request instead of (or, for `Slow`, before; for `LostAnswer`, after) serving
 * it. A faulted request's items are not recorded, except under `Slow` and `LostAnswer`; the fault is kept in
 * the request log.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const { Fault } = MixpanelTestServer
 *
 * // A flaky network: each of these once, in this order, then normal service
 * const flaky: ReadonlyArray<MixpanelTestServer.Fault> = [Fault.drop, Fault.status(502), Fault.rateLimited(1)]
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make()
 *   server.fail(...flaky)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = StatusFault | DropFault | LostAnswerFault | StallFault | SlowFault | BodyFault

/**
 * The constructors of `Fault`.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const faults: MixpanelTestServer.FaultConstructors = MixpanelTestServer.Fault
 * const fault = faults.status(500, { body: '{"error":"internal"}' })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultConstructors {
  /** Answer with `status`; see `StatusFault`. */
  readonly status: (
    status: number,
    options?: { readonly retryAfter?: number | string; readonly body?: string }
  ) => StatusFault
  /** 429 with Mixpanel's rate-limit body, and `Retry-After` when given (a number is seconds). */
  readonly rateLimited: (retryAfter?: number | string) => StatusFault
  /** Destroy the connection without an answer. */
  readonly drop: DropFault
  /** Serve the request and record its items, then destroy the connection instead of answering. */
  readonly lostAnswer: LostAnswerFault
  /** Never answer. */
  readonly stall: StallFault
  /** Answer normally after a real delay (a number is milliseconds). */
  readonly slow: (delay: Duration.DurationInput) => SlowFault
  /** Answer with a broken body, with `status` (default 200). */
  readonly body: (body: string, status?: number) => BodyFault
}

/**
 * Fault constructors: `Fault.status(503)`, `Fault.status(503, { retryAfter: 2 })`,
 * `Fault.rateLimited()`, `Fault.rateLimited(1)`, `Fault.drop`, `Fault.lostAnswer`, `Fault.stall`,
 * `Fault.slow("20 millis")`, `Fault.body("garbage")`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.make()
 *   server.fail(MixpanelTestServer.Fault.status(503, { retryAfter: 2 }), MixpanelTestServer.Fault.body("garbage"))
 *   console.log(server.pendingFaults()) // 2
 * })
 *
 * Effect.runPromise(Effect.scoped(program))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault: FaultConstructors = internal.Fault

/**
 * Faults at random: each request (to one of `endpoints`, default the four ingestion endpoints; the flags
 * routes only when named) gets, with probability `rate` (0 to 1, default 0), a fault chosen uniformly from
 * `faults` (default none); a request that got none of those loses its answer (`Fault.lostAnswer`) with
 * probability `lostAnswer` (0 to 1, default 0). The draws come from a small PRNG seeded with `seed` (default 0), so
 * a run is reproducible: the same seed and the same sequence of requests give the same faults (and a mix
 * without `lostAnswer` draws as earlier versions did). Scripted faults (`fail`) go first; a request that
 * takes a scripted fault draws nothing.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // One request in five fails, and one in ten of the others loses its answer, the same ones on every run
 * const chaos: MixpanelTestServer.RandomFaults = {
 *   rate: 0.2,
 *   faults: [MixpanelTestServer.Fault.status(503), MixpanelTestServer.Fault.drop],
 *   lostAnswer: 0.1,
 *   seed: 42
 * }
 *
 * const server = MixpanelTestServer.make({ failRandomly: chaos })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RandomFaults {
  readonly rate?: number
  readonly faults?: ReadonlyArray<Fault>
  readonly lostAnswer?: number
  readonly seed?: number
  readonly endpoints?: ReadonlyArray<Route>
}

/**
 * Credentials `/import` accepts when `auth` is set (HTTP Basic), each printable ASCII as Mixpanel issues
 * them; a key that is none of these (a misspelt `apisecret`) is an `InvalidConfig` naming `auth.apisecret`:
 * - `serviceAccount`: `username:secret`, with `project_id` in the query equal to `projectId` (required:
 *   Mixpanel takes a service account only with `project_id`);
 * - `apiSecret`: `secret:` (empty password);
 * - `token`: `token:` (empty password), only when the request has no `project_id`.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // `/import` accepts this service account only
 * const auth: MixpanelTestServer.Auth = {
 *   serviceAccount: { username: "importer", secret: "s3cret", projectId: 1 }
 * }
 *
 * const server = MixpanelTestServer.make({ auth })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Auth {
  readonly serviceAccount?: {
    readonly username: string
    readonly secret: string
    readonly projectId: string | number
  }
  readonly apiSecret?: string
  readonly token?: string
}

/**
 * What `rejectRecord` returns to reject a record: a message (the field is then `properties`), or a field
 * and a message. The record is refused as Mixpanel refuses an invalid one: listed in `failed_records` on a
 * strict `/import`, the answer `0` on the other endpoints; the other records of the request are kept.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // Refuse orders without a price, as a project's own validation might
 * const server = MixpanelTestServer.make({
 *   rejectRecord: (_endpoint, record): MixpanelTestServer.Rejection | undefined => {
 *     const properties = record.properties as MixpanelTestServer.JsonObject | undefined
 *     return record.event === "Order Placed" && properties?.price === undefined
 *       ? { field: "properties.price", message: "an order needs a price" }
 *       : undefined
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Rejection = string | { readonly field: string; readonly message: string }

/**
 * Options of the server. Every one is optional. An option that cannot work (a port of `"abc"`, a host that
 * is not a string, a `lenient` that is not a boolean) or a key that is no option (a misspelt `maxitems`,
 * which would leave the default in place; inside `auth` and `failRandomly` too, named by its path:
 * `auth.apisecret`) is an `InvalidConfig` naming it: `start` rejects with it, and
 * `make` and `layer` die with it, as a test whose server cannot start should.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const options: MixpanelTestServer.Options = { token: "T", maxItems: 50, checkTime: true }
 *
 * const TestServer = MixpanelTestServer.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Port to listen on. Default `0` (a free port). */
  readonly port?: number
  /** Address to listen on. Default `"127.0.0.1"`. */
  readonly host?: string
  /** Most items in one request; more is answered 400, as Mixpanel does. Default `2000`. */
  readonly maxItems?: number
  /**
   * Most bytes in one request, counted as Mixpanel counts them: the body as sent, after gunzip but before
   * any other decoding (for a form that is `data=` plus the form-escaped JSON, larger than the JSON), or
   * the query of a `GET`. More is answered 413 `request exceeds max limit of N bytes`.
   * Default `2 * 1024 * 1024`.
   */
  readonly maxBytes?: number
  /**
   * Check event times as Mixpanel does: `/import` refuses records before 1971-01-01 or more than 1 hour
   * ahead; `/track` drops events older than 5 days (see `dropped`). Default `false`, so that tests driven by
   * a fake clock (a `TestClock` at 0) pass.
   */
  readonly checkTime?: boolean
  /**
   * The server's clock, in milliseconds since the epoch, for `checkTime`. Default: `Date.now` for
   * `start`; the `Clock` of the Effect that runs `make` (so `TestClock` drives it) for `make` and `layer`.
   */
  readonly now?: () => number
  /**
   * The project token. When set, `/track` events must carry it as `properties.token`, `/engage` and
   * `/groups` updates as `$token`, and `/import` records must not carry a different `properties.token`.
   * Default: any token, though `/track`, `/engage` and `/groups` still need one (a non-empty string), as
   * at Mixpanel.
   */
  readonly token?: string
  /** Authentication for `/import`. Default: `/import` accepts any request. Other endpoints never need it. */
  readonly auth?: Auth
  /**
   * A hook to reject records the built-in checks accept: return a `Rejection` to reject the record, or
   * `undefined` to accept it. The record is refused alone (see `Rejection`).
   */
  readonly rejectRecord?: (endpoint: Endpoint, record: JsonObject) => Rejection | undefined
  /**
   * Serve as earlier versions of this server did, before it followed Mixpanel's rules, for the few tests
   * that need it: transports Mixpanel does not read (`data` in the query of a `POST`, unlabelled or
   * `text/plain` bodies sniffed, an unescaped `+` in base64, a trailing slash), the byte limit on the
   * decoded JSON, only the shape of each item checked, one bad item refusing the whole request with 400,
   * `/import` strict only with `strict=1`, 413 for too many items, nothing dropped. Default `false`.
   */
  readonly lenient?: boolean
  /** Start with random faults on. Default: off. */
  readonly failRandomly?: RandomFaults
  /** The flag definitions `GET /flags/definitions` serves, as JSON (see `setFlagDefinitions`). Default none. */
  readonly flagDefinitions?: ReadonlyArray<unknown>
  /** What `GET /flags` serves (see `setRemoteFlags`). Default no flags. */
  readonly remoteFlags?: RemoteFlags
}

/**
 * Why Mixpanel drops an item without a word (the request is answered as if the item were accepted):
 * - `PlaceholderId`: a `distinct_id` (`/track`) or `$distinct_id` (`/engage`) that Mixpanel blocks, such as
 *   `anonymous`, `undefined` or the all-zero UUID (`Message.placeholderIds`);
 * - `TooOld`: a `/track` event older than 5 days (with `checkTime`);
 * - `Invalid`: a record that a strict `/import` would have refused, sent with `strict=0`, which Mixpanel
 *   does not validate in the request.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const placeholders = (server: MixpanelTestServer.MixpanelTestServer) =>
 *   server.dropped().filter((d) => d.reason === ("PlaceholderId" satisfies MixpanelTestServer.DropReason))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type DropReason = "PlaceholderId" | "TooOld" | "Invalid"

/**
 * An item Mixpanel would have dropped silently: where it was sent, the item as decoded, and why (the
 * field, and a message).
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // The events a test sent for an anonymous visitor, which Mixpanel never shows
 * const lostVisitors = (server: MixpanelTestServer.MixpanelTestServer): ReadonlyArray<unknown> =>
 *   server
 *     .dropped("events")
 *     .filter((d: MixpanelTestServer.DroppedItem) => d.reason === "PlaceholderId")
 *     .map((d) => d.item)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DroppedItem {
  readonly endpoint: Endpoint
  readonly item: unknown
  readonly reason: DropReason
  readonly field: string
  readonly message: string
}

/**
 * One request as the server saw it. `bytes` is its size as `maxBytes` counts it, `items` the number of
 * items it held (0 when it could not be decoded; for the flags routes, the flags served), `status` the
 * status answered (`undefined` when the connection was dropped, stalled or cut before the answer), `fault`
 * the fault applied, if any. `endpoint` is the route,
 * `undefined` for a path the server does not serve. Header names are lower case. No credential is kept in
 * clear, so that a test may print the log: `authorization` (and `proxy-authorization`) keep the scheme and,
 * for HTTP Basic with a password, the user (`Basic sa.user:<redacted>` for a service account,
 * `Basic <redacted>:` for an API secret or a token, `Bearer <redacted>`); the query parameters `api_key`
 * and `api_secret` read `<redacted>`. To check the credentials themselves, give the server `auth` (and
 * `token` for the flags routes): it answers 401 to any other.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // The number of messages in each `/import` request, e.g. [2000, 2000, 1000]
 * const importSizes = (server: MixpanelTestServer.MixpanelTestServer) =>
 *   server
 *     .requests()
 *     .filter((request: MixpanelTestServer.RecordedRequest) => request.endpoint === "imports")
 *     .map((request) => request.items)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly endpoint: Route | undefined
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  readonly bytes: number
  readonly items: number
  readonly status: number | undefined
  readonly fault?: Fault
}

/**
 * A running server. `url` is `http://127.0.0.1:PORT`, with no trailing slash.
 *
 * - `received(endpoint)`: a snapshot of the items accepted on that endpoint, in arrival order (for
 *   `"events"` and `"imports"`, each a `ReceivedEvent`, its `properties` an object). Events on
 *   `/track` and `/import` are deduplicated per endpoint as Mixpanel does, on (event, time in
 *   milliseconds, distinct_id, $insert_id), keeping the first; events without `$insert_id` are never
 *   deduplicated. Profile and group updates are all kept.
 * - `receivedCount(endpoint)`: items accepted, duplicates included; `duplicates(endpoint)`: how many of
 *   them were duplicates.
 * - `dropped(endpoint?)`: the items Mixpanel would have dropped silently (see `DroppedItem`), of one
 *   endpoint or of all, in arrival order. They are not in `received`.
 * - `requests()`: a snapshot of the request log, in the order the server finished with each request.
 * - `clear()`: forget the items, the dropped items and the request log (not the faults).
 * - `fail(...faults)`: queue faults, applied one each to the next requests to any of the four ingestion
 *   endpoints, first in first out, in the order requests arrive; `failOn(route, ...faults)` queues faults
 *   that only a request to `route` takes (the flags routes take only these, so that a flags poller never
 *   eats the faults meant for a consumer). Requests to unknown paths take no fault.
 * - `failRandomly(options)`: faults at random (see `RandomFaults`); `failRandomly(undefined)` turns them
 *   off.
 * - `stopFailing()`: drop the queued faults and turn random faults off.
 * - `fail`, `failOn` and `failRandomly` check their arguments as the options are checked: a fault not made
 *   by `Fault` (a status outside 100 to 599, a `rate` outside 0 to 1, a misspelt key) throws an
 *   `InvalidConfig` naming it (`fail[0].status`, `failRandomly.rate`), and nothing of that call is kept.
 *   So do `received`, `receivedCount`, `duplicates` and `dropped` (an endpoint that is none) and
 *   `setFlagDefinitions` (a value that is not JSON).
 * - `pendingFaults()`: how many queued faults are still waiting for a request.
 * - `setFlagDefinitions(flags)`: from now on `GET /flags/definitions` answers `{"code":200,"flags":flags}`
 *   (any JSON, so that malformed definitions can be served too).
 * - `setRemoteFlags(flags)`: from now on `GET /flags` serves `flags` (see `RemoteFlags`).
 *
 * The flags routes take `GET` only, and check the `token` parameter and HTTP Basic auth (`token:`, or the
 * service account of `auth`) when the `token` option is set (401 otherwise). `GET /flags` needs a
 * `context` parameter holding a JSON object with a string `distinct_id` (400 otherwise, as Mixpanel).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server: MixpanelTestServer.MixpanelTestServer = yield* MixpanelTestServer.make({ token: "T" })
 *   const MixpanelLive = Mixpanel.layer({ token: "T" }).pipe(
 *     Layer.provide(Consumer.layerDirect({ baseUrl: server.url })),
 *     Layer.provide(FetchHttpClient.layer)
 *   )
 *   yield* Mixpanel.track("u1", "Signed Up").pipe(Effect.provide(MixpanelLive))
 *   console.log(server.received("events").length) // 1
 * })
 *
 * Effect.runPromise(Effect.scoped(program))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MixpanelTestServer {
  readonly url: string
  readonly port: number
  readonly received: {
    (endpoint: "events" | "imports"): ReadonlyArray<ReceivedEvent>
    (endpoint: Endpoint): ReadonlyArray<JsonObject>
  }
  readonly receivedCount: (endpoint: Endpoint) => number
  readonly duplicates: (endpoint: Endpoint) => number
  readonly dropped: (endpoint?: Endpoint) => ReadonlyArray<DroppedItem>
  readonly requests: () => ReadonlyArray<RecordedRequest>
  readonly clear: () => void
  readonly fail: (...faults: ReadonlyArray<Fault>) => void
  readonly failOn: (endpoint: Route, ...faults: ReadonlyArray<Fault>) => void
  readonly failRandomly: (options: RandomFaults | undefined) => void
  readonly stopFailing: () => void
  readonly pendingFaults: () => number
  readonly setFlagDefinitions: (flags: ReadonlyArray<unknown>) => void
  readonly setRemoteFlags: (flags: RemoteFlags) => void
}

/**
 * A server started from Promise code, with a `close` that destroys open connections (stalled ones
 * included) and resolves once the server has closed. Calling it again is harmless.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // One server for a whole test file, from Promise code
 * let server: MixpanelTestServer.StartedServer | undefined
 *
 * export const setup = async () => {
 *   server = await MixpanelTestServer.start({ token: "T" })
 * }
 * export const teardown = () => server?.close()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StartedServer extends MixpanelTestServer {
  readonly close: () => Promise<void>
}

/**
 * The service tag of a running server.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* MixpanelTestServer.MixpanelTestServer
 *   server.fail(MixpanelTestServer.Fault.rateLimited(1))
 *   return server.url
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(MixpanelTestServer.layer())))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const MixpanelTestServer: Context.Tag<MixpanelTestServer, MixpanelTestServer> = internal.tag

/**
 * Start a server for the lifetime of a scope; closing the scope closes the server and destroys its open
 * connections, so it never hangs. A failure to listen (e.g. the port is taken) is a defect.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const server = yield* MixpanelTestServer.make({ token: "T" })
 *     yield* Effect.promise(() =>
 *       fetch(`${server.url}/track`, {
 *         method: "POST",
 *         body: new URLSearchParams({
 *           data: JSON.stringify([{ event: "Signed Up", properties: { token: "T", distinct_id: "u1" } }])
 *         })
 *       })
 *     )
 *     return server.received("events").length // 1
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<MixpanelTestServer, never, Scope.Scope> = internal.make

/**
 * A layer that provides a running `MixpanelTestServer`, closed with the layer.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Consumer, Mixpanel } from "effect-mixpanel"
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * // A consumer pointed at the server in context
 * const ConsumerLive = Layer.unwrapEffect(
 *   Effect.map(MixpanelTestServer.MixpanelTestServer, (server) => Consumer.layerDirect({ baseUrl: server.url }))
 * )
 * const TestLive = Mixpanel.layer({ token: "T" }).pipe(
 *   Layer.provide(ConsumerLive),
 *   Layer.provideMerge(MixpanelTestServer.layer({ token: "T" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const program = Effect.gen(function* () {
 *   yield* Mixpanel.peopleSet("u1", { plan: "pro" })
 *   const server = yield* MixpanelTestServer.MixpanelTestServer
 *   console.log(server.received("people").length) // 1
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(TestLive)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<MixpanelTestServer> = internal.layer

/**
 * Start a server from Promise code. Close it with `close()`.
 *
 * @example
 * ```ts
 * import { MixpanelTestServer } from "effect-mixpanel/testing"
 *
 * const server = await MixpanelTestServer.start()
 * try {
 *   // ... point a client at `server.url`, then read `server.received("events")`
 * } finally {
 *   await server.close()
 * }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const start: (options?: Options) => Promise<StartedServer> = internal.start
