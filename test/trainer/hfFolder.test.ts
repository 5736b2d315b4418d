import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/trainer/runtime/backend';
import { BertEncoder, type EncoderSpec } from '../../src/trainer/model/encoder';
import { loadHfModel, PRE_LN_MODEL_TYPE, saveHfModel } from '../../src/trainer/model/hfFolder';
import { encodeSafetensors, readSafetensors, type TensorToWrite } from '../../src/trainer/model/safetensors';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';

const V = 40,
  H = 8,
  I = 12,
  P = 16,
  NL = 2,
  NH = 2;
const TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', '##s', 'a', '##a', '.'];

let root: string;
before(async () => {
  await initBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'hf-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let dirNo = 0;
const newDir = (): string => {
  const d = join(root, `m${dirNo++}`);
  mkdirSync(d);
  return d;
};

/** Deterministic values in [-0.5, 0.5) from a per-tensor seed. */
function values(n: number, seed: number, scale = 0.5, offset = 0): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = offset + scale * (s / 2 ** 32 - 0.5);
  }
  return out;
}

/** A BertModel state dict in torch layout (Linear weight [out, in]). */
function torchState(): Map<string, TensorToWrite> {
  const m = new Map<string, TensorToWrite>();
  let seed = 1;
  const add = (name: string, shape: number[], scale = 0.5, offset = 0): void => {
    m.set(name, {
      shape,
      data: values(
        shape.reduce((a, b) => a * b, 1),
        seed++,
        scale,
        offset,
      ),
    });
  };
  const ln = (p: string): void => {
    add(`${p}.weight`, [H], 0.2, 1);
    add(`${p}.bias`, [H], 0.2);
  };
  add('embeddings.word_embeddings.weight', [V, H]);
  add('embeddings.position_embeddings.weight', [P, H]);
  add('embeddings.token_type_embeddings.weight', [2, H]);
  ln('embeddings.LayerNorm');
  for (let l = 0; l < NL; l++) {
    const p = `encoder.layer.${l}`;
    for (const k of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      add(`${p}.${k}.weight`, [H, H]);
      add(`${p}.${k}.bias`, [H], 0.1);
    }
    ln(`${p}.attention.output.LayerNorm`);
    add(`${p}.intermediate.dense.weight`, [I, H]);
    add(`${p}.intermediate.dense.bias`, [I], 0.1);
    add(`${p}.output.dense.weight`, [H, I]);
    add(`${p}.output.dense.bias`, [H], 0.1);
    ln(`${p}.output.LayerNorm`);
  }
  return m;
}

const CONFIG = {
  architectures: ['BertForMaskedLM'],
  model_type: 'bert',
  vocab_size: V,
  hidden_size: H,
  num_hidden_layers: NL,
  num_attention_heads: NH,
  intermediate_size: I,
  max_position_embeddings: P,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  position_embedding_type: 'absolute',
};

