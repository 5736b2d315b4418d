// tfjs-core's CommonJS entry (what Node and esbuild's platform=node resolve) registers no gradients at
// all: only the @tensorflow/tfjs umbrella does, through this module. Our overrides go on top of these.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerBatchMatMulGradient } from './batchMatMulGrad';
import { registerBroadcastGradients } from './broadcastGrads';

let installed = false;

/**
 * Installs the wasm-friendly gradient overrides (global: tfjs' gradient registry is shared by every
 * backend). Idempotent. They are exact replacements of the stock gradients, so installing them on cpu
 * (or tensorflow) only changes speed.
 */
export function installFastGradients(): void {
  if (installed) return;
  registerBatchMatMulGradient();
  registerBroadcastGradients();
  installed = true;
}

export function fastGradientsInstalled(): boolean {
  return installed;
}
