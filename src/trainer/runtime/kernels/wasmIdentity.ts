import * as tf from '@tensorflow/tfjs-core';

/**
 * Replaces wasm's Identity kernel by one that shares the input's buffer (reference-counted, exactly
 * like wasm's own Reshape) instead of copying it.
 *
 * Why: while recording gradients, tfjs clones every tensor an op saves for its backward pass
 * (engine.saveTensorsForBackwardMode -> Identity). On wasm each clone is a full copy of the activation:
 * ~185 copies per training step of the reference model. tfjs tensors are immutable (Variable.assign
 * swaps the buffer, it never writes into it), so sharing is safe; the cpu backend's Identity already
 * shares the same way.
 */
export function installWasmSharedIdentity(): void {
  const stock = tf.getKernel(tf.Identity, 'wasm');
  if (!stock || (stock as { sharesBuffer?: boolean }).sharesBuffer) return;
  tf.unregisterKernel(tf.Identity, 'wasm');
  const config: tf.KernelConfig & { sharesBuffer: boolean } = {
    kernelName: tf.Identity,
    backendName: 'wasm',
    sharesBuffer: true,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
    },
  };
  tf.registerKernel(config);
}