/** Writes a checkpoint folder; `rename` maps torch names to the names written (e.g. a "bert." prefix). */
function writeFolder(
  dir: string,
  opts: { state?: Map<string, TensorToWrite>; config?: object; rename?: (n: string) => string; extraBytes?: Buffer } = {},
): Map<string, TensorToWrite> {
  const state = opts.state ?? torchState();
  const renamed = new Map([...state].map(([k, v]) => [opts.rename ? opts.rename(k) : k, v]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(opts.config ?? CONFIG));
  writeFileSync(join(dir, 'model.safetensors'), opts.extraBytes ?? encodeSafetensors(renamed, { format: 'pt' }));
  WordPieceTokenizer.fromVocab(TOKENS).save(join(dir, 'tokenizer.json'));
  return state;
}

// ---- a plain-JS BERT forward in torch semantics (y = x·Wᵀ + b), the reference for the encoder ----
function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), ample for a 1e-4 comparison.
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
function refEmbedding(state: Map<string, TensorToWrite>, ids: number[], pooling: 'mean' | 'cls'): number[] {
  const w = (n: string): Float32Array => state.get(n)!.data as Float32Array;
  const lin = (x: number[][], p: string, outDim: number): number[][] =>
    x.map((row) => {
      const W = w(`${p}.weight`);
      const b = w(`${p}.bias`);
      const inDim = row.length;
      return Array.from({ length: outDim }, (_, o) => row.reduce((acc, v, i) => acc + v * W[o * inDim + i], b[o]));
    });
  const norm = (x: number[][], p: string): number[][] =>
    x.map((row) => {
      const mean = row.reduce((a, b) => a + b, 0) / row.length;
      const vr = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
      return row.map((v, i) => ((v - mean) / Math.sqrt(vr + 1e-12)) * w(`${p}.weight`)[i] + w(`${p}.bias`)[i]);
    });
  let x = ids.map((id, t) =>
    Array.from(
      { length: H },
      (_, j) =>
        w('embeddings.word_embeddings.weight')[id * H + j] +
        w('embeddings.position_embeddings.weight')[t * H + j] +
        w('embeddings.token_type_embeddings.weight')[j],
    ),
  );
  x = norm(x, 'embeddings.LayerNorm');
  const d = H / NH;
  for (let l = 0; l < NL; l++) {
    const p = `encoder.layer.${l}`;
    const q = lin(x, `${p}.attention.self.query`, H);
    const k = lin(x, `${p}.attention.self.key`, H);
    const v = lin(x, `${p}.attention.self.value`, H);
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < ids.length; t++) {
        const sc = ids.map((_, u) => {
          let s = 0;
          for (let j = 0; j < d; j++) s += q[t][h * d + j] * k[u][h * d + j];
          return s / Math.sqrt(d);
        });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u < ids.length; u++) for (let j = 0; j < d; j++) ctx[t][h * d + j] += (e[u] / z) * v[u][h * d + j];
      }
    }
    const a = lin(ctx, `${p}.attention.output.dense`, H);
    x = norm(
      x.map((r, t) => r.map((val, j) => val + a[t][j])),
      `${p}.attention.output.LayerNorm`,
    );
    const inter = lin(x, `${p}.intermediate.dense`, I).map((r) => r.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2))));
    const o = lin(inter, `${p}.output.dense`, H);
    x = norm(
      x.map((r, t) => r.map((val, j) => val + o[t][j])),
      `${p}.output.LayerNorm`,
    );
  }
  if (pooling === 'cls') return x[0];
  return Array.from({ length: H }, (_, j) => x.reduce((acc, r) => acc + r[j], 0) / x.length);
}

function embed(encoder: BertEncoder, tokenizer: WordPieceTokenizer, texts: string[], maxLen = 12): { rows: number[][]; emb: number[][] } {
  const b = tokenizer.encodeBatch(texts, maxLen);
  const rows = texts.map((t) => tokenizer.encode(t, maxLen));
  const emb = tf.tidy(() => {
    const inputIds = tf.tensor2d(b.ids, [texts.length, b.length], 'int32');
    const attentionMask = tf.tensor2d(b.mask, [texts.length, b.length], 'float32');
    return encoder.encode({ inputIds, attentionMask }).arraySync() as number[][];
  });
  return { rows, emb };
}

