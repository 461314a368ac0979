/**
 * JsonLogic, as the runtime rules of Mixpanel's flags use it: the semantics of `json-logic-js` 2.0.5 (what
 * the official Node SDK evaluates rules with), including JavaScript's coercions, plus Mixpanel's two
 * custom operators `semver_compare` and `datetime_compare`.
 *
 * Written against the reference's behaviour, not its code: the conformance cases in
 * `test/flags/cases/` are computed by the reference and checked here. Values are JSON from the flag
 * definition and the caller's context; JavaScript operators are applied to them as they are (the casts
 * below only tell the compiler what JavaScript does anyway), because that is what "the same answer as
 * the official SDK" means for rules such as `{"<": ["10", 9]}`.
 *
 * `apply` throws where the reference throws (an unknown operator, `reduce` of nothing); the caller treats
 * a throw as "the rule is not satisfied", as the SDK does.
 */

type Operation = (data: unknown, args: ReadonlyArray<unknown>) => unknown

/** JsonLogic truthiness: JavaScript's, except that an empty array is false. */
export const truthy = (value: unknown): boolean => (Array.isArray(value) && value.length === 0 ? false : Boolean(value))

const isLogic = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1

const asNumber = (value: unknown): number => value as number
const asString = (value: unknown): string => value as string

/** `{"var": "a.b"}`: a dotted path into the data, with an optional default; `""` or `null` is the data itself. */
const variable = (data: unknown, path: unknown, fallback: unknown): unknown => {
  const notFound = fallback === undefined ? null : fallback
  if (path === undefined || path === "" || path === null) return data
  let current = data
  for (const segment of String(path).split(".")) {
    if (current === null || current === undefined) return notFound
    // a plain property read, prototype included, as the reference does
    current = (current as Record<string, unknown>)[segment]
    if (current === undefined) return notFound
  }
  return current
}

const missing = (data: unknown, args: ReadonlyArray<unknown>): Array<unknown> => {
  const keys = Array.isArray(args[0]) ? (args[0] as ReadonlyArray<unknown>) : args
  const absent: Array<unknown> = []
  for (const key of keys) {
    const value = apply({ var: key }, data)
    if (value === null || value === "") absent.push(key)
  }
  return absent
}

const contains = (needle: unknown, haystack: unknown): boolean => {
  if (!haystack) return false
  const indexOf = (haystack as { readonly indexOf?: unknown }).indexOf
  if (indexOf === undefined) return false
  if (typeof indexOf !== "function") throw new TypeError("indexOf is not a function")
  return indexOf.call(haystack, needle) !== -1
}

const substring = (source: unknown, start: unknown, length: unknown): string => {
  const text = String(source)
  const from = asNumber(start)
  if (asNumber(length) < 0) {
    // a negative length counts back from the end, as PHP does
    const tail = text.substr(from)
    return tail.substr(0, tail.length + asNumber(length))
  }
  return text.substr(from, asNumber(length))
}

// ---------------------------------------------------------------------------------------------------
// Mixpanel's custom operators
// ---------------------------------------------------------------------------------------------------

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

const semverCompare: Operation = (_, args) => {
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

const datetimeCompare: Operation = (_, args) => {
  if (args.length !== 3) return false
  const [actual, symbol, target] = args
  const a = rfc3339Seconds(actual)
  const b = epochSeconds(target)
  if (a === undefined || b === undefined) return false
  return compare(a - b, symbol)
}

// ---------------------------------------------------------------------------------------------------
// operators whose arguments are evaluated first
// ---------------------------------------------------------------------------------------------------

const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's == is JavaScript's loose equality
  ["==", (_, [a, b]) => a == b],
  ["===", (_, [a, b]) => a === b],
  // biome-ignore lint/suspicious/noDoubleEquals: JsonLogic's != is JavaScript's loose inequality
  ["!=", (_, [a, b]) => a != b],
  ["!==", (_, [a, b]) => a !== b],
  [">", (_, [a, b]) => asNumber(a) > asNumber(b)],
  [">=", (_, [a, b]) => asNumber(a) >= asNumber(b)],
  [
    "<",
    (_, [a, b, c]) =>
      c === undefined ? asNumber(a) < asNumber(b) : asNumber(a) < asNumber(b) && asNumber(b) < asNumber(c)
  ],
  [
    "<=",
    (_, [a, b, c]) =>
      c === undefined ? asNumber(a) <= asNumber(b) : asNumber(a) <= asNumber(b) && asNumber(b) <= asNumber(c)
  ],
  ["!!", (_, [a]) => truthy(a)],
  ["!", (_, [a]) => !truthy(a)],
  ["%", (_, [a, b]) => asNumber(a) % asNumber(b)],
  // the reference prints its argument; a library has no business writing to the console
  ["log", (_, [a]) => a],
  ["in", (_, [a, b]) => contains(a, b)],
  ["cat", (_, args) => args.join("")],
  ["substr", (_, [source, start, length]) => substring(source, start, length)],
  [
    "+",
    (_, args) => args.reduce<number>((sum, b) => Number.parseFloat(asString(sum)) + Number.parseFloat(asString(b)), 0)
  ],
  // without an initial value: one argument comes back as it is, none throws (as in the reference)
  [
    "*",
    (_, args) => args.reduce((product, b) => Number.parseFloat(asString(product)) * Number.parseFloat(asString(b)))
  ],
  ["-", (_, [a, b]) => (b === undefined ? -asNumber(a) : asNumber(a) - asNumber(b))],
  ["/", (_, [a, b]) => asNumber(a) / asNumber(b)],
  ["min", (_, args) => Math.min(...(args as ReadonlyArray<number>))],
  ["max", (_, args) => Math.max(...(args as ReadonlyArray<number>))],
  ["merge", (_, args) => args.reduce<Array<unknown>>((all, b) => all.concat(b), [])],
  ["var", (data, [path, fallback]) => variable(data, path, fallback)],
  ["missing", missing],
  [
    "missing_some",
    (data, [needed, keys]) => {
      const absent = apply({ missing: keys }, data) as ReadonlyArray<unknown>
      return asNumber((keys as ReadonlyArray<unknown>).length) - absent.length >= asNumber(needed) ? [] : absent
    }
  ],
  ["semver_compare", semverCompare],
  ["datetime_compare", datetimeCompare]
])

