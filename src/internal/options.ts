/**
 * The options of the consumer layers as Schemas: one schema per layer, and one rule per option, read the
 * same way from an options object (typed or not) and from the environment (`Schema.Config`). A layer
 * decodes its options once, when it is built, so that a bad setting is an `InvalidConfig` at start-up
 * that names the option and never quotes its value.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { InvalidConfig } from "../MixpanelError.js"
import * as Issues from "./issues.js"
import { formatPath, isPlainObject } from "./json.js"

// ---------------------------------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------------------------------

/** A schema of options and its twin that reads the same value from an environment variable's text. */
export interface Rule<A> {
  readonly option: Schema.Schema<A, unknown>
  readonly text: Schema.Schema<A, string>
}

// Options are only ever decoded: what a schema encodes to does not matter here.
const rule = <A, I>(option: Schema.Schema<A, I>, text: Schema.Schema<A, string>): Rule<A> => ({
  option: option as unknown as Schema.Schema<A, unknown>,
  text
})

const withCheck = <A, I>(self: Schema.Schema<A, I>, check: (a: A) => boolean, message: string): Schema.Schema<A, I> =>
  self.pipe(Schema.filter((a: A) => check(a) || message))

/** An integer from `min` to `max` (by default, any safe integer from `min`). */
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Rule<number> => {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`
  const bounded = Schema.Number.pipe(
    Schema.filter((n) => (Number.isInteger(n) && n >= min && n <= max) || `must be an integer ${range}`)
  )
  const fromText = Schema.NumberFromString.annotations({ message: () => `must be an integer ${range}` })
  return rule(bounded, Schema.compose(fromText, bounded))
}

/** A string that `problem` finds nothing wrong with (it says what is, in words that do not quote it). */
export const string = (problem: (text: string) => string | undefined): Rule<string> => {
  const checked = Schema.String.pipe(Schema.filter(problem))
  return rule(checked, checked)
}

/** What a duration that is not one is told. */
export const durationExpected = 'expected a duration of 0 or more, such as "5 seconds" or a number of milliseconds'

/** An amount Effect reads as zero: negative, or not a number. */
const belowZero = (input: unknown): boolean =>
  (typeof input === "number" && !(input >= 0)) ||
  (typeof input === "bigint" && input < 0n) ||
  (typeof input === "string" && input.trimStart().startsWith("-")) ||
  (Array.isArray(input) && input.some((part) => typeof part === "number" && !(part >= 0)))

/** `input` as a duration, if it is one: Effect's reading, without its clamping of a negative amount to zero. */
export const decodeDuration = (input: unknown): Option.Option<Duration.Duration> => {
  if (belowZero(input)) return Option.none()
  try {
    return Duration.decodeUnknown(input)
  } catch {
    return Option.none()
  }
}

/**
 * Text as a duration, if it is one: Effect's forms (`5 seconds`), or a bare number (`5000`, `0.5`), which is
 * milliseconds as a number in code is (Effect reads none without its unit).
 */
export const decodeDurationText = (text: string): Option.Option<Duration.Duration> =>
  decodeDuration(/^\d+(?:\.\d+)?$/.test(text) ? Number(text) : text)

const durationFrom = <I, E>(from: Schema.Schema<I, E>, decode: (input: I) => Option.Option<Duration.Duration>) =>
  Schema.transformOrFail(from, Schema.DurationFromSelf, {
    strict: true,
    decode: (input, _, ast) =>
      Option.match(decode(input), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, input, durationExpected)),
        onSome: ParseResult.succeed
      }),
    encode: (duration) => ParseResult.succeed(duration as unknown as I)
  })

const DurationInput = Schema.declare((u: unknown): u is Duration.DurationInput => Option.isSome(decodeDuration(u)), {
  message: () => durationExpected
})

/** A finite duration from `min` to `max` (both included, unless `min` is exclusive). */
export const duration = (
  min: Duration.DurationInput,
  max: Duration.DurationInput,
  options?: { readonly exclusiveMin?: boolean }
): Rule<Duration.Duration> => {
  const low = Duration.decode(min)
  const high = Duration.decode(max)
  const check = (d: Duration.Duration) =>
    Duration.isFinite(d) &&
    (options?.exclusiveMin === true ? Duration.greaterThan(d, low) : Duration.greaterThanOrEqualTo(d, low)) &&
    Duration.lessThanOrEqualTo(d, high)
  const message =
    options?.exclusiveMin === true
      ? `must be longer than ${Duration.format(low)} and at most ${Duration.format(high)}`
      : `must be from ${Duration.format(low)} to ${Duration.format(high)}`
  return rule(
    withCheck(durationFrom(DurationInput, decodeDuration), check, message) as Schema.Schema<Duration.Duration, unknown>,
    withCheck(durationFrom(Schema.String, decodeDurationText), check, message) as Schema.Schema<
      Duration.Duration,
      string
    >
  )
}

const booleanText = Schema.compose(
  Schema.String,
  Schema.transform(Schema.Literal("true", "false", "1", "0", "yes", "no", "on", "off"), Schema.Boolean, {
    strict: true,
    decode: (text) => ["true", "1", "yes", "on"].includes(text),
    encode: (b) => (b ? "true" : "false")
  }),
  { strict: false }
)

/** `true` or `false` (in the environment also `1`/`0`, `yes`/`no`, `on`/`off`). */
export const boolean: Rule<boolean> = rule(Schema.Boolean, booleanText)

/** One of `values`. */
export const literal = <const L extends ReadonlyArray<string>>(...values: L): Rule<L[number]> => {
  // `override`: a union's own message, where Schema would otherwise list every member that did not match
  const schema = Schema.Literal(...values).annotations({
    message: (issue) => {
      const meant = Issues.suggest(issue.actual as PropertyKey, values)
      return {
        message: `must be one of ${values.map((v) => `"${v}"`).join(", ")}${Issues.didYouMean(meant === undefined ? undefined : `"${meant}"`)}`,
        override: true
      }
    }
  }) as unknown as Schema.Schema<L[number], string>
  return rule(schema, schema)
}

/** A data residency region. */
export const region = literal("US", "EU", "IN")

const noScheme = "has no scheme: write it in full, e.g. https://api.mixpanel.com"

const parseUrl = (text: string): Either.Either<URL, string> => {
  // `localhost:4100` parses as the scheme `localhost:`: without `//` a host and port was meant
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return Either.left(hasScheme ? "is not a valid URL" : noScheme)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Either.left(hasScheme ? "must be an http: or https: URL" : noScheme)
  }
  // fetch refuses such a URL, and errors and logs would quote the password with it
  if (url.username !== "" || url.password !== "") {
    return Either.left("must not hold credentials (user:password@): give a proxy its own HttpClient")
  }
  return Either.right(url)
}

