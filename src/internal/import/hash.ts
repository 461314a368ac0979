/**
 * The `$insert_id` the importer derives from an event's content: MurmurHash3 (x86, 128 bits) of the UTF-16
 * code units of a text, as 32 hexadecimal digits. Plain arithmetic, so the same text gives the same id on
 * every platform and in every run: a re-run of an import sends the same ids, and Mixpanel deduplicates.
 */

const c1 = 0x239b961b
const c2 = 0xab0e9789
const c3 = 0x38b34ae5
const c4 = 0xa1e38b93

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** The 32-bit word of the code units at `i` and `i + 1` (little end first); `0` past the end. */
const word = (text: string, i: number, end: number): number =>
  i + 1 < end ? text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16) : i < end ? text.charCodeAt(i) : 0

const digits = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/** Eight hexadecimal digits, from a table: `toString(16)` and `padStart` cost more than the hash. */
const hex = (h: number): string =>
  (digits[h >>> 24] as string) +
  (digits[(h >>> 16) & 255] as string) +
  (digits[(h >>> 8) & 255] as string) +
  (digits[h & 255] as string)

/** 32 lowercase hexadecimal digits: a valid `$insert_id` (at most 36 characters of `[A-Za-z0-9-]`). */
export const murmur128 = (text: string, seed = 0): string => {
  const length = text.length
  let h1 = seed
  let h2 = seed
  let h3 = seed
  let h4 = seed
  const blocks = length - (length % 8)
  for (let i = 0; i < blocks; i += 8) {
    let k1 = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)
    let k2 = text.charCodeAt(i + 2) | (text.charCodeAt(i + 3) << 16)
    let k3 = text.charCodeAt(i + 4) | (text.charCodeAt(i + 5) << 16)
    let k4 = text.charCodeAt(i + 6) | (text.charCodeAt(i + 7) << 16)
    k1 = Math.imul(rotl(Math.imul(k1, c1), 15), c2)
    h1 ^= k1
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
    k2 = Math.imul(rotl(Math.imul(k2, c2), 16), c3)
    h2 ^= k2
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
    k3 = Math.imul(rotl(Math.imul(k3, c3), 17), c4)
    h3 ^= k3
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
    k4 = Math.imul(rotl(Math.imul(k4, c4), 18), c1)
    h4 ^= k4
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  }
  if (blocks < length) {
    const k1 = word(text, blocks, length)
    const k2 = word(text, blocks + 2, length)
    const k3 = word(text, blocks + 4, length)
    const k4 = word(text, blocks + 6, length)
    // Words past the end are 0, and mixing a 0 changes nothing, as in the reference's fall-through switch.
    h4 ^= Math.imul(rotl(Math.imul(k4, c4), 18), c1)
    h3 ^= Math.imul(rotl(Math.imul(k3, c3), 17), c4)
    h2 ^= Math.imul(rotl(Math.imul(k2, c2), 16), c3)
    h1 ^= Math.imul(rotl(Math.imul(k1, c1), 15), c2)
  }
  const bytes = length * 2
  h1 ^= bytes
  h2 ^= bytes
  h3 ^= bytes
  h4 ^= bytes
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  return hex(h1) + hex(h2) + hex(h3) + hex(h4)
}
