// Local Hugging Face BERT model folders: load into a BertEncoder + WordPieceTokenizer, and save back so
// that the folder loads here again AND outside (transformers `BertModel`, `SentenceTransformer`).
//
// Layout read: config.json, tokenizer.json (or vocab.txt + tokenizer_config.json), model.safetensors
// (or a sharded model.safetensors.index.json). If modules.json exists (a sentence-transformers folder),
// the Transformer module's path, 1_Pooling/config.json, sentence_bert_config.json and a Dense module
// (as the projection) are honoured as well; that module layout is read by src/config/modelFolder.ts,
// which validation uses too (the model's width).
//
// Layout written by saveHfModel:
//   config.json                  BertModel config. A pre-LN encoder is saved with model_type
//                                PRE_LN_MODEL_TYPE (and "mrl_layer_norm": "pre"), which transformers does
//                                not know: BertModel would run it as post-LN and silently compute other
//                                embeddings, so transformers / SentenceTransformer refuse it instead.
//                                Folders from before (model_type "bert" + "mrl_layer_norm") still load here.
//   model.safetensors            BertModel state dict without "bert." prefix, torch layout (Linear [out, in])
//   tokenizer.json, vocab.txt, tokenizer_config.json, special_tokens_map.json
//   modules.json, sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json
//   2_Dense/config.json + 2_Dense/model.safetensors   (only with a projection: linear.weight [out, in])

import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BertEncoder, encoderParamDefs, type EncoderSpec } from './encoder';
import { readSafetensors, writeSafetensors, type SafeTensor, type TensorToWrite } from './safetensors';
import { WordPieceTokenizer } from '../tokenizer/wordpiece';
import { intField, readJson, readModelFolderLayout, ST_DENSE, ST_POOLING, ST_TRANSFORMER } from '../../config/modelFolder';

export interface LoadHfModelOptions {
  /** Overrides the folder's 1_Pooling/config.json (default there, else 'mean'). */
  pooling?: 'mean' | 'cls';
  /**
   * Overrides sentence_bert_config.json's max_seq_length. Default: that, else tokenizer_config.json's
   * model_max_length, else 512; capped at max_position_embeddings.
   */
  maxSeqLength?: number;
  /** Override config.json's hidden_dropout_prob / attention_probs_dropout_prob. */
  hiddenDropout?: number;
  attentionDropout?: number;
  /** Only seeds the throw-away initial values: every parameter is then overwritten from the file. */
  seed?: number;
}

export interface LoadedHfModel {
  encoder: BertEncoder;
  tokenizer: WordPieceTokenizer;
  /** config.json as read. */
  config: Record<string, unknown>;
  pooling: 'mean' | 'cls';
  maxSeqLength: number;
}

export interface SaveHfModelExtra {
  /** Default: the encoder's own pooling. */
  pooling?: 'mean' | 'cls';
  /** Written to sentence_bert_config.json / tokenizer_config.json; default min(512, maxPositions). */
  maxSeqLength?: number;
}

/** model_type values whose checkpoints have exactly BertModel's parameters and forward. */
const BERT_MODEL_TYPES = new Set(['bert']);
/**
 * model_type of a pre-LN encoder saved here: BertModel's parameter names, a pre-LN forward. transformers
 * has no BERT-style pre-LN architecture with these weights, so the name is deliberately unknown to it.
 */
export const PRE_LN_MODEL_TYPE = 'matryoshka_lab_pre_ln_bert';
const EXACT_GELU = new Set(['gelu', 'gelu_python']);

function writeJson(path: string, v: unknown): void {
  writeFileSync(path, JSON.stringify(v, null, 2) + '\n');
}

