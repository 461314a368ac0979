/**
 * Where the buffered consumer keeps the messages it has accepted and not yet finished with: in memory
 * (`layerBuffered`), or in a database (`layerDurable`, SQLite or any `SqlClient`). The engine (lanes,
 * retries, reports, flushes) talks only to this interface, so a store plugs in without touching it.
 *
 * A message is stored by `append`, handed to one relay by `claim`, and leaves the store by `ack`
 * (delivered) or `deadLetter` (never deliverable); `release` gives claimed messages back unfinished.
 */
import type * as Effect from "effect/Effect"
import type { Endpoint } from "../../../Endpoint.js"
import type { DeliveryFailure } from "../../../MixpanelError.js"
import type { Placed } from "../placed.js"

/** One stored message: its id in the store (increasing in the order of `append`), and its JSON. */
export interface Stored {
  readonly id: number
  readonly endpoint: Endpoint
  /** Its JSON text (for a message appended unwritten, written when first read: by the claim). */
  readonly json: string
  /**
   * The message's bytes in a request body as sent (form-escaped for the form endpoints; see `batch.ts`),
   * as the store counts them: exact, but for a message appended unwritten, whose `size` is counted.
   */
  readonly bytes: number
  /** Its bytes in the body of the batch it was claimed in, where the store keeps them so (the memory store). */
  readonly placed?: Placed | undefined
  /**
   * The number the engine gave `append` (its flush epoch), handed back by `claim` when the message was
   * appended through this same store instance; `undefined` for messages of another process or run.
   */
  readonly epoch?: number | undefined
}

/** The bytes of `messages`, as the store counts them. */
export const bytesOf = (messages: ReadonlyArray<Stored>): number => {
  let bytes = 0
  for (const message of messages) bytes += message.bytes
  return bytes
}

/** What `append` did with each message, in order: stored, or refused because the store is full. */
export interface Appended<M = string> {
  readonly stored: ReadonlyArray<Stored>
  /** Messages refused for want of room (the store's cap), in order. */
  readonly refused: ReadonlyArray<M>
  /** With `dropOldest`: older messages removed to make room, which the engine reports as dropped. */
  readonly evicted: ReadonlyArray<Stored>
}

/** A failure of the store itself: the disk, the file, the database connection. */
export interface StoreFailure {
  readonly _tag: "StoreFailure"
  readonly operation: "append" | "claim" | "ack" | "deadLetter" | "release" | "open"
  readonly detail: string
  readonly cause: unknown
}

/**
 * The store behind the buffered and durable consumers, of messages `M`: JSON texts, or for the memory store
 * also messages still unwritten (`unwritten.ts`). A store that leases what it hands out (a durable one
 * shared by several processes) renews the leases of claimed messages itself until they are acked,
 * dead-lettered or released.
 */
export interface Store<E = StoreFailure, M = string> {
  /** Keeps `messages` (all for `endpoint`) in order, within the store's cap and overflow policy. */
  readonly append: (endpoint: Endpoint, messages: ReadonlyArray<M>, epoch: number) => Effect.Effect<Appended<M>, E>
  /**
   * Hands the oldest messages of `endpoint` not claimed by anyone to this relay, at most `maxItems`
   * messages and a request body of at most `maxBytes` bytes as `Batch.bodyBytes` counts it (their bytes
   * as written, the commas between them and the body's brackets); the first message always, whatever its
   * size. For the ordered endpoints (`people`, `groups`), nothing while another relay holds messages of
   * the endpoint.
   */
  readonly claim: (
    endpoint: Endpoint,
    limits: { readonly maxItems: number; readonly maxBytes: number }
  ) => Effect.Effect<ReadonlyArray<Stored>, E>
  /** Messages Mixpanel accepted: they leave the store. */
  readonly ack: (messages: ReadonlyArray<Stored>) => Effect.Effect<void, E>
  /** Messages that will never be delivered, with why: they leave the store (a durable one keeps them apart). */
  readonly deadLetter: (
    failures: ReadonlyArray<{ readonly message: Stored; readonly failure: DeliveryFailure }>
  ) => Effect.Effect<void, E>
  /** Claimed messages given back unfinished (at shutdown): a durable store sends them again later. */
  readonly release: (messages: ReadonlyArray<Stored>) => Effect.Effect<void, E>
  /** `append` done at once, by a store that needs no I/O for it (the memory store): no fiber per send. */
  readonly unsafeAppend?: (endpoint: Endpoint, messages: ReadonlyArray<M>, epoch: number) => Appended<M>
}
