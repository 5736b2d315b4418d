import { addInto } from './addInto';

/**
 * out[j] = Σ_t src[t, j] over a row-major [rows, cols] array: a linear layer's bias gradient 1ᵀ·dy, the
 * output row staying in L1 while the rows stream past.
 */
export function columnSums(src: usize, rows: i32, cols: i32, out: usize): void {
  memory.fill(out, 0, <usize>cols << 2);
  for (let t = 0; t < rows; t++) addInto(out, src + (<usize>t * cols << 2), cols);
}
