/**
 * The test server's request log: one entry per request, written once however the request ends, with the
 * credentials it carried redacted, so that a test printing `requests()` never prints a secret.
 */
import type * as Http from "node:http"
import type * as Api from "../../MixpanelTestServer.js"
import { basic } from "./auth.js"

const redacted = "<redacted>"

/**
 * An `Authorization` header without its secret: the scheme, and for HTTP Basic the user when a password
 * follows it (a service account's username, `Basic sa.user:<redacted>`). A user with an empty password is
 * an API secret or a project token, and is redacted itself (`Basic <redacted>:`).
 */
const redactAuthorization = (header: string): string => {
  const credentials = basic(header)
  if (credentials === undefined) {
    const scheme = /^\S+(?=\s)/.exec(header.trim())?.[0]
    return scheme === undefined ? redacted : `${scheme} ${redacted}`
  }
  if (credentials.password === undefined) return `Basic ${redacted}`
  return credentials.password === "" ? `Basic ${redacted}:` : `Basic ${credentials.user}:${redacted}`
}

const credentialHeaders: ReadonlySet<string> = new Set(["authorization", "proxy-authorization"])

/** Query parameters that carry a Mixpanel secret (the legacy `api_key`, the export API's `api_secret`). */
const credentialParams: ReadonlySet<string> = new Set(["api_key", "api_secret"])

const headerRecord = (headers: Http.IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) => {
      if (value === undefined) return []
      const text = Array.isArray(value) ? value.join(", ") : value
      return [[name, credentialHeaders.has(name) ? redactAuthorization(text) : text]]
    })
  )

const queryRecord = (params: URLSearchParams): Record<string, string> =>
  Object.fromEntries(Array.from(params, ([name, value]) => [name, credentialParams.has(name) ? redacted : value]))

/** How one request reaches the log: `saw` its size and items as far as they were read, `record` it once. */
export interface Logging {
  readonly saw: (bytes: number, items: number) => void
  readonly record: (status: number | undefined) => void
}

export interface RequestLog {
  readonly logging: (
    req: Http.IncomingMessage,
    url: URL,
    route: Api.Route | undefined,
    fault: Api.Fault | undefined
  ) => Logging
  readonly requests: () => ReadonlyArray<Api.RecordedRequest>
  readonly clear: () => void
}

export const makeRequestLog = (): RequestLog => {
  let log: Array<Api.RecordedRequest> = []
  return {
    logging: (req, url, route, fault) => {
      let seen = { bytes: 0, items: 0 }
      let logged = false
      return {
        saw: (bytes, items) => {
          seen = { bytes, items }
        },
        record: (status) => {
          if (logged) return
          logged = true
          log.push({
            endpoint: route,
            method: req.method ?? "GET",
            path: url.pathname,
            query: queryRecord(url.searchParams),
            headers: headerRecord(req.headers),
            ...seen,
            status,
            ...(fault !== undefined ? { fault } : {})
          })
        }
      }
    },
    requests: () => log.slice(),
    clear: () => {
      log = []
    }
  }
}
