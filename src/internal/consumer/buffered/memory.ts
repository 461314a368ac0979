/**
 * The in-memory store of `layerBuffered`: one queue per endpoint, a cap on the messages and bytes held
 * (waiting or claimed), and the overflow policy applied when a message finds no room. Synchronous and
 * allocation-light: it is on the path of every `send`. It takes messages unwritten (`unwritten.ts`) as
 * well as JSON texts, and writes them when a claim reaches them: off the caller's path.
 */
import * as Effect from "effect/Effect"
import type { Overflow } from "../../../Consumer.js"
import type { Endpoint } from "../../../Endpoint.js"
import * as Batch from "../batch.js"
import type { Placed } from "../placed.js"
import type { Outgoing, Unwritten } from "../unwritten.js"
import type { Appended, Store, Stored } from "./store.js"

const unplaced = new Uint8Array(0)

/**
 * A message held. One appended unwritten is written when first read (by the claim that takes it); a claimed
 * one is placed in its batch's body, and its text is dropped: it waits as bytes outside the JavaScript
 * heap while its requests take, and is read back from them only to be reported.
 */
class Entry implements Stored, Placed {
  private written: string | undefined
  private unwritten: Unwritten | undefined
  /** Its bytes in a request body as written; -1 until it is written. */
  private wire: number
  /** The body of the batch it was claimed in (placed), and where in it; `at` is -1 until then. */
  body: Uint8Array = unplaced
  at = -1

  constructor(
    readonly id: number,
    readonly endpoint: Endpoint,
    message: Outgoing,
    readonly bytes: number,
    readonly epoch: number
  ) {
    if (typeof message === "string") {
      this.written = message
      this.wire = bytes
    } else {
      this.unwritten = message
      this.wire = -1
    }
  }

  get json(): string {
    if (this.written !== undefined) return this.written
    if (this.at >= 0) return Batch.textOf(this.endpoint, this)
    this.written = (this.unwritten as Unwritten).write()
    this.unwritten = undefined
    return this.written
  }

  get placed(): Placed | undefined {
    return this.at >= 0 ? this : undefined
  }

  /** Its bytes in a request body as written, writing it if it was not. */
  get size(): number {
    if (this.wire < 0) this.wire = Batch.wireBytes(this.endpoint, this.json)
    return this.wire
  }

  /** Now held as its bytes at `at` in `body`. */
  place(body: Uint8Array, at: number): void {
    this.body = body
    this.at = at
    this.written = undefined
  }
}

/** A queue that takes from its head without shifting the array each time. */
class Queue {
  private items: Array<Entry> = []
  private head = 0

  get size(): number {
    return this.items.length - this.head
  }

  push(item: Entry): void {
    this.items.push(item)
  }

  peek(): Entry | undefined {
    return this.items[this.head]
  }

