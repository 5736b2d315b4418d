// The safetensors format: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the data
// section (offsets are relative to its start). Floats of any width are read as float32 (what tfjs
// trains in); integers as int32. Writing produces F32 (and I32), with the header space-padded so the
// data section starts 8-byte aligned, as the reference implementation does.

import { endianness } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';

export interface SafeTensor {
  /** The dtype stored in the file (data is converted: floats → Float32Array, integers → Int32Array). */
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Int32Array;
}

const ITEM_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

// The reference implementation refuses headers above 100 MB; a larger value means a corrupt file.
const MAX_HEADER_BYTES = 100_000_000;

if (endianness() !== 'LE') {
  // Typed-array views below reinterpret the file's little-endian bytes in host order.
  throw new Error('safetensors: only little-endian hosts are supported');
}

let halfTable: Float32Array | null = null;
/** float32 value of every IEEE half bit pattern (256 KiB, built once). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

/** Copy of bytes [begin, end) into a fresh, aligned ArrayBuffer. */
function copyBytes(buf: Uint8Array, begin: number, end: number): ArrayBuffer {
  const out = new ArrayBuffer(end - begin);
  new Uint8Array(out).set(buf.subarray(begin, end));
  return out;
}

function convert(buf: Uint8Array, begin: number, end: number, dtype: string, n: number, what: string): Float32Array | Int32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(copyBytes(buf, begin, end));
    case 'F64':
      return Float32Array.from(new Float64Array(copyBytes(buf, begin, end)));
    case 'F16': {
      const src = new Uint16Array(copyBytes(buf, begin, end));
      const table = halfToFloatTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting the bits up is exact.
      const src = new Uint16Array(copyBytes(buf, begin, end));
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I32':
      return new Int32Array(copyBytes(buf, begin, end));
    case 'I64': {
      const src = new BigInt64Array(copyBytes(buf, begin, end));
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) throw new Error(`${what}: I64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I16':
      return Int32Array.from(new Int16Array(copyBytes(buf, begin, end)));
    case 'U16':
      return Int32Array.from(new Uint16Array(copyBytes(buf, begin, end)));
    case 'I8':
      return Int32Array.from(new Int8Array(copyBytes(buf, begin, end)));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(buf.subarray(begin, end));
    default:
      throw new Error(`${what}: unsupported dtype ${dtype}`);
  }
}

/** Parses a whole safetensors file held in memory. `file` names it in error messages. */
export function decodeSafetensors(
  buf: Uint8Array,
  file = '<buffer>',
): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) {
    throw new Error(`${file}: truncated safetensors file: ${buf.length} bytes, less than the 8-byte header length`);
  }
  const headerLen = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(buf.length - 8)) {
    throw new Error(
      `${file}: safetensors header length ${headerLen} overflows the file (${buf.length - 8} bytes after the length field); truncated or not a safetensors file`,
    );
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    throw new Error(`${file}: safetensors header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  const hl = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, hl).toString('utf8'));
  } catch (e) {
    throw new Error(`${file}: safetensors header is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${file}: safetensors header is not a JSON object`);
  }
  const dataStart = 8 + hl;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        Array.isArray(entry) ||
        !Object.values(entry).every((v) => typeof v === 'string')
      ) {
        throw new Error(`${file}: __metadata__ must be an object of strings`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const what = `${file}: tensor "${name}"`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${what}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string') throw new Error(`${what}: missing dtype`);
    if (!(dtype in ITEM_BYTES)) {
      throw new Error(`${what}: unsupported dtype ${dtype} (supported: ${Object.keys(ITEM_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new Error(`${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLen) {
      throw new Error(`${what}: data_offsets [${begin}, ${end}] out of range: the data section has ${dataLen} bytes (file truncated?)`);
    }
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = n * ITEM_BYTES[dtype];
    if (end - begin !== expected) {
      throw new Error(
        `${what}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    tensors.set(name, { dtype, shape: [...(shape as number[])], data: convert(buf, dataStart + begin, dataStart + end, dtype, n, what) });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): Map<string, SafeTensor> {
  return readSafetensorsWithMetadata(path).tensors;
}

export function readSafetensorsWithMetadata(path: string): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read safetensors file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeSafetensors(buf, path);
}

/** Serializes tensors (sorted by name, so equal inputs give equal bytes). Float32Array → F32, Int32Array → I32. */
export function encodeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Buffer {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot be a tensor name');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || n !== t.data.length) {
      throw new Error(`safetensors: tensor "${name}": shape ${JSON.stringify(t.shape)} does not match its ${t.data.length} values`);
    }
    const dtype = t.data instanceof Float32Array ? 'F32' : 'I32';
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function writeSafetensors(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}