// ---------------------------------------------------------------------------------------------------
// operators that control the evaluation of their arguments
// ---------------------------------------------------------------------------------------------------

type Special = (args: ReadonlyArray<unknown>, data: unknown) => unknown

const conditional: Special = (args, data) => {
  let i = 0
  for (; i < args.length - 1; i += 2) {
    if (truthy(apply(args[i], data))) return apply(args[i + 1], data)
  }
  return args.length === i + 1 ? apply(args[i], data) : null
}

/** The array that `filter`, `map`, `all`, ... iterate: their first argument, evaluated. */
const scoped = (args: ReadonlyArray<unknown>, data: unknown): ReadonlyArray<unknown> | undefined => {
  const items = apply(args[0], data)
  return Array.isArray(items) ? items : undefined
}

const specials: ReadonlyMap<string, Special> = new Map<string, Special>([
  ["if", conditional],
  ["?:", conditional],
  [
    "and",
    (args, data) => {
      let current: unknown
      for (const arg of args) {
        current = apply(arg, data)
        if (!truthy(current)) return current
      }
      return current
    }
  ],
  [
    "or",
    (args, data) => {
      let current: unknown
      for (const arg of args) {
        current = apply(arg, data)
        if (truthy(current)) return current
      }
      return current
    }
  ],
  ["filter", (args, data) => scoped(args, data)?.filter((item) => truthy(apply(args[1], item))) ?? []],
  ["map", (args, data) => scoped(args, data)?.map((item) => apply(args[1], item)) ?? []],
  [
    "reduce",
    (args, data) => {
      const initial = args[2] === undefined ? null : apply(args[2], data)
      const items = scoped(args, data)
      if (items === undefined) return initial
      return items.reduce((accumulator, current) => apply(args[1], { current, accumulator }), initial)
    }
  ],
  [
    "all",
    (args, data) => {
      const items = scoped(args, data)
      if (items === undefined || items.length === 0) return false
      return items.every((item) => truthy(apply(args[1], item)))
    }
  ],
  [
    "none",
    (args, data) => {
      const items = scoped(args, data)
      if (items === undefined || items.length === 0) return true
      return !items.some((item) => truthy(apply(args[1], item)))
    }
  ],
  [
    "some",
    (args, data) => {
      const items = scoped(args, data)
      if (items === undefined || items.length === 0) return false
      return items.some((item) => truthy(apply(args[1], item)))
    }
  ]
])

/**
 * Evaluates `rule` against `data`. An array is evaluated item by item; an object with exactly one key is
 * an operation; anything else is a literal.
 */
export const apply = (rule: unknown, data: unknown): unknown => {
  if (Array.isArray(rule)) return rule.map((item) => apply(item, data))
  if (!isLogic(rule)) return rule
  const operator = Object.keys(rule)[0] ?? ""
  const raw = rule[operator]
  const args: ReadonlyArray<unknown> = Array.isArray(raw) ? raw : [raw]
  const special = specials.get(operator)
  if (special !== undefined) return special(args, data)
  const operation = operations.get(operator)
  // dotted names (`a.b`) reach into no operator namespace here: like every other unknown name, they throw
  if (operation === undefined) throw new Error(`Unrecognized operation ${operator}`)
  return operation(
    data,
    args.map((arg) => apply(arg, data))
  )
}