const urlFrom = <I, E>(from: Schema.Schema<I, E>) =>
  Schema.transformOrFail(from, Schema.instanceOf(URL), {
    strict: true,
    decode: (input, _, ast) =>
      Either.match(parseUrl(String(input)), {
        onLeft: (detail) => ParseResult.fail(new ParseResult.Type(ast, input, detail)),
        onRight: ParseResult.succeed
      }),
    encode: (url) => ParseResult.succeed(url.href as unknown as I)
  })

/** An `http:` or `https:` URL, as a string or a `URL`. */
export const url: Rule<URL> = rule(
  urlFrom(Schema.Union(Schema.String, Schema.instanceOf(URL))) as Schema.Schema<URL, unknown>,
  urlFrom(Schema.String)
)

/** A function (a hook, a client transform): checked to be callable, its types are the caller's. */
export const fn = Schema.declare(
  (u: unknown): u is (...args: ReadonlyArray<never>) => unknown => typeof u === "function",
  {
    message: () => "expected a function"
  }
)

/** A `Schedule` of Effect. */
export const schedule = Schema.declare(
  (u: unknown): u is Schedule.Schedule<unknown, never, never> => Schedule.isSchedule(u),
  { message: () => "expected a Schedule" }
)

/** A secret as a string or a `Redacted`, kept as a `Redacted`. */
export const secret = <A extends string>(value: Schema.Schema<A, A>) =>
  Schema.Union(Schema.RedactedFromSelf(value), value)
    .annotations({
      // a string the value's own rule refuses (an empty token) says why; anything else is not a string
      message: (issue) => {
        const text = Redacted.isRedacted(issue.actual) ? Redacted.value(issue.actual) : issue.actual
        const refused = typeof text === "string" ? Schema.decodeUnknownEither(value)(text) : undefined
        return refused !== undefined && Either.isLeft(refused)
          ? Issues.first(refused.left.issue).detail
          : "is missing or not a string: expected a string or a Redacted string"
      }
    })
    .pipe(
      Schema.transform(Schema.RedactedFromSelf(Schema.typeSchema(value)), {
        strict: true,
        decode: (input) => (Redacted.isRedacted(input) ? input : Redacted.make(input)),
        encode: (redacted) => redacted
      })
    )

/**
 * HTTP Basic credentials: printable ASCII, as Mixpanel issues them (anything else cannot be encoded); an
 * empty one (a variable set to nothing) says so.
 */
export const credential = Schema.String.pipe(
  Schema.minLength(1, { message: () => "is empty" }),
  Schema.pattern(/^[\x21-\x7e]+$/, { message: () => "must be printable ASCII without spaces, as Mixpanel issues it" })
)

