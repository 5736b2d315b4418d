/**
 * The layout of a local model folder (what `model.pretrained.path` or a GIST guide names), as far as it
 * is JSON: no tensors, no tfjs. A Hugging Face folder has config.json at its root; a sentence-transformers
 * folder lists its modules in modules.json — the Transformer module's path (config.json, weights,
 * tokenizer), 1_Pooling/config.json, sentence_bert_config.json, a Dense projection.
 *
 * Validation reads the model's output width here (modelFolderWidth); the loader
 * (src/trainer/model/hfFolder.ts) reads the same files through readModelFolderLayout, so the width that
 * validation checks the config against is the width of the encoder the trainer loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ST_DENSE = 'sentence_transformers.models.Dense';
export const ST_POOLING = 'sentence_transformers.models.Pooling';
export const ST_TRANSFORMER = 'sentence_transformers.models.Transformer';
const ST_NORMALIZE = 'sentence_transformers.models.Normalize';
const IDENTITY_ACTIVATIONS = new Set(['torch.nn.modules.linear.Identity', 'torch.nn.Identity', 'Identity']);

export interface ModelFolderLayout {
  /** Folder holding config.json / weights / tokenizer (the Transformer module's path). */
  modelDir: string;
  pooling?: 'mean' | 'cls';
  maxSeqLength?: number;
  dense?: { dir: string; inFeatures: number; outFeatures: number; bias: boolean };
}

export function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`missing file ${path}`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${path}: expected a JSON object`);
  return v as Record<string, unknown>;
}

function readJsonArray(path: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(v)) throw new Error(`${path}: expected a JSON array`);
  return v;
}

export function intField(cfg: Record<string, unknown>, key: string, file: string, dflt?: number): number {
  const v = cfg[key] ?? dflt;
  if (v === undefined) throw new Error(`${file}: missing "${key}"`);
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${file}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Reads the sentence-transformers module files, if the folder has them. Throws on what it cannot use. */
export function readModelFolderLayout(dir: string): ModelFolderLayout {
  const info: ModelFolderLayout = { modelDir: dir };
  const modulesPath = join(dir, 'modules.json');
  if (!existsSync(modulesPath)) {
    const sbc = join(dir, 'sentence_bert_config.json');
    if (existsSync(sbc)) info.maxSeqLength = readMaxSeq(sbc);
    return info;
  }
  const modules = readJsonArray(modulesPath);
  modules.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) throw new Error(`${modulesPath}: [${i}] is not an object`);
    const { type, path } = m as Record<string, unknown>;
    const mdir = join(dir, typeof path === 'string' ? path : '');
    if (type === ST_TRANSFORMER) {
      info.modelDir = mdir;
      const sbc = join(mdir, 'sentence_bert_config.json');
      if (existsSync(sbc)) info.maxSeqLength = readMaxSeq(sbc);
    } else if (type === ST_POOLING) {
      const file = join(mdir, 'config.json');
      const cfg = readJson(file);
      const modes = Object.entries(cfg)
        .filter(([k, v]) => k.startsWith('pooling_mode_') && v === true)
        .map(([k]) => k);
      if (modes.length === 1 && modes[0] === 'pooling_mode_mean_tokens') info.pooling = 'mean';
      else if (modes.length === 1 && modes[0] === 'pooling_mode_cls_token') info.pooling = 'cls';
      else
        throw new Error(
          `${file}: unsupported pooling ${JSON.stringify(modes)} (supported: exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token); pass a pooling option to override`,
        );
    } else if (type === ST_DENSE) {
      if (info.dense) throw new Error(`${modulesPath}: more than one Dense module is not supported`);
      const file = join(mdir, 'config.json');
      const cfg = readJson(file);
      const act = cfg.activation_function ?? 'torch.nn.modules.linear.Identity';
      if (typeof act !== 'string' || !IDENTITY_ACTIVATIONS.has(act)) {
        throw new Error(`${file}: activation_function ${JSON.stringify(act)} is not supported (only Identity: the projection is linear)`);
      }
      info.dense = {
        dir: mdir,
        inFeatures: intField(cfg, 'in_features', file),
        outFeatures: intField(cfg, 'out_features', file),
        bias: cfg.bias !== false,
      };
    } else if (type === ST_NORMALIZE) {
      // The losses and the evaluation L2-normalise embeddings themselves.
    } else {
      throw new Error(
        `${modulesPath}: module type ${JSON.stringify(type)} is not supported (supported: Transformer, Pooling, Dense, Normalize)`,
      );
    }
  });
  return info;
}

function readMaxSeq(file: string): number | undefined {
  const v = readJson(file).max_seq_length;
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new Error(`${file}: "max_seq_length" must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * The width of the embeddings the folder's model puts out: a Dense projection's out_features, else the
 * transformer's hidden_size (d_model in other model families). Undefined when the folder cannot be read
 * that far: the loader then says why.
 */
export function modelFolderWidth(dir: string): number | undefined {
  try {
    const layout = readModelFolderLayout(dir);
    if (layout.dense) return layout.dense.outFeatures;
    const cfg = readJson(join(layout.modelDir, 'config.json'));
    const width = cfg.hidden_size ?? cfg.d_model;
    return typeof width === 'number' ? width : undefined;
  } catch {
    return undefined;
  }
}
