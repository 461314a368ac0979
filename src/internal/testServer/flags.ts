/**
 * The feature flags API of the test server: `GET /flags/definitions` and `GET /flags`, answered with what
 * a test set.
 */
import type * as Api from "../../MixpanelTestServer.js"
import { type Answer, errorAnswer, unauthorized } from "./answers.js"
import { flagsAuthorized } from "./auth.js"
import { isObject } from "./verdict.js"

/** What the flags routes serve; a test changes it at any time. */
export interface FlagsState {
  definitions: ReadonlyArray<unknown>
  remote: Api.RemoteFlags
}

/** The answer to a flags request, and how many flags it holds. */
export const serveFlags = async (
  options: Api.Options,
  state: FlagsState,
  route: Api.FlagsRoute,
  url: URL,
  authorization: string | undefined
): Promise<readonly [Answer, number]> => {
  if (!flagsAuthorized(options, url, authorization)) return [unauthorized, 0]
  if (route === "flagDefinitions") {
    return [
      { status: 200, body: JSON.stringify({ code: 200, flags: state.definitions }), json: true },
      state.definitions.length
    ]
  }
  let context: unknown
  try {
    context = JSON.parse(url.searchParams.get("context") ?? "")
  } catch {
    return [errorAnswer(400, "context must be a JSON object"), 0]
  }
  if (!isObject(context) || typeof context.distinct_id !== "string") {
    return [errorAnswer(400, "distinct_id must be provided in evalContext as a string"), 0]
  }
  const flagKey = url.searchParams.get("flag_key") ?? undefined
  // a function may answer with a promise (an async function): awaited, as the route is
  const all = typeof state.remote === "function" ? await state.remote({ context, flagKey }) : state.remote
  // a key whose value is `undefined` is no flag; `fromEntries` defines keys (a `__proto__` stays a key)
  const flags = Object.fromEntries(
    Object.entries(all).filter(([key, variant]) => variant !== undefined && (flagKey === undefined || key === flagKey))
  )
  return [{ status: 200, body: JSON.stringify({ code: 200, flags }), json: true }, Object.keys(flags).length]
}
