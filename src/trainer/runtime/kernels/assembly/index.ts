/** The trainer's own wasm kernels (one module, built by esbuild.mjs): see each file. */
export { gemm, workBytes } from './gemm';
export { geluForward } from './gelu';
export { adamw, sumSquares } from './adamw';
export { layerNormForward, layerNormBackward } from './layerNorm';
export { dropout } from './dropout';
export { addInto } from './addInto';
export { columnSums } from './columnSums';
