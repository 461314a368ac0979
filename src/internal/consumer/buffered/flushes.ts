/**
 * Who waits for what. Every message accepted belongs to an epoch, the time between two flushes; a flush
 * closes the current epoch and is done when every message of it, and of the epochs before, has an outcome.
 * The failures of an epoch are kept for its flush's `DeliveryError`, within a cap (the rest are counted).
 * Plain data and functions: the engine keeps a `Deferred` per closed epoch and completes it when told.
 */
import type { DeliveryFailure } from "../../../MixpanelError.js"
import { utf8Length } from "../../json.js"

/** The messages of one epoch. */
export interface Epoch {
  readonly id: number
  accepted: number
  pending: number
  readonly failures: Array<DeliveryFailure>
  omitted: number
  retainedBytes: number
  closed: boolean
}

/** The epochs not settled yet, oldest first; the last is the current one. */
export interface Flushes {
  readonly epochs: Array<Epoch>
  /** Most failures, and most bytes of them, kept for one epoch's error. */
  readonly keep: { readonly failures: number; readonly bytes: number }
}

const epoch = (id: number): Epoch => ({
  id,
  accepted: 0,
  pending: 0,
  failures: [],
  omitted: 0,
  retainedBytes: 0,
  closed: false
})

/** No epoch closed yet. */
export const make = (keep: Flushes["keep"]): Flushes => ({ epochs: [epoch(0)], keep })

/** The epoch new messages join. */
export const current = (flushes: Flushes): Epoch => flushes.epochs[flushes.epochs.length - 1] as Epoch

const find = (flushes: Flushes, id: number): Epoch | undefined => {
  for (const e of flushes.epochs) if (e.id === id) return e
  return undefined
}

/** `messages` accepted into the current epoch. */
export const accepted = (flushes: Flushes, messages: number): void => {
  const e = current(flushes)
  e.accepted += messages
  e.pending += messages
}

/** Keeps `failures` for the flush of epoch `id` (or the current one), as many as the cap allows. */
export const failed = (flushes: Flushes, failures: ReadonlyArray<DeliveryFailure>, id?: number): void => {
  const e = id === undefined ? current(flushes) : find(flushes, id)
  if (e === undefined) return
  for (const failure of failures) {
    const bytes = utf8Length(failure.json)
    if (e.failures.length < flushes.keep.failures && e.retainedBytes + bytes <= flushes.keep.bytes) {
      e.failures.push(failure)
      e.retainedBytes += bytes
    } else {
      e.omitted++
    }
  }
}

/** `messages` of epoch `id` have an outcome. */
export const settled = (flushes: Flushes, id: number | undefined, messages: number): void => {
  if (id === undefined) return
  const e = find(flushes, id)
  if (e !== undefined) e.pending -= messages
}

/** Removes and returns the closed epochs whose messages, and those of every epoch before, are all settled. */
export const completed = (flushes: Flushes): Array<Epoch> => {
  const done: Array<Epoch> = []
  while (flushes.epochs.length > 1) {
    const head = flushes.epochs[0] as Epoch
    if (!head.closed || head.pending > 0) break
    flushes.epochs.shift()
    done.push(head)
  }
  return done
}

/** Whether anything happened in the current epoch: a flush with nothing new waits with the one before. */
const idle = (e: Epoch) => e.accepted === 0 && e.pending === 0 && e.failures.length === 0 && e.omitted === 0

/**
 * Closes the current epoch for a flush and returns the id to wait for: the closed epoch, or, when nothing
 * happened since the last flush, the last closed epoch still pending (`undefined` if none).
 */
export const close = (flushes: Flushes): number | undefined => {
  const e = current(flushes)
  if (idle(e)) {
    const previous = flushes.epochs[flushes.epochs.length - 2]
    return previous?.id
  }
  e.closed = true
  flushes.epochs.push(epoch(e.id + 1))
  return e.id
}
