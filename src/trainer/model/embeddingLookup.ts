// The encoder's embedding lookup: gather forward, ScatterNd (summing duplicates) backward.
// Lives in ../kernels with the other wasm workarounds; re-exported here for model code.
export { embeddingLookup } from '../runtime/kernels/embeddingGrad';
