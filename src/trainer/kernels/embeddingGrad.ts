import * as tf from '@tensorflow/tfjs-core';

/**
 * Row lookup table[ids] whose gradient is a scatter-add of dy into [V, H].
 *
 * The stock GatherV2 gradient is UnsortedSegmentSum: not registered on wasm, and on cpu a loop over all
 * V rows (PERF.md #5). ScatterNd sums duplicate indices on both wasm and cpu, which is exactly the
 * gradient of a gather with repeated ids. `ids` reaches the backward through save(): tensors captured
 * by a customGrad closure are disposed before the backward runs.
 */
const lookup = tf.customGrad((...args: unknown[]) => {
  const [table, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const shape = table.shape as [number, number];
  save([ids]);
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [savedIds] = saved;
      const n = savedIds.shape[0];
      const dTable = tf.scatterND(tf.reshape(savedIds, [n, 1]), dy as tf.Tensor2D, shape);
      return [dTable, tf.zerosLike(savedIds)];
    },
  };
});

/** table [V, H] float32, ids [N] int32 → [N, H]. */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return lookup(table, ids) as tf.Tensor2D;
}
