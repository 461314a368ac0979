/**
 * `effect-mixpanel import`: the command line around `Import.run`, on `@effect/cli` and
 * `@effect/platform-node`. Files in, a checkpoint and a rejects file out, progress on stderr.
 *
 * Settings come from flags, else from the same `MIXPANEL_*` variables as `Consumer.layerBufferedConfig`:
 * the flags given are laid over the environment as a `ConfigProvider`, and `Consumer.bufferedConfig` (with
 * `MIXPANEL_TOKEN`) is read through it, so the variables' names, types, checks and the precedence of
 * credentials are those of the library, read by the library's own `Config`.
 */

import { createReadStream, existsSync } from "node:fs"
import { pipeline, Transform } from "node:stream"
import { pathToFileURL } from "node:url"
import { stripVTControlCharacters } from "node:util"
import { createGunzip } from "node:zlib"
import * as Args from "@effect/cli/Args"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as Usage from "@effect/cli/Usage"
import * as PlatformError from "@effect/platform/Error"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Consumer from "../../Consumer.js"
import type * as Import from "../../Import.js"
import { InvalidConfig, type MixpanelError } from "../../MixpanelError.js"
import * as Issues from "../issues.js"
import { decodeDurationText, redactedVariable } from "../options.js"
import { version } from "../version.js"
import * as Checkpoint from "./checkpoint.js"
import * as Engine from "./engine.js"
import * as Files from "./files.js"
import { reasonOf } from "./formats.js"
import * as Progress from "./progress.js"

/** Exit codes, as docs/import.md lists them. */
export const exitCodes = {
  /** Every record delivered. */
  ok: 0,
  /** The import ran to its end, and some records were rejected (see the rejects file). */
  rejected: 1,
  /**
   * Bad flags or settings, delivery stopped (credentials, Mixpanel unreachable), or the rejects file or the
   * checkpoint could not be written: resume later.
   */
  failed: 2,
  /** Stopped by Ctrl-C or SIGTERM, after the requests in flight: resume with `--resume`. */
  interrupted: 130
} as const

// ---------------------------------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------------------------------

/**
 * `--name` and `--no-name`: `Some(true)`, `Some(false)`, or `None` when neither is given (then the
 * environment or the default decides). (`Options.boolean` alone is `false` when absent.)
 */
const toggle = (name: string, description: string) =>
  Options.all({
    on: Options.boolean(name).pipe(Options.withDescription(description)),
    off: Options.boolean(`no-${name}`).pipe(Options.withDescription(`the opposite of --${name}`))
  }).pipe(Options.map(({ off, on }) => (on ? Option.some(true) : off ? Option.some(false) : Option.none<boolean>())))

/**
 * A flag of one of `values`, taken as text and checked by the command (`oneOf`), so that a wrong value is
 * reported as every other setting is, naming its flag; `@effect/cli`'s own choice names only the values.
 */
const choice = (name: string, values: ReadonlyArray<string>) =>
  Options.text(name).pipe(Options.withPseudoName(values.join(" | ")))

/** A whole number, taken as text: the variable it stands for is read, and checked, by `Consumer.bufferedConfig`. */
const integer = (name: string) => Options.text(name).pipe(Options.withPseudoName("n"))

const recordTypes: ReadonlyArray<Import.RecordType> = ["event", "user", "group"]
const formats: ReadonlyArray<Files.Format> = ["ndjson", "json", "csv", "tsv"]

/** `value` as one of `values`, or an error naming `flag` (`--type`). */
const oneOf = <A extends string>(flag: string, values: ReadonlyArray<A>, value: string) => {
  if (values.includes(value as A)) return Effect.succeed(value as A)
  const meant = Issues.suggest(value, values)
  return Effect.fail(
    new InvalidConfig({
      option: flag,
      detail: `'${value}' is not one of ${values.join(", ")}${Issues.didYouMean(meant)}`
    })
  )
}

const defaultRejects = "effect-mixpanel-import.rejects.ndjson"
const defaultCheckpoint = "effect-mixpanel-import.checkpoint.json"

/** A flag that falls back to a variable of `Consumer.bufferedConfig` (or `MIXPANEL_TOKEN`). */
const fromEnv = <A>(options: Options.Options<A>, variable: string, description: string) =>
  options.pipe(Options.withDescription(`${description} [env ${variable}]`), Options.optional)

