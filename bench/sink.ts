/**
 * The sink: one HTTP server on loopback that every client sends to. It reads each SDK's wire format,
 * counts the distinct events it received (by their `seq` property) and the requests they came in, and
 * can fail a seeded fraction of requests with 503 and 429. It runs in its own process (`sinkProcess.ts`)
 * so that its work never counts against a client.
 *
 * Formats read:
 * - Mixpanel `/track`, `/engage`, `/groups`: form `data=` with raw (URL-encoded) or base64 JSON, by POST,
 *   or `?data=` base64 by GET (mixpanel-node's `track`);
 * - Mixpanel `/import`: a JSON array, or NDJSON;
 * - PostHog `/batch/` and Segment `/v1/batch`: `{ batch: [...] }`;
 * - gzip (`Content-Encoding: gzip`) on any of them.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Zlib from "node:zlib"
import { mulberry32 as makeRandom } from "../src/internal/prng.js"
import { type Faults, noFaults, now, type SinkStats } from "./protocol.js"

type Kind = "mixpanel" | "import" | "posthog" | "segment"

const kindOf = (path: string): Kind | undefined => {
  switch (path) {
    case "/track":
    case "/track/":
    case "/engage":
    case "/engage/":
    case "/groups":
    case "/groups/":
      return "mixpanel"
    case "/import":
    case "/import/":
      return "import"
    case "/batch":
    case "/batch/":
      return "posthog"
    case "/v1/batch":
      return "segment"
    default:
      return undefined
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/** The JSON of a Mixpanel `data` value: raw JSON, or base64 (whose `+` a form decoder may have made a space). */
const decodeData = (value: string): unknown => {
  const first = value.charCodeAt(0)
  if (first === 0x5b || first === 0x7b) return JSON.parse(value)
  return JSON.parse(Buffer.from(value.replace(/ /g, "+"), "base64").toString("utf8"))
}

/** The `data` field of a form body, decoded as a form decoder would (but leaving base64's `+` alone). */
const formData = (body: string): string | undefined => {
  for (const part of body.split("&")) {
    if (part.startsWith("data=")) {
      const value = part.slice(5)
      return value.includes("%") ? decodeURIComponent(value.replace(/\+/g, " ")) : value
    }
  }
  return undefined
}

/** Every event in a request's payload. */
const eventsOf = (payload: unknown): ReadonlyArray<unknown> => {
  if (Array.isArray(payload)) return payload
  if (isObject(payload) && Array.isArray(payload.batch)) return payload.batch
  return [payload]
}

const readPayload = (request: Http.IncomingMessage, url: URL, raw: Buffer): unknown => {
  if (request.method === "GET") {
    const data = url.searchParams.get("data")
    if (data === null) throw new Error("GET without data")
    return decodeData(data)
  }
  const encoding = request.headers["content-encoding"] ?? ""
  const gzipped = encoding.includes("gzip") || (raw[0] === 0x1f && raw[1] === 0x8b)
  const text = (gzipped ? Zlib.gunzipSync(raw) : raw).toString("utf8")
  const type = request.headers["content-type"] ?? ""
  if (type.includes("x-www-form-urlencoded") || text.startsWith("data=")) {
    const data = formData(text)
    if (data === undefined) throw new Error("form without data")
    return decodeData(data)
  }
  if (type.includes("ndjson")) {
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line))
  }
  return JSON.parse(text)
}

const successBody = (kind: Kind, url: URL, events: number): string => {
  switch (kind) {
    case "mixpanel":
      return url.searchParams.get("verbose") === "1" ? `{"status":1,"error":null}` : "1"
    case "import":
      return `{"code":200,"num_records_imported":${events},"status":"OK"}`
    case "posthog":
      return `{"status":1}`
    case "segment":
      return `{"success":true}`
  }
}

/** The counting state of one run; `reset` starts a new one. */
class Counters {
  requests = 0
  failedRequests = 0
  malformedRequests = 0
  unknownPathRequests = 0
  events = 0
  duplicates = 0
  foreignEvents = 0
  bytes = 0
  firstRequestAt: number | undefined = undefined
  lastEventAt: number | undefined = undefined
  completeAt: number | undefined = undefined
  readonly paths: Record<string, number> = {}
  readonly formats: Record<string, number> = {}
  readonly seen: Uint8Array
  readonly random: () => number

