/**
 * Reading the importer's inputs: paths to files and folders become a list of files (a folder: its files
 * in name order), and each file a stream of entries, decompressed when it is `.gz`, parsed as it is read.
 */
import * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Entry } from "../../Import.js"
import { InvalidConfig } from "../../MixpanelError.js"
import * as Formats from "./formats.js"
import * as Utf8 from "./utf8.js"

export type Format = Formats.Format

/** One file to read. `source` is its path as the user wrote it (joined to its folder's). */
export interface Input {
  readonly source: string
  readonly path: string
  readonly format: Format
  readonly gzip: boolean
  readonly size: number
}

/** What the paths name: the files to read, and the files of folders skipped for an unknown format. */
export interface Inputs {
  readonly files: ReadonlyArray<Input>
  readonly skipped: ReadonlyArray<string>
}

const unknownFormat = (source: string) =>
  new InvalidConfig({
    option: "format",
    detail: `cannot tell the format of ${source} from its name: use .ndjson, .jsonl, .json, .csv or .tsv (optionally .gz), or give the format`
  })

/** A file the import itself writes (its checkpoint, its rejects file), and what it is, for a message. */
export interface Written {
  readonly path: string
  readonly what: string
}

/**
 * The files `paths` name, in order. A folder's files are taken in name order; its subfolders, hidden files
 * and the files the import writes (`written`: `import .` must not read its own checkpoint) are not. A file
 * the import writes named as an input is refused.
 */
export const resolve = (
  paths: ReadonlyArray<string>,
  format?: Format | undefined,
  written: ReadonlyArray<Written> = []
): Effect.Effect<Inputs, InvalidConfig | PlatformError.PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files: Array<Input> = []
    const skipped: Array<string> = []
    const writtenAt = (source: string) => written.find((file) => path.resolve(file.path) === path.resolve(source))
    const input = (source: string, size: number): Input | undefined => {
      const named = Formats.formatOf(source)
      const chosen = format ?? named.format
      return chosen === undefined
        ? undefined
        : { source, path: path.resolve(source), format: chosen, gzip: named.gzip, size }
    }
    if (paths.length === 0) return yield* new InvalidConfig({ option: "paths", detail: "no file or folder to import" })
    for (const source of paths) {
      const info = yield* fs
        .stat(source)
        .pipe(
          Effect.catchTag(
            "SystemError",
            (error): Effect.Effect<never, InvalidConfig | PlatformError.SystemError> =>
              Effect.fail(
                error.reason === "NotFound"
                  ? new InvalidConfig({ option: "paths", detail: `${source} does not exist` })
                  : error
              )
          )
        )
      if (info.type === "Directory") {
        const names = (yield* fs.readDirectory(source)).filter((name) => !name.startsWith(".")).sort()
        for (const name of names) {
          const file = path.join(source, name)
          if (writtenAt(file) !== undefined) continue
          // One that cannot be looked at (a symbolic link to nothing, to itself) is read as any file that
          // cannot be read: one rejection names it, and the other files are imported
          const stat = yield* fs.stat(file).pipe(
            Effect.map(Option.some),
            Effect.catchTag("SystemError", () => Effect.succeedNone)
          )
          if (Option.isSome(stat) && stat.value.type !== "File") continue
          const found = input(file, Option.match(stat, { onNone: () => 0, onSome: (info) => Number(info.size) }))
          if (found === undefined) skipped.push(file)
          else files.push(found)
        }
        continue
      }
      const own = writtenAt(source)
      if (own !== undefined) {
        return yield* new InvalidConfig({
          option: "paths",
          detail: `${source} is ${own.what}, which this import writes: it cannot be imported too`
        })
      }
      const found = input(source, Number(info.size))
      if (found === undefined) return yield* unknownFormat(source)
      files.push(found)
    }
    return { files, skipped }
  })

