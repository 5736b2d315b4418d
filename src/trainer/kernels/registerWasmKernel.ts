import * as tf from '@tensorflow/tfjs-core';

/**
 * Registers `kernelFunc` as wasm's kernel `name`, replacing any earlier registration (ours from a previous
 * backend instance, or tfjs' own, which the caller has looked up first if it falls back to it).
 */
export function registerWasmKernel(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}