  constructor(
    readonly expected: number,
    readonly faults: Faults
  ) {
    this.seen = new Uint8Array(expected)
    this.random = makeRandom(faults.seed)
  }

  count(events: ReadonlyArray<unknown>): void {
    let fresh = 0
    for (const event of events) {
      const seq = isObject(event) && isObject(event.properties) ? event.properties.seq : undefined
      if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0 || seq >= this.expected) {
        this.foreignEvents++
      } else if (this.seen[seq] === 1) {
        this.duplicates++
      } else {
        this.seen[seq] = 1
        fresh++
      }
    }
    if (fresh > 0) {
      this.events += fresh
      this.lastEventAt = now()
      if (this.events === this.expected) this.completeAt = this.lastEventAt
    }
  }

  stats(): SinkStats {
    return {
      requests: this.requests,
      failedRequests: this.failedRequests,
      malformedRequests: this.malformedRequests,
      unknownPathRequests: this.unknownPathRequests,
      events: this.events,
      duplicates: this.duplicates,
      foreignEvents: this.foreignEvents,
      bytes: this.bytes,
      firstRequestAt: this.firstRequestAt,
      lastEventAt: this.lastEventAt,
      completeAt: this.completeAt,
      paths: { ...this.paths },
      formats: { ...this.formats }
    }
  }
}

const rateLimitedBody = JSON.stringify({
  code: 429,
  error: "Project exceeded rate limits. Please retry the request with exponential backoff.",
  status: "Too Many Requests"
})

/** A running sink. */
export interface Sink {
  readonly port: number
  readonly url: string
  readonly reset: (expected: number, faults: Faults) => void
  readonly stats: () => SinkStats
  readonly close: () => Promise<void>
}

/** Starts a sink on loopback, on `port` (0: any free port). */
export const startSink = (port = 0): Promise<Sink> => {
  let counters = new Counters(0, noFaults)

  const handle = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://sink")
    const kind = kindOf(url.pathname)
    const run = counters
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      // A request that arrives after a reset belongs to no run: it is answered, not counted.
      const raw = chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks)
      run.paths[url.pathname] = (run.paths[url.pathname] ?? 0) + 1
      if (kind === undefined) {
        run.unknownPathRequests++
        response.writeHead(404, { "content-type": "text/plain" }).end("not found")
        return
      }
      run.requests++
      run.bytes += raw.length
      run.firstRequestAt ??= now()
      const format = `${request.method} ${request.headers["content-encoding"] ?? "identity"} ${(request.headers["content-type"] ?? "none").split(";")[0]}`
      run.formats[format] = (run.formats[format] ?? 0) + 1
      const draw = run.random()
      if (draw < run.faults.serviceUnavailable) {
        run.failedRequests++
        response.writeHead(503, { "content-type": "text/plain" }).end("Service Unavailable")
        return
      }
      if (draw < run.faults.serviceUnavailable + run.faults.rateLimited) {
        run.failedRequests++
        const headers: Http.OutgoingHttpHeaders = { "content-type": "application/json" }
        if (run.faults.retryAfterSeconds !== undefined) headers["retry-after"] = String(run.faults.retryAfterSeconds)
        response.writeHead(429, headers).end(rateLimitedBody)
        return
      }
      let events: ReadonlyArray<unknown>
      try {
        events = eventsOf(readPayload(request, url, raw))
      } catch (error) {
        run.malformedRequests++
        response
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ status: 0, error: `unreadable body: ${String(error)}` }))
        return
      }
      run.count(events)
      response
        .writeHead(200, { "content-type": kind === "mixpanel" ? "text/plain" : "application/json" })
        .end(successBody(kind, url, events.length))
    })
  }

  const server = Http.createServer({ keepAlive: true, keepAliveTimeout: 30_000 }, handle)
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 60_000
  server.requestTimeout = 0
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      const address = server.address() as AddressInfo
      resolve({
        port: address.port,
        url: `http://127.0.0.1:${address.port}`,
        reset: (expected, faults) => {
          counters = new Counters(expected, faults)
        },
        stats: () => counters.stats(),
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}
