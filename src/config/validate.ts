/**
 * Run config validation: ajv against schemas/run-config.schema.json (the same file VS Code uses for
 * completion), defaults filled in, then the checks a schema cannot express (a Matryoshka dim wider than
 * the model, a data file that does not exist, columns the loss cannot use). A config that passes comes
 * back resolved as well (resolve.ts): the form the trainer and the engines take, checked once, here.
 *
 * No vscode and no tfjs here: the extension host reuses this module for diagnostics before a launch, and
 * the trainer runs it before doing anything. Errors carry a JSON pointer (`/training/batchSize`), so the
 * host can map them to ranges; several errors are reported at once, not only the first.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import schema from '../../schemas/run-config.schema.json';
import type { RunConfig, SweepConfig } from '../protocol/runConfig';
import { applyDerivedDefaults } from './defaults';
import { validateSweep, type SweepRun } from './sweepValidation';
import { engineProblems, pretrainedLocation } from './engineChecks';
import {
  BASE_LOSS_TYPES,
  lossColumnRange,
  lossConfigProblems,
  lossDims,
  lossNeedsLabels,
  lossTerms,
  modelWidth,
  pointerPath,
} from './lossConfig';
import { keepBestProblems } from './keepBest';
import { modelFolderWidth } from './modelFolder';
import { resolveRunConfig, type ResolvedRunConfig } from './resolve';

export interface ConfigError {
  /** JSON pointer of the offending value ("/training/batchSize"; for an unknown key, the key itself). */
  path: string;
  message: string;
  /** The JSON Schema keyword that failed, or a name for semantic checks ("dimTooLarge", "missingFile"). */
  keyword?: string;
  /** Found by the JSON Schema (ajv) — what any schema validator finds too — not by a semantic check. */
  fromSchema?: boolean;
}

export interface ValidationResult {
  /** The config with defaults filled in; absent when there is any error. A sweep config: the config
   *  without its sweep, defaults filled, with `sweep` (defaults filled) added back. */
  config?: RunConfig;
  /** Present exactly when `config` is: the config resolved (resolve.ts); a sweep config's is that of the
   *  config without its sweep. */
  resolved?: ResolvedRunConfig;
  /** A sweep config: every run it expands to, in order, each config resolved (and without `sweep`). */
  sweepRuns?: SweepRun[];
  errors: ConfigError[];
  /** What holds but means something else on the chosen engine (keyword ENGINE_NOTE); never blocks a run. */
  warnings: ConfigError[];
}

export interface ValidateOptions {
  /** Folder that relative paths resolve against; default: the config file's folder. */
  baseDir?: string;
  /** Check that data files / model folders exist (default true). */
  checkFiles?: boolean;
}

export const BUILTIN_SOURCES = ['builtin:wordnet'] as const;

let compiled: ReturnType<Ajv2020['compile']> | undefined;
function validator(): ReturnType<Ajv2020['compile']> {
  // strictRequired off: `required: ["type"]` beside a discriminator names a property defined in the branches.
  compiled ??= new Ajv2020({
    allErrors: true,
    useDefaults: true,
    discriminator: true,
    verbose: true,
    strict: true,
    strictRequired: false,
  }).compile(schema);
  return compiled;
}

