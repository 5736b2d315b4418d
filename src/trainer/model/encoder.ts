/**
 * BERT-family sentence encoder (token + position embeddings, N post-LN or pre-LN blocks, mean / CLS
 * pooling, optional linear projection), trained with tfjs on wasm / cpu / tensorflow.
 *
 * ## Parameter naming and layout (the contract with the HF folder loader/saver)
 * `BertEncoder.params` keys are Hugging Face BertModel state-dict names WITHOUT the "bert." prefix:
 *   embeddings.word_embeddings.weight            [vocabSize, hidden]
 *   embeddings.position_embeddings.weight        [maxPositions, hidden]
 *   embeddings.token_type_embeddings.weight      [typeVocabSize, hidden]   (only row 0 is used)
 *   embeddings.LayerNorm.weight / .bias          [hidden]
 *   encoder.layer.{i}.attention.self.query.weight / .bias      [hidden, hidden] / [hidden]
 *   encoder.layer.{i}.attention.self.key.weight / .bias        [hidden, hidden] / [hidden]
 *   encoder.layer.{i}.attention.self.value.weight / .bias      [hidden, hidden] / [hidden]
 *   encoder.layer.{i}.attention.output.dense.weight / .bias    [hidden, hidden] / [hidden]
 *   encoder.layer.{i}.attention.output.LayerNorm.weight / .bias  [hidden]
 *   encoder.layer.{i}.intermediate.dense.weight / .bias        [hidden, intermediate] / [intermediate]
 *   encoder.layer.{i}.output.dense.weight / .bias              [intermediate, hidden] / [hidden]
 *   encoder.layer.{i}.output.LayerNorm.weight / .bias          [hidden]
 *   encoder.final_layer_norm.weight / .bias      [hidden]   (only when layerNorm = 'pre')
 *   projection.weight / .bias                    [hidden, outputDim] / [outputDim]
 *                                                (only when outputDim is set and != hidden)
 * Shapes are the HF shapes EXCEPT every Linear `.weight` (query/key/value, *.dense, projection): stored
 * as [in, out], the TRANSPOSE of torch's [out, in], so the forward is a plain x @ W (wasm's transposed
 * matmul is ~12x slower). Embedding tables and LayerNorm parameters are not transposed. A loader must
 * transpose 2-D Linear weights from safetensors; a saver must transpose them back. There is no pooler.
 *
 * LayerNorm placement: 'post' = original BERT (any checkpoint loaded from HF):
 *   x = LN_attn(x + drop(attn(x)));  x = LN_out(x + drop(ffn(x)))
 * 'pre' (from-scratch only): attention.output.LayerNorm normalises the attention block's input and
 * output.LayerNorm the FFN's input, plus encoder.final_layer_norm after the last layer:
 *   x = x + drop(attn(LN_attn(x)));  x = x + drop(ffn(LN_out(x)));  ...;  x = LN_final(x)
 * embeddings.LayerNorm is applied in both.
 *
 * Output: pooled embeddings [N, dim] (then the projection, if any), NOT L2-normalised (losses do that).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DropoutContext, Encoder, TokenBatch } from './types';
import { groupedMatMul } from '../runtime/kernels/groupedMatMul';
import { attentionContext, attentionScores } from '../runtime/kernels/headMatMul';
import { transposedMatMulIsFast } from '../runtime/kernels/wasmKernels';
import { applyAttentionDropout, applyDropout, layerSite, SITE_EMBEDDINGS } from './dropout';
import { embeddingLookup } from '../runtime/kernels/embeddingGrad';
import { initValues, type InitKind } from './init';
import { gelu, layerNorm, linear, residualLayerNorm } from './layers';

export interface EncoderSpec {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  pooling: 'mean' | 'cls';
  layerNorm: 'post' | 'pre';
  hiddenDropout: number;
  attentionDropout: number;
  /** If set and != hiddenSize: a linear projection (no activation) hidden -> outputDim after pooling. */
  outputDim?: number;
}

/** Added to attention scores of padding keys: exp() underflows to exactly 0 for them. */
const MASKED_SCORE = -1e9;

/** Gives each encoder's variables globally unique tfjs names (tfjs rejects duplicate variable names). */
let instanceCounter = 0;

interface ParamDef {
  name: string;
  shape: number[];
  init: InitKind;
}

