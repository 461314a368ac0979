/**
 * The command line's checkpoint and rejects files.
 *
 * The checkpoint says, per input file, through which position every record has an outcome (delivered, or
 * written to the rejects file), with the length of the rejects file at that moment and the counts so far.
 * It is replaced atomically (written aside, then renamed), so a kill at any moment leaves either the old or
 * the new one. `--resume` skips what it covers, truncates the rejects file to its length (the rejections
 * written after it are found again), and sends the rest: records that were in flight at the kill go again,
 * with the same `$insert_id`, and Mixpanel keeps one copy.
 *
 * A failure to write either is an `Unwritable`, naming the file: the command stops, and says so.
 */

import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { BatchReport, Counts, Rejection } from "../../Import.js"
import { InvalidConfig } from "../../MixpanelError.js"
import type { Input } from "./files.js"
import { reasonOf } from "./formats.js"

const Count = Schema.NonNegativeInt

const Stages = Schema.Struct({ parse: Count, transform: Count, validation: Count, server: Count })

const CountsSchema = Schema.Struct({
  entries: Count,
  messages: Count,
  delivered: Count,
  rejected: Count,
  rejectedBy: Stages,
  skipped: Count,
  undelivered: Count
})

const InputState = Schema.Struct({
  source: Schema.String,
  path: Schema.String,
  size: Count,
  /** Every position up to this one has an outcome. */
  through: Count,
  /** Every position of the file has an outcome. */
  done: Schema.Boolean
})

/** The checkpoint file's content. */
export const Checkpoint = Schema.Struct({
  version: Schema.Literal(1),
  type: Schema.Literal("event", "user", "group"),
  inputs: Schema.Array(InputState),
  rejects: Schema.Struct({ path: Schema.String, bytes: Count }),
  counts: CountsSchema,
  complete: Schema.Boolean,
  updatedAt: Schema.String
})

export interface Checkpoint extends Schema.Schema.Type<typeof Checkpoint> {}

const decode = Schema.decodeUnknown(Schema.parseJson(Checkpoint))

/** The rejects file or the checkpoint could not be written (a folder missing, a read-only place, a full disk). */
export class Unwritable extends Schema.TaggedError<Unwritable>()("Unwritable", {
  file: Schema.Literal("rejects file", "checkpoint"),
  path: Schema.String,
  cause: Schema.Defect
}) {
  override get message(): string {
    const cause = this.cause as PlatformError.PlatformError
    const why = cause._tag === "SystemError" ? (cause.description ?? cause.reason) : cause.message
    return `cannot write the ${this.file} ${this.path}: ${why}`
  }
}

const unwritable = (file: Unwritable["file"], path: string) => (cause: PlatformError.PlatformError) =>
  new Unwritable({ file, path, cause })

/** No records yet. */
export const zero: Counts = {
  entries: 0,
  messages: 0,
  delivered: 0,
  rejected: 0,
  rejectedBy: { parse: 0, transform: 0, validation: 0, server: 0 },
  skipped: 0,
  undelivered: 0
}

/** `a + b`, count by count. */
export const addCounts = (a: Counts, b: Counts): Counts => ({
  entries: a.entries + b.entries,
  messages: a.messages + b.messages,
  delivered: a.delivered + b.delivered,
  rejected: a.rejected + b.rejected,
  rejectedBy: {
    parse: a.rejectedBy.parse + b.rejectedBy.parse,
    transform: a.rejectedBy.transform + b.rejectedBy.transform,
    validation: a.rejectedBy.validation + b.rejectedBy.validation,
    server: a.rejectedBy.server + b.rejectedBy.server
  },
  // Undelivered messages are sent again by the next run: they count once, in the run that ends.
  skipped: a.skipped + b.skipped,
  undelivered: b.undelivered
})

/** A checkpoint for a new import of `inputs`. */
export const fresh = (type: Checkpoint["type"], inputs: ReadonlyArray<Input>, rejectsPath: string): Checkpoint => ({
  version: 1,
  type,
  inputs: inputs.map((input) => ({
    source: input.source,
    path: input.path,
    size: input.size,
    through: 0,
    done: false
  })),
  rejects: { path: rejectsPath, bytes: 0 },
  counts: zero,
  complete: false,
  updatedAt: new Date(0).toISOString()
})

const invalid = (detail: string) => new InvalidConfig({ option: "--resume", detail })

/** The checkpoint at `path`, to resume: read before the files, since it names the rejects file they leave out. */
export const load = (
  path: string
): Effect.Effect<Checkpoint, InvalidConfig | PlatformError.PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(path))) return yield* invalid(`there is no checkpoint at ${path}`)
    return yield* Effect.mapError(Effect.flatMap(fs.readFileString(path), decode), () =>
      invalid(`${path} is not a checkpoint of this version of effect-mixpanel`)
    )
  })

/**
 * `checkpoint`, checked against the import it is to resume: the same type and the same files, each of the
 * same size (a file that changed cannot be resumed by position).
 */
export const resumable = (
  checkpoint: Checkpoint,
  type: Checkpoint["type"],
  inputs: ReadonlyArray<Input>
): Effect.Effect<Checkpoint, InvalidConfig> =>
  Effect.gen(function* () {
    if (checkpoint.type !== type) return yield* invalid(`the checkpoint is of an import of ${checkpoint.type} records`)
    const listed = (states: ReadonlyArray<{ readonly path: string }>) => states.map((state) => state.path).join(", ")
    if (listed(checkpoint.inputs) !== listed(inputs)) {
      return yield* invalid(`the checkpoint is of an import of ${listed(checkpoint.inputs)}, not ${listed(inputs)}`)
    }
    for (const [i, state] of checkpoint.inputs.entries()) {
      const size = inputs[i]?.size
      if (!state.done && size !== state.size) {
        return yield* invalid(
          `${state.source} has changed since the checkpoint (${state.size} bytes then, ${size} now)`
        )
      }
    }
    return checkpoint
  })

