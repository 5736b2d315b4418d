/**
 * quantization.json: how a search system quantises an exported model's embeddings (documents and queries
 * alike) the way the evaluation scored them. Pure.
 *
 * The exported model already truncates to D and L2-normalises (modules.json ends with Normalize), so
 * its output is exactly what the evaluation quantises: the truncated, re-normalised embeddings (the
 * float32 metrics are cosine on those, src/trainer/eval/metrics.ts truncateNormalize).
 *
 * The formulas are sentence-transformers' `quantize_embeddings` (sentence_transformers/quantization.py,
 * v5.1.0 lines 416-440): int8 `starts = ranges[0]`, `steps = (ranges[1] - ranges[0]) / 255`,
 * `q = ((x - starts) / steps - 128).astype(np.int8)`; ubinary `np.packbits(x > 0)`. Our arithmetic and
 * its two deliberate differences (clamping; a zero step) are in src/trainer/eval/quantize.ts.
 */
import type { Int8Calibration } from '../eval/quantize';
import { binaryRowBytes } from '../eval/quantize';

export const QUANTIZATION_FILE = 'quantization.json';
export const QUANTIZATION_FORMAT = 'matryoshka-lab/quantization@1';

export interface Int8RecipeInput {
  precision: 'int8';
  dim: number;
  calibration: Int8Calibration;
  /** Per-component maximum of the calibration embeddings (ranges[1]). */
  maxs: Float32Array;
  /** Texts the calibration embeddings came from, and where they came from. */
  rows: number;
  source: string;
}

export interface BinaryRecipeInput {
  precision: 'binary';
  dim: number;
}

/** float32 → the shortest decimal that reads back as the same float32 (so a reader gets the exact bits). */
function f32(x: number): number {
  for (let p = 6; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return v;
  }
  return x;
}

export function quantizationRecipe(r: Int8RecipeInput | BinaryRecipeInput): Record<string, unknown> {
  const common = {
    format: QUANTIZATION_FORMAT,
    precision: r.precision,
    dim: r.dim,
    input:
      'the model output as is: SentenceTransformer(DIR).encode(texts) gives embeddings already truncated to `dim` and L2-normalised (modules.json: Transformer, Pooling, Dense, Normalize); quantise documents and queries alike',
    normalizeBeforeQuantize: true,
  };
  if (r.precision === 'binary') {
    return {
      ...common,
      bytesPerVector: binaryRowBytes(r.dim),
      formula: 'bit c = 1 if x[c] > 0 else 0 (x = 0 gives 0), packed 8 per byte, big-endian: bit 7 of byte 0 is component 0 (np.packbits)',
      bitOrder: 'big',
      padding: r.dim % 8 === 0 ? 'none' : `each row's last byte is padded with ${8 - (r.dim % 8)} zero bits`,
      scoring: {
        search: 'Hamming distance between packed rows (popcount of XOR), lower is closer; ties in corpus order',
        rescore:
          "optional: shortlist rescoreMultiplier × k documents by Hamming distance, then score them by the dot product of the float32 query with the unpacked document bits (as sentence-transformers' semantic_search_* rescore=True)",
      },
      sentenceTransformers: [
        'from sentence_transformers.quantization import quantize_embeddings',
        'emb = model.encode(texts)',
        'packed = quantize_embeddings(emb, precision="ubinary")  # uint8 [n, dim/8]',
        r.dim % 8 === 0 ? '' : '# dim is not a multiple of 8: pack per row instead: np.packbits(emb > 0, axis=-1)',
      ].filter(Boolean),
    };
  }
  const starts = Array.from(r.calibration.starts, f32);
  const steps = Array.from(r.calibration.steps, f32);
  const maxs = Array.from(r.maxs, f32);
  return {
    ...common,
    bytesPerVector: r.dim,
    calibration: {
      source: r.source,
      rows: r.rows,
      starts,
      steps,
      ranges: [starts, maxs],
    },
    formula:
      'q[c] = clamp(trunc((x[c] - starts[c]) / steps[c] - 128), -128, 127) in float32 arithmetic; a component with steps[c] = 0 maps to -128',
    scoring: {
      search: 'dot product of the int8 vectors (int32 accumulators), higher is closer; ties in corpus order',
      rescore:
        "optional: shortlist rescoreMultiplier × k documents by the int8 score, then score them by the dot product of the float32 query with the int8 document vector (as sentence-transformers' semantic_search_* rescore=True)",
    },
    sentenceTransformers: [
      'import json, numpy as np',
      'from sentence_transformers.quantization import quantize_embeddings',
      'cal = json.load(open("DIR/quantization.json"))["calibration"]',
      'ranges = np.array(cal["ranges"], dtype=np.float32)  # [min, max] per component: steps = (max - min) / 255 as above',
      'q = quantize_embeddings(model.encode(texts), precision="int8", ranges=ranges)',
      '# equivalently ranges = np.array([starts, starts + 255 * steps]), up to float32 rounding of the max',
    ],
  };
}