const flags = {
  paths: Args.text({ name: "file or folder" }).pipe(
    Args.withDescription(
      "NDJSON, JSON, CSV or TSV files (optionally .gz), or folders of them (their files in name order)"
    ),
    Args.atLeast(1)
  ),
  type: choice("type", recordTypes).pipe(
    Options.withDescription(
      "events go to /import; user and group profiles to /engage and /groups: a record holding an operation ($set, $add, …) as it is, a flat one as a $set"
    ),
    Options.withDefault(Engine.defaults.type)
  ),
  groupKey: Options.text("group-key").pipe(
    Options.withPseudoName("key"),
    Options.withDescription("for --type group: the group key of records without a $group_key"),
    Options.optional
  ),
  format: choice("format", formats).pipe(
    Options.withDescription("the format of every file (default: from each file's extension)"),
    Options.optional
  ),
  map: Options.text("map").pipe(
    Options.withPseudoName("target=source"),
    Options.withDescription("rename fields: target=source,... (e.g. time=timestamp,distinct_id=uuid); repeatable"),
    Options.repeated,
    // Optional as well, so that the usage line shows it in brackets as it does the other flags
    Options.optional,
    Options.map(Option.getOrElse((): ReadonlyArray<string> => []))
  ),
  transform: Options.text("transform").pipe(
    Options.withPseudoName("module"),
    Options.withDescription(
      "a module whose default export (or `transform`) maps a record to a record, records or nothing; .js/.mjs, or .ts under a TypeScript loader"
    ),
    Options.optional
  ),
  token: fromEnv(
    Options.redacted("token").pipe(Options.withPseudoName("token")),
    "MIXPANEL_TOKEN",
    "the project token"
  ),
  projectId: fromEnv(
    Options.text("project-id").pipe(Options.withPseudoName("id")),
    "MIXPANEL_PROJECT_ID",
    "the project id, with a service account"
  ),
  username: fromEnv(
    Options.text("service-account-username").pipe(Options.withPseudoName("name")),
    "MIXPANEL_SERVICE_ACCOUNT_USERNAME",
    "service account username (preferred credentials)"
  ),
  secret: fromEnv(
    Options.redacted("service-account-secret").pipe(Options.withPseudoName("secret")),
    "MIXPANEL_SERVICE_ACCOUNT_SECRET",
    "service account secret"
  ),
  apiSecret: fromEnv(
    Options.redacted("api-secret").pipe(Options.withPseudoName("secret")),
    "MIXPANEL_API_SECRET",
    "the project's API secret (deprecated)"
  ),
  region: fromEnv(
    Options.text("region").pipe(Options.withPseudoName("US | EU | IN")),
    "MIXPANEL_REGION",
    "data residency region (default US)"
  ),
  baseUrl: fromEnv(
    Options.text("base-url").pipe(Options.withPseudoName("url")),
    "MIXPANEL_BASE_URL",
    "a custom API host (default: the region's)"
  ),
  strict: toggle("strict", "ask /import to check every record and name each failure (default on)"),
  gzip: toggle("gzip", "gzip /import requests (default on) [env MIXPANEL_GZIP]"),
  geolocate: toggle(
    "geolocate",
    "let Mixpanel geolocate from this machine's IP (default off) [env MIXPANEL_GEOLOCATE]"
  ),
  concurrency: fromEnv(
    integer("concurrency"),
    "MIXPANEL_MAX_CONCURRENT_REQUESTS",
    `requests in flight at once, for events (default ${Engine.defaults.concurrency}; profiles: always 1, in order)`
  ),
  batchSize: fromEnv(
    integer("batch-size"),
    "MIXPANEL_MAX_BATCH_SIZE",
    `most records per request, 1 to 2000 (default ${Engine.defaults.batchSize})`
  ),
  batchBytes: fromEnv(
    integer("batch-bytes"),
    "MIXPANEL_MAX_BATCH_BYTES",
    `most bytes of JSON per request (default ${Engine.defaults.batchBytes})`
  ),
  maxRetries: fromEnv(
    integer("max-retries"),
    "MIXPANEL_MAX_RETRIES",
    `retries of a request that failed transiently (default ${Engine.defaults.maxRetries})`
  ),
  maxRetryTime: fromEnv(
    Options.text("max-retry-time").pipe(Options.withPseudoName("duration")),
    "MIXPANEL_MAX_RETRY_TIME",
    "longest time from a request's first try to its last, e.g. '5 minutes' (the default)"
  ),
  requestTimeout: fromEnv(
    Options.text("request-timeout").pipe(Options.withPseudoName("duration")),
    "MIXPANEL_REQUEST_TIMEOUT",
    "longest wait for one response (default '10 seconds')"
  ),
  retryDelay: Options.text("retry-delay").pipe(
    Options.withPseudoName("duration"),
    Options.withDescription("the first retry's delay, doubling up to a minute (default '2 seconds')"),
    Options.optional
  ),
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription("read, transform and validate everything; send nothing; write the rejects file")
  ),
  checkpoint: Options.text("checkpoint").pipe(
    Options.withPseudoName("path"),
    Options.withDescription(`the checkpoint file, written as delivery is confirmed (default ${defaultCheckpoint})`),
    Options.withDefault(defaultCheckpoint)
  ),
  resume: Options.boolean("resume").pipe(
    Options.withDescription("continue the import of the checkpoint: skip what it covers, send the rest")
  ),
  rejects: Options.text("rejects").pipe(
    Options.withPseudoName("path"),
    Options.withDescription(
      `where rejected records go, one JSON object a line: source, line, stage, reason, record (default ${defaultRejects}; with --resume, the checkpoint's)`
    ),
    Options.optional
  ),
  progressInterval: Options.text("progress-interval").pipe(
    Options.withPseudoName("duration"),
    Options.withDescription("when stderr is not a terminal: a progress line this often (default '5 seconds')"),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print the final summary as JSON on stdout"))
}

