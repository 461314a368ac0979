/**
 * The hash that places a user in a rollout and a variant, as Mixpanel's SDKs compute it: FNV-1a, 64 bits,
 * over the UTF-8 bytes of `key + salt`, taken modulo 100 and divided by 100 (so `0.00` to `0.99`).
 *
 * The 64-bit state is kept in four 16-bit limbs, so that no `BigInt` is allocated per byte: hashing runs on
 * every lookup of a locally evaluated flag.
 */

/** Multiplies the state by the FNV prime `2^40 + 0x1b3`, modulo `2^64`. Limbs are little-endian. */
const multiplyByPrime = (s: Uint32Array): void => {
  const [a0 = 0, a1 = 0, a2 = 0, a3 = 0] = s
  // state × 0x1b3
  const t0 = a0 * 0x1b3
  let t1 = a1 * 0x1b3
  let t2 = a2 * 0x1b3
  let t3 = a3 * 0x1b3
  // + state × 2^40: limb i moves to limb i + 2, shifted left by 8 bits
  t2 += a0 << 8
  t3 += a1 << 8
  t1 += t0 >>> 16
  t2 += t1 >>> 16
  t3 += t2 >>> 16
  s[0] = t0 & 0xffff
  s[1] = t1 & 0xffff
  s[2] = t2 & 0xffff
  s[3] = t3 & 0xffff
}

const xorByte = (s: Uint32Array, byte: number): void => {
  s[0] = (s[0] ?? 0) ^ byte
  multiplyByPrime(s)
}

/** FNV-1a 64 of the UTF-8 encoding of `text`, with lone surrogates encoded as U+FFFD (as `Buffer` does). */
const fnv1a64 = (text: string): Uint32Array => {
  // offset basis 0xcbf29ce484222325
  const s = Uint32Array.of(0x2325, 0x8422, 0x9ce4, 0xcbf2)
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1)
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
        i++
      } else {
        code = 0xfffd
      }
    }
    if (code < 0x80) {
      xorByte(s, code)
    } else if (code < 0x800) {
      xorByte(s, 0xc0 | (code >> 6))
      xorByte(s, 0x80 | (code & 0x3f))
    } else if (code < 0x10000) {
      xorByte(s, 0xe0 | (code >> 12))
      xorByte(s, 0x80 | ((code >> 6) & 0x3f))
      xorByte(s, 0x80 | (code & 0x3f))
    } else {
      xorByte(s, 0xf0 | (code >> 18))
      xorByte(s, 0x80 | ((code >> 12) & 0x3f))
      xorByte(s, 0x80 | ((code >> 6) & 0x3f))
      xorByte(s, 0x80 | (code & 0x3f))
    }
  }
  return s
}

/** The 64-bit hash as 16 hex digits (for tests against a reference). */
export const fnv1a64Hex = (text: string): string => {
  const s = fnv1a64(text)
  let out = ""
  for (let i = 3; i >= 0; i--) out += (s[i] ?? 0).toString(16).padStart(4, "0")
  return out
}

/**
 * `hash(key + salt) mod 100 / 100`. The remainder is folded limb by limb: `2^16 mod 100 = 36`, so
 * `(((l3·36 + l2)·36 + l1)·36 + l0) mod 100` is the 64-bit value modulo 100.
 */
export const normalizedHash = (key: string, salt: string): number => {
  const s = fnv1a64(key + salt)
  let rest = 0
  for (let i = 3; i >= 0; i--) rest = (rest * 36 + (s[i] ?? 0)) % 100
  return rest / 100
}
