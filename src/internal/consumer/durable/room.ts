/**
 * The store's cap, as plain arithmetic: how many of the messages of an `append` fit, and how much a
 * `dropOldest` append must evict to make room.
 *
 * Messages are accepted as a prefix: once one does not fit, the ones after it are refused too, so that a
 * caller who tries the refused ones again (`overflow: "wait"`) keeps their order.
 */

/** An amount held: messages and their bytes. */
export interface Size {
  readonly messages: number
  readonly bytes: number
}

/** The cap of the store. */
export interface Cap {
  readonly capacity: number
  readonly capacityBytes: number
}

/** The empty amount. */
export const empty: Size = { messages: 0, bytes: 0 }

/** `a + b`. */
export const plus = (a: Size, b: Size): Size => ({ messages: a.messages + b.messages, bytes: a.bytes + b.bytes })

/** `a - b`, never below zero. */
export const minus = (a: Size, b: Size): Size => ({
  messages: Math.max(0, a.messages - b.messages),
  bytes: Math.max(0, a.bytes - b.bytes)
})

/** The size of messages of these byte sizes. */
export const sizeOf = (bytes: ReadonlyArray<number>): Size => {
  let total = 0
  for (const b of bytes) total += b
  return { messages: bytes.length, bytes: total }
}

/** Whether `held` plus `more` is within `cap`. */
export const within = (held: Size, more: Size, cap: Cap): boolean =>
  held.messages + more.messages <= cap.capacity && held.bytes + more.bytes <= cap.capacityBytes

/** How many of the messages (of these byte sizes, in order) fit after `held`: a prefix. */
export const fitting = (held: Size, bytes: ReadonlyArray<number>, cap: Cap): number => {
  let messages = held.messages
  let total = held.bytes
  for (let i = 0; i < bytes.length; i++) {
    const size = bytes[i] ?? 0
    if (messages + 1 > cap.capacity || total + size > cap.capacityBytes) return i
    messages++
    total += size
  }
  return bytes.length
}

/**
 * What `dropOldest` must free so that all of `incoming` fits after `held`: zero when it already fits.
 * A message larger than the whole cap can never fit, and frees nothing by being counted.
 */
export const shortfall = (held: Size, incoming: ReadonlyArray<number>, cap: Cap): Size => {
  const wanted = sizeOf(incoming.filter((bytes) => bytes <= cap.capacityBytes))
  return {
    messages: Math.max(0, held.messages + wanted.messages - cap.capacity),
    bytes: Math.max(0, held.bytes + wanted.bytes - cap.capacityBytes)
  }
}

/** How many of the candidates (oldest first, by bytes) to evict to free at least `needed`; all if that is short. */
export const victims = (candidates: ReadonlyArray<number>, needed: Size): number => {
  let freed = 0
  for (let i = 0; i < candidates.length; i++) {
    if (i >= needed.messages && freed >= needed.bytes) return i
    freed += candidates[i] ?? 0
  }
  return candidates.length
}