  take(): Entry | undefined {
    const item = this.items[this.head]
    if (item === undefined) return undefined
    this.items[this.head] = undefined as unknown as Entry
    this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
}

/** The caps of a memory store. */
export interface Limits {
  readonly capacity: number
  readonly capacityBytes: number
  readonly overflow: Overflow
}

const noMessages: ReadonlyArray<Outgoing> = []
const noneStored: ReadonlyArray<Stored> = []

/** A memory store: it appends synchronously; `held` tells how much it holds, waiting or claimed. */
export interface MemoryStore extends Store<never, Outgoing> {
  readonly unsafeAppend: (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>, epoch: number) => Appended<Outgoing>
  readonly held: () => { messages: number; bytes: number }
}

export const make = (limits: Limits, allocate: (size: number) => Buffer = Buffer.allocUnsafe): MemoryStore => {
  const queues = new Map<Endpoint, Queue>([
    ["events", new Queue()],
    ["people", new Queue()],
    ["groups", new Queue()],
    ["imports", new Queue()]
  ])
  let nextId = 0
  let held = 0
  let heldBytes = 0
  let claimed = 0
  let claimedBytes = 0

  const fits = (bytes: number) => held < limits.capacity && heldBytes + bytes <= limits.capacityBytes

  /** The endpoint queue whose head is the oldest waiting message. */
  const oldest = (): Queue | undefined => {
    let found: Queue | undefined
    let id = Number.POSITIVE_INFINITY
    for (const queue of queues.values()) {
      const head = queue.peek()
      if (head !== undefined && head.id < id) {
        found = queue
        id = head.id
      }
    }
    return found
  }

  /** `dropOldest`: removes waiting messages, oldest first, until `bytes` more fit; false if they cannot. */
  const evict = (bytes: number, evicted: Array<Stored>): boolean => {
    if (claimed + 1 > limits.capacity || claimedBytes + bytes > limits.capacityBytes) return false
    while (!fits(bytes)) {
      const victim = oldest()?.take()
      if (victim === undefined) return false
      held--
      heldBytes -= victim.bytes
      evicted.push(victim)
    }
    return true
  }

  const appendNow = (endpoint: Endpoint, messages: ReadonlyArray<Outgoing>, epoch: number): Appended<Outgoing> => {
    const queue = queues.get(endpoint) as Queue
    let stored: Array<Stored> | undefined
    let refused: Array<Outgoing> | undefined
    let evicted: Array<Stored> | undefined
    for (const outgoing of messages) {
      const bytes = typeof outgoing === "string" ? Batch.wireBytes(endpoint, outgoing) : outgoing.size
      if (!fits(bytes)) {
        evicted ??= []
        if (limits.overflow !== "dropOldest" || !evict(bytes, evicted)) {
          refused ??= []
          refused.push(outgoing)
          continue
        }
      }
      const message = new Entry(nextId++, endpoint, outgoing, bytes, epoch)
      queue.push(message)
      held++
      heldBytes += bytes
      stored ??= []
      stored.push(message)
    }
    return {
      stored: stored ?? noneStored,
      refused: refused ?? noMessages,
      evicted: evicted !== undefined && evicted.length > 0 ? evicted : noneStored
    }
  }

  /**
   * The batch is cut on the bytes as written, and written into one body, where its messages are placed;
   * the store's counts keep the bytes counted at `append`.
   */
  const claimNow = (endpoint: Endpoint, batch: Batch.Limits): ReadonlyArray<Stored> => {
    const queue = queues.get(endpoint) as Queue
    const out: Array<Entry> = []
    const texts: Array<string> = []
    const sizes: Array<number> = []
    let wire = 0
    let counted = 0
    while (out.length < batch.maxItems) {
      const next = queue.peek()
      if (next === undefined) break
      const bytes = next.size
      if (!Batch.admits(endpoint, batch, out.length, wire, bytes)) break
      queue.take()
      out.push(next)
      texts.push(next.json)
      sizes.push(bytes)
      wire += bytes
      counted += next.bytes
    }
    // (arrays filled here, not by `map`: V8 deoptimized this function at every claim over `map`'s results)
    if (out.length > 0) Batch.place(endpoint, texts, sizes, allocate, out)
    claimed += out.length
    claimedBytes += counted
    return out
  }

  const leave = (messages: ReadonlyArray<Stored>): void => {
    for (const message of messages) {
      held--
      heldBytes -= message.bytes
      claimed--
      claimedBytes -= message.bytes
    }
  }

  return {
    append: (endpoint, messages, epoch) => Effect.sync(() => appendNow(endpoint, messages, epoch)),
    unsafeAppend: appendNow,
    claim: (endpoint, batch) => Effect.sync(() => claimNow(endpoint, batch)),
    ack: (messages) => Effect.sync(() => leave(messages)),
    deadLetter: (failures) => Effect.sync(() => leave(failures.map((failure) => failure.message))),
    release: (messages) => Effect.sync(() => leave(messages)),
    held: () => ({ messages: held, bytes: heldBytes })
  }
}
