/**
 * The credentials the test server takes: HTTP Basic on `/import` (a service account with its
 * `project_id`, the API secret, or the project token), and the token on the flags routes.
 */
import type * as Api from "../../MixpanelTestServer.js"

/** The user and password of an HTTP Basic `Authorization` header. */
export const basic = (
  header: string | undefined
): { readonly user: string; readonly password: string | undefined } | undefined => {
  const match = header === undefined ? null : /^Basic\s+(\S+)\s*$/i.exec(header)
  if (match === null) return undefined
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  return colon < 0
    ? { user: decoded, password: undefined }
    : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

const isServiceAccount = (
  auth: Api.Auth | undefined,
  user: string,
  password: string | undefined,
  projectId: string | null
): boolean => {
  const account = auth?.serviceAccount
  return (
    account !== undefined &&
    user === account.username &&
    password === account.secret &&
    projectId === String(account.projectId)
  )
}

/** `/import`: the service account with its `project_id`, `apiSecret:`, or `token:` without `project_id`. */
export const importAuthorized = (auth: Api.Auth, header: string | undefined, projectId: string | null): boolean => {
  const credentials = basic(header)
  if (credentials === undefined || credentials.password === undefined) return false
  const { password, user } = credentials
  if (password !== "") return isServiceAccount(auth, user, password, projectId)
  if (auth.apiSecret !== undefined && user === auth.apiSecret) return true
  return auth.token !== undefined && user === auth.token && projectId === null
}

/** The flags routes: the token, when the server has one, as the `token` parameter and in the credentials. */
export const flagsAuthorized = (options: Api.Options, url: URL, header: string | undefined): boolean => {
  if (options.token === undefined) return true
  if (url.searchParams.get("token") !== options.token) return false
  const credentials = basic(header)
  if (credentials === undefined) return false
  if (credentials.user === options.token && credentials.password === "") return true
  return isServiceAccount(options.auth, credentials.user, credentials.password, url.searchParams.get("project_id"))
}
