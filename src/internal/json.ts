/**
 * The one reading of caller data. A walk takes a snapshot of a value as plain JSON data (dates formatted as
 * the seed's `YYYY-MM-DDTHH:MM:SS`, kept, or kept to be formatted when written), reading each property once
 * (unless reading one throws: the object is then read again a property at a time, to name it), inside a
 * guard: a getter, a Proxy trap or a `toJSON` that throws, a cycle, nesting past `maxDepth`, more than
 * `maxBytes` of text, a value JSON has no place for — each is an `Issue` at its path, never an exception.
 * Only own enumerable string keys are written, so `constructor` and `toString` are ordinary names;
 * `__proto__` is refused, because a JavaScript object given that key changes its prototype instead of
 * keeping it.
 */

/** Nesting deeper than this cannot be meant, and would overflow the stack of `JSON.stringify`. */
export const maxDepth = 100

/**
 * Whether the JSON `text` nests arrays and objects more than `levels` deep (brackets inside strings do not
 * count): a scan of the text, for text not parsed yet, as deep nesting overflows the stack of whatever
 * recurses into it.
 */
export const nestsDeeperThan = (text: string, levels: number): boolean => {
  if (text.length <= 2 * levels) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === backslash) i++
      else if (c === quote) inString = false
    } else if (c === quote) inString = true
    else if (c === openBrace || c === openBracket) {
      if (++depth > levels) return true
    } else if (c === closeBrace || c === closeBracket) depth--
  }
  return false
}

const [backslash, quote, openBrace, openBracket, closeBrace, closeBracket] = [92, 34, 123, 91, 125, 93]

/** Mixpanel's limit on one message: under 1 MB of JSON. */
export const maxBytes = 1_000_000

/** Where a walk failed: the path from the walked value, and why (never the value itself). */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly detail: string
}

/** A snapshot: plain data that `JSON.stringify` writes as Mixpanel reads it. */
export interface Snapshot {
  readonly value: unknown
  /**
   * The characters the walk counted: a lower bound of the length of the value's JSON (a number counts
   * as one character, a date as none).
   */
  readonly size: number
}

const failed: unique symbol = Symbol.for("effect-mixpanel/internal/json/failed")

/**
 * What a walk makes of a date: its text in the seed's format (`"format"`), a copy (`"keep"`), or its time
 * in a `LaterDate`, which `JSON.stringify` writes in the seed's format (`"later"`: the text is made when
 * the JSON is written).
 */
export type Dates = "format" | "keep" | "later"

/** Mutable state of one walk. */
interface Walk {
  readonly dates: Dates
  readonly stack: Array<object>
  readonly path: Array<PropertyKey>
  detail: string
  /** Characters of text still allowed (a character is at least one byte of JSON). */
  budget: number
}

const msPerDay = 86_400_000

/** The character codes of the tens and the ones digit of `n` (0 to 99). */
const tens = (n: number): number => 48 + Math.floor(n / 10)
const ones = (n: number): number => 48 + (n % 10)

/**
 * `YYYY-MM-DDTHH:MM:SS` in UTC of a time in milliseconds, as the seed's `DatetimeSerializer` writes dates:
 * `toISOString` without its milliseconds and zone. For four-digit years, the fields are reckoned from the
 * time (the civil date from the day number, as Howard Hinnant's `civil_from_days`) and the text is made
 * as one string of its 19 character codes: no `Date`, no string but the result. Two dates per bench
 * event: 0.10 µs and 56 bytes allocated per date, against 0.20 µs and 480 bytes through a `Date`'s
 * `getUTC*` fields and a template (docs/benchmarks.md).
 */
export const formatTime = (time: number): string => {
  const ms = Math.trunc(time)
  const days = Math.floor(ms / msPerDay)
  const seconds = Math.floor((ms - days * msPerDay) / 1000)
  const shifted = days + 719_468 // days from 0000-03-01, the start of an era of 400 years
  const era = Math.floor(shifted / 146_097)
  const dayOfEra = shifted - era * 146_097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  if (year < 1000 || year > 9999) {
    const iso = new Date(ms).toISOString() // `+010000-01-01T00:00:00.000Z` past year 9999
    return iso.slice(0, iso.lastIndexOf("."))
  }
  const hour = Math.floor(seconds / 3600)
  const minute = Math.floor((seconds % 3600) / 60)
  const second = seconds % 60
  const century = Math.floor(year / 100)
  // biome-ignore format: the text's 19 characters, a field at a time
  return String.fromCharCode(
    tens(century), ones(century), tens(year % 100), ones(year % 100), 45, // "YYYY-"
    tens(month), ones(month), 45, tens(day), ones(day), 84, // "MM-DDT"
    tens(hour), ones(hour), 58, tens(minute), ones(minute), 58, tens(second), ones(second) // "HH:MM:SS"
  )
}

