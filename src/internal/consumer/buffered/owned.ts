/**
 * The messages this consumer appended to a store it shares with other processes, or with its own later
 * runs (a durable store): such a store does not hand a message's flush epoch back with it, so the engine
 * keeps the epoch of each of its messages by id until the message has an outcome. Another relay may
 * deliver some of them; those whose id is below the store's oldest are gone from it, and `passed` settles
 * them. Plain data and functions, like `flushes.ts`.
 */
import type { Stored } from "./store.js"

/** The epoch of each message of this consumer still in the store, by id. */
export interface Owned {
  readonly epochs: Map<number, number>
}

/** Nothing owned. */
export const make = (): Owned => ({ epochs: new Map() })

/** `stored` was appended by this consumer in `epoch`. */
export const add = (owned: Owned, stored: ReadonlyArray<Stored>, epoch: number): void => {
  for (const message of stored) owned.epochs.set(message.id, epoch)
}

/**
 * The epoch of `message`, once: its own when the store keeps it, else this consumer's record of it,
 * which is forgotten (a message has one outcome). `undefined` for another process's message.
 */
export const take = (owned: Owned, message: Stored): number | undefined => {
  if (message.epoch !== undefined) return message.epoch
  const epoch = owned.epochs.get(message.id)
  if (epoch !== undefined) owned.epochs.delete(message.id)
  return epoch
}

/**
 * Forgets the messages that left the store by another relay's hand: every id below `oldest`, the oldest
 * id still in the store (`undefined`: the store is empty). Returns how many left, by epoch.
 */
export const passed = (owned: Owned, oldest: number | undefined): Map<number, number> => {
  const gone = new Map<number, number>()
  for (const [id, epoch] of owned.epochs) {
    if (oldest !== undefined && id >= oldest) continue
    owned.epochs.delete(id)
    gone.set(epoch, (gone.get(epoch) ?? 0) + 1)
  }
  return gone
}