export function encoderParamDefs(spec: EncoderSpec): ParamDef[] {
  const H = spec.hiddenSize;
  const I = spec.intermediateSize;
  const defs: ParamDef[] = [];
  const add = (name: string, shape: number[], init: InitKind) => defs.push({ name, shape, init });
  const dense = (prefix: string, inDim: number, outDim: number) => {
    add(`${prefix}.weight`, [inDim, outDim], 'normal');
    add(`${prefix}.bias`, [outDim], 'zeros');
  };
  const norm = (prefix: string) => {
    add(`${prefix}.weight`, [H], 'ones');
    add(`${prefix}.bias`, [H], 'zeros');
  };
  add('embeddings.word_embeddings.weight', [spec.vocabSize, H], 'normal');
  add('embeddings.position_embeddings.weight', [spec.maxPositions, H], 'normal');
  add('embeddings.token_type_embeddings.weight', [spec.typeVocabSize, H], 'normal');
  norm('embeddings.LayerNorm');
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    dense(`${p}.attention.self.query`, H, H);
    dense(`${p}.attention.self.key`, H, H);
    dense(`${p}.attention.self.value`, H, H);
    dense(`${p}.attention.output.dense`, H, H);
    norm(`${p}.attention.output.LayerNorm`);
    dense(`${p}.intermediate.dense`, H, I);
    dense(`${p}.output.dense`, I, H);
    norm(`${p}.output.LayerNorm`);
  }
  if (spec.layerNorm === 'pre') norm('encoder.final_layer_norm');
  if (spec.outputDim !== undefined && spec.outputDim !== H) dense('projection', H, spec.outputDim);
  return defs;
}

function validateSpec(spec: EncoderSpec): void {
  const ints: (keyof EncoderSpec)[] = [
    'vocabSize',
    'hiddenSize',
    'numLayers',
    'numHeads',
    'intermediateSize',
    'maxPositions',
    'typeVocabSize',
  ];
  for (const k of ints) {
    const v = spec[k] as number;
    if (!Number.isInteger(v) || v < (k === 'numLayers' ? 0 : 1)) throw new Error(`encoder spec: ${k} must be a positive integer, got ${v}`);
  }
  if (spec.hiddenSize % spec.numHeads !== 0) {
    throw new Error(`encoder spec: hiddenSize ${spec.hiddenSize} is not divisible by numHeads ${spec.numHeads}`);
  }
  for (const k of ['hiddenDropout', 'attentionDropout'] as const) {
    if (!(spec[k] >= 0 && spec[k] < 1)) throw new Error(`encoder spec: ${k} must be in [0, 1), got ${spec[k]}`);
  }
  if (spec.outputDim !== undefined && !(Number.isInteger(spec.outputDim) && spec.outputDim > 0)) {
    throw new Error(`encoder spec: outputDim must be a positive integer, got ${spec.outputDim}`);
  }
}

export class BertEncoder implements Encoder {
  readonly spec: EncoderSpec;
  readonly params: Map<string, tf.Variable>;
  readonly variables: tf.Variable[];
  readonly dim: number;

