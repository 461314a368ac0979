/**
 * A message already written into a request body, as the memory store writes the batches it hands out: its
 * bytes there, as sent. The JSON text then waits outside the JavaScript heap, in the body, for the time
 * its requests take, and is read back only to report the message (`Batch.textOf`). Types only: the
 * store's interface reaches them, and through it the public declarations, which must not need Node's.
 */

/** Where a message's bytes are. */
export interface Placed {
  /** The body that holds its bytes. */
  readonly body: Uint8Array
  /** Where its bytes start in the body. */
  readonly at: number
  /** Its bytes in the body (`wireBytes` of its JSON). */
  readonly size: number
}

/** A message as a request takes it: its JSON text, or its bytes already in a body. */
export type Sendable = string | Placed
