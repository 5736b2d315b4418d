/** The tfjs-wasm backend plumbing our kernels share: its internals they use, and kernel registration. */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-wasm's backend object our kernels use (not in its public typings). */
export interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** How many tensors share this buffer (clones and reshapes share rather than copy). */
  refCount(dataId: object): number;
}

/** Byte offset of a wasm tensor's data in the heap. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm kernels: tensor data not found on the wasm backend');
  return data.memoryOffset;
}

/**
 * Registers `kernelFunc` as wasm's kernel `name`, replacing any earlier registration (ours from a previous
 * backend instance, or tfjs' own, which the caller has looked up first if it falls back to it).
 */
export function registerWasmKernel(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}
