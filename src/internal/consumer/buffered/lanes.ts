/**
 * A lane is what the engine knows of one endpoint's waiting messages: how many, how many bytes, and
 * whether they should go now even if they do not fill a request (a flush or the periodic timer asked for
 * it). Plain data and functions: the engine wakes a lane's workers when `ready` turns true.
 */
import type { Endpoint } from "../../../Endpoint.js"
import * as Batch from "../batch.js"

/** One endpoint's waiting messages, as this consumer knows them. */
export interface Lane {
  readonly endpoint: Endpoint
  waiting: number
  waitingBytes: number
  /** Send what waits even in a batch that is not full, until the lane is empty. */
  draining: boolean
}

/** An empty lane. */
export const make = (endpoint: Endpoint): Lane => ({ endpoint, waiting: 0, waitingBytes: 0, draining: false })

/** Messages appended to the store for this lane. */
export const appended = (lane: Lane, messages: number, bytes: number): void => {
  lane.waiting += messages
  lane.waitingBytes += bytes
}

/**
 * Messages taken from the store by a worker. A claim that found nothing means the lane is empty (the
 * counts also cover messages appended by others, in a shared store, so they are cut at zero).
 */
export const claimed = (lane: Lane, messages: number, bytes: number): void => {
  if (messages === 0) {
    lane.waiting = 0
    lane.waitingBytes = 0
  } else {
    lane.waiting = Math.max(0, lane.waiting - messages)
    lane.waitingBytes = Math.max(0, lane.waitingBytes - bytes)
  }
  if (lane.waiting === 0) lane.draining = false
}

/** Messages that left the store without being claimed (evicted by `dropOldest`). */
export const evicted = (lane: Lane, messages: number, bytes: number): void => {
  lane.waiting = Math.max(0, lane.waiting - messages)
  lane.waitingBytes = Math.max(0, lane.waitingBytes - bytes)
}

/** Asks the lane to send what waits now. */
export const drain = (lane: Lane): void => {
  lane.draining = true
}

/** Whether a worker should claim a batch now: a full request waits, or the lane is draining. */
export const ready = (lane: Lane, limits: Batch.Limits): boolean =>
  lane.draining ||
  lane.waiting >= limits.maxItems ||
  Batch.bodyBytes(lane.endpoint, lane.waiting, lane.waitingBytes) >= limits.maxBytes
