// Quantisation as sentence-transformers' quantize_embeddings: values computed with numpy from the library's
// formulas (sentence_transformers/quantization.py: ranges = vstack(min, max) of the calibration embeddings,
// steps = (max − min) / 255, int8 = ((x − starts) / steps − 128).astype(int8); ubinary = packbits(x > 0)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryRowBytes, int8Calibration, quantizeBinary, quantizeInt8 } from '../../src/trainer/eval/quantize';

test('int8: calibrated on other embeddings, the calibration maximum lands on 126 as in float32 numpy', () => {
  const cal = new Float32Array([0.5, -1.0, 0.25, -0.5, 1.0, 0.75, 0.0, 0.2, -0.25]);
  const c = int8Calibration(cal, 3, 3);
  assert.deepEqual([...c.starts], [-0.5, -1, -0.25]);
  const q = quantizeInt8(new Float32Array([0.1, -0.3, 0.5, 0.5, 1.0, 0.75]), 2, 3, c);
  // numpy: [[25, -38, 63], [126, 126, 126]]
  assert.deepEqual([...q], [25, -38, 63, 126, 126, 126]);
});

test('int8: outside the calibration range clamps to [−128, 127]; a constant component maps to −128', () => {
  const c = int8Calibration(new Float32Array([0, 1, 1, 1]), 2, 2);
  assert.deepEqual([...quantizeInt8(new Float32Array([-5, 1, 5, 1]), 2, 2, c)], [-128, -128, 127, -128]);
});

test('ubinary: x > 0 as one bit, packed big-endian, zero-padded (numpy packbits: [171, 64])', () => {
  const x = new Float32Array([0.1, -0.2, 0.3, 0, 0.5, -1, 2, 3, -0.1, 0.4]);
  assert.equal(binaryRowBytes(10), 2);
  assert.deepEqual([...quantizeBinary(x, 1, 10)], [171, 64]);
});
