/**
 * The floor of the import bench (bench/import.ts): a yardstick, not an importer to use. It does the least
 * work a correct import of the bench's file must do, with Node alone, so that the tools' figures have a
 * floor measured beside them in the same run:
 *
 * - reads the file (gunzipped as it is read when its name ends in `.gz`, 64 KiB at a time, as
 *   effect-mixpanel reads) and splits it into lines;
 * - per line: `JSON.parse`, `properties.time` from seconds to milliseconds, a `$insert_id` when the event
 *   has none (the first 32 hex digits of the SHA-1 of the line: of FNV-1a in JavaScript, md5 and SHA-1 the
 *   cheapest on these lines, about 1.1 µs against 1.3 and 1.8), `JSON.stringify`;
 * - batches of at most 2000 records and 1 MiB of JSON (effect-mixpanel's defaults), each body `[a,b,...]`
 *   gzipped once at level 1 in Node's thread pool (`zlib.gzip`), as effect-mixpanel does;
 * - POSTs each to `/import?strict=1&project_id=…` with the service account's Basic auth, through a
 *   keep-alive agent, 4 requests in flight; reading stops while 8 batches are held (gzipping, sending,
 *   or waiting to retry), as effect-mixpanel's engine holds them;
 * - retries a transport error, 408, 429 or 5xx with the same body after the `Retry-After` seconds when
 *   the answer gives them, else 2 s doubling up to 60 s, without the 1 to 5 s of jitter Mixpanel advises
 *   (a lower bound); a batch waiting out its delay holds no request slot. 10 retries at most; a request
 *   silent for 10 s is a transport error.
 *
 * It exits 0 when every batch was accepted, 1 otherwise. No validation beyond `JSON.parse`, no order of
 * confirmation, no checkpoint, no rejects file, no progress output, and V8 at its defaults: the floor of
 * the work, not of memory (its peak is above effect-mixpanel's, which tunes the collector).
 *
 * `node bench/import/floor.mjs <file>`, with MIXPANEL_SERVICE_ACCOUNT_USERNAME,
 * MIXPANEL_SERVICE_ACCOUNT_SECRET, MIXPANEL_PROJECT_ID and MIXPANEL_BASE_URL (the origin) set, as the
 * bench sets them for effect-mixpanel.
 */
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import { pipeline } from "node:stream"
import { promisify } from "node:util"
import * as Zlib from "node:zlib"

const maxRecords = 2000
const maxBytes = 1024 * 1024
const inFlight = 4
const maxHeld = 2 * inFlight
const maxRetries = 10
/** effect-mixpanel's default request timeout: a request silent this long is a transport error. */
const requestTimeout = 10_000

const file = process.argv[2]
const env = process.env
const origin = new URL(env.MIXPANEL_BASE_URL ?? "https://api.mixpanel.com")
const client = origin.protocol === "https:" ? Https : Http
const agent = new client.Agent({ keepAlive: true, maxSockets: inFlight })
const path = `/import?strict=1&project_id=${encodeURIComponent(env.MIXPANEL_PROJECT_ID ?? "")}`
const account = `${env.MIXPANEL_SERVICE_ACCOUNT_USERNAME ?? ""}:${env.MIXPANEL_SERVICE_ACCOUNT_SECRET ?? ""}`
const authorization = `Basic ${Buffer.from(account).toString("base64")}`
const gzip = promisify(Zlib.gzip)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const fail = (error) => {
  console.error(`floor: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

/** One request: its status (0 for a transport error) and `Retry-After`. */
const post = (body) =>
  new Promise((resolve) => {
    const request = client.request(
      {
        agent,
        protocol: origin.protocol,
        hostname: origin.hostname,
        port: origin.port,
        path,
        method: "POST",
        timeout: requestTimeout,
        headers: {
          authorization,
          "content-type": "application/json",
          "content-encoding": "gzip",
          "content-length": body.length
        }
      },
      (response) => {
        response.resume()
        response.on("end", () => resolve({ status: response.statusCode, retryAfter: response.headers["retry-after"] }))
        response.on("error", () => resolve({ status: 0 }))
      }
    )
    request.on("timeout", () => request.destroy())
    request.on("error", () => resolve({ status: 0 }))
    request.end(body)
  })

// Request slots: at most `inFlight` requests at once, handed over in turn.
let active = 0
const queued = []
const acquire = () => {
  if (active < inFlight) {
    active++
    return Promise.resolve()
  }
  return new Promise((resolve) => queued.push(resolve))
}
const release = () => {
  const next = queued.shift()
  if (next === undefined) active--
  else next()
}

/** Sends one gzipped body until it is accepted. */
const deliver = async (body) => {
  for (let retries = 0; ; retries++) {
    await acquire()
    const { status, retryAfter } = await post(body)
    release()
    if (status === 200) return
    if (!(status === 0 || status === 408 || status === 429 || status >= 500) || retries === maxRetries)
      throw new Error(`a batch failed with status ${status} after ${retries} retries`)
    const seconds = Number.parseInt(retryAfter ?? "", 10)
    await sleep(Number.isFinite(seconds) ? seconds * 1000 : Math.min(2000 * 2 ** retries, 60_000))
  }
}

// Batches held (from gzip to acceptance); the reader waits while `maxHeld` are.
let held = 0
let unblock
const sending = new Set()
const send = async (records) => {
  if (held === maxHeld) await new Promise((resolve) => (unblock = resolve))
  held++
  const work = gzip(`[${records.join(",")}]`, { level: 1 })
    .then(deliver)
    .then(() => {
      held--
      sending.delete(work)
      unblock?.()
      unblock = undefined
    }, fail)
  sending.add(work)
}

let records = []
let bytes = 2
const add = (line) => {
  const event = JSON.parse(line)
  const properties = event.properties
  properties.time *= 1000
  properties.$insert_id ??= createHash("sha1").update(line).digest("hex").slice(0, 32)
  const json = JSON.stringify(event)
  const size = Buffer.byteLength(json)
  let waiting
  if (records.length === maxRecords || (records.length > 0 && bytes + 1 + size > maxBytes)) {
    waiting = send(records)
    records = []
    bytes = 2
  }
  bytes += (records.length > 0 ? 1 : 0) + size
  records.push(json)
  return waiting
}

const input = createReadStream(file, { highWaterMark: 64 * 1024 })
const text = file.endsWith(".gz")
  ? pipeline(input, Zlib.createGunzip({ chunkSize: 64 * 1024 }), (error) => error && fail(error))
  : input
text.setEncoding("utf8")
let rest = ""
for await (const chunk of text) {
  const lines = rest + chunk
  let start = 0
  for (let end = lines.indexOf("\n"); end !== -1; end = lines.indexOf("\n", start)) {
    // `add` returns a promise only when it closes a batch, which waits while `maxHeld` are held
    const waiting = end > start ? add(lines.slice(start, end)) : undefined
    if (waiting !== undefined) await waiting
    start = end + 1
  }
  rest = lines.slice(start)
}
if (rest.trim() !== "") await add(rest)
if (records.length > 0) await send(records)
await Promise.all(sending)
agent.destroy()
