/**
 * `effect-mixpanel import` as users run it: the bundled executable (built once, as `npm run build`
 * builds it) in a process of its own, against the embedded Mixpanel in this one. Settings come from the
 * environment, as the command reads them; retry delays are kept short with `--retry-delay`. One test runs
 * the command in this process, to give it a file system that fails as nothing else can.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, beforeAll, describe, expect, it, vi } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { MixpanelTestServer } from "effect-mixpanel/testing"
import { buildBin } from "../../scripts/build-bin.js"
import * as Cli from "../../src/internal/import/cli.js"

const token = "cli-token"
const secret = "cli-secret"
const root = new URL("../..", import.meta.url).pathname

let dir = ""
let bin = ""

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "effect-mixpanel-import-"))
  bin = await buildBin(join(dir, "bin.mjs"))
}, 120_000)

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly summary: Record<string, unknown> | undefined
}

/** A working directory of its own for one test, with `files` written into it. */
const workspace = (name: string, files: Record<string, string | Buffer> = {}) => {
  const cwd = join(dir, name)
  mkdirSync(cwd, { recursive: true })
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(cwd, file, ".."), { recursive: true })
    writeFileSync(join(cwd, file), content)
  }
  return cwd
}

const environment = (server: MixpanelTestServer.MixpanelTestServer, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "",
  MIXPANEL_TOKEN: token,
  MIXPANEL_API_SECRET: secret,
  MIXPANEL_BASE_URL: server.url,
  ...extra
})

/**
 * Starts the command; `done` resolves when it exits. `fileBlocks`: the most a file it writes may hold, in
 * the blocks of the shell's `ulimit -f` (512 bytes, or 1 KiB): a disk that fills up.
 */
const start = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  nodeArgs: ReadonlyArray<string> = [],
  fileBlocks?: number
): { readonly child: ChildProcess; readonly done: Promise<Run> } => {
  const command = [...nodeArgs, bin, "import", ...args]
  const child =
    fileBlocks === undefined
      ? spawn(process.execPath, command, { cwd, env, stdio: "pipe" })
      : spawn("/bin/sh", ["-c", `ulimit -f ${fileBlocks} && exec "$0" "$@"`, process.execPath, ...command], {
          cwd,
          env,
          stdio: "pipe"
        })
  let stdout = ""
  let stderr = ""
  child.stdout?.on("data", (data) => {
    stdout += data
  })
  child.stderr?.on("data", (data) => {
    stderr += data
  })
  const done = new Promise<Run>((resolve) =>
    child.on("exit", (code, signal) => {
      const last = stdout.trim().split("\n").pop() ?? ""
      const summary = last.startsWith("{") ? (JSON.parse(last) as Record<string, unknown>) : undefined
      resolve({ code, signal, stdout, stderr, summary })
    })
  )
  return { child, done }
}

const cli = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  nodeArgs?: ReadonlyArray<string>,
  fileBlocks?: number
) => start(cwd, ["--json", "--retry-delay", "5 millis", ...args], env, nodeArgs, fileBlocks).done

const ndjson = (records: ReadonlyArray<unknown>) => records.map((record) => `${JSON.stringify(record)}\n`).join("")

const event = (seq: number) => ({
  event: "Order Placed",
  properties: { distinct_id: `c${seq % 13}`, time: 1_700_000_000 + seq, seq, total: (seq % 90) + 0.5 }
})

const seqs = (server: MixpanelTestServer.MixpanelTestServer) =>
  server
    .received("imports")
    .map((received) => (received.properties as { seq: number }).seq)
    .sort((a, b) => a - b)

