/**
 * The messages this consumer appended to a store it shares with other processes, or with its own later
 * runs (a durable store): such a store does not hand a message's flush epoch back with it, so the engine
 * keeps the epoch of each of its messages until the message has an outcome. Another relay may deliver
 * some of them; those whose id is below the store's oldest are gone from it, and `passed` settles them.
 * Plain data and functions, like `flushes.ts`.
 *
 * The epochs are kept by the store's page (`Pages.pageOf`), as an array by index in the page: one map
 * entry per page of up to 256 messages rather than one per message, which the garbage collector would
 * copy for as long as the message waits.
 */
import * as Pages from "../durable/pages.js"
import type { Stored } from "./store.js"

/** The epochs of one page's messages owned, by index (`undefined`: not owned, or settled), and how many. */
interface Page {
  readonly epochs: Array<number | undefined>
  owned: number
}

/** The epochs of this consumer's messages still in the store, by page; `size` counts the messages. */
export interface Owned {
  readonly pages: Map<number, Page>
  size: number
}

/** Nothing owned. */
export const make = (): Owned => ({ pages: new Map(), size: 0 })

const none: ReadonlyArray<number> = []

/**
 * `stored` was appended by this consumer in `epoch`. Returns the epochs of the messages it had recorded
 * under the same ids, one per message, which are gone: an id comes back only when the transaction that
 * first had it rolled back (SQLite hands a rolled-back transaction's ids out again), and the engine
 * settles them. Their flush would otherwise wait for them for ever.
 */
export const add = (owned: Owned, stored: ReadonlyArray<Stored>, epoch: number): ReadonlyArray<number> => {
  let gone: Array<number> | undefined
  for (const message of stored) {
    const id = Pages.pageOf(message.id)
    let page = owned.pages.get(id)
    if (page === undefined) {
      page = { epochs: [], owned: 0 }
      owned.pages.set(id, page)
    }
    const index = Pages.indexOf(message.id)
    const before = page.epochs[index]
    if (before === undefined) {
      page.owned++
      owned.size++
    } else {
      gone ??= []
      gone.push(before)
    }
    page.epochs[index] = epoch
  }
  return gone ?? none
}

/** Forgets the message at `index` of `page` (owned). */
const forget = (owned: Owned, id: number, page: Page, index: number): void => {
  page.epochs[index] = undefined
  owned.size--
  if (--page.owned === 0) owned.pages.delete(id)
}

/**
 * The epoch of `message`, once: its own when the store keeps it, else this consumer's record of it,
 * which is forgotten (a message has one outcome). `undefined` for another process's message.
 */
export const take = (owned: Owned, message: Stored): number | undefined => {
  if (message.epoch !== undefined) return message.epoch
  const id = Pages.pageOf(message.id)
  const page = owned.pages.get(id)
  const index = Pages.indexOf(message.id)
  const epoch = page?.epochs[index]
  if (page !== undefined && epoch !== undefined) forget(owned, id, page, index)
  return epoch
}

/**
 * Forgets the messages that left the store by another relay's hand: every id below `oldest`, the oldest
 * id still in the store (`undefined`: the store is empty). Returns how many left, by epoch.
 */
export const passed = (owned: Owned, oldest: number | undefined): Map<number, number> => {
  const gone = new Map<number, number>()
  for (const [id, page] of owned.pages) {
    page.epochs.forEach((epoch, index) => {
      if (epoch === undefined || (oldest !== undefined && Pages.messageId(id, index) >= oldest)) return
      forget(owned, id, page, index)
      gone.set(epoch, (gone.get(epoch) ?? 0) + 1)
    })
  }
  return gone
}
