/**
 * The messages this store committed and has not claimed yet, by id, so that a claim need not read back
 * the JSON this same process wrote (on SQLite, reading it back was the claim's largest cost after its
 * writes, and its garbage). Plain data and functions, like `room.ts`.
 *
 * An entry is right for as long as its message is in the outbox, whoever claims it: ids are never handed
 * out twice once committed (`AUTOINCREMENT`, identity columns) and a message's JSON never changes. So only
 * committed messages go in (SQLite hands out the ids of a rolled-back insert again). What is not here is
 * read from the outbox: a message of another process or of an earlier run, one claimed before it came in
 * or released back, one that did not fit (`maxBytes`). An entry leaves when its message is claimed here,
 * or when a claim of its endpoint starts past it (another relay took it; should it come back, it is read).
 */
import type { Endpoint } from "../../../Endpoint.js"
import type { Stored } from "../buffered/store.js"

/** The cache of one store. */
export interface Recent {
  /** By endpoint, in the order of their ids. */
  readonly messages: Map<Endpoint, Map<number, Stored>>
  /** The `bytes` held, and the most it may hold. */
  bytes: number
  readonly maxBytes: number
}

/** An empty cache holding at most `maxBytes` of messages. */
export const make = (maxBytes: number): Recent => ({ messages: new Map(), bytes: 0, maxBytes })

/** `stored` committed (in id order); those that fit are kept. */
export const add = (recent: Recent, stored: ReadonlyArray<Stored>): void => {
  for (const message of stored) {
    if (recent.bytes + message.bytes > recent.maxBytes) return
    let messages = recent.messages.get(message.endpoint)
    if (messages === undefined) {
      messages = new Map()
      recent.messages.set(message.endpoint, messages)
    }
    messages.set(message.id, message)
    recent.bytes += message.bytes
  }
}

/**
 * The messages of `endpoint` with these `ids` (ascending), taken out: those held, and the ids of those
 * not held. Entries of the endpoint below the first id go too (see the module's doc).
 */
export const take = (
  recent: Recent,
  endpoint: Endpoint,
  ids: ReadonlyArray<number>
): { readonly held: Array<Stored>; readonly missing: Array<number> } => {
  const held: Array<Stored> = []
  const missing: Array<number> = []
  const messages = recent.messages.get(endpoint)
  const first = ids[0]
  if (messages === undefined || first === undefined) return { held, missing: [...ids] }
  for (const [id, message] of messages) {
    if (id >= first) break
    messages.delete(id)
    recent.bytes -= message.bytes
  }
  for (const id of ids) {
    const message = messages.get(id)
    if (message === undefined) {
      missing.push(id)
    } else {
      held.push(message)
      messages.delete(id)
      recent.bytes -= message.bytes
    }
  }
  return { held, missing }
}