/**
 * The command's flags as its usage writes them (`--batch-size`, `--no-gzip`, …): what a misspelt one meant.
 * Made when an error asks (writing every flag's usage takes some 15 ms, which no start need pay).
 */
const flagNames = (): ReadonlyArray<string> =>
  Object.values(flags).flatMap((flag: unknown) =>
    Options.isOptions(flag)
      ? (HelpDoc.toAnsiText(Usage.getHelp(Options.getUsage(flag))).match(/--[a-z][a-z-]*/g) ?? [])
      : []
  )

type Flags = Command.Command.ParseConfig<typeof flags>

/** The flags that stand for a variable of `Consumer.bufferedConfig` (or `MIXPANEL_TOKEN`), and that variable. */
const variableFlags = (
  flags: Flags
): ReadonlyArray<readonly [variable: string, flag: string, Option.Option<unknown>]> => [
  ["MIXPANEL_TOKEN", "token", flags.token],
  ["MIXPANEL_PROJECT_ID", "project-id", flags.projectId],
  ["MIXPANEL_SERVICE_ACCOUNT_USERNAME", "service-account-username", flags.username],
  ["MIXPANEL_SERVICE_ACCOUNT_SECRET", "service-account-secret", flags.secret],
  ["MIXPANEL_API_SECRET", "api-secret", flags.apiSecret],
  ["MIXPANEL_REGION", "region", flags.region],
  ["MIXPANEL_BASE_URL", "base-url", flags.baseUrl],
  ["MIXPANEL_GZIP", "gzip", flags.gzip],
  ["MIXPANEL_GEOLOCATE", "geolocate", flags.geolocate],
  ["MIXPANEL_MAX_CONCURRENT_REQUESTS", "concurrency", flags.concurrency],
  ["MIXPANEL_MAX_BATCH_SIZE", "batch-size", flags.batchSize],
  ["MIXPANEL_MAX_BATCH_BYTES", "batch-bytes", flags.batchBytes],
  ["MIXPANEL_MAX_RETRIES", "max-retries", flags.maxRetries],
  ["MIXPANEL_MAX_RETRY_TIME", "max-retry-time", flags.maxRetryTime],
  ["MIXPANEL_REQUEST_TIMEOUT", "request-timeout", flags.requestTimeout]
]

/** The flags given, as the variables they stand for: laid over the environment. */
const variables = (flags: Flags): Map<string, string> => {
  const map = new Map<string, string>()
  for (const [name, , value] of variableFlags(flags)) {
    if (Option.isNone(value)) continue
    const given = value.value
    map.set(name, Redacted.isRedacted(given) ? String(Redacted.value(given)) : String(given))
  }
  return map
}

/**
 * A configuration error names variables: a variable given as a flag is named as that flag; another, with
 * the flag that sets it too (`MIXPANEL_TOKEN is not set (or give --token)`).
 */
const withFlagNames = (flags: Flags, message: string): string => {
  let text = message
  const also: Array<string> = []
  for (const [variable, flag, value] of variableFlags(flags)) {
    if (!text.includes(variable)) continue
    if (Option.isSome(value)) text = text.replaceAll(variable, `--${flag}`)
    else also.push(`--${flag}`)
  }
  return also.length === 0 ? text : `${text} (or give ${also.join(", ")})`
}

const duration = (
  option: string,
  text: Option.Option<string>
): Effect.Effect<Duration.Duration | undefined, InvalidConfig> =>
  Option.match(text, {
    onNone: () => Effect.succeed(undefined),
    onSome: (value) =>
      Option.match(decodeDurationText(value), {
        onNone: () =>
          Effect.fail(
            new InvalidConfig({ option, detail: `'${value}' is not a duration of 0 or more, such as '2 seconds'` })
          ),
        onSome: Effect.succeed
      })
  })

