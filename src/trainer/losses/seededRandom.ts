/**
 * A small seeded PRNG (mulberry32) for the loss-side random choices (MatryoshkaLoss' nDimsPerStep).
 * Deterministic given the seed, with a 32-bit state that a checkpoint can save and restore.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds (0, 1, 2…) do not start on correlated streams.
    this.state = (Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) + 0x6d2b79f5) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** k distinct indices of [0, n), in increasing order (partial Fisher–Yates, then sorted). */
  sampleIndices(n: number, k: number): number[] {
    const pool = Array.from({ length: n }, (_, i) => i);
    const take = Math.min(k, n);
    for (let i = 0; i < take; i++) {
      const j = i + this.nextInt(n - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, take).sort((x, y) => x - y);
  }

  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }
}
