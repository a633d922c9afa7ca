/**
 * The proxy's one non-cryptographic string hash, shared by the router's hash
 * policies and the ring-hash / Maglev load balancers so both sides agree.
 *
 * Algorithm: 32-bit FNV-1a over the string's UTF-16 code units, followed by
 * MurmurHash3's `fmix32` finalizer. FNV-1a alone is fast but mixes short,
 * similar keys ("10.0.0.1:80_0", "10.0.0.1:80_1") poorly, which would clump
 * ring-hash entries; the finalizer gives full avalanche for two more multiplies.
 * Result: an unsigned integer in [0, 2^32).
 */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Folds a further hash into an accumulated one the way Envoy combines hash
 * policies: rotate the old value left by one, then xor. Rotating keeps two equal
 * policies from cancelling out. 32-bit here since `hashString` is 32-bit.
 */
export function combineHashes(accumulated: number, next: number): number {
  return (((accumulated << 1) | (accumulated >>> 31)) ^ next) >>> 0;
}
