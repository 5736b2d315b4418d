/**
 * The order of training rows: shuffled per epoch by (seed, epoch), cut into batches. For the in-batch
 * ranking losses a row whose text already appears in the batch being filled is deferred to a later
 * batch (a duplicate positive is an in-batch false negative). A pure function of (table, seed, epoch),
 * so a checkpoint needs only (epoch, batch index) to continue at the same place.
 */
import { mixSeed, Rng } from '../common/random';

export interface BatchOptions {
  batchSize: number;
  seed: number;
  /** Avoid repeated texts inside a batch (ranking losses). */
  distinctTexts: boolean;
}

/** Row indices of every batch of one epoch. A trailing batch of fewer than 2 rows is dropped. */
export function epochBatches(texts: string[][], epoch: number, o: BatchOptions): number[][] {
  const n = texts[0]?.length ?? 0;
  const order = new Rng(mixSeed(o.seed, 1000 + epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
  const batches: number[][] = [];
  if (!o.distinctTexts) {
    for (let s = 0; s < n; s += o.batchSize) batches.push(order.slice(s, s + o.batchSize));
  } else {
    let deferred: number[] = [];
    let current: number[] = [];
    let seen = new Set<string>();
    const fits = (i: number) => texts.every((col) => !seen.has(col[i]));
    const add = (i: number) => {
      current.push(i);
      for (const col of texts) seen.add(col[i]);
      if (current.length === o.batchSize) {
        batches.push(current);
        current = [];
        seen = new Set();
        // Deferred rows get the first chance in the next batch.
        const retry = deferred;
        deferred = [];
        for (const j of retry) current.length < o.batchSize && fits(j) ? add(j) : deferred.push(j);
      }
    };
    for (const i of order) fits(i) ? add(i) : deferred.push(i);
    // What could not be placed without a duplicate goes in anyway: dropping rows would lose data.
    for (const i of deferred) {
      current.push(i);
      if (current.length === o.batchSize) {
        batches.push(current);
        current = [];
      }
    }
    if (current.length) batches.push(current);
  }
  if (batches.length && batches[batches.length - 1].length < 2) batches.pop();
  return batches;
}

/**
 * How many batches epochBatches() makes of n rows, without building them: every row is placed (deferred
 * rows go in at the end), so all batches are full but the last, and a last batch of one row is dropped.
 * Lets the total step count of `epochs` epochs be computed in O(1), whatever `epochs` is.
 */
export function epochBatchCount(n: number, batchSize: number): number {
  return Math.floor(n / batchSize) + (n % batchSize >= 2 ? 1 : 0);
}