export function escapePointer(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Edit distance, for "did you mean" on a misspelt key or loss type. */
export function editDistance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  let prev = Array.from({ length: bl.length + 1 }, (_, i) => i);
  for (let i = 1; i <= al.length; i++) {
    const cur = [i];
    for (let j = 1; j <= bl.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (al[i - 1] === bl[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[bl.length];
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // Only a plausible typo: a few edits, relative to the word's length.
  return best !== undefined && bestD <= Math.max(2, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

const ALL_LOSS_TYPES = ['MatryoshkaLoss', ...BASE_LOSS_TYPES];

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '…' : s;
}

function ajvToConfigError(e: ErrorObject): ConfigError | undefined {
  const path = e.instancePath;
  switch (e.keyword) {
    case 'if':
      return undefined; // the then/else branch's own errors say what is wrong
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const guess = nearest(key, allowed);
      return {
        path: `${path}/${escapePointer(key)}`,
        keyword: e.keyword,
        message: `unknown key "${key}"` + (guess ? `; did you mean "${guess}"?` : '.') + ` Allowed here: ${allowed.join(', ')}`,
      };
    }
    case 'discriminator': {
      const p = e.params as { tag: string; tagValue: unknown; error: string };
      if (p.error === 'tag') return { path, keyword: e.keyword, message: `expected a "${p.tag}" string naming the loss` };
      // Inside MatryoshkaLoss (…/loss/loss) only base losses are allowed.
      const allowed = /\/loss\/loss$/.test(path) ? BASE_LOSS_TYPES : ALL_LOSS_TYPES;
      const guess = typeof p.tagValue === 'string' ? nearest(p.tagValue, allowed) : undefined;
      return {
        path: `${path}/${p.tag}`,
        keyword: e.keyword,
        message:
          (p.tagValue === 'MatryoshkaLoss'
            ? 'MatryoshkaLoss cannot wrap another MatryoshkaLoss.'
            : `unknown loss type ${describe(p.tagValue)}` + (guess ? `; did you mean "${guess}"?` : '.')) +
          ` Expected one of: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path, keyword: e.keyword, message: `missing required key "${missing}"` };
    }
    case 'enum':
      return {
        path,
        keyword: e.keyword,
        message: `expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => describe(v)).join(', ')}, got ${describe(e.data)}`,
      };
    case 'const':
      return {
        path,
        keyword: e.keyword,
        message: `expected ${describe((e.params as { allowedValue: unknown }).allowedValue)}, got ${describe(e.data)}`,
      };
    case 'type':
      return {
        path,
        keyword: e.keyword,
        message: `expected ${String((e.params as { type: string }).type).replace(',', ' or ')}, got ${describe(e.data)}`,
      };
    case 'minProperties':
    case 'maxProperties':
      if (path === '/model') return { path, keyword: e.keyword, message: 'expected exactly one of "scratch" or "pretrained"' };
      break;
  }
  return {
    path,
    keyword: e.keyword,
    message: `${e.message ?? 'invalid'}` + (e.data !== undefined && typeof e.data !== 'object' ? `, got ${describe(e.data)}` : ''),
  };
}

/**
 * The checks the schema cannot express; `config` has passed the schema (defaults filled). Also returns
 * the model's width as far as it is known (a scratch model's hidden size, a pretrained folder's output
 * width), which the resolved config builds on.
 */
function semanticErrors(
  config: RunConfig,
  baseDir: string,
  checkFiles: boolean,
  dimsGiven: boolean,
): { errors: ConfigError[]; width: number | undefined } {
  const errors: ConfigError[] = [];
  const resolvePath = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  let width: number | undefined;
  if ('scratch' in config.model) {
    const s = config.model.scratch;
    width = s.hiddenSize;
    if (s.hiddenSize % s.numHeads !== 0) {
      errors.push({
        path: '/model/scratch/numHeads',
        keyword: 'divisor',
        message: `numHeads ${s.numHeads} must divide hiddenSize ${s.hiddenSize}`,
      });
    }
  } else {
    // sentence-transformers also takes a Hugging Face Hub id (downloaded by the script): nothing to check here.
    const loc =
      config.engine === 'sentence-transformers'
        ? pretrainedLocation(config.model.pretrained.path, baseDir)
        : { kind: 'folder' as const, dir: resolvePath(config.model.pretrained.path) };
    const dir = loc.kind === 'folder' ? loc.dir : '';
    if (checkFiles && loc.kind === 'folder') {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        errors.push({ path: '/model/pretrained/path', keyword: 'missingFile', message: `model folder not found: ${dir}` });
      } else {
        // A sentence-transformers folder (modules.json) may keep the transformer in a sub-folder.
        if (!existsSync(resolve(dir, 'modules.json'))) {
          for (const f of ['config.json', 'model.safetensors']) {
            if (!existsSync(resolve(dir, f)))
              errors.push({
                path: '/model/pretrained/path',
                keyword: 'missingFile',
                message: `${dir} has no ${f} (a Hugging Face folder needs config.json, tokenizer.json, model.safetensors)`,
              });
          }
        }
        width = modelFolderWidth(dir);
      }
    }
  }

  // The loss tree's own checks (dims against the model's width, weights per dim, AnglE's even dims).
  for (const p of lossConfigProblems(config.loss, { maxDim: width, maxDimName: 'width', embeddingDim: modelWidth(config, width) })) {
    errors.push({ path: pointerPath('/loss', p.path), keyword: p.keyword, message: p.message });
  }
  for (const { base, basePath } of lossTerms(config.loss)) {
    if ((base.type === 'GISTEmbedLoss' || base.type === 'CachedGISTEmbedLoss') && base.guide !== 'self' && checkFiles) {
      const g = resolvePath(base.guide);
      if (!existsSync(resolve(g, 'config.json')))
        errors.push({
          path: pointerPath('/loss', [...basePath, 'guide']),
          keyword: 'missingFile',
          message: `guide model folder not found (no config.json in ${g}); use "self" for a frozen copy of the initial model`,
        });
    }
  }

  const maxDim = Math.max(...lossDims(config.loss, width ?? Infinity));
  const evalWidth = width ?? (Number.isFinite(maxDim) ? maxDim : undefined);
  if (evalWidth !== undefined) {
    // Derived eval dims (= the loss dims) already got their error on the loss.
    if (dimsGiven)
      config.evaluation.dims.forEach((d, i) => {
        if (d > evalWidth)
          errors.push({
            path: `/evaluation/dims/${i}`,
            keyword: 'dimTooLarge',
            message: `dim ${d} is larger than the model's width ${evalWidth}`,
          });
      });
    const f = config.evaluation.funnel;
    if (f) {
      for (const k of ['shortlistDim', 'rerankDim'] as const) {
        if (f[k] > evalWidth)
          errors.push({
            path: `/evaluation/funnel/${k}`,
            keyword: 'dimTooLarge',
            message: `dim ${f[k]} is larger than the model's width ${evalWidth}`,
          });
      }
    }
  }
  const f = config.evaluation.funnel;
  if (f && f.shortlistDim >= f.rerankDim) {
    errors.push({
      path: '/evaluation/funnel/shortlistDim',
      keyword: 'funnel',
      message: `the shortlist dim (${f.shortlistDim}) must be smaller than the re-rank dim (${f.rerankDim})`,
    });
  }
  errors.push(...keepBestProblems(config, nearest));
  // Quantised precisions are reported against float32 (quality as % of full-dim float32: src/insights/frontier.ts).
  const precisions = config.evaluation.precisions;
  if (precisions && !precisions.includes('float32')) {
    errors.push({
      path: '/evaluation/precisions',
      keyword: 'precisions',
      message: `expected a list that includes "float32" (the reference every int8 / binary result is compared with), got ${JSON.stringify(precisions)}`,
    });
  }
  if (config.training.maxSteps === 0) {
    errors.push({
      path: '/training/maxSteps',
      keyword: 'minimum',
      message: 'expected -1 (run the epochs) or a number of steps ≥ 1, got 0',
    });
  }

  const needsLabels = lossNeedsLabels(config.loss);
  const columns = lossColumnRange(config.loss);
  for (const split of ['train', 'eval'] as const) {
    const src = config.data[split];
    if (!src) continue;
    const at = `/data/${split}`;
    if (src.source.startsWith('builtin:')) {
      if (!(BUILTIN_SOURCES as readonly string[]).includes(src.source)) {
        const guess = nearest(src.source, BUILTIN_SOURCES);
        errors.push({
          path: `${at}/source`,
          keyword: 'builtin',
          message:
            `unknown builtin data set ${describe(src.source)}` +
            (guess ? `; did you mean "${guess}"?` : '.') +
            ` Available: ${BUILTIN_SOURCES.join(', ')}`,
        });
      }
    } else {
      if (!/\.(jsonl|ndjson|csv|tsv|tab)$/i.test(src.source)) {
        errors.push({
          path: `${at}/source`,
          keyword: 'fileType',
          message: `expected a .jsonl, .csv or .tsv file, or "builtin:wordnet", got ${describe(src.source)}`,
        });
      } else if (checkFiles && !existsSync(resolvePath(src.source))) {
        errors.push({ path: `${at}/source`, keyword: 'missingFile', message: `data file not found: ${resolvePath(src.source)}` });
      }
    }
    const cols = src.columns ?? [];
    if (needsLabels && cols.length !== 2) {
      errors.push({
        path: `${at}/columns`,
        keyword: 'columns',
        message: `CoSENTLoss / AnglELoss take exactly 2 text columns (a scored pair), got ${cols.length}`,
      });
    } else if (!needsLabels && cols.length < 2) {
      errors.push({
        path: `${at}/columns`,
        keyword: 'columns',
        message: `the ranking losses need at least 2 columns (anchor, positive, optional negatives), got ${cols.length}`,
      });
    } else if (!needsLabels && columns.maxBy && cols.length > columns.max) {
      errors.push({
        path: `${at}/columns`,
        keyword: 'columns',
        message: `${columns.maxBy} takes ${columns.min} to ${columns.max} columns, got ${cols.length} (${cols.join(', ')})`,
      });
    }
    if (needsLabels && !src.scoreColumn) {
      errors.push({ path: `${at}/scoreColumn`, keyword: 'required', message: 'CoSENTLoss / AnglELoss need a score column' });
    }
  }
  if (Array.isArray(config.loss)) {
    const kinds = new Set(config.loss.map((t) => lossNeedsLabels(t.loss)));
    if (kinds.size > 1) {
      errors.push({
        path: '/loss',
        keyword: 'mixedColumns',
        message:
          'a weighted sum runs every term on the same batch: mixing scored-pair losses (CoSENT, AnglE) with ranking losses is not supported',
      });
    }
  }
  return { errors, width };
}