/**
 * A date copied by a walk in `"later"` mode: its time, written by `JSON.stringify` as `formatTime` writes
 * it. Not a `Date`, which takes 112 bytes where this takes 48: a buffered event waits with its snapshot, and
 * the bench's events (two dates each) wait in about 720 bytes instead of 860. A later walk reads it as the
 * date it stands for (the schemas walk what the fast path snapshotted).
 */
class LaterDate {
  constructor(readonly time: number) {}
  toJSON(): string {
    return formatTime(this.time)
  }
}

/** The time of a date that a walk in `"later"` mode copied, or `undefined` for any other value. */
export const laterTime = (value: unknown): number | undefined => (value instanceof LaterDate ? value.time : undefined)

const fail = (walk: Walk, detail: string): typeof failed => {
  walk.detail = detail
  return failed
}

const spend = (walk: Walk, characters: number): boolean => {
  walk.budget -= characters
  return walk.budget >= 0
}

const tooLargeDetail = `more than ${maxBytes} bytes of JSON, Mixpanel's limit on a message`

const tooLarge = (walk: Walk) => fail(walk, tooLargeDetail)

/**
 * The characters of `value`'s JSON as the walk counts them, counted only up to `cap` (a larger value
 * counts as `cap + 1`), and 0 for what the walk refuses: the failure path's second reading, so its cost
 * stays bounded whatever the value holds.
 */
const countUpTo = (value: unknown, cap: number, depth = 0): number => {
  if (typeof value === "string") return Math.min(value.length + 2, cap + 1)
  if (typeof value !== "object" || value === null) return 5
  if (depth >= maxDepth || value instanceof Date) return 20
  let count = 2
  if (Array.isArray(value)) {
    // by index: the keys of an array of millions would be millions of strings
    for (let i = 0; i < value.length && count <= cap; i++) count += 1 + countUpTo(value[i], cap - count, depth + 1)
    return Math.min(count, cap + 1)
  }
  for (const key of Object.keys(value)) {
    count += key.length + 4 + countUpTo((value as Record<string, unknown>)[key], cap - count, depth + 1)
    if (count > cap) return cap + 1
  }
  return count
}

/**
 * Where most of a message too large lies: the path to the part holding at least half of it, followed down
 * as far as one part holds half of its parent (`properties.notes`), with that part's size, both as `size`
 * measures them (given the most that matters, past which it may stop counting). The failure paths of the
 * walk (characters, `countUpTo`) and of the encoded message (UTF-8 bytes, `encode.ts`) both name it so.
 */
export const largestPart = (
  value: unknown,
  size: (value: unknown, cap: number) => number
): { readonly path: Array<PropertyKey>; readonly size: number } => {
  const path: Array<PropertyKey> = []
  let part = value
  let total = size(part, 2 * maxBytes)
  while (typeof part === "object" && part !== null && !(part instanceof Date) && path.length < maxDepth) {
    const record = part as Record<PropertyKey, unknown>
    let largest: PropertyKey | undefined
    let most = 0
    const weigh = (key: PropertyKey) => {
      const count = size(record[key], total)
      if (count > most) {
        largest = key
        most = count
      }
    }
    if (Array.isArray(part)) for (let i = 0; i < part.length; i++) weigh(i)
    else for (const key of Object.keys(part)) weigh(key)
    if (largest === undefined || 2 * most < total) break
    path.push(largest)
    part = record[largest]
    total = most
  }
  return { path, size: total }
}

/**
 * What kind of object this is, in words that hold none of its contents: its class's name with its article
 * (`a Money`, `an Error`; "an" before A, E, I and O, as a `Uint8Array` or a `URL` is said), or, for a class
 * without a name and an object made from another (`Object.create(defaults)`), what it is.
 */