/** `checkpoint` moved on by a batch's report: the file of `through`, and every file before it. */
export const advance = (
  checkpoint: Checkpoint,
  report: BatchReport,
  base: Counts,
  rejectsBytes: number
): Checkpoint => {
  const through = report.through
  const at = through === undefined ? -1 : checkpoint.inputs.findIndex((input) => input.source === through.source)
  return {
    ...checkpoint,
    inputs:
      through === undefined
        ? checkpoint.inputs
        : checkpoint.inputs.map((input, i) =>
            i < at ? { ...input, done: true } : i === at ? { ...input, through: through.ordinal } : input
          ),
    rejects: { ...checkpoint.rejects, bytes: rejectsBytes },
    counts: addCounts(base, report.counts)
  }
}

/**
 * `checkpoint` at the end of a run: every file done when the run read them all and confirmed everything.
 * A run that stopped keeps the counts of its last confirmed batch: what it read after that is read again by
 * `--resume`, and counted then.
 */
export const finish = (
  checkpoint: Checkpoint,
  counts: Counts,
  base: Counts,
  rejectsBytes: number,
  complete: boolean
): Checkpoint => ({
  ...checkpoint,
  inputs: complete ? checkpoint.inputs.map((input) => ({ ...input, done: true })) : checkpoint.inputs,
  rejects: { ...checkpoint.rejects, bytes: rejectsBytes },
  counts: complete ? addCounts(base, counts) : checkpoint.counts,
  complete
})

/** The file beside the checkpoint at `path` that each save writes, then renames over it. */
export const asideOf = (path: string): string => `${path}.tmp`

/** Writes `checkpoint` to `path` atomically: to a file beside it, then renamed over it. */
export const save = (
  path: string,
  checkpoint: Checkpoint,
  now: Date
): Effect.Effect<void, Unwritable, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const aside = asideOf(path)
    yield* fs.writeFileString(aside, `${JSON.stringify({ ...checkpoint, updatedAt: now.toISOString() }, null, 2)}\n`)
    yield* fs.rename(aside, path)
  }).pipe(Effect.mapError(unwritable("checkpoint", path)))

/**
 * One line of the rejects file. A record that JSON cannot write (nested deeper than `JSON.stringify`'s
 * stack: it was rejected for its nesting) is written as `null`, the reason saying so; its source and line
 * find it.
 */
export const rejectsLine = (rejection: Rejection): string => {
  const line = {
    source: rejection.source,
    line: rejection.line,
    stage: rejection.stage,
    reason: rejection.reason,
    record: rejection.record
  }
  try {
    return `${JSON.stringify(line)}\n`
  } catch (error) {
    const why = reasonOf(error)
    return `${JSON.stringify({ ...line, reason: `${line.reason} (the record is not written: ${why})`, record: null })}\n`
  }
}

/**
 * The rejects file, appended to. `bytes` is its length. `start` (a length) truncates a file left by an
 * earlier run to the length its checkpoint knew, or removes it (`0`), so that the file never holds a
 * rejection twice (what is not a file, such as `/dev/null`, is left as it is), and a write that fails
 * takes back what it wrote of its lines. A file shorter than `start`, or gone, lost rejections the
 * checkpoint counts: that is an `InvalidConfig` naming `--rejects` (truncated to `start`, the file would be
 * padded with NUL bytes, and its lines would not be the summary's). It is opened at once, so that an
 * import that could not keep its rejections stops before it sends anything, and stays open for the rest of
 * the scope this is made in; at the end of which it is removed if nothing was written.
 */
export const rejectsFile = (path: string, start: number) => {
  const failed = unwritable("rejects file", path)
  return Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    // What is not a file (`/dev/null`, a pipe) is written to as it is: never truncated, never removed
    const found = yield* Effect.option(fs.stat(path))
    const isFile = Option.isNone(found) || found.value.type === "File"
    const held = Option.isSome(found) ? Number(found.value.size) : undefined
    if (start > 0 && isFile && (held ?? 0) < start) {
      return yield* new InvalidConfig({
        option: "--rejects",
        detail: `${path} ${held === undefined ? "is gone" : `holds ${held} bytes`}, and the checkpoint counts ${start} bytes of rejections in it: it was ${held === undefined ? "removed" : "cut short"} since. Put it back, or import again without --resume`
      })
    }
    if (Option.isSome(found) && isFile) {
      if (start === 0) yield* fs.remove(path)
      else yield* fs.truncate(path, start)
    }
    let bytes = start
    // Before the file is opened, so that it is closed first
    yield* Effect.addFinalizer(() => (bytes === 0 && isFile ? Effect.ignore(fs.remove(path)) : Effect.void))
    const file = yield* fs.open(path, { flag: "a" })
    const encoder = new TextEncoder()
    const append = (rejections: ReadonlyArray<Rejection>): Effect.Effect<void, Unwritable> =>
      Effect.gen(function* () {
        if (rejections.length === 0) return
        const data = encoder.encode(rejections.map(rejectsLine).join(""))
        // A write cut short (a full disk) leaves no part of a line behind, if it can be taken back
        yield* file.writeAll(data).pipe(Effect.tapError(() => Effect.ignore(fs.truncate(path, bytes))))
        bytes += data.length
      }).pipe(Effect.mapError(failed))
    return { append, bytes: () => bytes }
  }).pipe(Effect.mapError((error) => (error instanceof InvalidConfig ? error : failed(error))))
}
