/**
 * The small loops the quantised search (quantizedRetrieval.ts) is made of: popcount and packing binary rows
 * into 32-bit words for XOR + popcount Hamming distances, and the k-th largest value for a shortlist's cut.
 */

/** Bits set in a 32-bit word. */
export function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Packed rows of `rowBytes` bytes → rows of `words` 32-bit words (zero-padded), for XOR + popcount a word at a time. */
export function toWords(bytes: Uint8Array, rows: number, rowBytes: number, words: number): Uint32Array {
  const out = new Uint32Array(rows * words);
  const view = new Uint8Array(out.buffer);
  for (let r = 0; r < rows; r++) view.set(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), r * words * 4);
  return out;
}

/**
 * The value of rank k (0-based) of a[0..n) in descending order; reorders a. Quickselect (Hoare partition,
 * median-of-three pivot): linear on average, and many equal values (Hamming distances) split evenly.
 */
export function kthLargest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const z = a[hi];
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[lo..j] ≥ pivot ≥ a[i..hi]; anything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[lo];
}
