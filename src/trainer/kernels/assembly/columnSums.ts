/**
 * out[j] = Σ_t src[t, j] over a row-major [rows, cols] array: a linear layer's bias gradient 1ᵀ·dy,
 * four columns at a time, the output row staying in L1 while the rows stream past.
 */
export function columnSums(src: usize, rows: i32, cols: i32, out: usize): void {
  const full = cols & ~3;
  memory.fill(out, 0, <usize>cols << 2);
  for (let t = 0; t < rows; t++) {
    const row = src + (<usize>t * cols << 2);
    for (let j = 0; j < full; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
    }
    for (let j = full; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
    }
  }
}
