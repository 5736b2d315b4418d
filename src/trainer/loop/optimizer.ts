/**
 * AdamW (Loshchilov & Hutter) as torch.optim.AdamW computes it, with global-norm gradient clipping as
 * torch.nn.utils.clip_grad_norm_ does:
 *   g ← g · min(1, maxNorm / (‖g‖₂ + 1e-6))
 *   θ ← θ · (1 − lr·λ)                         decoupled decay, skipped for biases and LayerNorm gains
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
 *   θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
 * Biases and LayerNorm parameters get no weight decay, as in the Hugging Face / sentence-transformers
 * trainers. State is named by parameter so a checkpoint can be restored into a fresh model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ownWasmKernelsActive, wasmAdamWInPlace, wasmSumSquares } from '../runtime/kernels/wasmKernels';
import { ADAMW, type AdamWKernelAttrs } from '../runtime/kernels/wasmKernelOps';

export interface AdamWOptions {
  learningRate: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** ≤ 0 or Infinity: no clipping. */
  maxGradNorm?: number;
}

export interface AdamWState {
  step: number;
  /** `m:<param>` and `v:<param>` moments. */
  tensors: Map<string, tf.Tensor>;
}

/** Hugging Face's rule: no decay on biases and LayerNorm weights. */
export function decays(paramName: string): boolean {
  return !/(^|\.)bias$/.test(paramName) && !/layer_?norm/i.test(paramName);
}

export class AdamW {
  learningRate: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly maxGradNorm: number;
  private t = 0;
  private readonly names = new Map<tf.Variable, string>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(params: Map<string, tf.Variable>, o: AdamWOptions) {
    this.learningRate = o.learningRate;
    this.weightDecay = o.weightDecay;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.maxGradNorm = o.maxGradNorm ?? 0;
    for (const [name, variable] of params) {
      this.names.set(variable, name);
      // In a tidy: the zeros a variable is made from share its buffer; left alive, they would keep the
      // first moments' buffers (twice the model) allocated after the first update replaced them.
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      );
    }
  }

  get step(): number {
    return this.t;
  }

  /** Applies one update; returns the global gradient norm before clipping. Disposes nothing of `grads`. */
  apply(grads: Map<tf.Variable, tf.Tensor>): number {
    const gradNorm = this.gradientNorm(grads);
    if (!Number.isFinite(gradNorm)) {
      throw new Error(`gradient norm is ${gradNorm}: the loss diverged (lower the learning rate or check the data)`);
    }
    const clip = this.maxGradNorm > 0 && Number.isFinite(this.maxGradNorm) ? Math.min(1, this.maxGradNorm / (gradNorm + 1e-6)) : 1;

    this.t += 1;
    const lr = this.learningRate;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    // Folding the bias corrections into one step size saves two full passes over every tensor.
    const stepSize = (lr * Math.sqrt(bc2)) / bc1;
    const epsHat = this.epsilon * Math.sqrt(bc2);
    const fused = ownWasmKernelsActive();
    for (const [variable, rawGrad] of grads) {
      const name = this.names.get(variable);
      if (name === undefined) throw new Error(`AdamW: gradient for a variable it does not own (${variable.name})`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      if (fused) {
        // One pass over θ, g, m, v (kernels/assembly/adamw.ts) instead of a dozen tfjs kernels.
        const decay = this.weightDecay > 0 && decays(name) ? 1 - lr * this.weightDecay : 1;
        const attrs: AdamWKernelAttrs = { clip, beta1: this.beta1, beta2: this.beta2, stepSize, epsHat, decay };
        if (wasmAdamWInPlace(variable, rawGrad, m, v, attrs)) continue;
        const [theta2, m2, v2] = tf
          .engine()
          .runKernel(ADAMW, { theta: variable, grad: rawGrad, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        variable.assign(theta2);
        m.assign(m2);
        v.assign(v2);
        tf.dispose([theta2, m2, v2]);
        continue;
      }
      tf.tidy(() => {
        const g = clip === 1 ? rawGrad : tf.mul(rawGrad, clip);
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(mNew);
        v.assign(vNew);
        const update = tf.div(mNew, tf.add(tf.sqrt(vNew), epsHat));
        const decayed = this.weightDecay > 0 && decays(name) ? tf.mul(variable, 1 - lr * this.weightDecay) : variable;
        variable.assign(tf.sub(decayed, tf.mul(update, stepSize)));
      });
    }
    return gradNorm;
  }

  /** ‖g‖₂ over every gradient, as one number. */
  private gradientNorm(grads: Map<tf.Variable, tf.Tensor>): number {
    const fast = wasmSumSquares(grads.values());
    if (fast !== undefined) return Math.sqrt(fast);
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
    const value = norm.dataSync()[0];
    norm.dispose();
    return value;
  }

  getState(): AdamWState {
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, m] of this.m) tensors.set(`m:${name}`, m);
    for (const [name, v] of this.v) tensors.set(`v:${name}`, v);
    return { step: this.t, tensors };
  }

  /** Restores moments by name (shapes must match); the caller keeps ownership of `state.tensors`. */
  setState(state: { step: number; tensors: Map<string, tf.Tensor> }): void {
    for (const [key, slot] of [
      ...[...this.m].map(([n, t]) => [`m:${n}`, t] as const),
      ...[...this.v].map(([n, t]) => [`v:${n}`, t] as const),
    ]) {
      const src = state.tensors.get(key);
      if (!src) throw new Error(`optimizer state has no tensor '${key}'`);
      if (src.shape.join(',') !== slot.shape.join(',')) {
        throw new Error(`optimizer state '${key}' has shape [${src.shape}], expected [${slot.shape}]`);
      }
      slot.assign(src);
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