/** `--map time=ts,distinct_id=uuid --map event=action` as `{ time: "ts", distinct_id: "uuid", event: "action" }`. */
export const parseMapping = (values: ReadonlyArray<string>): Effect.Effect<Record<string, string>, InvalidConfig> => {
  const mapping: Record<string, string> = {}
  for (const pair of values.flatMap((value) => value.split(","))) {
    if (pair.trim() === "") continue
    const [target, source, ...rest] = pair.split("=").map((part) => part.trim())
    if (target === undefined || source === undefined || target === "" || source === "" || rest.length > 0) {
      return Effect.fail(new InvalidConfig({ option: "--map", detail: `'${pair}' is not target=source` }))
    }
    // every record would be rejected for it (docs/import.md, step 5); assigned here, it would be lost silently
    if (target === "__proto__") {
      return Effect.fail(
        new InvalidConfig({
          option: "--map",
          detail: `'${pair}': a field cannot be named __proto__ (JavaScript takes it for an object's prototype)`
        })
      )
    }
    // the last would win silently: which one the user meant cannot be told
    const earlier = Object.hasOwn(mapping, target) ? mapping[target] : undefined
    if (earlier !== undefined) {
      return Effect.fail(
        new InvalidConfig({
          option: "--map",
          detail: `${target} is mapped twice, from ${earlier} and from ${source}: give it one source`
        })
      )
    }
    mapping[target] = source
  }
  return Effect.succeed(mapping)
}

/**
 * The user's transform: the module's default export, or its `transform`. Node loads `.js`, `.mjs` and
 * `.cjs` by itself; `.ts` needs a TypeScript loader (`node --import tsx`, or Node's own type stripping).
 */
export const loadTransform = (path: string): Effect.Effect<Import.Transform, InvalidConfig> =>
  Effect.tryPromise({
    try: () =>
      import(pathToFileURL(path).href) as Promise<{ readonly default?: unknown; readonly transform?: unknown }>,
    catch: (error) => {
      const text = reasonOf(error)
      const typescript = /\.(c|m)?ts$/.test(path) && /ERR_UNKNOWN_FILE_EXTENSION|Unknown file extension/.test(text)
      return new InvalidConfig({
        option: "--transform",
        detail: typescript
          ? `node cannot load ${path} by itself: run the import with a TypeScript loader (NODE_OPTIONS="--import tsx"), on Node 22.6+ with --experimental-strip-types (23.6+: by default), or compile it to .js`
          : `cannot load ${path}: ${text}`
      })
    }
  }).pipe(
    Effect.flatMap((module) => {
      const candidate = typeof module.default === "function" ? module.default : module.transform
      // A CommonJS module's `module.exports = fn` arrives as `default`; its `exports.transform` inside it.
      const nested =
        typeof candidate === "function"
          ? candidate
          : typeof module.default === "object" && module.default !== null
            ? (module.default as { readonly transform?: unknown }).transform
            : undefined
      return typeof nested === "function"
        ? Effect.succeed(nested as Import.Transform)
        : Effect.fail(
            new InvalidConfig({
              option: "--transform",
              detail: `${path} exports no function (as default, or as transform)`
            })
          )
    })
  )

/**
 * Files read with Node's own streams and zlib: the same bytes as `Files.open`, for a fifth less memory
 * on a gzipped input than the web streams' `DecompressionStream` (docs/benchmarks.md).
 */
const nodeOpen: Files.Open = (input, onBytes) =>
  NodeStream.fromReadable(
    () => {
      const file = createReadStream(input.path, { highWaterMark: 64 * 1024 })
      const counter = new Transform({
        transform(chunk: Buffer, _, done) {
          onBytes(chunk.length)
          done(null, chunk)
        }
      })
      // zlib's output in 64 KiB pieces, as the file's: its default 16 KiB makes four times the stream steps
      // (a tenth of the CPU of a gzipped import)
      const gunzip = () => createGunzip({ chunkSize: 64 * 1024 })
      return input.gzip ? pipeline(file, counter, gunzip(), () => {}) : pipeline(file, counter, () => {})
    },
    (error) =>
      new PlatformError.SystemError({
        reason: "Unknown",
        module: "FileSystem",
        method: input.gzip ? "gunzip" : "read",
        pathOrDescriptor: input.source,
        description: reasonOf(error)
      })
  )

// ---------------------------------------------------------------------------------------------------
// the command
// ---------------------------------------------------------------------------------------------------

const write = (text: string) => Effect.sync(() => process.stderr.write(text))

