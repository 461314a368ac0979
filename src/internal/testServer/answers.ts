/**
 * The answers of the test server, written as Mixpanel writes them (`MIXPANEL_API.md`, "Responses").
 */
import * as Http from "node:http"

/** One HTTP answer. */
export interface Answer {
  readonly status: number
  readonly body: string
  readonly json: boolean
  readonly headers?: Record<string, string>
}

/** One row of a strict `/import`'s `failed_records`; `insert_id` only when the record had a string one. */
export interface FailedRecord {
  readonly index: number
  readonly insert_id?: string
  readonly field: string
  readonly message: string
}

/** The reason phrase of a status, with Mixpanel's wording for 413 (Node says "Payload Too Large"). */
export const statusText = (status: number): string =>
  status === 413 ? "Request Entity Too Large" : (Http.STATUS_CODES[status] ?? "Error")

/** Mixpanel's JSON error body: `{"code":N,"error":"...","status":"<reason phrase>"}`. */
export const mixpanelError = (code: number, error: string): string =>
  JSON.stringify({ code, error, status: statusText(code) })

export const rateLimitBody = JSON.stringify({
  code: 429,
  error: "Project exceeded rate limits. Please retry the request with exponential backoff.",
  status: "Too Many Requests"
})

const jsonAnswer = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body), json: true })

export const errorAnswer = (status: number, error: string): Answer => ({
  status,
  body: mixpanelError(status, error),
  json: true
})

export const unauthorized: Answer = errorAnswer(401, "Invalid credentials")

export const tooManyBytes = (maxBytes: number): Answer =>
  errorAnswer(413, `request exceeds max limit of ${maxBytes} bytes`)

/** `/track`, `/engage`, `/groups`: `1`, or `{"status":1,"error":null}` with `verbose=1`. */
export const liveOk = (verbose: boolean): Answer =>
  verbose ? jsonAnswer(200, { status: 1, error: null }) : { status: 200, body: "1", json: false }

/** `/track`, `/engage`, `/groups` refusing: `0`, or `{"status":0,"error":"..."}` with `verbose=1`. */
export const liveRefused = (status: number, verbose: boolean, error: string): Answer =>
  verbose ? jsonAnswer(status, { status: 0, error }) : { status, body: "0", json: false }

/** `/import`: 200 `{"code":200,"num_records_imported":N,"status":"OK"}`. */
export const importOk = (imported: number): Answer =>
  jsonAnswer(200, { code: 200, num_records_imported: imported, status: "OK" })

/** A strict `/import` with bad records: 400, the good ones imported all the same. */
export const importFailed = (imported: number, failed: ReadonlyArray<FailedRecord>): Answer =>
  jsonAnswer(400, {
    code: 400,
    error: "some data points in the request failed validation",
    status: "Bad Request",
    num_records_imported: imported,
    failed_records: failed
  })

/** A request refused as a whole, in the endpoint's own form. */
export const refuseRequest = (isImport: boolean, verbose: boolean, status: number, error: string): Answer =>
  isImport ? errorAnswer(status, error) : liveRefused(status, verbose, error)

export const write = (res: Http.ServerResponse, answer: Answer): void => {
  if (res.destroyed || res.writableEnded) return
  res.writeHead(answer.status, {
    "content-type": answer.json ? "application/json" : "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(answer.body),
    ...answer.headers
  })
  res.end(answer.body)
}