/** A Linear layer's weight (stored [in, out] in the encoder, [out, in] in torch files). */
function isLinearWeight(name: string, rank: number): boolean {
  return rank === 2 && name.endsWith('.weight') && !name.startsWith('embeddings.');
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

const shapeStr = (s: number[]): string => `[${s.join(', ')}]`;

/**
 * Checkpoint name → encoder name, or null for tensors the encoder does not use (MLM / NSP heads, the
 * pooler, classification heads, the position_ids buffer).
 */
function canonicalName(raw: string): string | null {
  let n = raw.startsWith('bert.') ? raw.slice(5) : raw;
  if (/^(pooler|cls|classifier|qa_outputs)\./.test(n) || n === 'embeddings.position_ids' || n === 'embeddings.token_type_ids') return null;
  // TF-converted checkpoints name LayerNorm parameters gamma / beta.
  n = n.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  return n;
}

function numField(cfg: Record<string, unknown>, key: string, file: string, dflt: number): number {
  const v = cfg[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * tokenizer_config.json's model_max_length, which sentence-transformers falls back on without a
 * sentence_bert_config.json. transformers writes a huge sentinel (1e30) when it is unknown.
 */
function tokenizerMaxLength(modelDir: string): number | undefined {
  const tc = join(modelDir, 'tokenizer_config.json');
  if (!existsSync(tc)) return undefined;
  const v = readJson(tc).model_max_length;
  return typeof v === 'number' && Number.isInteger(v) && v >= 2 && v < 1e9 ? v : undefined;
}

function loadTokenizer(modelDir: string): WordPieceTokenizer {
  const tj = join(modelDir, 'tokenizer.json');
  if (existsSync(tj)) return WordPieceTokenizer.fromFile(tj);
  const vt = join(modelDir, 'vocab.txt');
  if (!existsSync(vt)) throw new Error(`${modelDir}: missing tokenizer.json (and no vocab.txt to fall back on)`);
  const tc = join(modelDir, 'tokenizer_config.json');
  const cfg = existsSync(tc) ? readJson(tc) : {};
  const lines = readFileSync(vt, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const tokens = lines.map((l) => l.replace(/\r$/, ''));
  const sa = cfg.strip_accents;
  return WordPieceTokenizer.fromVocab(tokens, {
    lowercase: cfg.do_lower_case !== false,
    stripAccents: typeof sa === 'boolean' ? sa : null,
    handleChineseChars: cfg.tokenize_chinese_chars !== false,
  });
}

/** All tensors of the checkpoint: model.safetensors, or the shards listed in model.safetensors.index.json. */
function loadWeights(modelDir: string): { tensors: Map<string, SafeTensor>; source: Map<string, string> } {
  const single = join(modelDir, 'model.safetensors');
  const index = join(modelDir, 'model.safetensors.index.json');
  let files: string[];
  if (existsSync(single)) files = [single];
  else if (existsSync(index)) {
    const map = readJson(index).weight_map;
    if (typeof map !== 'object' || map === null) throw new Error(`${index}: missing "weight_map"`);
    files = [...new Set(Object.values(map as Record<string, string>))].sort().map((f) => join(modelDir, f));
  } else {
    const bin = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'].find((f) => existsSync(join(modelDir, f)));
    throw new Error(
      `${modelDir}: missing model.safetensors` +
        (bin
          ? ` (found ${bin}: only safetensors weights can be read; convert the checkpoint with transformers' save_pretrained(safe_serialization=True))`
          : ''),
    );
  }
  const tensors = new Map<string, SafeTensor>();
  const source = new Map<string, string>();
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`${modelDir}: missing weight shard ${f}`);
    for (const [raw, t] of readSafetensors(f)) {
      const name = canonicalName(raw);
      if (name === null) continue;
      const prev = source.get(name);
      if (prev !== undefined) throw new Error(`${f}: tensor "${raw}" duplicates ${prev} (both map to "${name}")`);
      source.set(name, `"${raw}" in ${f}`);
      tensors.set(name, t);
    }
  }
  return { tensors, source };
}

/** The EncoderSpec that config.json describes, and its parsed fields. */
export function hfConfigToSpec(config: Record<string, unknown>, file: string): Omit<EncoderSpec, 'pooling' | 'outputDim'> {
  const mt = config.model_type;
  if (typeof mt !== 'string') throw new Error(`${file}: missing "model_type" (expected "bert")`);
  if (!BERT_MODEL_TYPES.has(mt) && mt !== PRE_LN_MODEL_TYPE) {
    throw new Error(`${file}: model_type "${mt}" is not supported; only BERT models (model_type "bert") can be loaded`);
  }
  if (mt === PRE_LN_MODEL_TYPE && config.mrl_layer_norm !== 'pre') {
    throw new Error(
      `${file}: model_type "${PRE_LN_MODEL_TYPE}" needs "mrl_layer_norm": "pre", got ${JSON.stringify(config.mrl_layer_norm)}`,
    );
  }
  const act = config.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || !EXACT_GELU.has(act)) {
    throw new Error(`${file}: hidden_act ${JSON.stringify(act)} is not supported (the encoder uses exact GELU: "gelu")`);
  }
  const pet = config.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') throw new Error(`${file}: position_embedding_type ${JSON.stringify(pet)} is not supported (only "absolute")`);
  const ln = config.mrl_layer_norm ?? 'post';
  if (ln !== 'post' && ln !== 'pre') throw new Error(`${file}: "mrl_layer_norm" must be "post" or "pre", got ${JSON.stringify(ln)}`);
  const spec = {
    vocabSize: intField(config, 'vocab_size', file),
    hiddenSize: intField(config, 'hidden_size', file),
    numLayers: intField(config, 'num_hidden_layers', file),
    numHeads: intField(config, 'num_attention_heads', file),
    intermediateSize: intField(config, 'intermediate_size', file),
    maxPositions: intField(config, 'max_position_embeddings', file),
    typeVocabSize: intField(config, 'type_vocab_size', file, 2),
    layerNormEps: numField(config, 'layer_norm_eps', file, 1e-12),
    layerNorm: ln as 'post' | 'pre',
    hiddenDropout: numField(config, 'hidden_dropout_prob', file, 0.1),
    attentionDropout: numField(config, 'attention_probs_dropout_prob', file, 0.1),
  };
  if (spec.hiddenSize % spec.numHeads !== 0) {
    throw new Error(`${file}: hidden_size ${spec.hiddenSize} is not divisible by num_attention_heads ${spec.numHeads}`);
  }
  return spec;
}

export function loadHfModel(dir: string, opts: LoadHfModelOptions = {}): LoadedHfModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model folder ${dir} does not exist or is not a folder`);
  const st = readModelFolderLayout(dir);
  const configPath = join(st.modelDir, 'config.json');
  const config = readJson(configPath);
  const base = hfConfigToSpec(config, configPath);
  const pooling = opts.pooling ?? st.pooling ?? 'mean';
  const maxSeqLength = opts.maxSeqLength ?? st.maxSeqLength ?? Math.min(tokenizerMaxLength(st.modelDir) ?? 512, base.maxPositions);
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2 || maxSeqLength > base.maxPositions) {
    throw new Error(`${dir}: maxSeqLength ${maxSeqLength} must be an integer in [2, max_position_embeddings = ${base.maxPositions}]`);
  }

  const tokenizer = loadTokenizer(st.modelDir);
  if (tokenizer.vocabSize > base.vocabSize) {
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but config.json's vocab_size is ${base.vocabSize}`);
  }

  const spec: EncoderSpec = {
    ...base,
    pooling,
    hiddenDropout: opts.hiddenDropout ?? base.hiddenDropout,
    attentionDropout: opts.attentionDropout ?? base.attentionDropout,
  };
  const { tensors, source } = loadWeights(st.modelDir);

  // Projection from a sentence-transformers Dense module, renamed into the encoder's namespace.
  if (st.dense) {
    const d = st.dense;
    if (d.inFeatures !== spec.hiddenSize) {
      throw new Error(`${join(d.dir, 'config.json')}: in_features ${d.inFeatures} != hidden_size ${spec.hiddenSize}`);
    }
    if (d.outFeatures === spec.hiddenSize) {
      throw new Error(
        `${join(d.dir, 'config.json')}: a Dense projection to the same width (${d.outFeatures}) is not supported by the encoder`,
      );
    }
    spec.outputDim = d.outFeatures;
    const dw = join(d.dir, 'model.safetensors');
    if (!existsSync(dw)) {
      const bin = existsSync(join(d.dir, 'pytorch_model.bin'));
      throw new Error(
        `${d.dir}: missing model.safetensors${bin ? ' (found pytorch_model.bin: only safetensors weights can be read)' : ''}`,
      );
    }
    const dt = readSafetensors(dw);
    for (const [raw, t] of dt) {
      const m = /^linear\.(weight|bias)$/.exec(raw);
      if (!m) throw new Error(`${dw}: unexpected tensor "${raw}" (expected linear.weight, linear.bias)`);
      tensors.set(`projection.${m[1]}`, t);
      source.set(`projection.${m[1]}`, `"${raw}" in ${dw}`);
    }
    if (!d.bias && !tensors.has('projection.bias')) {
      tensors.set('projection.bias', { dtype: 'F32', shape: [d.outFeatures], data: new Float32Array(d.outFeatures) });
    }
  }

  // Validate everything before allocating the encoder: a bad folder fails fast and leaks nothing.
  const defs = encoderParamDefs(spec);
  const problems: string[] = [];
  const expectedNames = new Set<string>();
  for (const def of defs) {
    expectedNames.add(def.name);
    const t = tensors.get(def.name);
    const linear = isLinearWeight(def.name, def.shape.length);
    const fileShape = linear ? [def.shape[1], def.shape[0]] : def.shape;
    const where = def.name.startsWith('projection.') ? `${st.dense!.dir}/model.safetensors` : `${st.modelDir}/model.safetensors`;
    const label = def.name.startsWith('projection.') ? `linear.${def.name.slice('projection.'.length)}` : def.name;
    if (!t) {
      problems.push(`missing tensor "${label}" (expected shape ${shapeStr(fileShape)}) in ${where}`);
    } else if (t.shape.length !== fileShape.length || t.shape.some((d, i) => d !== fileShape[i])) {
      problems.push(`tensor ${source.get(def.name)} has shape ${shapeStr(t.shape)}, expected ${shapeStr(fileShape)} (from ${configPath})`);
    } else if (!(t.data instanceof Float32Array)) {
      problems.push(`tensor ${source.get(def.name)} has integer dtype ${t.dtype}, expected a float dtype`);
    }
  }
  for (const name of tensors.keys()) {
    if (!expectedNames.has(name)) problems.push(`unexpected tensor ${source.get(name)}: not a parameter of this BERT configuration`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 12).join('\n  ');
    const more = problems.length > 12 ? `\n  … and ${problems.length - 12} more` : '';
    throw new Error(`${dir}: the checkpoint does not match config.json:\n  ${shown}${more}`);
  }

  const encoder = new BertEncoder(spec, { seed: opts.seed ?? 0 });
  try {
    for (const def of defs) {
      const t = tensors.get(def.name)!;
      let data = t.data as Float32Array;
      if (isLinearWeight(def.name, def.shape.length)) data = transpose(data, def.shape[1], def.shape[0]);
      const v = encoder.params.get(def.name)!;
      tf.tidy(() => v.assign(tf.tensor(data, def.shape, 'float32')));
      tensors.delete(def.name); // let the file's copy be collected as we go (large models)
    }
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  return { encoder, tokenizer, config, pooling, maxSeqLength };
}