const gunzip = (input: Input, bytes: Stream.Stream<Uint8Array, PlatformError.PlatformError>) =>
  Stream.fromReadableStream(
    () =>
      Stream.toReadableStream(bytes).pipeThrough<Uint8Array>(
        // The DOM typings want a BufferSource writer; a Uint8Array is one.
        new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>
      ),
    (error) =>
      new PlatformError.SystemError({
        reason: "InvalidData",
        module: "FileSystem",
        method: "gunzip",
        pathOrDescriptor: input.source,
        description: Formats.reasonOf(error)
      })
  )

/** Chunks of 64 KiB (a chunk and its text are held while parsed): few steps per megabyte, little memory. */
const chunkSize = FileSystem.KiB(64)

/**
 * How a file's bytes are read, decompressed when it is `.gz`: `onBytes` is told the size of every chunk
 * read from disk (before decompression), for progress.
 */
export type Open = (
  input: Input,
  onBytes: (bytes: number) => void
) => Stream.Stream<Uint8Array, PlatformError.PlatformError, FileSystem.FileSystem>

/** With `FileSystem` and the standard `DecompressionStream`: on every platform. */
export const open: Open = (input, onBytes) =>
  Stream.unwrap(
    Effect.map(FileSystem.FileSystem, (fs) => {
      const counted = Stream.mapChunks(fs.stream(input.path, { chunkSize }), (chunk) => {
        for (const bytes of chunk) onBytes(bytes.length)
        return chunk
      })
      return input.gzip ? gunzip(input, counted) : counted
    })
  )

/**
 * Why the rest of a file cannot be read, naming it:
 * `the rest of events.ndjson.gz cannot be read: gunzip: unexpected end of file`.
 */
const unreadableRest = (input: Input, error: PlatformError.PlatformError): string => {
  const why = error._tag === "SystemError" ? `${error.method}: ${error.description ?? error.reason}` : error.message
  return `the rest of ${input.source} cannot be read: ${why}`
}

/**
 * The entries of one file. Positions up to `skipThrough` are left out (`--resume`). A record with bytes
 * that are not UTF-8 is `Unreadable`, and the records around it are read. A file that cannot be read to its
 * end (a `.gz` cut short or not gzip, a read error) gives its records up to there, then one `Unreadable`
 * entry for the rest, where the next record would have started: the other files are read.
 */
export const read = (
  input: Input,
  options: {
    readonly skipThrough?: number | undefined
    readonly onBytes?: ((bytes: number) => void) | undefined
    readonly open?: Open | undefined
  } = {}
): Stream.Stream<Entry, never, FileSystem.FileSystem> =>
  Stream.unwrap(
    Effect.sync(() => {
      const bytes = (options.open ?? open)(input, options.onBytes ?? (() => {}))
      const skipThrough = options.skipThrough ?? 0
      return Stream.suspend(() => {
        const parser = Formats.make(input.format, input.source, skipThrough)
        const reader = Utf8.reader(parser)
        return bytes.pipe(
          Stream.mapChunks((chunk) => {
            const out: Array<Entry> = []
            for (const piece of chunk) reader.push(piece, out)
            return Chunk.unsafeFromArray(out)
          }),
          Stream.concat(
            Stream.suspend(() => {
              const out: Array<Entry> = []
              reader.end(out)
              return Stream.fromIterable(out)
            })
          ),
          Stream.catchAll((error) => {
            // The unfinished record at the break is not made: cut short, it could pass for another.
            const { line, ordinal } = parser.next()
            if (ordinal <= skipThrough) return Stream.empty
            const reason = unreadableRest(input, error)
            return Stream.make<[Entry]>({ _tag: "Unreadable", source: input.source, line, ordinal, reason, text: "" })
          })
        )
      })
    })
  )

/** The entries of every file that `paths` name, in order (`Import.fromFiles`). */
export const entries = (
  paths: ReadonlyArray<string>,
  options?: { readonly format?: Format | undefined }
): Stream.Stream<Entry, InvalidConfig | PlatformError.PlatformError, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(
    Effect.map(resolve(paths, options?.format), ({ files }) =>
      Stream.flatMap(Stream.fromIterable(files), (input) => read(input))
    )
  )