/** `JSON.parse`'s own message for `text`, which differs between versions of Node. */
const jsonError = (text: string): string => {
  try {
    JSON.parse(text)
    return ""
  } catch (error) {
    return (error as Error).message
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** `n` lines of events, the last of every `every` of them not JSON; and the seqs of the events. */
const withBroken = (n: number, every: number) => {
  const broken = (i: number) => i % every === every - 1
  const lines = range(0, n).map((i) => (broken(i) ? `broken ${i}` : JSON.stringify(event(i))))
  return { text: `${lines.join("\n")}\n`, expected: range(0, n).filter((i) => !broken(i)) }
}

/** The position through which the default checkpoint in `cwd` has an outcome for its first file (0 without one). */
const confirmedThrough = (cwd: string): number => {
  try {
    return JSON.parse(readFileSync(join(cwd, "effect-mixpanel-import.checkpoint.json"), "utf8")).inputs[0].through
  } catch {
    return 0
  }
}

const until = async (predicate: () => boolean, what: string, seconds = 60) => {
  const deadline = Date.now() + seconds * 1000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`waited ${seconds} s for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const withServer = async (
  options: MixpanelTestServer.Options,
  body: (server: MixpanelTestServer.MixpanelTestServer) => Promise<void>
) => {
  const server = await MixpanelTestServer.start({ token, auth: { apiSecret: secret }, ...options })
  try {
    await body(server)
  } finally {
    await server.close()
  }
}

/**
 * An import of 3,000 lines, every tenth not JSON (and long), stopped part-way because its rejects file
 * could not be written: files of 16 blocks at most, a full disk after some 30 to 60 of the 300 rejections.
 */
const diskFull = async (server: MixpanelTestServer.MixpanelTestServer, name: string) => {
  const n = 3000
  const broken = (i: number) => i % 10 === 9
  const lines = range(0, n).map((i) => (broken(i) ? `not json ${i} ${"x".repeat(200)}` : JSON.stringify(event(i))))
  const cwd = workspace(name, { "events.ndjson": `${lines.join("\n")}\n` })
  const rejectsFile = join(cwd, "effect-mixpanel-import.rejects.ndjson")
  const args = ["events.ndjson", "--batch-size", "10", "--concurrency", "1"]
  const full = await cli(cwd, args, environment(server), [], 16)
  expect(full.code).toBe(2)
  return { args, broken, cwd, full, n, rejectsFile }
}

describe("effect-mixpanel import", () => {
  it("reads every format, plain or gzipped, and folders in name order", () =>
    withServer({}, async (server) => {
      const array = (from: number, to: number) =>
        `[\n${range(from, to)
          .map((i) => JSON.stringify(event(i)))
          .join(",\n")}\n]`
      const cwd = workspace("formats", {
        "a.ndjson": ndjson(range(0, 10).map(event)),
        "b.ndjson.gz": gzipSync(ndjson(range(10, 20).map(event))),
        "c.json": array(20, 30),
        "d.json.gz": gzipSync(array(30, 40)),
        "folder/2.jsonl": ndjson(range(50, 60).map(event)),
        "folder/1.jsonl": ndjson(range(40, 50).map(event)),
        "folder/_SUCCESS": ""
      })
      const run = await cli(cwd, ["a.ndjson", "b.ndjson.gz", "c.json", "d.json.gz", "folder"], environment(server))
      expect(run.code).toBe(0)
      expect(seqs(server)).toEqual(range(0, 60))
      expect(run.summary).toMatchObject({ entries: 60, delivered: 60, rejected: 0, complete: true })
      expect(run.stderr).toContain("skipped, unknown format: folder/_SUCCESS")
      // one request after another would keep file order; the folder's files come in name order
      const checkpoint = JSON.parse(readFileSync(join(cwd, "effect-mixpanel-import.checkpoint.json"), "utf8"))
      expect(checkpoint.inputs.map((input: { source: string }) => input.source)).toEqual([
        "a.ndjson",
        "b.ndjson.gz",
        "c.json",
        "d.json.gz",
        "folder/1.jsonl",
        "folder/2.jsonl"
      ])

      // CSV and TSV, with a column mapping
      server.clear()
      const csv = (from: number, to: number, separator: string) =>
        `action${separator}"when"${separator}uuid${separator}seq\n${range(from, to)
          .map((i) => ["Viewed", `2024-01-01T00:00:${`${i}`.padStart(2, "0")}Z`, `u${i}`, i].join(separator))
          .join("\n")}\n`
      const tables = workspace("tables", {
        "a.csv": csv(0, 5, ","),
        "b.csv.gz": gzipSync(csv(5, 10, ",")),
        "c.tsv": csv(10, 15, "\t")
      })
      const mapped = await cli(
        tables,
        ["a.csv", "b.csv.gz", "c.tsv", "--map", "event=action,time=when", "--map", "distinct_id=uuid"],
        environment(server)
      )
      expect(mapped.code).toBe(0)
      expect(server.received("imports")).toHaveLength(15)
      expect(server.received("imports")[12]).toEqual({
        event: "Viewed",
        properties: {
          token,
          distinct_id: "u12",
          time: Date.UTC(2024, 0, 1, 0, 0, 12),
          $insert_id: expect.stringMatching(/^[0-9a-f]{32}$/),
          seq: "12"
        }
      })
    }))

  it("imports what a .gz cut short, empty or not gzip holds before the break, reports the rest, and reads on", () =>
    withServer({}, async (server) => {
      const gzipped = gzipSync(ndjson(range(0, 3000).map(event)))
      const cwd = workspace("broken-gz", {
        "folder/a.ndjson.gz": gzipped.subarray(0, gzipped.length / 2),
        "folder/b.ndjson.gz": "",
        "folder/c.ndjson.gz": "not gzip\n",
        "folder/d.ndjson": ndjson([event(5000)])
      })
      const run = await cli(cwd, ["folder"], environment(server))
      expect(run.code).toBe(1)
      const received = seqs(server)
      // the records of a.ndjson.gz up to the break, then the other files
      expect(received.length).toBeGreaterThan(100)
      expect(received).toEqual([...range(0, received.length - 1), 5000])
      const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").trim().split("\n")
      expect(rejects.map((line) => JSON.parse(line))).toEqual([
        {
          source: "folder/a.ndjson.gz",
          line: received.length,
          stage: "parse",
          reason: "the rest of folder/a.ndjson.gz cannot be read: gunzip: unexpected end of file",
          record: ""
        },
        expect.objectContaining({
          source: "folder/b.ndjson.gz",
          line: 1,
          reason: "the rest of folder/b.ndjson.gz cannot be read: gunzip: unexpected end of file"
        }),
        expect.objectContaining({
          source: "folder/c.ndjson.gz",
          line: 1,
          reason: "the rest of folder/c.ndjson.gz cannot be read: gunzip: incorrect header check"
        })
      ])
      expect(run.summary).toMatchObject({ delivered: received.length, rejected: 3, rejectedBy: { parse: 3 } })
      expect(run.stderr).toContain("rejected      3")
    }))

  it("refuses a folder with no file to import in it, saying so, and writes no checkpoint", () =>
    withServer({}, async (server) => {
      const cwd = workspace("nothing", { "folder/_SUCCESS": "", "folder/notes.md": "x", "folder/.hidden.ndjson": "" })
      mkdirSync(join(cwd, "empty"))
      const empty = await cli(cwd, ["empty"], environment(server))
      expect([empty.code, empty.stderr]).toEqual([2, "effect-mixpanel import: no files to import in empty\n"])
      const unknown = await cli(cwd, ["folder", "empty", "--dry-run"], environment(server))
      expect([unknown.code, unknown.stderr]).toEqual([
        2,
        "effect-mixpanel import: no files to import in folder, empty (skipped, unknown format: folder/_SUCCESS, folder/notes.md)\n"
      ])
      expect(() => statSync(join(cwd, "effect-mixpanel-import.checkpoint.json"))).toThrow(/ENOENT/)
      expect(server.requests()).toEqual([])
    }))

  it("imports a folder with a symbolic link to nothing in it: the link is one rejection, naming it", () =>
    withServer({}, async (server) => {
      const cwd = workspace("dangling", { "folder/a.ndjson": ndjson(range(0, 5).map(event)) })
      symlinkSync("nowhere.ndjson", join(cwd, "folder", "b.ndjson"))
      symlinkSync("c.ndjson", join(cwd, "folder", "c.ndjson"))
      const run = await cli(cwd, ["folder"], environment(server))
      expect(run.code).toBe(1)
      expect(seqs(server)).toEqual(range(0, 5))
      const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").trim().split("\n")
      expect(rejects.map((line) => JSON.parse(line))).toEqual(
        [
          ["b.ndjson", "ENOENT: no such file or directory"],
          ["c.ndjson", "ELOOP: too many symbolic links encountered"]
        ].map(([name, why]) => ({
          source: `folder/${name}`,
          line: 1,
          stage: "parse",
          reason: expect.stringMatching(new RegExp(`^the rest of folder/${name} cannot be read: read: ${why}, open `)),
          record: ""
        }))
      )
      expect(run.summary).toMatchObject({ delivered: 5, rejected: 2, complete: true })
    }))

  it("rejects a record whose bytes are not UTF-8, saying where, and imports the others whole", () =>
    withServer({}, async (server) => {
      const name = "José ✓ 😀"
      const n = 1500
      const broken = [1, n - 2]
      /**
       * A file of `n` rows of the same length after a BOM and `head`, whose first line is padded with spaces
       * so that the "😀" of the row at byte 65,536, where the first chunk read ends, is cut in two there. In
       * the rows `broken`, "é" is in Latin-1 (0xE9, then "!" for the byte it lacks).
       */
      const file = (head: string, row: (seq: number) => string, tail: string, first: number) => {
        const rows = range(first, first + n).map(row)
        const before = 3 + Buffer.byteLength(head)
        const length = Buffer.byteLength(rows[0] ?? "")
        const emoji = Buffer.byteLength(rows[0]?.slice(0, rows[0].indexOf("😀")) ?? "")
        const pad = " ".repeat((((65_536 - 2 - emoji - before) % length) + length) % length)
        const padded = head.endsWith("\n") ? `${head.slice(0, -1)}${pad}\n` : `${head}${pad}`
        const bytes = rows.map((text, i) => {
          const row = Buffer.from(text)
          if (broken.includes(i)) row.set([0xe9, 0x21], row.indexOf("é"))
          return row
        })
        const content = Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from(padded),
          ...bytes,
          Buffer.from(tail)
        ])
        expect(content.subarray(65_534, 65_538).toString()).toBe("😀")
        return { content, rows: rows.map((text) => text.replace(/,?\n$/, "")), header: head !== "" }
      }
      const object = (seq: number) => ({
        event: "Order Placed",
        properties: { distinct_id: `u${seq}`, time: 1_700_000_000 + seq, seq, name }
      })
      const ndjsonFile = (first: number) => file("", (seq) => `${JSON.stringify(object(seq))}\n`, "", first)
      const jsonFile = (first: number) =>
        file("[\n", (seq) => `${JSON.stringify(object(seq))}${seq < first + n - 1 ? "," : ""}\n`, "]\n", first)
      const csvFile = (first: number) =>
        file(
          "event,distinct_id,time,seq,name\n",
          (seq) => `Order Placed,u${seq},${1_700_000_000 + seq},${seq},${name}\n`,
          "",
          first
        )
      const files = {
        "a.ndjson": ndjsonFile(10_000),
        "b.ndjson.gz": ndjsonFile(20_000),
        "c.json": jsonFile(30_000),
        "d.json.gz": jsonFile(40_000),
        "e.csv": csvFile(50_000),
        "f.csv.gz": csvFile(60_000)
      }
      const cwd = workspace(
        "not-utf8",
        Object.fromEntries(
          Object.entries(files).map(([source, { content }]) => [
            source,
            source.endsWith(".gz") ? gzipSync(content) : content
          ])
        )
      )
      const run = await cli(cwd, Object.keys(files), environment(server))
      expect(run.code).toBe(1)
      // Every other record, whole: the characters cut by the end of a chunk, and the first after the BOM
      const received = server.received("imports").map((event) => event.properties as Record<string, unknown>)
      expect(received.map((properties) => Number(properties.seq)).sort((a, b) => a - b)).toEqual(
        [10_000, 20_000, 30_000, 40_000, 50_000, 60_000].flatMap((first) =>
          range(first, first + n).filter((seq) => !broken.includes(seq - first))
        )
      )
      expect(new Set(received.map((properties) => properties.name))).toEqual(new Set([name]))
      // The rest, each where it is: its line (the header row and the array's [ take the first), and the
      // byte of that line (the BOM's three bytes are the first line's)
      const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").trim().split("\n")
      expect(rejects.map((line) => JSON.parse(line))).toEqual(
        Object.entries(files).flatMap(([source, { rows, header }]) =>
          broken.map((i) => {
            const line = i + (header ? 2 : 1)
            const text = rows[i] ?? ""
            const byte = Buffer.byteLength(text.slice(0, text.indexOf("é"))) + 1
            return {
              source,
              line,
              stage: "parse",
              reason: `line ${line} is not valid UTF-8 (byte ${byte} of the line: 0xE9)`,
              record: text.replace("é", "\uFFFD!")
            }
          })
        )
      )
      expect(run.summary).toMatchObject({ rejected: 12, rejectedBy: { parse: 12 }, delivered: 6 * (n - 2) })
    }))

  it("imports user and group profiles", () =>
    withServer({}, async (server) => {
      const cwd = workspace("profiles", {
        "users.csv": "distinct_id,name,plan\nu1,Ada,pro\nu2,Grace,free\n",
        "companies.ndjson": ndjson([
          { company_id: "acme", seats: 40 },
          { $group_key: "company_id", $group_id: "initech", $set_once: { founded: 1999 } }
        ])
      })
      expect((await cli(cwd, ["users.csv", "--type", "user"], environment(server))).code).toBe(0)
      expect(server.received("people")).toEqual([
        { $token: token, $distinct_id: "u1", $set: { name: "Ada", plan: "pro" } },
        { $token: token, $distinct_id: "u2", $set: { name: "Grace", plan: "free" } }
      ])
      const groups = await cli(
        cwd,
        ["companies.ndjson", "--type", "group", "--group-key", "company_id"],
        environment(server)
      )
      expect(groups.code).toBe(0)
      expect(server.received("groups")).toEqual([
        { $token: token, $group_key: "company_id", $group_id: "acme", $set: { seats: 40 } },
        { $token: token, $group_key: "company_id", $group_id: "initech", $set_once: { founded: 1999 } }
      ])
    }))

  it("keeps fields named like Object.prototype's members, and rejects __proto__ by name", () =>
    withServer({}, async (server) => {
      const cwd = workspace("members", {
        "events.csv": "event,distinct_id,time,constructor,toString,valueOf,hasOwnProperty\nA,u1,1700000000,c,t,v,h\n",
        "proto.ndjson": '{"event":"B","distinct_id":"u1","time":1700000000,"__proto__":"p"}\n'
      })
      const run = await cli(cwd, ["events.csv", "proto.ndjson"], environment(server))
      expect(run.code).toBe(1)
      expect(server.received("imports").map((event) => event.properties)).toEqual([
        expect.objectContaining({ constructor: "c", toString: "t", valueOf: "v", hasOwnProperty: "h" })
      ])
      const [rejected] = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").split("\n")
      expect(JSON.parse(rejected ?? "{}")).toMatchObject({
        source: "proto.ndjson",
        stage: "validation",
        reason: expect.stringMatching(/^properties\.__proto__: `__proto__` cannot be a property name/)
      })
    }))

  it("rejects a record nested 20,000 levels deep as any other", () =>
    withServer({}, async (server) => {
      const deep = `{"event":"Deep","properties":{"time":1,"x":${"[".repeat(20_000)}${"]".repeat(20_000)}}}`
      const cwd = workspace("deep", {
        "events.ndjson": `${JSON.stringify(event(0))}\n${deep}\n${JSON.stringify(event(1))}\n`,
        "events.json": `[${JSON.stringify(event(2))},\n${deep}]`
      })
      const run = await cli(cwd, ["events.ndjson", "events.json"], environment(server))
      expect(run.code).toBe(1)
      expect(seqs(server)).toEqual([0, 1, 2])
      const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").trim().split("\n")
      // JSON cannot write the record again: its source and line find it
      expect(rejects.map((line) => JSON.parse(line))).toEqual([
        {
          source: "events.ndjson",
          line: 2,
          stage: "validation",
          reason: expect.stringMatching(/nested/),
          record: null
        },
        { source: "events.json", line: 2, stage: "validation", reason: expect.stringMatching(/nested/), record: null }
      ])
      expect(run.summary).toMatchObject({ delivered: 3, rejected: 2, rejectedBy: { validation: 2 } })
    }))

  it("sends nothing when the rejects file cannot be written, and says which file and why", () =>
    withServer({}, async (server) => {
      const cwd = workspace("unwritable", { "events.ndjson": `${JSON.stringify(event(0))}\n{not json\n` })
      const cases = [
        ["missing/rejects.ndjson", "ENOENT: no such file or directory"], // a folder that does not exist
        ["events.ndjson/rejects.ndjson", "ENOTDIR: not a directory"] // a file taken for a folder
      ]
      for (const [path, why] of cases) {
        const failed = await cli(cwd, ["events.ndjson", "--rejects", path ?? ""], environment(server))
        expect(failed.code).toBe(2)
        // one line, no stack
        expect(failed.stderr.trimEnd().split("\n")).toEqual([
          expect.stringMatching(`^effect-mixpanel import: cannot write the rejects file ${path}: ${why}, `)
        ])
      }
      expect(server.requests()).toEqual([])
    }))

  // A device of the test's own, the twin of /dev/null: without the check, the import removed it
  it.skipIf(process.getuid?.() !== 0 || process.platform !== "linux")(
    "writes rejections to --rejects /dev/null, and never truncates nor removes what is not a file",
    () =>
      withServer({}, async (server) => {
        const cwd = workspace("device", { "events.ndjson": `${JSON.stringify(event(0))}\n{not json\n` })
        const device = join(cwd, "null")
        execFileSync("mknod", [device, "c", "1", "3"])
        const rejected = await cli(cwd, ["events.ndjson", "--rejects", device], environment(server))
        expect(rejected.code).toBe(1)
        expect(statSync(device).isCharacterDevice()).toBe(true)
        // Nothing rejected: an empty rejects file is removed at the end, but not this one
        const clean = workspace("device-clean", { "events.ndjson": `${JSON.stringify(event(1))}\n` })
        const none = await cli(clean, ["events.ndjson", "--rejects", device], environment(server))
        expect(none.code).toBe(0)
        expect(statSync(device).isCharacterDevice()).toBe(true)
      })
  )

  it("stops when the rejects file cannot be written mid-run (a full disk), says so, and --resume finishes", () =>
    withServer({}, async (server) => {
      const { args, broken, cwd, full, n, rejectsFile } = await diskFull(server, "disk-full")
      expect(full.stderr).toMatch(
        /^effect-mixpanel import: cannot write the rejects file effect-mixpanel-import\.rejects\.ndjson: EFBIG: file too large, write \(resume with --resume once it can be written\) in /m
      )
      expect(full.stderr).not.toMatch(/unexpected failure|^\s+at /m)
      // The rejects file holds whole lines, no part of the one cut short; the summary and the checkpoint count
      // them, and what was delivered before; what was delivered after is sent again by --resume
      const checkpoint = JSON.parse(readFileSync(join(cwd, "effect-mixpanel-import.checkpoint.json"), "utf8"))
      const held = readFileSync(rejectsFile, "utf8")
      const rejected = held.split("\n").length - 1
      expect(Buffer.byteLength(held)).toBe(checkpoint.rejects.bytes)
      expect(held.endsWith("\n")).toBe(true)
      expect(rejected).toBeGreaterThan(10)
      expect(rejected).toBeLessThan(100)
      expect(full.summary).toMatchObject({
        complete: false,
        rejected,
        delivered: checkpoint.counts.delivered,
        stoppedBy: expect.stringMatching(/^cannot write the rejects file .*EFBIG/)
      })
      expect(checkpoint.counts.rejected).toBe(rejected)
      expect(checkpoint.inputs[0].through).toBe(rejected * 10)
      expect(server.receivedCount("imports")).toBeGreaterThanOrEqual(checkpoint.counts.delivered)

      const resumed = await cli(cwd, [...args, "--resume"], environment(server))
      expect(resumed.code).toBe(1)
      expect(seqs(server)).toEqual(range(0, n).filter((i) => !broken(i)))
      const rejects = readFileSync(rejectsFile, "utf8").trim().split("\n")
      expect(rejects.map((line) => JSON.parse(line).line)).toEqual(
        range(0, n)
          .filter(broken)
          .map((i) => i + 1)
      )
      expect(resumed.summary).toMatchObject({ delivered: n - n / 10, rejected: n / 10, complete: true })
    }))

  it("refuses to --resume onto a rejects file cut short or removed since the checkpoint, and never pads it", () =>
    withServer({}, async (server) => {
      // A run stopped part-way, as a kill or a Ctrl-C leaves it: a checkpoint that counts the rejections the
      // rejects file holds
      const { args, broken, cwd, n, rejectsFile } = await diskFull(server, "rejects-shortened")
      const held = readFileSync(rejectsFile)
      const { rejects } = JSON.parse(readFileSync(join(cwd, "effect-mixpanel-import.checkpoint.json"), "utf8"))
      expect(rejects.bytes).toBe(held.length)
      const received = server.receivedCount("imports")

      // Cut short: refused, and left as it is (truncated to the checkpoint's length, it was padded with NULs)
      writeFileSync(rejectsFile, held.subarray(0, 10))
      const short = await cli(cwd, [...args, "--resume"], environment(server))
      expect([short.code, short.stderr]).toEqual([
        2,
        `effect-mixpanel import: --rejects: effect-mixpanel-import.rejects.ndjson holds 10 bytes, and the checkpoint counts ${held.length} bytes of rejections in it: it was cut short since. Put it back, or import again without --resume\n`
      ])
      expect(readFileSync(rejectsFile)).toEqual(held.subarray(0, 10))

      // Removed: refused, and not made again (the summary would count rejections it does not hold)
      rmSync(rejectsFile)
      const gone = await cli(cwd, [...args, "--resume"], environment(server))
      expect([gone.code, gone.stderr]).toEqual([
        2,
        `effect-mixpanel import: --rejects: effect-mixpanel-import.rejects.ndjson is gone, and the checkpoint counts ${held.length} bytes of rejections in it: it was removed since. Put it back, or import again without --resume\n`
      ])
      expect(() => statSync(rejectsFile)).toThrow(/ENOENT/)
      expect(server.receivedCount("imports")).toBe(received)

      // Put back, it is resumed: one line per rejection, the summary's count
      writeFileSync(rejectsFile, held)
      const resumed = await cli(cwd, [...args, "--resume"], environment(server))
      expect(resumed.code).toBe(1)
      expect([...new Set(seqs(server))]).toEqual(range(0, n).filter((i) => !broken(i)))
      const written = readFileSync(rejectsFile, "utf8").trim().split("\n")
      expect(written.map((line) => JSON.parse(line).line)).toEqual(
        range(0, n)
          .filter(broken)
          .map((i) => i + 1)
      )
      expect(resumed.summary).toMatchObject({ rejected: n / 10, complete: true })
    }))

  it(
    "delivers every record of 200,000 through 20% 503 and 5% 429",
    () =>
      withServer({}, async (server) => {
        const n = 200_000
        const cwd = workspace("faults", { "events.ndjson": ndjson(range(0, n).map(event)) })
        const { rateLimited, status } = MixpanelTestServer.Fault
        server.failRandomly({
          rate: 0.25,
          faults: [status(503), status(503), status(503), status(503), rateLimited()],
          seed: 15
        })
        const run = await cli(
          cwd,
          ["events.ndjson", "--max-retries", "30", "--progress-interval", "1 second"],
          environment(server)
        )
        expect(run.code).toBe(0)
        // Not a terminal: a plain progress line every second, with the figures of the moment
        expect(run.stderr).toMatch(
          /^import: [1-9][\d,]* records, [1-9][\d,]* delivered, 0 rejected, [1-9][\d,]*\/s, .* of .* \(\d+%\)/m
        )
        const received = seqs(server)
        expect(received).toHaveLength(n)
        expect(new Set(received).size).toBe(n)
        expect(
          new Set(server.received("imports").map((e) => (e.properties as { $insert_id: string }).$insert_id)).size
        ).toBe(n)
        const faulted = server.requests().filter((request) => request.status === 503 || request.status === 429)
        expect(faulted.length).toBeGreaterThan(10)
        expect(run.summary).toMatchObject({ delivered: n, undelivered: 0, complete: true })
      }),
    240_000
  )

  it("writes every rejected record to the rejects file, exactly, and delivers the rest", () =>
    withServer(
      {
        rejectRecord: (_, record) =>
          (record.properties as { seq?: number }).seq === 7
            ? { field: "properties.seq", message: "seven is refused" }
            : undefined
      },
      async (server) => {
        const lines = [
          ...range(0, 5).map((i) => JSON.stringify(event(i))),
          "{not json",
          JSON.stringify({ event: "", properties: { time: 1 } }),
          "",
          JSON.stringify(event(7)),
          JSON.stringify({ event: "No time", properties: { distinct_id: "u" } }),
          "42",
          JSON.stringify(event(8))
        ]
        const cwd = workspace("rejects", { "events.ndjson": `${lines.join("\n")}\n` })
        const run = await cli(cwd, ["events.ndjson", "--batch-size", "3"], environment(server))
        expect(run.code).toBe(1)
        expect(seqs(server)).toEqual([0, 1, 2, 3, 4, 8])
        const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8")
        const seven = JSON.parse(rejects.split("\n")[2] ?? "{}").record
        expect(rejects).toBe(
          [
            {
              source: "events.ndjson",
              line: 6,
              stage: "parse",
              reason: `not JSON: ${jsonError("{not json")}`,
              record: "{not json"
            },
            {
              source: "events.ndjson",
              line: 7,
              stage: "validation",
              reason: "event: an event name cannot be empty",
              record: { event: "", properties: { time: 1 } }
            },
            {
              source: "events.ndjson",
              line: 9,
              stage: "server",
              reason: "properties.seq: seven is refused",
              record: seven
            },
            {
              source: "events.ndjson",
              line: 10,
              stage: "validation",
              reason: "properties.time: an imported event needs a time",
              record: { event: "No time", properties: { distinct_id: "u" } }
            },
            { source: "events.ndjson", line: 11, stage: "validation", reason: "a record is a JSON object", record: 42 }
          ]
            .map((line) => `${JSON.stringify(line)}\n`)
            .join("")
        )
        expect(seven).toMatchObject({ event: "Order Placed", properties: { seq: 7, token, time: 1_700_000_007_000 } })
        expect(run.summary).toMatchObject({
          delivered: 6,
          rejected: 5,
          rejectedBy: { parse: 1, validation: 3, server: 1, transform: 0 }
        })
      }
    ))

  it("a dry run sends nothing, and says what would fail", () =>
    withServer({}, async (server) => {
      const cwd = workspace("dry", {
        "events.ndjson": ndjson([event(1), { event: "E" }, event(2)])
      })
      const run = await cli(cwd, ["events.ndjson", "--dry-run"], environment(server))
      expect(server.requests()).toEqual([])
      expect(run.code).toBe(1)
      expect(run.summary).toMatchObject({ dryRun: true, delivered: 2, rejected: 1, checkpoint: null })
      expect(readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8")).toContain(
        "an imported event needs a time"
      )
      expect(run.stderr).toContain("dry run")
    }))

  it(
    "resumes after a SIGKILL: everything arrives, and only what was in flight is sent twice, with the same $insert_id",
    () =>
      withServer({}, async (server) => {
        // Every 5000th line is unreadable: the rejects file must hold each once, however often it is read
        const { expected, text } = withBroken(60_000, 5000)
        const cwd = workspace("kill", { "events.ndjson": text })
        const confirmed = () => confirmedThrough(cwd)
        server.failRandomly({ rate: 1, faults: [MixpanelTestServer.Fault.slow("15 millis")] })
        const args = ["events.ndjson", "--batch-size", "500", "--concurrency", "4"]
        const first = start(cwd, ["--json", ...args], environment(server))
        await until(() => confirmed() >= 10_000, "a checkpoint past 10,000 lines")
        first.child.kill("SIGKILL")
        const killed = await first.done
        expect(killed.signal).toBe("SIGKILL")
        // Requests whose bodies reached the server before the kill are still being answered (slowly)
        await new Promise((resolve) => setTimeout(resolve, 500))
        const before = server.receivedCount("imports")
        expect(before).toBeLessThan(expected.length)
        // The records of the lines the checkpoint covers (line k holds record k - 1)
        const covered = expected.filter((i) => i < confirmed()).length

        server.stopFailing()
        const resumed = await cli(cwd, [...args, "--resume"], environment(server))
        expect(resumed.code).toBe(1)
        expect(seqs(server)).toEqual(expected)
        // Sent twice: at most what was past the checkpoint when the process died (in flight, or confirmed
        // after the last checkpoint was written), and Mixpanel kept one copy of each, by $insert_id
        const twice = server.receivedCount("imports") - expected.length
        expect(twice).toBe(server.duplicates("imports"))
        expect(twice).toBeLessThanOrEqual(before - covered)
        expect(resumed.summary).toMatchObject({ delivered: expected.length, rejected: 12, complete: true })
        const rejects = readFileSync(join(cwd, "effect-mixpanel-import.rejects.ndjson"), "utf8").trim().split("\n")
        expect(rejects.map((line) => JSON.parse(line).line)).toEqual(range(1, 13).map((k) => k * 5000))
      }),
    180_000
  )

  it(
    "a resume writes no rejection twice, even those written after the checkpoint it resumes from",
    () =>
      withServer({}, async (server) => {
        const cwd = workspace("rejects-resume", { "events.ndjson": withBroken(3000, 100).text })
        const checkpointFile = join(cwd, "effect-mixpanel-import.checkpoint.json")
        const rejectsFile = join(cwd, "effect-mixpanel-import.rejects.ndjson")
        const args = ["events.ndjson", "--batch-size", "200", "--concurrency", "1"]
        // A checkpoint from the middle of an import, and the rejects file of the whole: as a kill leaves them
        // when rejections were written after the checkpoint last was
        server.failRandomly({ rate: 1, faults: [MixpanelTestServer.Fault.slow("40 millis")] })
        const first = start(cwd, ["--json", ...args], environment(server))
        let middle = ""
        await until(() => {
          try {
            const text = readFileSync(checkpointFile, "utf8")
            if (JSON.parse(text).inputs[0].through >= 1000) middle = text
          } catch {}
          return middle !== ""
        }, "a checkpoint past line 1000")
        expect((await first.done).code).toBe(1)
        expect(readFileSync(rejectsFile, "utf8").trim().split("\n")).toHaveLength(30)
        writeFileSync(checkpointFile, middle)

        server.stopFailing()
        const resumed = await cli(cwd, [...args, "--resume"], environment(server))
        expect(resumed.code).toBe(1)
        const rejected = readFileSync(rejectsFile, "utf8").trim().split("\n")
        expect(rejected.map((line) => JSON.parse(line).line)).toEqual(range(1, 31).map((k) => k * 100))
        expect(resumed.summary).toMatchObject({ rejected: 30, complete: true })
      }),
    60_000
  )

  it(
    "stops cleanly on Ctrl-C: requests in flight finish, the checkpoint is written, and --resume completes",
    () =>
      withServer({}, async (server) => {
        const n = 60_000
        const cwd = workspace("sigint", { "events.ndjson": ndjson(range(0, n).map(event)) })
        // 60 requests of 500 records, two at a time, 50 ms each: 1.5 s at the very least
        server.failRandomly({ rate: 1, faults: [MixpanelTestServer.Fault.slow("50 millis")] })
        const args = ["events.ndjson", "--batch-size", "500", "--concurrency", "2"]
        const first = start(cwd, ["--json", ...args], environment(server))
        await until(() => server.receivedCount("imports") >= 5_000, "5,000 records")
        first.child.kill("SIGINT")
        const stopped = await first.done
        expect(stopped.code).toBe(130)
        expect(stopped.stderr).toContain("resume with --resume")
        // It stopped reading: what arrived is what was in flight at the signal, give or take a poll
        expect(server.receivedCount("imports")).toBeLessThan(20_000)
        const checkpoint = JSON.parse(readFileSync(join(cwd, "effect-mixpanel-import.checkpoint.json"), "utf8"))
        // Everything sent was confirmed before the process ended, and the checkpoint says so
        expect(checkpoint.complete).toBe(false)
        expect(checkpoint.inputs[0].through).toBe(server.receivedCount("imports"))
        expect(checkpoint.counts.delivered).toBe(server.receivedCount("imports"))

        server.stopFailing()
        const resumed = await cli(cwd, [...args, "--resume"], environment(server))
        expect(resumed.code).toBe(0)
        expect(seqs(server)).toEqual(range(0, n))
        expect(server.duplicates("imports")).toBe(0)
      }),
    120_000
  )

  it(
    "`import .` reads none of the files it writes: a second run, and --resume after Ctrl-C, see the same files",
    () =>
      withServer({}, async (server) => {
        const n = 20_000
        const { expected, text } = withBroken(n, 1000)
        const cwd = workspace("dot", { "events.ndjson": text })
        const checkpointFile = join(cwd, "effect-mixpanel-import.checkpoint.json")
        const through = () => confirmedThrough(cwd)
        server.failRandomly({ rate: 1, faults: [MixpanelTestServer.Fault.slow("30 millis")] })
        // the rejects file by another name, in the folder too: the checkpoint says which it is
        const args = [".", "--batch-size", "500", "--concurrency", "1"]
        const first = start(cwd, ["--json", ...args, "--rejects", "bad.ndjson"], environment(server))
        await until(() => through() >= 3000, "a checkpoint past line 3000")
        first.child.kill("SIGINT")
        expect((await first.done).code).toBe(130)
        expect(readFileSync(join(cwd, "bad.ndjson"), "utf8")).not.toBe("")

        server.stopFailing()
        const resumed = await cli(cwd, [...args, "--resume"], environment(server))
        expect(resumed.stderr).not.toContain("--resume:")
        expect(resumed.code).toBe(1)
        expect(seqs(server)).toEqual(expected)
        expect(resumed.summary).toMatchObject({ delivered: expected.length, rejected: 20, complete: true })
        const sources = () =>
          JSON.parse(readFileSync(checkpointFile, "utf8")).inputs.map((input: { source: string }) => input.source)
        expect(sources()).toEqual(["events.ndjson"])

        // Run again, over the checkpoint and the rejects file of the first: the same file, the same records
        server.clear()
        const again = await cli(cwd, [...args, "--rejects", "bad.ndjson"], environment(server))
        expect(again.code).toBe(1)
        expect(again.summary).toMatchObject({ entries: n, delivered: expected.length, rejected: 20 })
        expect(again.stderr).not.toContain("skipped")
        expect(sources()).toEqual(["events.ndjson"])

        // named as an input, a file the import writes is refused, naming its flag
        const named = await cli(cwd, ["events.ndjson", "bad.ndjson", "--rejects", "bad.ndjson"], environment(server))
        expect(named.code).toBe(2)
        expect(named.stderr).toBe(
          "effect-mixpanel import: bad.ndjson is the rejects file (--rejects), which this import writes: it cannot be imported too\n"
        )
      }),
    120_000
  )

  it(
    "keeps its memory flat on files 10 and 40 times larger than what it holds at once",
    () =>
      withServer({}, async (server) => {
        // At most (2 × concurrency + 2) batches of 256 KiB in memory: 1 MiB
        const bound = 4 * 256 * 1024
        const flags = ["--batch-bytes", String(256 * 1024), "--concurrency", "1"]
        const padding = "x".repeat(900)
        const file = (n: number) =>
          ndjson(
            range(0, n).map((i) => {
              const { properties, ...rest } = event(i)
              return { ...rest, properties: { ...properties, padding } }
            })
          )
        const cwd = workspace("memory", { "medium.ndjson": file(12_000), "large.ndjson": file(48_000) })
        const size = (name: string) => readFileSync(join(cwd, name)).length
        expect(size("medium.ndjson")).toBeGreaterThan(10 * bound)
        expect(size("large.ndjson")).toBeGreaterThan(40 * bound)
        const peak = async (name: string, n: number) => {
          server.clear()
          const run = await cli(cwd, [name, ...flags], environment(server))
          expect(run.code).toBe(0)
          expect(server.receivedCount("imports")).toBe(n)
          return run.summary?.peakRssBytes as number
        }
        const medium = await peak("medium.ndjson", 12_000)
        const large = await peak("large.ndjson", 48_000)
        // Four times the data, and the same memory but for the collector's slack: were the file held, or
        // read ahead of delivery, the difference would be its 40 MB several times over.
        expect(large - medium).toBeLessThan(32 * 1024 * 1024)
      }),
    180_000
  )

  it(
    "takes settings from flags over the environment, and exits 2 on a failure it cannot get past",
    () =>
      withServer({}, async (server) => {
        const cwd = workspace("settings", { "events.ndjson": ndjson(range(0, 50).map(event)) })
        const refused = await cli(cwd, ["events.ndjson"], environment(server, { MIXPANEL_API_SECRET: "wrong" }))
        expect(refused.code).toBe(2)
        // refused credentials: the way out is other credentials, then --resume
        expect(refused.stderr).toContain(
          "stopped: Mixpanel refused the API secret given (check --api-secret or MIXPANEL_API_SECRET, or give a service account instead); then --resume"
        )
        expect(refused.stderr).toContain("Unauthorized")
        expect(refused.summary).toMatchObject({ delivered: 0, undelivered: 50, complete: false })
        expect(server.received("imports")).toEqual([])

        const fixed = await cli(
          cwd,
          ["events.ndjson", "--api-secret", secret, "--resume", "--no-gzip", "--concurrency", "1"],
          environment(server, { MIXPANEL_API_SECRET: "wrong", MIXPANEL_GZIP: "true" })
        )
        expect(fixed.code).toBe(0)
        expect(seqs(server)).toEqual(range(0, 50))
        // the summary of the resumed import counts each record once: the stopped run confirmed none
        expect(fixed.summary).toMatchObject({ entries: 50, messages: 50, delivered: 50, undelivered: 0 })
        expect(server.requests().at(-1)?.headers["content-encoding"]).toBeUndefined()

        const bad = await cli(cwd, ["events.ndjson", "--concurrency", "0"], environment(server))
        expect(bad.code).toBe(2)
        // a setting given as a flag is named as the flag
        expect(bad.stderr).toMatch(/^effect-mixpanel import: --concurrency: /)
        expect(bad.stderr).not.toContain("MIXPANEL_MAX_CONCURRENT_REQUESTS")
        const missing = await cli(cwd, ["nowhere.ndjson"], environment(server))
        expect(missing.code).toBe(2)
        expect(missing.stderr).toMatch(/^effect-mixpanel import: \S*nowhere\.ndjson does not exist\n$/)
        // settings that are missing or wrong: named once each, with the flag that sets them, in plain words
        const { MIXPANEL_TOKEN: _, ...noToken } = environment(server)
        const unset = await cli(cwd, ["events.ndjson"], noToken)
        expect(unset.code).toBe(2)
        expect(unset.stderr).toBe("effect-mixpanel import: MIXPANEL_TOKEN is not set (or give --token)\n")
        const hostOnly = await cli(cwd, ["events.ndjson", "--base-url", "127.0.0.1:4100"], environment(server))
        expect(hostOnly.code).toBe(2)
        expect(hostOnly.stderr).toContain("has no scheme: write it in full, e.g. https://api.mixpanel.com")
        expect(hostOnly.stderr).not.toContain("└─")
      }),
    60_000
  )

  it(
    "names the flag that is wrong, and prints its help as plain text into a pipe",
    () =>
      withServer({}, async (server) => {
        const cwd = workspace("flags", { "events.ndjson": ndjson([event(1)]) })
        const said = async (args: ReadonlyArray<string>) => {
          const run = await cli(cwd, ["events.ndjson", ...args], environment(server))
          expect(run.code).toBe(2)
          return run.stderr
        }
        expect(await said(["--batch-size", "abc"])).toBe(
          "effect-mixpanel import: --batch-size: must be an integer from 1 to 2000\n"
        )
        expect(await said(["--type", "evnt"])).toBe(
          "effect-mixpanel import: --type: 'evnt' is not one of event, user, group: did you mean event?\n"
        )
        expect(await said(["--format", "xml"])).toMatch(/^effect-mixpanel import: --format: 'xml' is not one of /)
        expect(await said(["--region", "XX"])).toBe(
          'effect-mixpanel import: --region: must be one of "US", "EU", "IN"\n'
        )
        // @effect/cli takes a flag it does not know for a file: the nearest flag is named, if one is near
        expect(await said(["--typ", "user"])).toMatch(
          /^effect-mixpanel import: --typ was read as a file, and there is none: did you mean --type\?/
        )
        expect(await said(["--batchsize", "3"])).toMatch(/: did you mean --batch-size\?/)
        // docs/import.md's table states the range each whole-number flag is held to
        const table = readFileSync(join(root, "docs", "import.md"), "utf8")
        for (const flag of ["--concurrency", "--batch-size", "--batch-bytes", "--max-retries"]) {
          const range = /must be an integer from (\d+ to \d+)/.exec(await said([flag, "1e15"]))?.[1]
          const row = table.split("\n").find((line) => line.startsWith(`| \`${flag} `))
          expect(row).toContain(`, ${range}`)
        }
        // a credential is named as the flag that gave it, or as its variable, and never quoted
        const account = ["--service-account-username", "sa", "--project-id", "7", "--service-account-secret"]
        expect(await said([...account, "top secret"])).toBe(
          "effect-mixpanel import: --service-account-secret: must be printable ASCII without spaces, as Mixpanel issues it\n"
        )
        expect(await said([...account.slice(0, 3), "abc", ...account.slice(4), "s"])).toBe(
          "effect-mixpanel import: --project-id: must be a project id: digits only\n"
        )
        expect(await said(["--api-secret", "top secret"])).toMatch(/^effect-mixpanel import: --api-secret: must be /)
        const fromEnv = await cli(cwd, ["events.ndjson"], environment(server, { MIXPANEL_API_SECRET: "top secret" }))
        expect(fromEnv.code).toBe(2)
        expect(fromEnv.stderr).toBe(
          "effect-mixpanel import: MIXPANEL_API_SECRET: must be printable ASCII without spaces, as Mixpanel issues it (or give --api-secret)\n"
        )
        const { MIXPANEL_API_SECRET: _, ...tokenOnly } = environment(server, { MIXPANEL_TOKEN: "top secret" })
        expect((await cli(cwd, ["events.ndjson"], tokenOnly)).stderr).toBe(
          "effect-mixpanel import: MIXPANEL_TOKEN: as the /import credentials, must be printable ASCII without spaces, as Mixpanel issues it (or give --token)\n"
        )
        // a field named __proto__ would be lost, or reject every record: the mapping is refused
        expect(await said(["--map", "__proto__=event"])).toBe(
          "effect-mixpanel import: --map: '__proto__=event': a field cannot be named __proto__ (JavaScript takes it for an object's prototype)\n"
        )
        // a target mapped twice, in one --map or two: the last one would win silently
        for (const map of [
          ["--map", "time=ts,time=when"],
          ["--map", "event=action,time=ts", "--map", "time = when"]
        ]) {
          expect(await said(map)).toBe(
            "effect-mixpanel import: --map: time is mapped twice, from ts and from when: give it one source\n"
          )
        }
        expect(await said(["--progress-interval", "0 millis"])).toBe(
          "effect-mixpanel import: --progress-interval: must be longer than 0\n"
        )
        // a bare number is milliseconds, as in a duration variable: 0 is a duration, refused as too short
        expect(await said(["--progress-interval", "0"])).toBe(
          "effect-mixpanel import: --progress-interval: must be longer than 0\n"
        )
        // a negative amount, which Effect reads as zero (given with `=`: alone, @effect/cli reads `-1` as a flag)
        const negative = await start(cwd, ["events.ndjson", "--retry-delay=-1 millis"], environment(server)).done
        expect([negative.code, negative.stderr]).toEqual([
          2,
          "effect-mixpanel import: --retry-delay: '-1 millis' is not a duration of 0 or more, such as '2 seconds'\n"
        ])
        expect(await said(["--quickly"])).toMatch(/: a flag misspelt, or a flag before it without its value\?/)
        // a flag given twice is said so (@effect/cli takes the second for a file); `said` gives --json once
        for (const twice of [
          ["--rejects", "a.ndjson", "--rejects", "b.ndjson"],
          ["--base-url", server.url, "--base-url", server.url],
          ["--checkpoint", "a.json", "--checkpoint=b.json"],
          ["--token", token, "--token", token],
          ["--json"]
        ]) {
          expect(await said(twice)).toBe(`effect-mixpanel import: ${twice[0]} given twice: give it once\n`)
        }
        // a check of the library's options names the flag that gave the option
        expect(await said(["--base-url", "http://example.com", "--api-secret", "s"])).toMatch(
          /^effect-mixpanel import: --base-url: refusing to send an \/import secret over plain HTTP/
        )
        expect(server.requests()).toEqual([])

        const help = await cli(cwd, ["--help"], environment(server))
        expect(help.code).toBe(0)
        expect(help.stdout).toContain("$ effect-mixpanel import [--type event | user | group]")
        // the name and version once, and every flag in brackets: only the files are required
        expect(help.stdout).toMatch(/^effect-mixpanel \d+\.\d+\.\d+\S*\n\nUSAGE\n/)
        const usage = help.stdout.split("\n").find((line) => line.startsWith("$ "))
        expect(usage?.replace(/ \[[^\]]*\]/g, "")).toBe("$ effect-mixpanel import <file or folder>...")
        expect(help.stdout).toContain("--batch-size n")
        expect(help.stdout).not.toContain("\u001b[")
        // each flag's own words, without the sentence @effect/cli says under every flag of its kind
        expect(help.stdout).not.toContain("A user-defined piece of text")
        expect(help.stdout).not.toContain("A true or false value")
        // nor the sentence it says under every optional flag, nor its built-in flags
        expect(help.stdout).not.toContain("This setting is optional")
        expect(help.stdout).not.toContain("This argument must be repeated")
        expect(help.stdout).not.toContain("--wizard")
        expect(help.stdout).not.toContain("--completions")
        expect(help.stdout).toContain(
          "--group-key key\n\n  for --type group: the group key of records without a $group_key\n\n--format"
        )
        expect(help.stdout).toContain("--token token\n\n  the project token [env MIXPANEL_TOKEN]\n")
        expect(help.stdout).toContain("--dry-run\n\n  read, transform and validate everything; send nothing")
        expect(help.stdout).toContain("<file or folder> 1+\n\n  NDJSON, JSON, CSV or TSV files")

        // The root help: the command, and how to get the import's flags
        const rootHelp = execFileSync(process.execPath, [bin, "--help"], { cwd, env: environment(server) }).toString()
        expect(rootHelp).toContain("`effect-mixpanel import --help` lists the import's flags")
        expect(rootHelp).toContain("  - import [flags] <file or folder>...  Import events")
        expect(rootHelp).not.toContain("--batch-size")
        expect(rootHelp).not.toContain("--log-level")

        // @effect/cli's own errors say whose they are, as the import's do
        const noFile = await start(cwd, [], environment(server)).done
        expect(noFile.code).toBe(2)
        expect(noFile.stderr).toBe(
          "effect-mixpanel import: Missing argument <file or folder> (--help lists the flags)\n"
        )
      }),
    120_000
  )

  it(
    "loads a transform module: JavaScript always, TypeScript under a loader",
    () =>
      withServer({}, async (server) => {
        const cwd = workspace("transform", {
          "events.ndjson": ndjson([event(1), event(2), event(3)]),
          "fix.mjs": `export default (record) => record.properties.seq === 2 ? null : { ...record, event: "Fixed" }\n`,
          // A TypeScript transform is an ES module: in a "type": "module" package, or named .mts
          "package.json": JSON.stringify({ type: "module" }),
          "fix.ts": `export const transform = (record: { event: string }): Array<object> => [record, { ...record, event: "Copy" }]\n`
        })
        const js = await cli(cwd, ["events.ndjson", "--transform", "./fix.mjs"], environment(server))
        expect(js.code).toBe(0)
        expect(server.received("imports").map((received) => received.event)).toEqual(["Fixed", "Fixed"])
        expect(js.summary).toMatchObject({ skipped: 1, delivered: 2 })

        const plain = await cli(cwd, ["events.ndjson", "--transform", "./fix.ts"], environment(server))
        expect(plain.code).toBe(2)
        expect(plain.stderr).toContain("TypeScript loader")

        server.clear()
        const tsx = join(root, "node_modules", "tsx", "dist", "esm", "index.mjs")
        const typed = await cli(cwd, ["events.ndjson", "--transform", "./fix.ts"], environment(server), [
          "--import",
          tsx
        ])
        expect(typed.code).toBe(0)
        expect(
          server
            .received("imports")
            .map((received) => received.event)
            .sort()
        ).toEqual(["Copy", "Copy", "Copy", "Order Placed", "Order Placed", "Order Placed"].sort())
      }),
    60_000
  )
})

describe("effect-mixpanel import, in this process", () => {
  it.live("says a failure nothing expected (a defect) on stderr and exits 2: an import never ends without a word", () =>
    Effect.gen(function* () {
      const said: Array<string> = []
      const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
        said.push(String(chunk))
        return true
      })
      let code = 0
      const fs = yield* FileSystem.FileSystem
      yield* Cli.run(["node", "effect-mixpanel", "import", "events.ndjson", "--dry-run", "--token", token], (exit) => {
        code = exit
      }).pipe(
        Effect.provideService(FileSystem.FileSystem, {
          ...fs,
          stat: () => Effect.die(new Error("the disk caught fire"))
        }),
        Effect.ensuring(Effect.sync(() => stderr.mockRestore()))
      )
      expect(code).toBe(2)
      expect(said.join("")).toBe("effect-mixpanel import: unexpected failure: Error: the disk caught fire\n")
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
