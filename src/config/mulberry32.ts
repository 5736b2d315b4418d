/**
 * mulberry32: a small seeded generator, uniform in [0, 1), the same on every machine. Here (not in the
 * trainer) because the host expands random sweeps with it too; the trainer's checkpointable Rng
 * (src/trainer/rng.ts) steps the same way.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
