/**
 * The memory request bodies are written into, kept warm. A large body in a fresh buffer is written into
 * pages the allocator has just mapped (a page fault each) and freed only when the garbage collector gets
 * to it; written into a buffer used before, it costs much less (docs/benchmarks.md). So the bodies of at
 * least `minBytes` are written into buffers lent to the HTTP client, and a buffer comes back only when the
 * server's 2xx answer to its request has been read: the server has read the whole body, so no socket still
 * holds it. Before it is reused, the buffer is detached (its memory moved to a new `ArrayBuffer`): a client
 * that kept the request past its answer finds an empty body, never another request's bytes. A request that
 * failed, timed out or was interrupted never gives its buffer back; the garbage collector takes it.
 */

/** The size of a pooled buffer: the largest body Mixpanel takes (a lone larger message gets its own). */
const slabBytes = 2 * 1024 * 1024

/** Bodies under this size are fresh: the allocator serves them warm, and a slab would be mostly unused. */
const minBytes = 64 * 1024

/** Most idle buffers kept (their pages stay resident: at most 8 MiB). */
const maxIdle = 4

/** Buffers to write request bodies into. */
export interface Bodies {
  /** A buffer of exactly `size` bytes to write a body into: lent from the pool when it is large. */
  readonly take: (size: number) => Buffer
  /** Gives back the buffer of a body whose request was answered with a 2xx. Anything else is ignored. */
  readonly giveBack: (body: Uint8Array) => void
  /**
   * Keeps out of the pool the buffer of a body whose request ended otherwise (a failure, an interruption):
   * a client may keep that request, so its body is never reused, even once the same body, sent again by a
   * retry, is answered with a 2xx.
   */
  readonly spoil: (body: Uint8Array) => void
}

/** A pool of its own, for one consumer. */
export const make = (): Bodies => {
  const idle: Array<Buffer> = []
  // Which buffers are slabs: their size alone cannot tell (a `Buffer.poolSize` of 2 MiB would make Node's
  // shared pool look like one), and a small body may be a slice of that pool, which must never be detached
  const lent = new WeakSet<ArrayBufferLike>()
  return {
    take: (size) => {
      if (size < minBytes || size > slabBytes) return Buffer.allocUnsafe(size)
      const slab = idle.pop() ?? Buffer.allocUnsafeSlow(slabBytes)
      lent.add(slab.buffer)
      return slab.subarray(0, size)
    },
    giveBack: (body) => {
      const memory = body.buffer
      if (!lent.has(memory)) return
      lent.delete(memory)
      if (idle.length >= maxIdle) return
      try {
        // the transfer moves the memory without a copy and leaves every view of the old one empty
        idle.push(Buffer.from(structuredClone(memory, { transfer: [memory as ArrayBuffer] })))
      } catch {
        // already transferred by the client: it is no longer ours to reuse
      }
    },
    spoil: (body) => {
      lent.delete(body.buffer)
    }
  }
}
