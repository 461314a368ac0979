/**
 * A message checked in the call and written to JSON later, by the worker that sends it. The `Mixpanel`
 * service hands one to a consumer that takes them (the memory buffer's `writesLater` entry) instead of its
 * JSON text: the call then pays for the checks and a snapshot of the caller's data, and the JSON is
 * written once, off the caller's path, when a worker claims the message for a request. The snapshot is
 * the library's own copy, so what the caller does with its objects after the call changes nothing.
 *
 * The size of an unwritten message is known only roughly: `size` is what the snapshot's walk counted (a
 * lower bound of its JSON's length), and the buffer counts it in its byte cap until the message is
 * written; request bodies are cut on the bytes as written.
 */

export abstract class Unwritten {
  /** A lower bound of the JSON text's length, from the walk of the snapshot. */
  abstract readonly size: number
  /** The message's JSON text, the same as the library would have written in the call. */
  abstract write(): string
}

/** A message as the `Mixpanel` service hands it to a consumer: its JSON text, or to be written later. */
export type Outgoing = string | Unwritten

/** The JSON text of `message`, written now if it was not. */
export const text = (message: Outgoing): string => (typeof message === "string" ? message : message.write())

/**
 * At most this many bytes on the wire for each character a walk counts: a counted UTF-16 unit of a string
 * or key writes at most 6 bytes (`\u001f`), a number counted as 1 at most 26 (`-1.2345678901234567e+308`
 * form-escaped), a `Date` counted as its key or array slot at most 21.
 */
const bytesPerCounted = 26

/** An upper bound of the bytes `message` takes in any request body. */
export const maxWireBytes = (message: Unwritten): number => message.size * bytesPerCounted