const kind = (value: object): string => {
  const name = Object.getPrototypeOf(value)?.constructor?.name
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `${/^[AEIO]/.test(name) ? "an" : "a"} ${name}`
    : "an object with a custom prototype"
}

/**
 * Whether `proto` is the `Object.prototype` of another realm (a `node:vm` context, a jest environment, an
 * iframe): it has no prototype, and its own `constructor` is a function named `Object` whose `prototype` it
 * is. Read through descriptors, so that no getter runs.
 */
const isOtherRealmObjectPrototype = (proto: object): boolean => {
  if (Object.getPrototypeOf(proto) !== null) return false
  const make: unknown = Object.getOwnPropertyDescriptor(proto, "constructor")?.value
  return (
    typeof make === "function" &&
    Object.getOwnPropertyDescriptor(make, "name")?.value === "Object" &&
    Object.getOwnPropertyDescriptor(make, "prototype")?.value === proto
  )
}

/** Whether an object of prototype `proto` is a plain object: of any realm's `Object.prototype`, or of none. */
const isPlainPrototype = (proto: object | null): boolean =>
  proto === Object.prototype || proto === null || isOtherRealmObjectPrototype(proto)

/** The time of a `Date` of another realm (which `instanceof Date` does not know), read once; else `undefined`. */
const otherRealmTime = (value: object): number | undefined => {
  try {
    return Date.prototype.getTime.call(value)
  } catch {
    return undefined
  }
}

/** Whether `value` is a `Date` (of this realm or another) holding a time, not an invalid one. */
export const isValidDate = (value: unknown): value is Date => {
  if (typeof value !== "object" || value === null) return false
  const time = otherRealmTime(value)
  return time !== undefined && !Number.isNaN(time)
}

const walkValue = (value: unknown, walk: Walk): unknown => {
  switch (typeof value) {
    case "string":
      return spend(walk, value.length + 2) ? value : tooLarge(walk)
    case "boolean":
      return spend(walk, 5) ? value : tooLarge(walk)
    case "number":
      if (!Number.isFinite(value)) return fail(walk, "not a finite number, and JSON has no place for it")
      return spend(walk, 1) ? value : tooLarge(walk)
    case "undefined":
      return fail(walk, "undefined is not a JSON value; leave the property out or use null")
    case "bigint":
      return fail(walk, "a bigint is not a JSON value; pass a number or a string")
    case "function":
      return fail(walk, "a function is not a JSON value")
    case "symbol":
      return fail(walk, "a symbol is not a JSON value")
    case "object":
      if (value === null) return spend(walk, 4) ? null : tooLarge(walk)
      try {
        return walkObject(value, walk)
      } catch {
        return fail(walk, "reading it threw an exception")
      }
  }
}

const walkObject = (value: object, walk: Walk): unknown => {
  if (value instanceof LaterDate) return walkDate(value.time, value, walk)
  if (value instanceof Date) {
    // the caller's object is read once, through getTime
    const time = value.getTime()
    return Number.isNaN(time) ? fail(walk, "an invalid Date") : walkDate(time, undefined, walk)
  }
  const stack = walk.stack
  if (stack.includes(value)) return fail(walk, "a circular reference")
  if (stack.length >= maxDepth) return fail(walk, `nested more than ${maxDepth} levels deep`)
  if (!spend(walk, 2)) return tooLarge(walk)
  stack.push(value)
  const result = Array.isArray(value) ? walkArray(value, walk) : walkRecord(value, walk)
  stack.pop()
  return result
}

const walkArray = (array: ReadonlyArray<unknown>, walk: Walk): unknown => {
  const length = array.length
  if (!spend(walk, length)) return tooLarge(walk)
  const copy: Array<unknown> = new Array(length)
  for (let i = 0; i < length; i++) {
    let item: unknown
    try {
      item = array[i]
    } catch {
      walk.path.push(i)
      return fail(walk, "reading it threw an exception")
    }
    const result = walkValue(item, walk)
    if (result === failed) {
      walk.path.push(i)
      return failed
    }
    copy[i] = result
  }
  return copy
}

/** A valid date's time as `walk.dates` says; a `LaterDate` is immutable, so `"later"` keeps `later` as it is. */
const walkDate = (time: number, later: LaterDate | undefined, walk: Walk): unknown => {
  switch (walk.dates) {
    case "format":
      return formatTime(time)
    case "keep":
      return new Date(time)
    case "later":
      return later ?? new LaterDate(time)
  }
}