function paramValues(enc: BertEncoder): Map<string, number[]> {
  return new Map([...enc.params].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

const TEXTS = ['the cat sat on the mat.', 'a dog ran', 'cats'];

test('loads a torch-layout checkpoint: Linear weights transposed, embeddings not, forward matches a reference BERT', () => {
  const dir = newDir();
  const state = writeFolder(dir);
  const { encoder, tokenizer, config, pooling, maxSeqLength } = loadHfModel(dir);
  try {
    assert.equal(config.model_type, 'bert');
    assert.equal(pooling, 'mean');
    assert.equal(maxSeqLength, P);
    assert.deepEqual(
      { ...encoder.spec },
      {
        vocabSize: V,
        hiddenSize: H,
        numLayers: NL,
        numHeads: NH,
        intermediateSize: I,
        maxPositions: P,
        typeVocabSize: 2,
        layerNormEps: 1e-12,
        layerNorm: 'post',
        pooling: 'mean',
        hiddenDropout: 0.1,
        attentionDropout: 0.1,
      },
    );
    // intermediate.dense: torch [I, H] → encoder [H, I], element (i, o) = torch (o, i).
    const inter = encoder.params.get('encoder.layer.1.intermediate.dense.weight')!;
    assert.deepEqual(inter.shape, [H, I]);
    const got = inter.dataSync();
    const src = state.get('encoder.layer.1.intermediate.dense.weight')!.data;
    for (let i = 0; i < H; i++) for (let o = 0; o < I; o++) assert.equal(got[i * I + o], src[o * H + i]);
    // A square one must be transposed too (shapes alone would not tell).
    const q = encoder.params.get('encoder.layer.0.attention.self.query.weight')!.dataSync();
    const qs = state.get('encoder.layer.0.attention.self.query.weight')!.data;
    assert.equal(q[1 * H + 2], qs[2 * H + 1]);
    assert.notEqual(q[1 * H + 2], qs[1 * H + 2]);
    // Embedding tables keep their layout.
    assert.deepEqual(
      Array.from(encoder.params.get('embeddings.word_embeddings.weight')!.dataSync()),
      Array.from(state.get('embeddings.word_embeddings.weight')!.data),
    );

    const { rows, emb } = embed(encoder, tokenizer, TEXTS);
    assert.deepEqual(rows[1], [2, 13, 10, 11, 3]);
    rows.forEach((ids, n) => {
      const ref = refEmbedding(state, ids, 'mean');
      assert.ok(maxDiff([emb[n]], [ref]) < 1e-4, `row ${n}: ${emb[n]} vs ${ref}`);
    });
  } finally {
    encoder.dispose();
  }
  // Without sentence_bert_config.json, tokenizer_config.json's model_max_length is the default
  // (transformers' 1e30 "unknown" sentinel is ignored).
  for (const [mml, expected] of [
    [12, 12],
    [1e30, P],
  ]) {
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: mml }));
    const m = loadHfModel(dir);
    m.encoder.dispose();
    assert.equal(m.maxSeqLength, expected);
  }
});

test('"bert." prefix, gamma/beta names, and heads / pooler / position_ids are accepted or ignored', () => {
  const a = newDir();
  writeFolder(a);
  const b = newDir();
  const state = torchState();
  state.set('pooler.dense.weight', { shape: [H, H], data: values(H * H, 99) });
  state.set('pooler.dense.bias', { shape: [H], data: values(H, 98) });
  state.set('cls.predictions.bias', { shape: [V], data: values(V, 97) });
  state.set('embeddings.position_ids', { shape: [1, P], data: Int32Array.from({ length: P }, (_, i) => i) });
  writeFolder(b, {
    state,
    rename: (n) => 'bert.' + n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
  });
  const ma = loadHfModel(a);
  const mb = loadHfModel(b);
  try {
    assert.deepEqual(paramValues(mb.encoder), paramValues(ma.encoder));
  } finally {
    ma.encoder.dispose();
    mb.encoder.dispose();
  }
});

