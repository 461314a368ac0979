/**
 * A message read back from the outbox. Its JSON comes as bytes, a slice of its page's (SQLite reads a
 * page's text as a BLOB: no string is made, and the bytes wait outside the JavaScript heap), or as text
 * (PostgreSQL). The claim that hands it out writes it into its request's body (`place`); from then on it
 * is held as its bytes there, like the memory store's entries, and its text is read back only to report
 * it (`Batch.textOf`).
 */
import type { Endpoint } from "../../../Endpoint.js"
import { fromUtf8 } from "../../json.js"
import * as Batch from "../batch.js"
import type { Stored } from "../buffered/store.js"
import type { Placed } from "../placed.js"

const unplaced = new Uint8Array(0)

export class OutboxMessage implements Stored, Placed {
  /** Its JSON as read, until it is placed. */
  private text: string | Uint8Array | undefined
  /** The body it was last placed in, and where in it; `at` is -1 until then. */
  body: Uint8Array = unplaced
  at = -1

  constructor(
    readonly id: number,
    readonly endpoint: Endpoint,
    text: string | Uint8Array,
    readonly bytes: number
  ) {
    this.text = text
  }

  get json(): string {
    if (this.at >= 0) return Batch.textOf(this.endpoint, this)
    const text = this.text as string | Uint8Array
    return typeof text === "string" ? text : fromUtf8(text)
  }

  get placed(): Placed | undefined {
    return this.at >= 0 ? this : undefined
  }

  /** Its bytes in a request body: the store counts them exactly. */
  get size(): number {
    return this.bytes
  }

  /** What a body is written from: its bytes in the body it was last placed in, else its JSON as read. */
  get source(): Batch.Source {
    return this.at >= 0 ? this : (this.text as string | Uint8Array)
  }

  /** Now held as its bytes at `at` in `body`. */
  place(body: Uint8Array, at: number): void {
    this.body = body
    this.at = at
    this.text = undefined
  }
}