/** The flag that gives an option of the library's (`baseUrl`: `--base-url`), where the command has one. */
const flagOf = (option: string): string | undefined => {
  const flag = `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
  return flagNames().includes(flag) ? flag : undefined
}

/** An `InvalidConfig` in the command's words: what a flag gave is named as that flag. */
const describeInvalid = (error: InvalidConfig): string => {
  // the files are the command's arguments (the API's `paths`), not an option
  if (error.option === "paths") return error.detail
  // a flag's own check, or an option of the library's that a flag gives
  const flag = error.option.startsWith("--") ? error.option : flagOf(error.option)
  return flag === undefined ? error.message : `${flag}: ${error.detail}`
}

const describe = (error: unknown): string =>
  ConfigError.isConfigError(error)
    ? [...new Set(configFailures(error))].join("; ")
    : error instanceof InvalidConfig
      ? describeInvalid(error)
      : typeof error === "object" && error !== null && "message" in error
        ? String(error.message)
        : String(error)

/** Whether the import stopped because Mixpanel refused its credentials (401, 403). */
const refusedCredentials = (error: MixpanelError | undefined): boolean =>
  error?._tag === "ResponseError" && error.reason === "Unauthorized"

const serviceAccountFlags = "--service-account-username, --service-account-secret and --project-id"

/** Which credentials Mixpanel refused, and what to do about them. */
const refusedWhat = (auth: Consumer.ImportAuth | undefined): string => {
  switch (auth?._tag) {
    case "ServiceAccount":
      return `the service account given (check ${serviceAccountFlags}, or their variables)`
    case "ApiSecret":
      return "the API secret given (check --api-secret or MIXPANEL_API_SECRET, or give a service account instead)"
    default:
      return `the project token alone (give a service account, ${serviceAccountFlags}, or --api-secret)`
  }
}

/**
 * A setting's failures, one line each, naming its variable: "MIXPANEL_TOKEN is not set", or the last line
 * of a schema's reason (its tree would show the schema's internals).
 */
const configFailures = (error: ConfigError.ConfigError): Array<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configFailures(error.left), ...configFailures(error.right)]
    case "MissingData":
      return [`${error.path.join("_")} is not set`]
    default: {
      const reason =
        error.message
          .split("\n")
          .at(-1)
          ?.replace(/^[\s\u2514\u251c\u2502\u2500]+/, "") ?? error.message
      return [`${error.path.join("_")}: ${reason}`]
    }
  }
}

/** Stops on the first SIGINT or SIGTERM; a second one ends the process at once. */
const signals = (stop: Deferred.Deferred<void>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const signalled = { stop: false, onSignal: () => {} }
      signalled.onSignal = () => {
        if (signalled.stop) process.exit(exitCodes.interrupted)
        signalled.stop = true
        process.stderr.write("\nstopping: finishing the requests in flight (again to quit at once)\n")
        Deferred.unsafeDone(stop, Exit.void)
      }
      process.on("SIGINT", signalled.onSignal)
      process.on("SIGTERM", signalled.onSignal)
      return signalled
    }),
    ({ onSignal }) =>
      Effect.sync(() => {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      })
  )

const runImport = (flags: Flags, setExitCode: (code: number) => void) =>
  Effect.gen(function* () {
    // @effect/cli takes what it does not know as a file: a flag misspelt, or one whose value is missing; and
    // a flag it knows, given again after it took the first
    const flagLike = flags.paths.find((path) => path.startsWith("-") && !existsSync(path))
    if (flagLike !== undefined) {
      const name = flagLike.split("=")[0] ?? flagLike
      if (flagNames().includes(name)) {
        return yield* new InvalidConfig({ option: "paths", detail: `${name} given twice: give it once` })
      }
      const meant = Issues.suggest(name, flagNames())
      return yield* new InvalidConfig({
        option: "paths",
        detail: `${flagLike} was read as a file, and there is none${Issues.didYouMean(meant) || ": a flag misspelt, or a flag before it without its value?"} (--help lists the flags)`
      })
    }
    const type = yield* oneOf("--type", recordTypes, flags.type)
    const format = Option.isSome(flags.format) ? yield* oneOf("--format", formats, flags.format.value) : undefined
    const provider = ConfigProvider.fromMap(variables(flags)).pipe(
      ConfigProvider.orElse(() => ConfigProvider.fromEnv())
    )
    const settings = yield* Effect.withConfigProvider(
      Config.all({ consumer: Consumer.bufferedConfig, token: redactedVariable("MIXPANEL_TOKEN") }),
      provider
    )
    const { consumer } = settings
    const mapping = yield* parseMapping(flags.map)
    const transform = Option.isSome(flags.transform) ? yield* loadTransform(flags.transform.value) : undefined
    const retryDelay = yield* duration("--retry-delay", flags.retryDelay)
    const progressEvery = yield* duration("--progress-interval", flags.progressInterval)
    // A progress line every 0 ms would be written without end
    if (progressEvery !== undefined && Duration.isZero(progressEvery)) {
      return yield* new InvalidConfig({ option: "--progress-interval", detail: "must be longer than 0" })
    }
    const dryRun = flags.dryRun
    if (dryRun && flags.resume) {
      return yield* new InvalidConfig({ option: "--resume", detail: "a dry run has no checkpoint to resume" })
    }
    const resumed = flags.resume ? yield* Checkpoint.load(flags.checkpoint) : undefined
    const rejectsPath = resumed?.rejects.path ?? Option.getOrElse(flags.rejects, () => defaultRejects)
    if (Option.isSome(flags.rejects) && flags.rejects.value !== rejectsPath) {
      return yield* new InvalidConfig({
        option: "--rejects",
        detail: `the checkpoint's rejects file is ${rejectsPath}`
      })
    }
    const { files, skipped } = yield* Files.resolve(flags.paths, format, [
      { path: flags.checkpoint, what: "the checkpoint (--checkpoint)" },
      { path: Checkpoint.asideOf(flags.checkpoint), what: "the checkpoint's next version (--checkpoint)" },
      { path: rejectsPath, what: "the rejects file (--rejects)" }
    ])
    // Most likely a wrong path or files not there yet: an import that reads nothing fails, so that a script
    // sees it; a resumed one may have nothing left (a complete checkpoint), and says so below
    if (files.length === 0 && resumed === undefined) {
      const unknown = skipped.length === 0 ? "" : ` (skipped, unknown format: ${skipped.join(", ")})`
      return yield* new InvalidConfig({
        option: "paths",
        detail: `no files to import in ${flags.paths.join(", ")}${unknown}`
      })
    }
    const sources = new Set(files.map((file) => file.source))
    if (sources.size !== files.length) {
      return yield* new InvalidConfig({ option: "paths", detail: "a file is named twice" })
    }

    const state = {
      checkpoint:
        resumed === undefined
          ? Checkpoint.fresh(type, files, rejectsPath)
          : yield* Checkpoint.resumable(resumed, type, files)
    }
    const base = state.checkpoint.counts
    const rejects = yield* Checkpoint.rejectsFile(rejectsPath, flags.resume ? state.checkpoint.rejects.bytes : 0)
    const save = Effect.suspend(() => Checkpoint.save(flags.checkpoint, state.checkpoint, new Date()))
    if (!dryRun) yield* save

    const stop = yield* Deferred.make<void>()
    const signalled = yield* signals(stop)
    let bytesRead = 0
    const onBytes = (bytes: number) => {
      bytesRead += bytes
    }
    const pending = state.checkpoint.inputs
      .map((input, i) => ({ input, file: files[i] }))
      .filter(({ input }) => !input.done)
    const bytesTotal = pending.reduce((sum, { file }) => sum + (file?.size ?? 0), 0)
    if (pending.length === 0)
      yield* write("effect-mixpanel import: the checkpoint's import is complete: nothing to do\n")
    const entries = Stream.fromIterable(pending).pipe(
      Stream.flatMap(({ file, input }) =>
        file === undefined ? Stream.empty : Files.read(file, { skipThrough: input.through, onBytes, open: nodeOpen })
      ),
      Stream.interruptWhen(Deferred.await(stop)),
      Stream.takeWhile(() => !signalled.stop)
    )

    // Progress: the confirmed counts of this run, and the bytes read
    const started = Date.now()
    let counts: Import.Counts = Checkpoint.zero
    const live = (): Progress.Live => ({ bytesRead, bytesTotal, counts, elapsedMillis: Date.now() - started })
    const terminal = process.stderr.isTTY === true
    const render = Effect.suspend(() =>
      terminal ? write(`\r\u001b[2K${Progress.bar(live())}`) : write(`${Progress.line(live())}\n`)
    )
    const every = terminal ? Duration.millis(250) : (progressEvery ?? Duration.seconds(5))
    const progress = yield* Effect.forkScoped(Effect.repeat(Effect.delay(render, every), Schedule.spaced(every)))

    let lastSave = 0
    /**
     * The rejects file or the checkpoint, when it could not be written: the import stops as on Ctrl-C, and
     * records nothing more. The batches confirmed after it are left to `--resume`, which sends them again.
     */
    let unwritable: Checkpoint.Unwritable | undefined
    const onBatch = (report: Import.BatchReport) =>
      Effect.gen(function* () {
        if (unwritable !== undefined) return
        yield* rejects.append(report.rejections)
        counts = report.counts
        if (dryRun) return
        state.checkpoint = Checkpoint.advance(state.checkpoint, report, base, rejects.bytes())
        // A checkpoint at most every 200 ms: a kill costs at most that much sent again.
        const now = Date.now()
        if (now - lastSave >= 200) {
          lastSave = now
          yield* save
        }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.sync(() => {
              unwritable = error
            }),
            Deferred.succeed(stop, undefined)
          )
        )
      )

    const summary = yield* Engine.run(entries, {
      type,
      token: settings.token,
      groupKey: Option.getOrUndefined(flags.groupKey),
      mapping,
      transform,
      dryRun,
      strict: Option.getOrElse(flags.strict, () => Engine.defaults.strict),
      region: consumer.region,
      baseUrl: consumer.baseUrl,
      importAuth: consumer.importAuth,
      requestTimeout: consumer.requestTimeout,
      gzip: consumer.gzip ?? Engine.defaults.gzip,
      geolocate: consumer.geolocate,
      concurrency: consumer.maxConcurrentRequests,
      batchSize: consumer.maxBatchSize,
      batchBytes: consumer.maxBatchBytes,
      maxRetries: consumer.maxRetries,
      maxRetryTime: consumer.maxRetryTime,
      retryDelay,
      onBatch
    })
    // What the rejects file and the checkpoint hold: after a file could not be written, the last batch recorded
    const recorded = unwritable === undefined ? summary : counts
    counts = recorded

    const interrupted = unwritable === undefined && (yield* Deferred.isDone(stop))
    const complete = summary.complete && !interrupted && unwritable === undefined
    const total = Checkpoint.addCounts(base, recorded)
    if (!dryRun) {
      state.checkpoint = Checkpoint.finish(state.checkpoint, summary, base, rejects.bytes(), complete)
      yield* Effect.catchAll(save, (error) =>
        Effect.sync(() => {
          unwritable ??= error
        })
      )
    }
    yield* Fiber.interrupt(progress)
    if (terminal) yield* write("\r\u001b[2K")
    const title =
      unwritable !== undefined
        ? `effect-mixpanel import: ${unwritable.message}${dryRun ? "" : " (resume with --resume once it can be written)"}`
        : dryRun
          ? "effect-mixpanel import: dry run done"
          : complete
            ? "effect-mixpanel import: done"
            : interrupted
              ? "effect-mixpanel import: stopped (resume with --resume)"
              : refusedCredentials(summary.stoppedBy)
                ? `effect-mixpanel import: stopped: Mixpanel refused ${refusedWhat(consumer.importAuth)}; then --resume`
                : "effect-mixpanel import: stopped by a delivery failure (resume with --resume)"
    yield* write(
      `${Progress.table(total, {
        title,
        seconds: summary.seconds,
        rate: summary.messagesPerSecond,
        files: files.length,
        skippedFiles: skipped,
        rejectsPath: total.rejected > 0 ? rejectsPath : undefined,
        checkpoint: dryRun ? undefined : `${flags.checkpoint}${complete ? " (complete)" : ""}`,
        dryRun,
        stoppedBy: summary.stoppedBy === undefined ? undefined : describe(summary.stoppedBy)
      })}\n`
    )
    if (flags.json) {
      const json = {
        ...total,
        complete,
        interrupted,
        dryRun,
        seconds: summary.seconds,
        messagesPerSecond: summary.messagesPerSecond,
        stoppedBy: unwritable?.message ?? (summary.stoppedBy === undefined ? null : describe(summary.stoppedBy)),
        rejectsFile: total.rejected > 0 ? rejectsPath : null,
        checkpoint: dryRun ? null : flags.checkpoint,
        peakRssBytes: process.resourceUsage().maxRSS * 1024
      }
      yield* Effect.sync(() => process.stdout.write(`${JSON.stringify(json)}\n`))
    }
    setExitCode(
      interrupted
        ? exitCodes.interrupted
        : unwritable !== undefined || summary.stoppedBy !== undefined
          ? exitCodes.failed
          : total.rejected > 0
            ? exitCodes.rejected
            : exitCodes.ok
    )
  }).pipe(
    Effect.scoped,
    Effect.provide(NodeHttpClient.layer),
    Effect.catchAll((error) =>
      Effect.zipRight(
        write(`effect-mixpanel import: ${withFlagNames(flags, describe(error))}\n`),
        Effect.sync(() => setExitCode(exitCodes.failed))
      )
    )
  )

