/**
 * Reading a V8 CPU profile (`node --cpu-prof`) of one client run: the samples inside the measured window
 * (first call to done), their self time grouped by where the code lives (schema work, JSON, the queue,
 * HTTP, the Effect runtime...), the functions with the most self time, and the inclusive time of chosen
 * functions (everything under them on the stack).
 */

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Where a frame's code lives, from the most specific rule to the least. */
const categories: ReadonlyArray<readonly [string, (frame: CallFrame) => boolean]> = [
  ["idle", (f) => f.functionName === "(idle)"],
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["V8 native, unattributed ((program))", (f) => f.functionName === "(program)"],
  // The compiled bench (`node_modules/.cache/effect-mixpanel-bench/<pid>/bench/`), not any path with a
  // `bench` folder in it (the repository may be checked out in one).
  ["bench: harness and client driver", (f) => /\/effect-mixpanel-bench\/\d+\/bench\//.test(f.url)],
  [
    "ours: JSON walk / date formatting (json.ts, Message.ts)",
    (f) => /\/src\/(internal\/json|Message)\.[jt]s/.test(f.url)
  ],
  [
    "ours: message build + JSON.stringify (internal/mixpanel.ts)",
    (f) => /\/src\/internal\/mixpanel\.[jt]s/.test(f.url)
  ],
  [
    "ours: buffer / queue (bufferedConsumer.ts, deliveryReport.ts)",
    (f) => /\/src\/internal\/(bufferedConsumer|deliveryReport)\.[jt]s/.test(f.url)
  ],
  ["ours: request build + response (transport.ts)", (f) => /\/src\/internal\/transport\.[jt]s/.test(f.url)],
  ["ours: other src/", (f) => f.url.includes("/src/")],
  [
    "Effect Schema (Schema, ParseResult, SchemaAST)",
    (f) => /\/effect\/dist\/.*(Schema|ParseResult|SchemaAST)/.test(f.url)
  ],
  [
    "Effect tracing (spans)",
    (f) =>
      /\/effect\/dist\/.*(tracer|Tracer)/.test(f.url) || /withSpan|makeSpan|NativeSpan|useSpan/.test(f.functionName)
  ],
  ["Effect metrics", (f) => /\/effect\/dist\/.*[Mm]etric/.test(f.url)],
  ["@effect/platform (HttpClient, body)", (f) => /\/@effect\/platform(-node)?\//.test(f.url)],
  [
    "Effect runtime: forking a fiber (runtime, fiberRefs, fiberScope)",
    (f) => /\/effect\/dist\/esm\/internal\/(runtime|fiberRefs|fiberScope)\.js/.test(f.url)
  ],
  ["Effect runtime (fibers, generators, core)", (f) => f.url.includes("/effect/dist/")],
  ["undici / fetch", (f) => /undici|fetch/.test(f.url)],
  [
    "Node HTTP + sockets + streams",
    (f) =>
      /node:(_http|http|https|net|internal\/(http|net|stream|streams|js_stream)|stream|internal\/child_process)/.test(
        f.url
      ) || /node:internal\/(webstreams|deps\/undici)/.test(f.url)
  ],
  [
    "Node encoding (Buffer, TextEncoder, url)",
    (f) => /node:(buffer|internal\/(buffer|encoding|url|querystring)|url|querystring)/.test(f.url)
  ],
  ["zlib", (f) => /zlib/.test(f.url)],
  ["Node other (timers, process, IPC)", (f) => f.url.startsWith("node:")],
  ["V8 builtins (JSON, String, Array...)", (f) => f.url === ""],
  ["other", () => true]
]

const categorize = (frame: CallFrame): string => {
  for (const [name, test] of categories) if (test(frame)) return name
  return "other"
}

const shortUrl = (url: string): string =>
  url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/(src|bench)\//, "$1/")

const keyOf = (frame: CallFrame): string =>
  `${frame.functionName === "" ? "(anonymous)" : frame.functionName} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`

export interface Line {
  readonly name: string
  readonly micros: number
}

export interface Analysis {
  /** Sampled time inside the window, idle excluded, in microseconds. */
  readonly busyMicros: number
  readonly idleMicros: number
  readonly windowMicros: number
  readonly byCategory: ReadonlyArray<Line>
  readonly topSelf: ReadonlyArray<Line>
  /** Inclusive time of the functions whose key matches one of the patterns asked for. */
  readonly inclusive: ReadonlyArray<Line>
}

/**
 * Analyses the samples between `from` and `to` (monotonic microseconds, as `process.hrtime` and V8's
 * profiles count them). `inclusivePatterns` pick functions by their key (`name url:line`).
 */
export const analyze = (
  profile: CpuProfile,
  window: { readonly from: number; readonly to: number },
  inclusivePatterns: ReadonlyArray<RegExp>,
  top = 30
): Analysis => {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const self = new Map<number, number>()
  const inclusive = new Map<string, number>()
  let time = profile.startTime
  let idle = 0
  let busy = 0
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0
    // The delta before the next sample is the time spent in this one.
    const spent = profile.timeDeltas[i + 1] ?? 0
    if (time < window.from || time > window.to) continue
    const id = profile.samples[i] ?? 0
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    if (frame.functionName === "(idle)") {
      idle += spent
      continue
    }
    busy += spent
    self.set(id, (self.get(id) ?? 0) + spent)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)
      if (node === undefined) break
      const key = keyOf(node.callFrame)
      if (seen.has(key) || !inclusivePatterns.some((pattern) => pattern.test(key))) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + spent)
    }
  }
  const byCategory = new Map<string, number>()
  const byFunction = new Map<string, number>()
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    const category = categorize(frame)
    byCategory.set(category, (byCategory.get(category) ?? 0) + micros)
    const key = keyOf(frame)
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros)
  }
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros)
  return {
    busyMicros: busy,
    idleMicros: idle,
    windowMicros: window.to - window.from,
    byCategory: sorted(byCategory),
    topSelf: sorted(byFunction).slice(0, top),
    inclusive: sorted(inclusive)
  }
}