/**
 * Validates a parsed run config against the schema (all errors, not only the first), fills defaults,
 * then runs the semantic checks. `file` names the config in nothing but relative-path resolution
 * (errors carry JSON pointers; the caller prefixes the file when printing, see formatConfigErrors).
 */
export function validateRunConfig(json: unknown, file: string, opts: ValidateOptions = {}): ValidationResult {
  // ajv fills defaults in place: work on a copy so the caller's value is untouched.
  const data: unknown = json === undefined ? undefined : structuredClone(json);
  const validate = validator();
  if (!validate(data)) {
    const seen = new Set<string>();
    const errors: ConfigError[] = [];
    for (const e of validate.errors ?? []) {
      const ce = ajvToConfigError(e);
      if (!ce) continue;
      ce.fromSchema = true;
      const k = `${ce.path}\u0000${ce.message}`;
      if (!seen.has(k)) {
        seen.add(k);
        errors.push(ce);
      }
    }
    return { errors, warnings: [] };
  }
  const sweep = (data as RunConfig).sweep;
  if (sweep && (data as RunConfig).engine === 'sentence-transformers') {
    // The sweep queue launches the bundled trainer per combination; the Python engine has no such path yet.
    return {
      errors: [
        {
          path: '/sweep',
          keyword: 'engine',
          message:
            'a sweep runs on the bundled engine only: with "engine": "sentence-transformers", write one config per combination (or drop "sweep")',
        },
      ],
      warnings: [],
    };
  }
  if (sweep) {
    const s = validateSweep(json, data as RunConfig & { sweep: SweepConfig }, {
      validate: (one) => validateRunConfig(one, file, opts),
      suggest: nearest,
    });
    // The engine's notes are those of the config without its sweep.
    const warnings = s.warnings ?? [];
    return s.base
      ? { config: { ...s.base.config, sweep }, resolved: s.base, sweepRuns: s.runs, errors: [], warnings }
      : { errors: s.errors, warnings };
  }
  const dimsGiven = (data as RunConfig).evaluation.dims.length > 0;
  const config = applyDerivedDefaults(data as RunConfig);
  const baseDir = opts.baseDir ?? dirname(resolve(file));
  const { errors, width } = semanticErrors(config, baseDir, opts.checkFiles ?? true, dimsGiven);
  const engine = engineProblems(config, json, baseDir, opts.checkFiles ?? true);
  errors.push(...engine.errors);
  return errors.length
    ? { errors, warnings: engine.warnings }
    : { config, resolved: resolveRunConfig(config, baseDir, width), errors, warnings: engine.warnings };
}

/** `file: /training/batchSize: expected integer, got "x"`, one line per error. */
export function formatConfigErrors(file: string, errors: ConfigError[]): string {
  return errors.map((e) => `${file}: ${e.path || '/'}: ${e.message}`).join('\n');
}