test('missing or mis-shaped tensors: one error naming the folder, each tensor, expected vs actual shape', () => {
  const dir = newDir();
  const state = torchState();
  state.delete('encoder.layer.1.output.dense.bias');
  state.set('encoder.layer.0.intermediate.dense.weight', { shape: [H, I], data: values(H * I, 5) }); // not transposed
  state.set('encoder.layer.0.attention.self.relative_bias', { shape: [2], data: new Float32Array(2) });
  writeFolder(dir, { state });
  assert.throws(
    () => loadHfModel(dir),
    (e: Error) => {
      assert.match(e.message, new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the checkpoint does not match config\\.json`));
      assert.match(e.message, /missing tensor "encoder\.layer\.1\.output\.dense\.bias" \(expected shape \[8\]\)/);
      assert.match(
        e.message,
        /tensor "encoder\.layer\.0\.intermediate\.dense\.weight" in .*model\.safetensors has shape \[8, 12\], expected \[12, 8\]/,
      );
      assert.match(e.message, /unexpected tensor "encoder\.layer\.0\.attention\.self\.relative_bias"/);
      return true;
    },
  );
  // A config that disagrees with the weights is reported the same way.
  const d2 = newDir();
  writeFolder(d2, { config: { ...CONFIG, intermediate_size: 10 } });
  assert.throws(
    () => loadHfModel(d2),
    /tensor "encoder\.layer\.0\.intermediate\.dense\.weight" in .* has shape \[12, 8\], expected \[10, 8\]/,
  );
});

test('corrupt weights files and unsupported configs give clear errors', () => {
  const good = encodeSafetensors(torchState(), { format: 'pt' });
  const trunc = newDir();
  writeFolder(trunc, { extraBytes: good.subarray(0, good.length - 10) });
  assert.throws(() => loadHfModel(trunc), /model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] out of range/);

  const badDtype = newDir();
  const hl = Number(good.readBigUInt64LE(0));
  const header = JSON.parse(good.subarray(8, 8 + hl).toString('utf8'));
  header['embeddings.LayerNorm.bias'].dtype = 'F8_E5M2';
  const hb = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  writeFolder(badDtype, { extraBytes: Buffer.concat([len, hb, good.subarray(8 + hl)]) });
  assert.throws(() => loadHfModel(badDtype), /model\.safetensors: tensor "embeddings\.LayerNorm\.bias": unsupported dtype F8_E5M2/);

  const roberta = newDir();
  writeFolder(roberta, { config: { ...CONFIG, model_type: 'roberta' } });
  assert.throws(() => loadHfModel(roberta), /config\.json: model_type "roberta" is not supported; only BERT models/);
  const relu = newDir();
  writeFolder(relu, { config: { ...CONFIG, hidden_act: 'relu' } });
  assert.throws(() => loadHfModel(relu), /config\.json: hidden_act "relu" is not supported/);
  const noSize = newDir();
  const { hidden_size: _drop, ...rest } = CONFIG;
  writeFolder(noSize, { config: rest });
  assert.throws(() => loadHfModel(noSize), /config\.json: missing "hidden_size"/);

  const noConfig = newDir();
  writeFolder(noConfig);
  unlinkSync(join(noConfig, 'config.json'));
  assert.throws(
    () => loadHfModel(noConfig),
    new RegExp(`missing file ${join(noConfig, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  const binOnly = newDir();
  writeFolder(binOnly);
  unlinkSync(join(binOnly, 'model.safetensors'));
  writeFileSync(join(binOnly, 'pytorch_model.bin'), 'x');
  assert.throws(() => loadHfModel(binOnly), /missing model\.safetensors \(found pytorch_model\.bin: only safetensors weights can be read/);
  const noTok = newDir();
  writeFolder(noTok);
  unlinkSync(join(noTok, 'tokenizer.json'));
  assert.throws(() => loadHfModel(noTok), /missing tokenizer\.json \(and no vocab\.txt/);
  assert.throws(() => loadHfModel(join(root, 'nope')), /model folder .*nope does not exist/);
  const bigVocab = newDir();
  writeFolder(bigVocab, { config: { ...CONFIG, vocab_size: 10 } });
  assert.throws(() => loadHfModel(bigVocab), /the tokenizer has 16 ids but config\.json's vocab_size is 10/);
});

/** A safetensors file with every tensor stored as BF16 (float32 bits truncated to the top 16). */
function bf16File(
  state: Map<string, TensorToWrite>,
  override: Record<string, { dtype: string; bytes: Buffer; shape: number[] }> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let off = 0;
  for (const [name, t] of state) {
    let bytes: Buffer;
    let dtype = 'BF16';
    let shape = t.shape;
    if (override[name]) {
      ({ dtype, bytes, shape } = override[name]);
    } else {
      const bits = new Uint32Array(Float32Array.from(t.data).buffer);
      bytes = Buffer.alloc(bits.length * 2);
      bits.forEach((b, i) => bytes.writeUInt16LE(b >>> 16, i * 2));
    }
    header[name] = { dtype, shape, data_offsets: [off, off + bytes.length] };
    chunks.push(bytes);
    off += bytes.length;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, ...chunks]);
}

test('BF16 checkpoints load as float32; an integer tensor where a float parameter belongs is an error', () => {
  const state = torchState();
  const dir = newDir();
  writeFolder(dir, { state, extraBytes: bf16File(state) });
  const m = loadHfModel(dir);
  try {
    const got = m.encoder.params.get('encoder.layer.0.output.dense.weight')!.dataSync(); // encoder [I, H], torch [H, I]
    const src = state.get('encoder.layer.0.output.dense.weight')!.data as Float32Array;
    const bf = (x: number): number =>
      new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([x]).buffer)[0] & 0xffff0000]).buffer)[0];
    assert.equal(got[3 * H + 5], bf(src[5 * I + 3]));
    assert.notEqual(got[3 * H + 5], src[5 * I + 3]);
  } finally {
    m.encoder.dispose();
  }
  const bad = newDir();
  const ints = Buffer.alloc(H * 8);
  writeFolder(bad, { state, extraBytes: bf16File(state, { 'embeddings.LayerNorm.bias': { dtype: 'I64', bytes: ints, shape: [H] } }) });
  assert.throws(
    () => loadHfModel(bad),
    /tensor "embeddings\.LayerNorm\.bias" in .*model\.safetensors has integer dtype I64, expected a float dtype/,
  );
});

test('vocab.txt + tokenizer_config.json fallback, and sentence-transformers pooling / max_seq_length', () => {
  const dir = newDir();
  const state = writeFolder(dir);
  unlinkSync(join(dir, 'tokenizer.json'));
  writeFileSync(join(dir, 'vocab.txt'), TOKENS.join('\n') + '\n');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
  writeFileSync(
    join(dir, 'modules.json'),
    JSON.stringify([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]),
  );
  mkdirSync(join(dir, '1_Pooling'));
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({ word_embedding_dimension: H, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }),
  );
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 10, do_lower_case: false }));
  const m = loadHfModel(dir);
  try {
    assert.equal(m.pooling, 'cls');
    assert.equal(m.encoder.spec.pooling, 'cls');
    assert.equal(m.maxSeqLength, 10);
    // Cased: "The" is not in the vocabulary.
    assert.deepEqual(m.tokenizer.encode('The cat', 10), [2, 1, 6, 3]);
    const { rows, emb } = embed(m.encoder, m.tokenizer, ['the cat sat', 'a dog']);
    rows.forEach((ids, n) => assert.ok(maxDiff([emb[n]], [refEmbedding(state, ids, 'cls')]) < 1e-4));
  } finally {
    m.encoder.dispose();
  }
  const over = loadHfModel(dir, { pooling: 'mean', maxSeqLength: 16, hiddenDropout: 0, attentionDropout: 0.05 });
  try {
    assert.equal(over.encoder.spec.pooling, 'mean');
    assert.equal(over.maxSeqLength, 16);
    assert.equal(over.encoder.spec.hiddenDropout, 0);
    assert.equal(over.encoder.spec.attentionDropout, 0.05);
  } finally {
    over.encoder.dispose();
  }
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_max_tokens: true }));
  assert.throws(() => loadHfModel(dir), /1_Pooling\/config\.json: unsupported pooling \["pooling_mode_max_tokens"\]/);
});

