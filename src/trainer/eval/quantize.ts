/**
 * Embedding quantisation as sentence-transformers' `quantize_embeddings` defines it
 * (sentence_transformers/quantization.py, commit 85ec645):
 *   int8:    ranges = per-component [min, max] of the calibration embeddings; starts = min;
 *            steps = (max − min) / 255; q = trunc((x − starts) / steps − 128)
 *   ubinary: one bit per component, set when x > 0, packed big-endian 8 to a byte (np.packbits)
 * Two deliberate differences, both where the library's output is undefined: a value outside the
 * calibration range is clamped to [−128, 127] (numpy's float → int8 cast of an out-of-range value is
 * undefined behaviour), and a component with max = min (step 0) maps to −128 instead of NaN.
 *
 * Row-major Float32Array inputs of `rows × dim`. Pure; used by the evaluation and by Export Model (which
 * writes the same calibration into the exported folder, so a search system quantises the same way).
 */

export interface Int8Calibration {
  /** Per component: the calibration minimum (`starts`) and (max − min) / 255 (`steps`). */
  starts: Float32Array;
  steps: Float32Array;
}

/** Per-component min and max over the calibration rows → starts and steps. */
export function int8Calibration(embeddings: Float32Array, rows: number, dim: number): Int8Calibration {
  if (rows < 1) throw new Error('int8 calibration needs at least one embedding');
  const lo = new Float32Array(dim).fill(Infinity);
  const hi = new Float32Array(dim).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) {
      const x = embeddings[o + c];
      if (x < lo[c]) lo[c] = x;
      if (x > hi[c]) hi[c] = x;
    }
  }
  const steps = new Float32Array(dim);
  // float32 arithmetic throughout, as numpy does it on float32 arrays: the same bucket at every boundary.
  for (let c = 0; c < dim; c++) steps[c] = Math.fround(Math.fround(hi[c] - lo[c]) / 255);
  return { starts: lo, steps };
}

export function quantizeInt8(embeddings: Float32Array, rows: number, dim: number, cal: Int8Calibration): Int8Array {
  const out = new Int8Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let c = 0; c < dim; c++) {
      const step = cal.steps[c];
      const q = step > 0 ? Math.trunc(Math.fround(Math.fround(Math.fround(embeddings[o + c] - cal.starts[c]) / step) - 128)) : -128;
      out[o + c] = q < -128 ? -128 : q > 127 ? 127 : q;
    }
  }
  return out;
}

/** Bytes per packed binary row: ⌈dim / 8⌉. */
export function binaryRowBytes(dim: number): number {
  return Math.ceil(dim / 8);
}

/** ubinary: bit 7 of byte 0 is component 0 (x > 0), as np.packbits packs; a short last byte is zero-padded. */
export function quantizeBinary(embeddings: Float32Array, rows: number, dim: number): Uint8Array {
  const width = binaryRowBytes(dim);
  const out = new Uint8Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const w = r * width;
    for (let c = 0; c < dim; c++) if (embeddings[o + c] > 0) out[w + (c >> 3)] |= 0x80 >> (c & 7);
  }
  return out;
}
