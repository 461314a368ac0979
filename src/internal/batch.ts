/**
 * Splitting messages into requests that Mixpanel accepts: at most `maxItems` messages and `maxBytes` of
 * JSON (the UTF-8 bytes of `[m1,m2,...]`) each.
 */
import { utf8Length } from "./json.js"

/** Mixpanel's limit on messages per request. */
export const maxItems = 2000

/** Mixpanel's limit on the JSON of one request, by the stricter reading: 2 MiB. */
export const maxBytes = 2 * 1024 * 1024

/** Splits `messages` in order into batches within both limits. A message too large for any batch goes alone. */
export const split = (
  messages: ReadonlyArray<string>,
  limits: { readonly maxItems: number; readonly maxBytes: number }
): Array<ReadonlyArray<string>> => {
  const batches: Array<ReadonlyArray<string>> = []
  let current: Array<string> = []
  let bytes = 2
  for (const message of messages) {
    const size = utf8Length(message) + 1
    if (current.length > 0 && (current.length >= limits.maxItems || bytes + size > limits.maxBytes)) {
      batches.push(current)
      current = []
      bytes = 2
    }
    current.push(message)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}