/** The `effect-mixpanel` command, with its `import` subcommand. `setExitCode` receives the import's exit code. */
export const command = (setExitCode: (code: number) => void) =>
  Command.make("effect-mixpanel").pipe(
    Command.withDescription(
      "Mixpanel from the command line. `effect-mixpanel import --help` lists the import's flags."
    ),
    Command.withSubcommands([
      Command.make("import", flags, (parsed) => runImport(parsed, setExitCode)).pipe(
        Command.withDescription(
          "Import events (to /import), user or group profiles (to /engage, /groups) from NDJSON, JSON, CSV or TSV files"
        )
      )
    ])
  )

/** The lines of a help, as text. */
const helpLines = (help: HelpDoc.HelpDoc): ReadonlyArray<string> =>
  stripVTControlCharacters(HelpDoc.toAnsiText(help))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")

/**
 * The sentence `@effect/cli`'s help says under every flag of a kind ("A user-defined piece of text."): the
 * line after the name in the help of a bare flag of that kind.
 */
const kindSentence = (help: HelpDoc.HelpDoc): ReadonlyArray<string> => helpLines(help).slice(1, 2)

/**
 * The sentence it says under every flag or argument of an arity ("This setting is optional."): the last
 * line of the help of a text flag of that arity, after its kind's.
 */
