/**
 * dst += src over n floats, in place.
 *
 * Why: GradCache sums every chunk's parameter gradients into one set (forty tensors, about 1.4 M floats
 * on the reference model, most of it the word-embedding table). As tfjs ops each sum is a new tensor per
 * parameter: an allocation and a third buffer streamed through the cache, per chunk.
 */
export function addInto(dst: usize, src: usize, n: i32): void {
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (let i = full; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}
