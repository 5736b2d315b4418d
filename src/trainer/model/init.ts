/**
 * Seeded parameter initialisation (BERT's: truncated normal std 0.02 for weights, zeros for biases,
 * ones for LayerNorm gains), generated in JS so the values are identical on every backend and depend
 * only on (seed, parameter name): adding a layer does not change the init of the others.
 */
import { mulberry32 } from '../../common/random';

/** 32-bit FNV-1a of a string, for turning parameter names into seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's fmix32 finaliser: a cheap, well-mixed 32-bit bijection. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Normal(0, std) truncated to ±2 std (resampled, like torch.nn.init.trunc_normal_ / tf's
 * truncated_normal), via Box–Muller.
 */
export function truncatedNormal(size: number, std: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(size);
  let i = 0;
  while (i < size) {
    const u1 = rand();
    const u2 = rand();
    if (u1 <= 0) continue;
    const r = Math.sqrt(-2 * Math.log(u1));
    const z0 = r * Math.cos(2 * Math.PI * u2);
    const z1 = r * Math.sin(2 * Math.PI * u2);
    if (Math.abs(z0) <= 2) out[i++] = z0 * std;
    if (i < size && Math.abs(z1) <= 2) out[i++] = z1 * std;
  }
  return out;
}

export type InitKind = 'normal' | 'zeros' | 'ones';

export function initValues(kind: InitKind, size: number, seed: number, name: string, std = 0.02): Float32Array {
  if (kind === 'zeros') return new Float32Array(size);
  if (kind === 'ones') return new Float32Array(size).fill(1);
  return truncatedNormal(size, std, fmix32((seed >>> 0) ^ hashString(name)));
}
