/**
 * The checks and notes that depend on `engine` (no vscode, no tfjs). The bundled trainer and
 * sentence-transformers read one config; where a field cannot apply to an engine it is an error, and
 * where the two engines give a field a different meaning the config gets a warning that says how
 * (keyword ENGINE_NOTE), so that "same config" never silently means "different experiment".
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { RunConfig } from '../protocol/runConfig';
import { lossTerms } from './lossConfig';

/** The keyword of an engine warning (a diagnostic of severity warning, never an error). */
export const ENGINE_NOTE = 'engineNote';

export interface EngineProblem {
  path: string;
  message: string;
  keyword: string;
}

/** `org/name` or `name` as the Hugging Face Hub spells model ids (no path separators beyond the one). */
export function isHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..') && !/\.(json|safetensors|bin)$/.test(s);
}

/** Where a model the config names is: a local folder (absolute path), or a Hugging Face Hub id. */
export type ModelLocation = { kind: 'folder'; dir: string } | { kind: 'hub'; id: string };

/** A local model folder, else (engine sentence-transformers) a Hub id; relative paths against `baseDir`. */
export function pretrainedLocation(path: string, baseDir: string): ModelLocation {
  const dir = isAbsolute(path) ? path : resolve(baseDir, path);
  if (existsSync(dir) || !isHubId(path) || path.startsWith('.')) return { kind: 'folder', dir };
  return { kind: 'hub', id: path };
}

/** config.json of a folder says the encoder is pre-LN (saved by the bundled trainer with layerNorm "pre"). */
function isPreLnFolder(dir: string): boolean {
  try {
    const cfg = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    return cfg.mrl_layer_norm === 'pre';
  } catch {
    return false;
  }
}

const IN_BATCH_NEGATIVES = /MultipleNegatives|GISTEmbed/;

/**
 * Engine errors and warnings of a config that passed the schema. `raw` is the config as written (before
 * defaults), to tell a field the user set from a default.
 */
export function engineProblems(
  config: RunConfig,
  raw: unknown,
  baseDir: string,
  checkFiles: boolean,
): { errors: EngineProblem[]; warnings: EngineProblem[] } {
  const errors: EngineProblem[] = [];
  const warnings: EngineProblem[] = [];
  const given = (o: unknown, key: string) => typeof o === 'object' && o !== null && key in o;
  const note = (path: string, message: string) => warnings.push({ path, message, keyword: ENGINE_NOTE });

  if (config.engine !== 'sentence-transformers') {
    if (config.devices > 1)
      errors.push({
        path: '/devices',
        keyword: 'engine',
        message: `devices ${config.devices} needs "engine": "sentence-transformers" (the bundled trainer runs one process; its worker threads are a CLI flag)`,
      });
    return { errors, warnings };
  }

  if ('scratch' in config.model) {
    errors.push({
      path: '/model/scratch',
      keyword: 'engine',
      message:
        'engine "sentence-transformers" fine-tunes a pretrained model: use {"pretrained": {"path": "<local folder or Hugging Face Hub id>"}} (a folder the bundled trainer saved works too)',
    });
  } else {
    const loc = pretrainedLocation(config.model.pretrained.path, baseDir);
    if (loc.kind === 'folder' && checkFiles && existsSync(loc.dir) && statSync(loc.dir).isDirectory() && isPreLnFolder(loc.dir)) {
      errors.push({
        path: '/model/pretrained/path',
        keyword: 'engine',
        message: `${loc.dir} is a pre-LayerNorm encoder (layerNorm "pre"): transformers has no BERT that runs it, so sentence-transformers cannot train it. Train it with the bundled engine, or train a post-LN model`,
      });
    }
  }
  for (const { base, basePath } of lossTerms(config.loss)) {
    if ((base.type === 'GISTEmbedLoss' || base.type === 'CachedGISTEmbedLoss') && base.guide !== 'self') {
      const g = isAbsolute(base.guide) ? base.guide : resolve(baseDir, base.guide);
      if (checkFiles && isPreLnFolder(g))
        errors.push({
          path: '/loss/' + [...basePath, 'guide'].join('/'),
          keyword: 'engine',
          message: `${g} is a pre-LayerNorm encoder, which sentence-transformers cannot load faithfully`,
        });
    }
  }

  if (config.training.keepBest)
    errors.push({
      path: '/training/keepBest',
      keyword: 'engine',
      message:
        'keepBest runs on the bundled engine only: sentence-transformers writes its own checkpoint-<step>/ folders, which Export Model and resume do not read as best checkpoints (its load_best_model_at_end keeps one metric at one dim). Drop "keepBest", or train with the bundled engine',
    });

  const r = raw as Record<string, unknown> | undefined;
  if (given(r, 'backend') && config.backend !== 'auto')
    note(
      '/backend',
      `engine "sentence-transformers" ignores backend "${config.backend}": PyTorch trains on CUDA, MPS or the CPU, whichever it finds`,
    );
  if (given(r, 'seed'))
    note(
      '/seed',
      "with sentence-transformers the seed fixes the data split, eval set and data order (this extension exports train.jsonl in the seed's order) and PyTorch's generators: runs repeat on the same machine and versions, but the numbers differ from the bundled trainer's for the same seed",
    );
  if (Array.isArray(config.loss) && config.loss.length > 1 && lossTerms(config.loss).some((t) => t.base.type.startsWith('Cached'))) {
    note(
      '/loss',
      'with sentence-transformers each term of a weighted sum embeds the batch itself (GradCache per cached term, not once for the sum): the same loss and gradients, with one encoder pass per term',
    );
  }
  if (config.devices > 1) {
    if (config.training.batchSize % config.devices !== 0) {
      errors.push({
        path: '/training/batchSize',
        keyword: 'engine',
        message: `batchSize ${config.training.batchSize} must be a multiple of devices ${config.devices} (each process takes batchSize / devices rows)`,
      });
    } else {
      const gathered = lossTerms(config.loss).some((t) => IN_BATCH_NEGATIVES.test(t.base.type));
      note(
        '/devices',
        `each of the ${config.devices} processes embeds batchSize / ${config.devices} = ${config.training.batchSize / config.devices} rows` +
          (gathered
            ? '; in-batch negatives are gathered from all of them (gather_across_devices), so a step still ranks against the whole batch'
            : ''),
      );
    }
  }
  return { errors, warnings };
}