const walkRecord = (record: object, walk: Walk): unknown => {
  const proto = Object.getPrototypeOf(record)
  if (!isPlainPrototype(proto)) {
    const time = otherRealmTime(record)
    if (time !== undefined) return Number.isNaN(time) ? fail(walk, "an invalid Date") : walkDate(time, undefined, walk)
    const instead =
      proto === Set.prototype
        ? "an array (Array.from(set))"
        : proto === Map.prototype
          ? "a plain object (Object.fromEntries(map))"
          : "a plain object"
    return fail(walk, `${kind(record)} is not a JSON value; pass ${instead}`)
  }
  let copy: Record<string, unknown>
  try {
    // the engine's own copy reads every property once, in order, faster than a read per key
    copy = { ...record }
  } catch {
    return walkRecordByKey(record, walk)
  }
  const keys = Object.keys(copy)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (key === "__proto__") return protoKey(walk)
    if (!spend(walk, key.length + 4)) return tooLarge(walk)
    const item = copy[key]
    const result = walkValue(item, walk)
    if (result === failed) {
      walk.path.push(key)
      return failed
    }
    if (result !== item) copy[key] = result
  }
  return copy
}

/** Why a property named `__proto__` is refused, wherever it is. */
export const protoKeyDetail = "`__proto__` cannot be a property name: JavaScript takes it for an object's prototype"

const protoKey = (walk: Walk) => {
  walk.path.push("__proto__")
  return fail(walk, protoKeyDetail)
}

/** A record whose copy threw, read again a property at a time to name the one that throws. */
const walkRecordByKey = (record: object, walk: Walk): unknown => {
  for (const key of Object.keys(record)) {
    if (key === "__proto__") return protoKey(walk)
    try {
      Reflect.get(record, key)
    } catch {
      walk.path.push(key)
      return fail(walk, "reading it threw an exception")
    }
  }
  return fail(walk, "reading it threw an exception")
}

/**
 * Reads `value` once into a snapshot of plain JSON data, its dates made as `dates` says. Returns an `Issue`
 * on failure.
 */
export const snapshot = (value: unknown, dates: Dates = "format"): Snapshot | Issue => {
  const walk: Walk = { dates, stack: [], path: [], detail: "", budget: maxBytes }
  const result = walkValue(value, walk)
  if (result !== failed) return { value: result, size: maxBytes - walk.budget }
  if (walk.detail === tooLargeDetail) {
    try {
      return { path: largestPart(value, countUpTo).path, detail: walk.detail }
    } catch {
      // read again, the value threw: the place where the count passed the limit
    }
  }
  return { path: walk.path.reverse(), detail: walk.detail }
}

/** Distinguishes the two outcomes of `snapshot`. */
export const isIssue = (result: Snapshot | Issue): result is Issue => "detail" in result

/** Whether `value` is an object of properties: a plain object, not an array, a `Date` or a class instance. */
export const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> => {
  if (typeof value !== "object" || value === null) return false
  try {
    return isPlainPrototype(Object.getPrototypeOf(value)) && !Array.isArray(value)
  } catch {
    return false
  }
}

/** The size in bytes of `text` encoded as UTF-8, as it will go on the wire. */
export const utf8Length: (text: string) => number =
  typeof Buffer === "function"
    ? (text) => Buffer.byteLength(text, "utf8")
    : (() => {
        const encoder = new TextEncoder()
        return (text) => encoder.encode(text).length
      })()

/** The text that the UTF-8 `bytes` encode. */
export const fromUtf8: (bytes: Uint8Array) => string =
  typeof Buffer === "function"
    ? (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8")
    : (() => {
        const decoder = new TextDecoder()
        return (bytes) => decoder.decode(bytes)
      })()

/** The most characters of a key that a path quotes: a longer key is cut, and quoted with a `…`. */
const maxKeyChars = 40

/** A path as a caller reads it: `properties.cart[2].price`, `properties["first name"]`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else {
      const name = String(key)
      out +=
        name.length <= maxKeyChars && /^[A-Za-z_$][\w$]*$/.test(name)
          ? out === ""
            ? name
            : `.${name}`
          : `[${JSON.stringify(name.length > maxKeyChars ? `${name.slice(0, maxKeyChars)}…` : name)}]`
    }
  }
  return out
}
