/**
 * JsonLogic, as the runtime rules of Mixpanel's flags use it: `json-logic-js` (the evaluator the official
 * Node SDK uses, at the same version), plus Mixpanel's two custom operators `semver_compare` and
 * `datetime_compare`, written against the reference's behaviour (the conformance cases in
 * `test/flags/cases/` are computed by the reference and checked here).
 *
 * `apply` throws where the reference throws (an unknown operator, `reduce` of nothing); the caller treats
 * a throw as "the rule is not satisfied", as the SDK does.
 */
import jsonLogic from "json-logic-js"

const compare = (difference: number, symbol: unknown): boolean => {
  switch (symbol) {
    case "===":
      return difference === 0
    case "!==":
      return difference !== 0
    case "<":
      return difference < 0
    case "<=":
      return difference <= 0
    case ">":
      return difference > 0
    case ">=":
      return difference >= 0
    default:
      return false
  }
}

/** The SemVer 2.0.0 grammar (semver.org). */
const semverGrammar =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

/** Longer operands are refused before any regular expression sees them. */
const maxSemverLength = 256

/** Strips a leading `v`, and pads `1` or `1.2` to three parts, keeping any `-pre` or `+build` suffix. */
const padSemver = (version: string): string => {
  const text = version.trim().replace(/^[vV]/, "")
  const dash = text.indexOf("-")
  const plus = text.indexOf("+")
  const cut = Math.min(dash < 0 ? text.length : dash, plus < 0 ? text.length : plus)
  const parts = text.slice(0, cut).split(".")
  while (parts.length < 3) parts.push("0")
  return `${parts.join(".")}${text.slice(cut)}`
}

/** Digit strings without leading zeros: the longer is larger, and equal lengths compare as text. */
const compareDigits = (a: string, b: string): number =>
  a.length !== b.length ? (a.length < b.length ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0

const isDigits = (text: string): boolean => /^[0-9]+$/.test(text)

const comparePrerelease = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number => {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? ""
    const y = b[i] ?? ""
    const numeric = [isDigits(x), isDigits(y)] as const
    const order =
      numeric[0] && numeric[1] ? compareDigits(x, y) : numeric[0] ? -1 : numeric[1] ? 1 : x < y ? -1 : x > y ? 1 : 0
    if (order !== 0) return order
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

const splitVersion = (version: string) => {
  const plus = version.indexOf("+")
  const withoutBuild = plus < 0 ? version : version.slice(0, plus)
  const dash = withoutBuild.indexOf("-")
  return dash < 0
    ? { core: withoutBuild.split("."), prerelease: [] }
    : { core: withoutBuild.slice(0, dash).split("."), prerelease: withoutBuild.slice(dash + 1).split(".") }
}

const compareVersions = (a: string, b: string): number => {
  const x = splitVersion(a)
  const y = splitVersion(b)
  for (let i = 0; i < 3; i++) {
    const order = compareDigits(x.core[i] ?? "", y.core[i] ?? "")
    if (order !== 0) return order
  }
  return comparePrerelease(x.prerelease, y.prerelease)
}

const semverCompare = (...args: ReadonlyArray<unknown>): boolean => {
  if (args.length !== 3) return false
  const [actual, symbol, target] = args
  if (typeof actual !== "string" || typeof target !== "string") return false
  if (actual.length > maxSemverLength || target.length > maxSemverLength) return false
  const a = padSemver(actual)
  const b = padSemver(target)
  if (!semverGrammar.test(a) || !semverGrammar.test(b)) return false
  return compare(compareVersions(a, b), symbol)
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Whether the year, month and day name a real date (no 30 February), and the hour is 0 to 23. */
const isCalendarDate = (year: number, month: number, day: number, hour: number): boolean => {
  if (hour > 23) return false
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** An RFC 3339 date-time as whole seconds since the epoch, or `undefined`. */
const rfc3339Seconds = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined
  const text = value.trim().toUpperCase()
  const match = rfc3339.exec(text)
  if (match === null) return undefined
  if (!isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4]))) return undefined
  const millis = Date.parse(text)
  return Number.isNaN(millis) ? undefined : Math.floor(millis / 1000)
}

/** 2^63: epoch milliseconds beyond a signed 64-bit integer are no time at all. */
const int64Limit = 2 ** 63

/** Epoch milliseconds (the flag's side of the comparison) as whole seconds, or `undefined`. */
const epochSeconds = (value: unknown): number | undefined => {
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined
  if (value >= int64Limit || value <= -int64Limit) return undefined
  return Math.trunc(value / 1000)
}

const datetimeCompare = (...args: ReadonlyArray<unknown>): boolean => {
  if (args.length !== 3) return false
  const [actual, symbol, target] = args
  const a = rfc3339Seconds(actual)
  const b = epochSeconds(target)
  if (a === undefined || b === undefined) return false
  return compare(a - b, symbol)
}

let registered = false

/** Adds Mixpanel's operators to json-logic-js, once (its operator table is shared by the process). */
const register = () => {
  if (registered) return
  jsonLogic.add_operation("semver_compare", semverCompare)
  jsonLogic.add_operation("datetime_compare", datetimeCompare)
  registered = true
}

/** JsonLogic truthiness: JavaScript's, except that an empty array is false. */
export const truthy = (value: unknown): boolean => jsonLogic.truthy(value)

/** Evaluates `rule` against `data`. */
export const apply = (rule: unknown, data: unknown): unknown => {
  register()
  return jsonLogic.apply(rule as jsonLogic.RulesLogic, data)
}
