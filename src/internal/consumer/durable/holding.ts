/**
 * What a relay holds of the pages it leased. A lease covers a whole page, but a claim hands the engine
 * only what fits its limits: the messages of a page that did not fit wait here (`rests`), under the
 * relay's lease, and the relay's next claim of the endpoint hands them out before leasing more (so that
 * the order of the appends holds). A page's lease is given back once the relay holds none of its messages
 * while some still wait in the outbox: handed out and settled, or given back by `release`.
 *
 * A settlement counts at once, before its transaction commits (so that two settlements of one page in
 * flight together see each other), and is undone if the transaction fails.
 */
import type { Endpoint } from "../../../Endpoint.js"
import type { Stored } from "../buffered/store.js"
import * as Pages from "./pages.js"

const byId = (a: Stored, b: Stored) => a.id - b.id

export class Holding {
  /** For each page leased: its messages this relay has, handed out or resting. */
  private readonly held = new Map<number, number>()
  private readonly rests = new Map<Endpoint, Array<Stored>>()

  /** Counts the waiting messages of pages just leased as held. */
  leased(messages: ReadonlyArray<Stored>): void {
    for (const [page, some] of Pages.byPage(messages)) this.held.set(page, (this.held.get(page) ?? 0) + some.length)
  }

  /** Takes the resting messages of `endpoint`, oldest first. */
  takeRests(endpoint: Endpoint): ReadonlyArray<Stored> {
    const rests = this.rests.get(endpoint) ?? []
    this.rests.delete(endpoint)
    return rests
  }

  /** Keeps `messages` (held, of `endpoint`) for the next claim. */
  rest(endpoint: Endpoint, messages: ReadonlyArray<Stored>): void {
    if (messages.length === 0) return
    const rests = this.rests.get(endpoint)
    this.rests.set(endpoint, rests === undefined ? [...messages] : [...rests, ...messages].sort(byId))
  }

  /**
   * Counts `messages` (handed out) as settled; returns the pages of which nothing is held any more, and
   * what undoes the count.
   */
  settle(messages: ReadonlyArray<Stored>): { readonly idle: Array<number>; readonly undo: () => void } {
    const idle: Array<number> = []
    const counted: Array<readonly [number, number]> = []
    for (const [page, some] of Pages.byPage(messages)) {
      const before = this.held.get(page) ?? 0
      const left = before - some.length
      counted.push([page, before])
      if (left > 0) this.held.set(page, left)
      else {
        this.held.delete(page)
        idle.push(page)
      }
    }
    const undo = () => {
      for (const [page, before] of counted) if (before > 0) this.held.set(page, before)
    }
    return { idle, undo }
  }

  /**
   * Takes back `messages` (handed out, unfinished): those of a page with other messages still out rest
   * for the next claim; returns the pages of which nothing is out any more, whose leases are to be given
   * back (their resting messages forgotten: they wait in the outbox).
   */
  release(messages: ReadonlyArray<Stored>): Array<number> {
    const idle: Array<number> = []
    for (const [page, some] of Pages.byPage(messages)) {
      const endpoint = some[0]?.endpoint as Endpoint
      const rests = this.rests.get(endpoint) ?? []
      const resting = rests.filter((message) => Pages.pageOf(message.id) === page).length
      if ((this.held.get(page) ?? 0) > some.length + resting) {
        this.rest(endpoint, some)
        continue
      }
      this.held.delete(page)
      if (resting > 0)
        this.rests.set(
          endpoint,
          rests.filter((message) => Pages.pageOf(message.id) !== page)
        )
      idle.push(page)
    }
    return idle
  }
}