function spec(over: Partial<EncoderSpec>): EncoderSpec {
  return {
    vocabSize: 20,
    hiddenSize: H,
    numLayers: 2,
    numHeads: NH,
    intermediateSize: I,
    maxPositions: P,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    pooling: 'mean',
    layerNorm: 'post',
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    ...over,
  };
}

for (const variant of [
  { name: 'post-LN, mean pooling', spec: spec({}) },
  { name: 'pre-LN, cls pooling, projection to 6', spec: spec({ layerNorm: 'pre', pooling: 'cls', outputDim: 6 }) },
]) {
  test(`save → load round trip gives identical parameters and embeddings (${variant.name})`, () => {
    const tokenizer = WordPieceTokenizer.train(['the cat sat on the mat', 'the dog ran', 'cats and dogs'], {
      vocabSize: 20,
      minFrequency: 1,
    });
    const enc = new BertEncoder(variant.spec, { seed: 7 });
    const dir = join(newDir(), 'out');
    try {
      saveHfModel(dir, enc, tokenizer, { maxSeqLength: 12 });
      for (const f of [
        'config.json',
        'model.safetensors',
        'tokenizer.json',
        'vocab.txt',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'modules.json',
        'sentence_bert_config.json',
        '1_Pooling/config.json',
      ]) {
        assert.ok(existsSync(join(dir, f)), f);
      }
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      // Post-LN is BertModel; pre-LN gets a model_type transformers refuses rather than misreads.
      assert.equal(config.model_type, variant.spec.layerNorm === 'pre' ? PRE_LN_MODEL_TYPE : 'bert');
      assert.deepEqual(config.architectures, [variant.spec.layerNorm === 'pre' ? 'MatryoshkaLabPreLnBertModel' : 'BertModel']);
      assert.equal(config.intermediate_size, I);
      const weights = readSafetensors(join(dir, 'model.safetensors'));
      // torch layout on disk, no projection in the BertModel file.
      assert.deepEqual(weights.get('encoder.layer.0.intermediate.dense.weight')!.shape, [I, H]);
      assert.ok(![...weights.keys()].some((k) => k.startsWith('projection')));
      const pool = JSON.parse(readFileSync(join(dir, '1_Pooling', 'config.json'), 'utf8'));
      assert.equal(pool.pooling_mode_cls_token, variant.spec.pooling === 'cls');
      assert.equal(pool.pooling_mode_mean_tokens, variant.spec.pooling === 'mean');
      const modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8'));
      if (variant.spec.outputDim) {
        assert.equal(config.mrl_layer_norm, 'pre');
        assert.deepEqual(
          modules.map((m: { path: string }) => m.path),
          ['', '1_Pooling', '2_Dense'],
        );
        const dense = readSafetensors(join(dir, '2_Dense', 'model.safetensors'));
        assert.deepEqual(dense.get('linear.weight')!.shape, [6, H]);
        assert.deepEqual(JSON.parse(readFileSync(join(dir, '2_Dense', 'config.json'), 'utf8')).out_features, 6);
      } else {
        assert.equal(config.mrl_layer_norm, undefined);
        assert.equal(modules.length, 2);
      }

      const back = loadHfModel(dir);
      try {
        assert.deepEqual({ ...back.encoder.spec }, { ...enc.spec });
        assert.equal(back.maxSeqLength, 12);
        assert.deepEqual(paramValues(back.encoder), paramValues(enc));
        const texts = ['the cat sat on the mat', 'dogs ran', 'a cat'];
        assert.deepEqual(back.tokenizer.encodeBatch(texts, 12), tokenizer.encodeBatch(texts, 12));
        const e1 = embed(enc, tokenizer, texts).emb;
        const e2 = embed(back.encoder, back.tokenizer, texts).emb;
        assert.equal(e1[0].length, variant.spec.outputDim ?? H);
        assert.deepEqual(e2, e1);
      } finally {
        back.encoder.dispose();
      }
    } finally {
      enc.dispose();
    }
  });
}