export function saveHfModel(dir: string, encoder: BertEncoder, tokenizer: WordPieceTokenizer, extra: SaveHfModelExtra = {}): void {
  const spec = encoder.spec;
  if (tokenizer.vocabSize > spec.vocabSize) {
    throw new Error(`saveHfModel: the tokenizer has ${tokenizer.vocabSize} ids but the encoder's vocabSize is ${spec.vocabSize}`);
  }
  const pooling = extra.pooling ?? spec.pooling;
  const maxSeqLength = extra.maxSeqLength ?? Math.min(512, spec.maxPositions);
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2 || maxSeqLength > spec.maxPositions) {
    throw new Error(`saveHfModel: maxSeqLength ${maxSeqLength} must be an integer in [2, maxPositions = ${spec.maxPositions}]`);
  }
  mkdirSync(dir, { recursive: true });

  const main = new Map<string, TensorToWrite>();
  const dense = new Map<string, TensorToWrite>();
  for (const [name, v] of encoder.params) {
    let data = v.dataSync() as Float32Array;
    let shape: number[] = v.shape;
    if (isLinearWeight(name, shape.length)) {
      data = transpose(data, shape[0], shape[1]);
      shape = [shape[1], shape[0]];
    } else {
      data = Float32Array.from(data);
    }
    if (name.startsWith('projection.')) dense.set(`linear.${name.slice('projection.'.length)}`, { shape, data });
    else main.set(name, { shape, data });
  }
  // transformers refuses safetensors files without format metadata.
  writeSafetensors(join(dir, 'model.safetensors'), main, { format: 'pt' });

  const preLn = spec.layerNorm === 'pre';
  const config: Record<string, unknown> = {
    architectures: [preLn ? 'MatryoshkaLabPreLnBertModel' : 'BertModel'],
    model_type: preLn ? PRE_LN_MODEL_TYPE : 'bert',
    vocab_size: spec.vocabSize,
    hidden_size: spec.hiddenSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    intermediate_size: spec.intermediateSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: spec.hiddenDropout,
    attention_probs_dropout_prob: spec.attentionDropout,
    max_position_embeddings: spec.maxPositions,
    type_vocab_size: spec.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: spec.layerNormEps,
    pad_token_id: tokenizer.padId,
    position_embedding_type: 'absolute',
    classifier_dropout: null,
    use_cache: true,
    torch_dtype: 'float32',
  };
  if (preLn) {
    config.mrl_layer_norm = 'pre';
    config.mrl_note =
      'pre-LayerNorm encoder (Matryoshka Lab layerNorm "pre"): BertModel would run it as post-LN and compute other embeddings, so model_type is one transformers refuses. It loads in Matryoshka Lab; train with layerNorm "post" for a model that transformers and sentence-transformers load.';
  }
  writeJson(join(dir, 'config.json'), config);

  tokenizer.save(join(dir, 'tokenizer.json'));
  writeFileSync(join(dir, 'vocab.txt'), tokenizer.toVocabTxt());
  const tok = (id: number): string | undefined => (id >= 0 ? tokenizer.idToToken(id) : undefined);
  const specials: Record<string, string> = {};
  const named: [string, number | undefined][] = [
    ['unk_token', tokenizer.unkId],
    ['sep_token', tokenizer.sepId],
    ['pad_token', tokenizer.padId],
    ['cls_token', tokenizer.clsId],
    ['mask_token', tokenizer.tokenToId('[MASK]')],
  ];
  for (const [k, id] of named) {
    const t = id === undefined ? undefined : tok(id);
    if (t !== undefined) specials[k] = t;
  }
  writeJson(join(dir, 'special_tokens_map.json'), specials);
  writeJson(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: tokenizer.lowercase,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: maxSeqLength,
    clean_up_tokenization_spaces: true,
    ...specials,
  });

  const modules: object[] = [
    { idx: 0, name: '0', path: '', type: ST_TRANSFORMER },
    { idx: 1, name: '1', path: '1_Pooling', type: ST_POOLING },
  ];
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: spec.hiddenSize,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  });
  if (dense.size) {
    const out = dense.get('linear.weight')!.shape[0];
    modules.push({ idx: 2, name: '2', path: '2_Dense', type: ST_DENSE });
    mkdirSync(join(dir, '2_Dense'), { recursive: true });
    writeJson(join(dir, '2_Dense', 'config.json'), {
      in_features: spec.hiddenSize,
      out_features: out,
      bias: true,
      activation_function: 'torch.nn.modules.linear.Identity',
    });
    writeSafetensors(join(dir, '2_Dense', 'model.safetensors'), dense, { format: 'pt' });
  }
  writeJson(join(dir, 'modules.json'), modules);
  writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: maxSeqLength, do_lower_case: false });
  writeJson(join(dir, 'config_sentence_transformers.json'), {
    prompts: {},
    default_prompt_name: null,
    similarity_fn_name: 'cosine',
  });
}