const aritySentence = (help: HelpDoc.HelpDoc): ReadonlyArray<string> => helpLines(help).slice(2).slice(-1)

/** `help` without the sentences of `kinds` (kinds and arities), each with the blank line after it. */
const withoutKindSentences = (help: string, kinds: ReadonlySet<string>): string => {
  const lines = help.split("\n")
  const plain = lines.map((line) => stripVTControlCharacters(line).trim())
  const said = (i: number) => kinds.has(plain[i] ?? "")
  return lines.filter((_, i) => !said(i) && !(plain[i] === "" && said(i - 1))).join("\n")
}

/**
 * `help` without the banner `@effect/cli` puts above the line of the name and version: the name alone
 * again.
 */
const withoutBanner = (help: string): string => {
  const lines = help.split("\n")
  const plain = (i: number) => stripVTControlCharacters(lines[i] ?? "").trim()
  return plain(0) === "effect-mixpanel" && plain(1) === "" && plain(2).startsWith("effect-mixpanel ")
    ? lines.slice(2).join("\n")
    : help
}

/**
 * `@effect/cli` writes its help and its own errors through `Console`, in ANSI colours, and its usage line
 * names the subcommand alone (`$ import`). Through this console the usage line names the whole command, and
 * the colours are left out where they would show as escape codes: a stream that is not a terminal (a pipe,
 * a file), or `NO_COLOR` set (no-color.org). The sentences it writes under each flag of a kind ("A
 * user-defined piece of text.") and of an arity ("This setting is optional.", under nearly every flag) are
 * left out too: they say nothing that the usage line and the flag's own description do not, and
 * `@effect/cli` has no option to leave them out. The root help's list of commands gives `import`'s usage
 * without its thirty flags, which its own help lists; the banner above the name and version, which says
 * the name once more, is left out. Its errors ("Missing argument <file or folder>")
 * begin with `said` and point to the help, as the import's own do.
 */
