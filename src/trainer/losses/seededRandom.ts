/**
 * The loss-side random choices (MatryoshkaLoss' nDimsPerStep): the trainer's seeded generator, with a
 * seed mix so that nearby seeds (0, 1, 2…) do not start on correlated streams, and a 32-bit state that a
 * checkpoint saves and restores.
 */
import { Rng } from '../../common/random';

export class SeededRandom extends Rng {
  constructor(seed: number) {
    super((Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) + 0x6d2b79f5) >>> 0);
  }

  /** k distinct indices of [0, n), in increasing order (partial Fisher–Yates, then sorted). */
  sampleIndices(n: number, k: number): number[] {
    const pool = Array.from({ length: n }, (_, i) => i);
    const take = Math.min(k, n);
    for (let i = 0; i < take; i++) {
      const j = i + this.int(n - i);
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