test('pre-LN folders: the old form (model_type "bert" + mrl_layer_norm) still loads; the new model_type needs mrl_layer_norm "pre"', () => {
  const tokenizer = WordPieceTokenizer.train(['the cat sat on the mat', 'the dog ran'], { vocabSize: 20, minFrequency: 1 });
  const enc = new BertEncoder(spec({ layerNorm: 'pre' }), { seed: 3 });
  const dir = join(newDir(), 'pre');
  try {
    saveHfModel(dir, enc, tokenizer, { maxSeqLength: 12 });
    const cfgFile = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, model_type: 'bert', architectures: ['BertModel'] }));
    const old = loadHfModel(dir);
    try {
      assert.equal(old.encoder.spec.layerNorm, 'pre');
      assert.deepEqual(paramValues(old.encoder), paramValues(enc));
    } finally {
      old.encoder.dispose();
    }
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, mrl_layer_norm: undefined }));
    assert.throws(() => loadHfModel(dir), new RegExp(`model_type "${PRE_LN_MODEL_TYPE}" needs "mrl_layer_norm": "pre"`));
  } finally {
    enc.dispose();
  }
});

test('saveHfModel refuses a tokenizer larger than the embedding table', () => {
  const tokenizer = WordPieceTokenizer.fromVocab(TOKENS);
  const enc = new BertEncoder(spec({ vocabSize: 10, numLayers: 0 }), { seed: 1 });
  try {
    assert.throws(() => saveHfModel(join(newDir(), 'x'), enc, tokenizer), /tokenizer has 16 ids but the encoder's vocabSize is 10/);
  } finally {
    enc.dispose();
  }
});