const commandConsole = (console: Console.Console, said: string): Console.Console => {
  const plain = (stream: NodeJS.WriteStream) => stream.isTTY !== true || (process.env.NO_COLOR ?? "") !== ""
  const kinds = new Set(
    [Options.getHelp(Options.text("x")), Options.getHelp(Options.redacted("x")), Options.getHelp(Options.boolean("x"))]
      .flatMap(kindSentence)
      .concat(
        [
          Options.getHelp(Options.optional(Options.text("x"))),
          Options.getHelp(Options.repeated(Options.text("x"))),
          Args.getHelp(Args.atLeast(Args.text({ name: "x" }), 1))
        ].flatMap(aritySentence)
      )
  )
  const text = (stream: NodeJS.WriteStream, args: ReadonlyArray<unknown>) =>
    args.map((arg) =>
      typeof arg !== "string"
        ? arg
        : withoutKindSentences(withoutBanner(plain(stream) ? stripVTControlCharacters(arg) : arg), kinds)
            .replace(/^\$ import\b/m, "$ effect-mixpanel import")
            .replace(/^(\s*- import) \[.*?(<file or folder>\.\.\.)/m, "$1 [flags] $2")
    )
  return {
    ...console,
    log: (...args) => console.log(...text(process.stdout, args)),
    error: (...args) =>
      console.error(
        ...text(process.stderr, args).map((arg) => {
          if (typeof arg !== "string" || stripVTControlCharacters(arg).startsWith("effect-mixpanel")) return arg
          const words = arg.trim()
          return words.includes("\n") ? `${said}${arg}` : `${said}${words} (--help lists the flags)`
        })
      )
  }
}

/**
 * `--help` or `-h` anywhere asks for the help. (`@effect/cli` sees it only in some places: after a flag
 * such as `--dry-run` it takes it for a file.)
 */
const helpFirst = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const words = argv.slice(2)
  if (!words.includes("--help") && !words.includes("-h")) return argv
  return [...argv.slice(0, 2), ...(words[0] === "import" ? ["import"] : []), "--help"]
}

/**
 * Runs the command line `argv` (as `process.argv`). A defect (a bug, or a failure nothing expected) is
 * said on stderr too, and the exit code is 2: an import never ends without a word.
 */
export const run = (argv: ReadonlyArray<string>, setExitCode: (code: number) => void) =>
  Console.consoleWith((console) =>
    Command.run(command(setExitCode), { name: "effect-mixpanel", version })(helpFirst(argv)).pipe(
      Effect.withConsole(
        commandConsole(console, argv[2] === "import" ? "effect-mixpanel import: " : "effect-mixpanel: ")
      ),
      Effect.provide(CliConfig.layer({ showBuiltIns: false })),
      Effect.catchAllDefect((defect) => {
        const what = defect instanceof Error ? `${defect.name}: ${defect.message}` : describe(defect)
        return Effect.zipRight(
          write(`effect-mixpanel import: unexpected failure: ${what}\n`),
          Effect.sync(() => setExitCode(exitCodes.failed))
        )
      })
    )
  )
