import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsWithMetadata,
  writeSafetensors,
} from '../../src/trainer/model/safetensors';

/** A safetensors file from a header object and raw data bytes, with NO padding (odd offsets on purpose). */
function rawFile(header: object, data: Uint8Array): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

function u16le(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  return b;
}

test('write → read round trip: F32 and I32, metadata, 8-byte aligned data section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    const path = join(dir, 'm.safetensors');
    const w = new Float32Array([1.5, -2.25, 3e-8, 1e30, 0, -0]);
    writeSafetensors(
      path,
      {
        'b.weight': { shape: [2, 3], data: w },
        'a.ids': { shape: [3], data: new Int32Array([7, -1, 2147483647]) },
        empty: { shape: [0, 4], data: new Float32Array(0) },
      },
      { format: 'pt' },
    );
    const bytes = readFileSync(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLen % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
    assert.deepEqual(header.__metadata__, { format: 'pt' });
    // Sorted by name, contiguous offsets.
    assert.deepEqual(header['a.ids'], { dtype: 'I32', shape: [3], data_offsets: [0, 12] });
    assert.deepEqual(header['b.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [12, 36] });
    assert.equal(bytes.length, 8 + headerLen + 36);

    const { tensors, metadata } = readSafetensorsWithMetadata(path);
    assert.deepEqual(metadata, { format: 'pt' });
    const b = tensors.get('b.weight')!;
    assert.equal(b.dtype, 'F32');
    assert.deepEqual(b.shape, [2, 3]);
    assert.ok(b.data instanceof Float32Array);
    assert.deepEqual([...b.data], [...w]);
    assert.ok(Object.is(b.data[5], -0));
    const a = tensors.get('a.ids')!;
    assert.ok(a.data instanceof Int32Array);
    assert.deepEqual([...a.data], [7, -1, 2147483647]);
    assert.deepEqual(tensors.get('empty')!.shape, [0, 4]);
    assert.deepEqual(readSafetensors(path).get('b.weight')!.data, w);
    // Deterministic: same tensors, same bytes, whatever the insertion order.
    const again = encodeSafetensors(
      new Map([
        ['empty', { shape: [0, 4], data: new Float32Array(0) }],
        ['b.weight', { shape: [2, 3], data: w }],
        ['a.ids', { shape: [3], data: new Int32Array([7, -1, 2147483647]) }],
      ]),
      { format: 'pt' },
    );
    assert.ok(again.equals(bytes));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16, BF16, F64 are read as float32; I64, I8, U8, BOOL as int32; unaligned data is fine', () => {
  const f32 = Buffer.alloc(8);
  f32.writeFloatLE(0.1, 0);
  f32.writeFloatLE(-7, 4);
  const f64 = Buffer.alloc(16);
  f64.writeDoubleLE(0.1, 0);
  f64.writeDoubleLE(1e300, 8);
  const i64 = Buffer.alloc(16);
  i64.writeBigInt64LE(-5n, 0);
  i64.writeBigInt64LE(123456789n, 8);
  // F16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), +inf.
  const f16 = u16le([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
  // BF16: 1, -3.5, 2^-126·1.0078125 (the top half of a float32 bit pattern).
  const bf16 = u16le([0x3f80, 0xc060, 0x0081]);
  const small = Uint8Array.from([255, 1, 0]);
  const parts = [f16, bf16, f64, i64, f32, small, small, small];
  const names = ['h', 'bf', 'd', 'l', 'f', 'i8', 'u8', 'bool'];
  const dtypes = ['F16', 'BF16', 'F64', 'I64', 'F32', 'I8', 'U8', 'BOOL'];
  const shapes = [[2, 3], [3], [2], [2, 1], [2], [3], [3], [3]];
  const header: Record<string, unknown> = { __metadata__: { note: 'x' } };
  let off = 1; // one stray byte first, so every tensor starts at an odd file offset
  parts.forEach((p, i) => {
    header[names[i]] = { dtype: dtypes[i], shape: shapes[i], data_offsets: [off, off + p.length] };
    off += p.length;
  });
  const file = rawFile(header, Buffer.concat([Buffer.from([0]), ...parts]));
  const { tensors } = decodeSafetensors(file, 'mixed.safetensors');
  assert.deepEqual([...tensors.get('h')!.data], [1, -2, 0.5, 65504, 2 ** -24, Infinity]);
  assert.deepEqual(tensors.get('h')!.shape, [2, 3]);
  assert.equal(tensors.get('h')!.dtype, 'F16');
  assert.deepEqual([...tensors.get('bf')!.data], [1, -3.5, 2 ** -126 * 1.0078125]);
  assert.deepEqual([...tensors.get('d')!.data], [Math.fround(0.1), Infinity]);
  assert.ok(tensors.get('l')!.data instanceof Int32Array);
  assert.deepEqual([...tensors.get('l')!.data], [-5, 123456789]);
  assert.deepEqual([...tensors.get('f')!.data], [Math.fround(0.1), -7]);
  assert.deepEqual([...tensors.get('i8')!.data], [-1, 1, 0]);
  assert.deepEqual([...tensors.get('u8')!.data], [255, 1, 0]);
  assert.deepEqual([...tensors.get('bool')!.data], [255, 1, 0]);
});

test('errors name the file and the tensor', () => {
  const good = encodeSafetensors({ 'enc.w': { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
  assert.throws(() => decodeSafetensors(good.subarray(0, 5), 'x.safetensors'), /x\.safetensors: truncated safetensors file: 5 bytes/);
  // Cut inside the header: the length field promises more than there is.
  assert.throws(
    () => decodeSafetensors(good.subarray(0, 20), 'x.safetensors'),
    /x\.safetensors: safetensors header length \d+ overflows the file/,
  );
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 63n);
  assert.throws(() => decodeSafetensors(huge, 'x.safetensors'), /header length 9223372036854775808 overflows/);
  // Cut inside the data: the tensor's offsets run past the end.
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 3), 'x.safetensors'),
    /x\.safetensors: tensor "enc\.w": data_offsets \[0, 16\] out of range: the data section has 13 bytes/,
  );
  const bad = (entry: object): Buffer => rawFile({ 'enc.w': entry }, new Uint8Array(16));
  assert.throws(
    () => decodeSafetensors(bad({ dtype: 'F8_E4M3', shape: [16], data_offsets: [0, 16] }), 'y.st'),
    /y\.st: tensor "enc\.w": unsupported dtype F8_E4M3/,
  );
  assert.throws(
    () => decodeSafetensors(bad({ dtype: 'F32', shape: [3], data_offsets: [0, 16] }), 'y.st'),
    /tensor "enc\.w": data_offsets \[0, 16\] span 16 bytes, but F32 \[3\] needs 12/,
  );
  assert.throws(
    () => decodeSafetensors(bad({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), 'y.st'),
    /tensor "enc\.w": data_offsets must be \[begin, end\]/,
  );
  assert.throws(
    () => decodeSafetensors(bad({ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }), 'y.st'),
    /tensor "enc\.w": shape must be an array of non-negative integers/,
  );
  const i64 = Buffer.alloc(8);
  i64.writeBigInt64LE(2n ** 40n);
  assert.throws(
    () => decodeSafetensors(rawFile({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, i64), 'z.st'),
    /z\.st: tensor "ids": I64 value 1099511627776 at index 0 does not fit in int32/,
  );
  const notJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]);
  assert.throws(() => decodeSafetensors(notJson, 'j.st'), /j\.st: safetensors header is not valid JSON/);
  assert.throws(
    () => readSafetensors('/nonexistent/dir/model.safetensors'),
    /cannot read safetensors file \/nonexistent\/dir\/model\.safetensors/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { shape: [3], data: new Float32Array(4) } }),
    /tensor "w": shape \[3\] does not match its 4 values/,
  );
});