/** A Mixpanel project id, as a number or its digits. */
export const projectId = withCheck(
  Schema.transform(Schema.Union(Schema.String, Schema.Number), Schema.String, {
    strict: true,
    decode: String,
    encode: (s) => s
  }),
  (id) => /^\d{1,20}$/.test(id),
  "must be a project id: digits only"
) as Schema.Schema<string, string | number>

const importAuthMembers = [
  Schema.TaggedStruct("ServiceAccount", {
    username: credential,
    secret: secret(credential),
    projectId
  }),
  Schema.TaggedStruct("ApiSecret", { secret: secret(credential) }),
  Schema.TaggedStruct("ProjectToken", { token: secret(credential) })
] as const

/** `/import` credentials: a service account, the API secret, or the project token. */
export const importAuth = Schema.Union(...importAuthMembers).annotations({
  // Credentials made by one of the constructors fail as that one (`importAuth.projectId: must be...`)
  message: (issue) => ({
    message: "expected Consumer.serviceAccount(...), Consumer.apiSecret(...) or Consumer.projectToken(...)",
    override: !importAuthMembers.some((member) => Schema.is(Schema.Struct({ _tag: member.fields._tag }))(issue.actual))
  })
})

// ---------------------------------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------------------------------

const failure = (prefix: string, issue: ParseResult.ParseIssue): InvalidConfig => {
  const { detail, path } = Issues.first(
    issue,
    (meant) => `is not an option here${Issues.didYouMean(meant) || ": misspelt?"}`
  )
  const field = formatPath(path)
  return new InvalidConfig({
    option: prefix === "" ? field || "options" : field === "" ? prefix : `${prefix}.${field}`,
    detail
  })
}

/**
 * Decodes an options object with `schema`: from any caller, with any value (a `null`, a Proxy that throws),
 * an `InvalidConfig` naming the option, never a defect. A key that is not an option is one too: from
 * JavaScript, or through a variable that TypeScript does not check for excess keys, a misspelt option
 * would otherwise be ignored, and its default used without a word.
 */
export const decoder = <A, I>(
  schema: Schema.Schema<A, I>,
  prefix = ""
): ((input: unknown) => Effect.Effect<A, InvalidConfig>) => {
  const decodeEither = ParseResult.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "error" })
  return (input: unknown) =>
    Effect.suspend(() => {
      if (!isPlainObject(input)) {
        return Effect.fail(new InvalidConfig({ option: prefix || "options", detail: "expected an object of options" }))
      }
      // The failure is read in the `try` too: a message may look at the value again
      try {
        const result = decodeEither(input)
        return Either.isLeft(result) ? Effect.fail(failure(prefix, result.left)) : Effect.succeed(result.right)
      } catch {
        return Effect.fail(
          new InvalidConfig({ option: prefix || "options", detail: "reading the options threw an exception" })
        )
      }
    })
}

/**
 * A secret environment variable, made `Redacted` as soon as it is read. (`Config.redacted` redacts the
 * error of a missing variable too: `Missing data at MIXPANEL_TOKEN: "<redacted>"`, where it should say what
 * is missing.)
 */
export const redactedVariable = (name: string): Config.Config<Redacted.Redacted> =>
  Config.map(Config.string(name), (value) => Redacted.make(value))

/**
 * Refuses a value read from the environment that `check` refuses (an options' own check across fields,
 * a secret set to nothing), naming the variable `name` where the options' check would name the option.
 */
export const refusedAt =
  <B>(name: string, check: (value: B) => true | { readonly message: string }) =>
  <A extends B>(config: Config.Config<A>): Config.Config<A> =>
    Config.mapOrFail(config, (value) => {
      const checked = check(value)
      return checked === true ? Either.right(value) : Either.left(ConfigError.InvalidData([name], checked.message))
    })

/** `refusedAt`'s check by `schema`: what it refuses, in its words (which never quote the value). */
export const checkedBy = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = ParseResult.decodeUnknownEither(schema)
  return (value: unknown): true | { readonly message: string } => {
    const decoded = decode(value)
    return Either.isRight(decoded) || { message: Issues.first(decoded.left).detail }
  }
}

/**
 * An optional environment variable read by `rule`; a value it refuses is a `ConfigError` naming the
 * variable, in the rule's words (`Schema.Config` would give Schema's whole tree of the failure).
 */
export const env = <A>(name: string, value: Rule<A>): Config.Config<A | undefined> => {
  const decode = ParseResult.decodeUnknownEither(value.text)
  return Config.option(Config.string(name)).pipe(
    Config.mapOrFail((text) => {
      if (Option.isNone(text)) return Either.right(undefined)
      const decoded = decode(text.value)
      return Either.isRight(decoded)
        ? Either.right(decoded.right)
        : Either.left(ConfigError.InvalidData([name], Issues.first(decoded.left).detail))
    })
  )
}