  constructor(spec: EncoderSpec, opts: { seed: number }) {
    validateSpec(spec);
    this.spec = { ...spec };
    this.dim = spec.outputDim ?? spec.hiddenSize;
    this.params = new Map();
    const tag = `bert${instanceCounter++}`;
    for (const def of encoderParamDefs(spec)) {
      const size = def.shape.reduce((a, b) => a * b, 1);
      const values = initValues(def.init, size, opts.seed, def.name);
      const v = tf.tidy(() => tf.variable(tf.tensor(values, def.shape, 'float32'), true, `${tag}/${def.name}`));
      this.params.set(def.name, v);
    }
    this.variables = [...this.params.values()];
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`encoder: missing parameter ${name}`);
    return v;
  }

  private linear(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return linear(x, this.p(`${prefix}.weight`) as tf.Tensor2D, this.p(`${prefix}.bias`) as tf.Tensor1D);
  }

  private norm(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return layerNorm(x, this.p(`${prefix}.weight`) as tf.Tensor1D, this.p(`${prefix}.bias`) as tf.Tensor1D, this.spec.layerNormEps);
  }

  /** LayerNorm(x + residual): post-LN's residual connection. */
  private addNorm(x: tf.Tensor2D, residual: tf.Tensor2D, prefix: string): tf.Tensor2D {
    return residualLayerNorm(
      x,
      residual,
      this.p(`${prefix}.weight`) as tf.Tensor1D,
      this.p(`${prefix}.bias`) as tf.Tensor1D,
      this.spec.layerNormEps,
    );
  }

  /** The query projection with 1/√d folded into its (small) weights, rather than applied to the scores. */
  private scaledQuery(attnIn: tf.Tensor2D, pre: string): tf.Tensor2D {
    const scale = 1 / Math.sqrt(this.spec.hiddenSize / this.spec.numHeads);
    return linear(
      attnIn,
      tf.mul(this.p(`${pre}.attention.self.query.weight`), scale) as tf.Tensor2D,
      tf.mul(this.p(`${pre}.attention.self.query.bias`), scale) as tf.Tensor1D,
    );
  }

  /**
   * Self-attention with the per-(sequence, head) matmuls on our wasm GEMM, addressed in place on the
   * [T, H] projections (kernels/headMatMul.ts): no transposes. Scores and probs are [N, heads, L, L].
   */
  private attentionInPlace(
    attnIn: tf.Tensor2D,
    pre: string,
    scoreBias: tf.Tensor,
    dropout: DropoutContext | undefined,
    layer: number,
    N: number,
    L: number,
    pAttn: number,
  ): tf.Tensor2D {
    const heads = this.spec.numHeads;
    const q = this.scaledQuery(attnIn, pre);
    const k = this.linear(attnIn, `${pre}.attention.self.key`);
    const v = this.linear(attnIn, `${pre}.attention.self.value`);
    const scores = tf.add(attentionScores(q, k, N, heads), scoreBias);
    let probs = tf.softmax(scores) as tf.Tensor4D;
    probs = applyDropout(probs, dropout, layerSite(layer, 'attentionProbs'), N, heads * L, L, pAttn, L) as tf.Tensor4D;
    return attentionContext(probs, v);
  }

  /**
   * Self-attention where our GEMM is not in use (cpu, tensorflow, or wasm without it). Separate Q/K/V
   * projections, rank-4 transposes only (rank 5 is ~100x slower on wasm), and the per-(sequence, head)
   * matmuls as one XNNPACK depthwise convolution (groupedMatMul; stock wasm's batched BatchMatMul is a
   * scalar loop). G = N·heads groups; layouts as groupedMatMul wants:
   *   q  [L, d, G]   from [N, L, heads, d] by perm [1, 3, 0, 2]
   *   kT [d, G, L]   from [N, L, heads, d] by perm [3, 0, 2, 1]
   *   scores / probs [L(query), G, L(key)]
   *   v  [L, G, d]   from [N, L, heads, d] by perm [1, 0, 2, 3]
   */
  private attentionGrouped(
    attnIn: tf.Tensor2D,
    pre: string,
    scoreBias: tf.Tensor,
    dropout: DropoutContext | undefined,
    layer: number,
    N: number,
    L: number,
    pAttn: number,
  ): tf.Tensor2D {
    const H = this.spec.hiddenSize;
    const heads = this.spec.numHeads;
    const d = H / heads;
    const T = N * L;
    const G = N * heads;
    const split = (name: string) => tf.reshape(this.linear(attnIn, `${pre}.attention.self.${name}`), [N, L, heads, d]);
    const q = tf.reshape(tf.transpose(tf.reshape(this.scaledQuery(attnIn, pre), [N, L, heads, d]), [1, 3, 0, 2]), [L, d, G]) as tf.Tensor3D;
    const kT = tf.reshape(tf.transpose(split('key'), [3, 0, 2, 1]), [d, G, L]) as tf.Tensor3D;
    const v = tf.reshape(tf.transpose(split('value'), [1, 0, 2, 3]), [L, G, d]) as tf.Tensor3D;
    const scores = tf.add(tf.reshape(groupedMatMul(q, kT), [L, N, heads, L]), scoreBias);
    let probs = tf.softmax(scores);
    probs = applyAttentionDropout(probs, dropout, layerSite(layer, 'attentionProbs'), N, heads, L, pAttn);
    // probs as the left operand: [L(query), L(key), G].
    const pA = tf.reshape(tf.transpose(probs, [0, 3, 1, 2]), [L, L, G]) as tf.Tensor3D;
    const ctx4 = tf.reshape(groupedMatMul(pA, v), [L, N, heads, d]);
    return tf.reshape(tf.transpose(ctx4, [1, 0, 2, 3]), [T, H]) as tf.Tensor2D;
  }

  /**
   * One transformer block on x [T, H]. The caller runs it in its own tidy: without a tape only the block's
   * output outlives it, so a tape-free forward holds one block's activations at a time, not every
   * block's (a tape keeps what the backward needs either way).
   */
  private layer(
    x: tf.Tensor2D,
    i: number,
    scoreBias: tf.Tensor,
    scoreBias4: tf.Tensor,
    dropout: DropoutContext | undefined,
    N: number,
    L: number,
    pHidden: number,
    pAttn: number,
  ): tf.Tensor2D {
    const { layerNorm: placement, hiddenSize: H } = this.spec;
    const pre = `encoder.layer.${i}`;
    const attnIn = placement === 'pre' ? this.norm(x, `${pre}.attention.output.LayerNorm`) : x;
    const ctx = transposedMatMulIsFast()
      ? this.attentionInPlace(attnIn, pre, scoreBias4, dropout, i, N, L, pAttn)
      : this.attentionGrouped(attnIn, pre, scoreBias, dropout, i, N, L, pAttn);
    let attnOut = this.linear(ctx, `${pre}.attention.output.dense`);
    attnOut = applyDropout(attnOut, dropout, layerSite(i, 'attentionOutput'), N, L, H, pHidden) as tf.Tensor2D;
    x = placement === 'post' ? this.addNorm(attnOut, x, `${pre}.attention.output.LayerNorm`) : tf.add(x, attnOut);
    const ffnIn = placement === 'pre' ? this.norm(x, `${pre}.output.LayerNorm`) : x;
    const inter = gelu(this.linear(ffnIn, `${pre}.intermediate.dense`)) as tf.Tensor2D;
    let ffnOut = this.linear(inter, `${pre}.output.dense`);
    ffnOut = applyDropout(ffnOut, dropout, layerSite(i, 'ffnOutput'), N, L, H, pHidden) as tf.Tensor2D;
    return placement === 'post' ? this.addNorm(ffnOut, x, `${pre}.output.LayerNorm`) : tf.add(x, ffnOut);
  }

  encode(batch: TokenBatch, dropout?: DropoutContext): tf.Tensor2D {
    const [N, L] = batch.inputIds.shape;
    if (L > this.spec.maxPositions) {
      throw new Error(`encoder: sequence length ${L} exceeds maxPositions ${this.spec.maxPositions}`);
    }
    if (batch.attentionMask.shape[0] !== N || batch.attentionMask.shape[1] !== L) {
      throw new Error(`encoder: attentionMask shape ${batch.attentionMask.shape} != inputIds shape ${batch.inputIds.shape}`);
    }
    return tf.tidy(() => {
      const spec = this.spec;
      const H = spec.hiddenSize;
      const T = N * L;
      const pHidden = dropout ? spec.hiddenDropout : 0;
      const pAttn = dropout ? spec.attentionDropout : 0;

      // Embeddings: word + position + token type 0. Position and type rows are combined first ([L,H])
      // so only one broadcast add touches the [N, L·H] activations.
      const ids = tf.reshape(tf.cast(batch.inputIds, 'int32'), [T]) as tf.Tensor1D;
      const words = embeddingLookup(this.p('embeddings.word_embeddings.weight') as tf.Tensor2D, ids);
      const pos = tf.slice(this.p('embeddings.position_embeddings.weight'), [0, 0], [L, H]);
      const type0 = tf.slice(this.p('embeddings.token_type_embeddings.weight'), [0, 0], [1, H]);
      const posType = tf.reshape(tf.add(pos, type0), [1, L * H]);
      let x = tf.reshape(tf.add(tf.reshape(words, [N, L * H]), posType), [T, H]) as tf.Tensor2D;
      x = this.norm(x, 'embeddings.LayerNorm');
      x = applyDropout(x, dropout, SITE_EMBEDDINGS, N, L, H, pHidden) as tf.Tensor2D;

      const mask = tf.cast(batch.attentionMask, 'float32');
      // [1,N,1,L] (scores are [query, N, heads, key]): 0 for real keys, MASKED_SCORE for padding; no
      // gradient flows into it.
      const scoreBias = tf.reshape(tf.mul(tf.sub(1, mask), MASKED_SCORE), [1, N, 1, L]);
      // The same bias for scores laid out [N, heads, L(query), L(key)] (the in-place attention).
      const scoreBias4 = tf.reshape(scoreBias, [N, 1, 1, L]);

      for (let i = 0; i < spec.numLayers; i++) x = tf.tidy(() => this.layer(x, i, scoreBias, scoreBias4, dropout, N, L, pHidden, pAttn));
      if (spec.layerNorm === 'pre') x = this.norm(x, 'encoder.final_layer_norm');

      let pooled: tf.Tensor2D;
      if (spec.pooling === 'cls') {
        pooled = tf.reshape(tf.slice(tf.reshape(x, [N, L * H]), [0, 0], [N, H]), [N, H]);
      } else {
        // Masked sum over tokens as a [N,1,L] @ [N,L,H] matmul: a Sum over the middle axis would
        // transpose the whole activation on wasm. Count clamped like sentence-transformers.
        const summed = tf.reshape(tf.matMul(tf.reshape(mask, [N, 1, L]), tf.reshape(x, [N, L, H])), [N, H]);
        const count = tf.maximum(tf.sum(mask, 1, true), 1e-9);
        pooled = tf.div(summed, count);
      }
      if (this.params.has('projection.weight')) pooled = this.linear(pooled, 'projection');
      return pooled;
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
