/**
 * The one walk over caller data that decides whether it can be JSON, and turns `Date`s into the seed's
 * `YYYY-MM-DDTHH:MM:SS` (UTC). It copies only what it has to change: data without dates comes back as
 * the same reference, so the common case allocates nothing.
 */

/** Nesting deeper than this cannot be meant, and would overflow the stack of `JSON.stringify`. */
export const maxDepth = 100

/** Where a walk failed: the path from the walked value, and why. */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly detail: string
}

const failed: unique symbol = Symbol.for("effect-mixpanel/internal/json/failed")

/** Mutable state of one walk: the objects being visited (to find cycles), and the failure, if any. */
interface Walk {
  readonly dates: "format" | "keep"
  readonly stack: Array<object>
  path: Array<PropertyKey>
  detail: string
}

const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/**
 * `YYYY-MM-DDTHH:MM:SS` in UTC, as the seed's `DatetimeSerializer` writes dates: `toISOString` without
 * its milliseconds and zone, built by hand for four-digit years because that is three times faster.
 */
export const formatDate = (date: Date): string => {
  const year = date.getUTCFullYear()
  if (year < 1000 || year > 9999) return date.toISOString().slice(0, 19)
  return `${year}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
}

const fail = (walk: Walk, detail: string): typeof failed => {
  walk.detail = detail
  return failed
}

const describe = (value: object): string => {
  const name = Object.getPrototypeOf(value)?.constructor?.name
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a custom prototype"
}

const walkValue = (value: unknown, walk: Walk): unknown => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value
    case "number":
      return Number.isFinite(value)
        ? value
        : fail(walk, `${value} is not a finite number, and JSON has no place for it`)
    case "undefined":
      return fail(walk, "undefined is not a JSON value; leave the property out or use null")
    case "bigint":
      return fail(walk, "a bigint is not a JSON value; pass a number or a string")
    case "function":
      return fail(walk, "a function is not a JSON value")
    case "symbol":
      return fail(walk, "a symbol is not a JSON value")
    case "object":
      return value === null ? null : walkObject(value, walk)
  }
}

const walkObject = (value: object, walk: Walk): unknown => {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return fail(walk, "an invalid Date")
    return walk.dates === "format" ? formatDate(value) : value
  }
  const stack = walk.stack
  if (stack.includes(value)) return fail(walk, "a circular reference")
  if (stack.length >= maxDepth) return fail(walk, `nested more than ${maxDepth} levels deep`)
  stack.push(value)
  const result = Array.isArray(value) ? walkArray(value, walk) : walkRecord(value, walk)
  stack.pop()
  return result
}

const walkArray = (array: ReadonlyArray<unknown>, walk: Walk): unknown => {
  let copy: Array<unknown> | undefined
  for (let i = 0; i < array.length; i++) {
    const item = array[i]
    const result = walkValue(item, walk)
    if (result === failed) {
      walk.path.push(i)
      return failed
    }
    if (result !== item) {
      copy ??= array.slice()
      copy[i] = result
    }
  }
  return copy ?? array
}

const walkRecord = (record: object, walk: Walk): unknown => {
  const proto = Object.getPrototypeOf(record)
  if (proto !== Object.prototype && proto !== null) {
    return fail(walk, `${describe(record)} is not a JSON value; pass a plain object`)
  }
  let copy: Record<string, unknown> | undefined
  for (const key in record) {
    const item = (record as Record<string, unknown>)[key]
    const result = walkValue(item, walk)
    if (result === failed) {
      walk.path.push(key)
      return failed
    }
    if (result !== item) {
      copy ??= { ...record }
      copy[key] = result
    }
  }
  return copy ?? record
}

/**
 * Checks that `value` is a JSON value (with valid `Date`s allowed) and returns it with its dates formatted
 * or kept as they are. Returns an `Issue` on failure.
 */
export const toJson = (value: unknown, dates: "format" | "keep"): { readonly value: unknown } | Issue => {
  const walk: Walk = { dates, stack: [], path: [], detail: "" }
  const result = walkValue(value, walk)
  return result === failed ? { path: walk.path.reverse(), detail: walk.detail } : { value: result }
}

/** Distinguishes the two outcomes of `toJson`. */
export const isIssue = (result: { readonly value: unknown } | Issue): result is Issue => "detail" in result

/** The size in bytes of `text` encoded as UTF-8, as it will go on the wire. */
export const utf8Length: (text: string) => number =
  typeof Buffer === "function"
    ? (text) => Buffer.byteLength(text, "utf8")
    : (() => {
        const encoder = new TextEncoder()
        return (text) => encoder.encode(text).length
      })()

/** A path as a caller reads it: `properties.cart[2].price`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else {
      const name = String(key)
      out += /^[A-Za-z_$][\w$]*$/.test(name) ? (out === "" ? name : `.${name}`) : `[${JSON.stringify(name)}]`
    }
  }
  return out
}
