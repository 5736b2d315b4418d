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
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { RunConfig, SweepConfig } from '../protocol/runConfig';
import { applyDerivedDefaults } from './defaults';
import { validateSweep, type SweepRun } from './sweepValidation';
import { engineProblems } from './engineChecks';
import { lossColumnRange, lossConfigProblems, lossDims, lossNeedsLabels, lossTerms, modelWidth, pointerPath } from './lossConfig';
import { keepBestProblems } from './keepBest';
import { dataSourceProblems, modelFolderProblems } from './namedFiles';
import { nearest, schemaProblems, schemaValidator } from './schemaErrors';
import { resolveRunConfig, type ResolvedRunConfig } from './resolve';

// Re-exported: the config layer's callers (quick fixes, tests) take them from here.
export { editDistance, escapePointer, nearest } from './schemaErrors';
export { BUILTIN_SOURCES } from './namedFiles';

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
  /** What holds but means something else on the chosen engine (keyword ENGINE_NOTE), and a swept field
   *  that cannot change what is trained (keyword SWEEP_NO_EFFECT); never blocks a run. */
  warnings: ConfigError[];
}

export interface ValidateOptions {
  /** Folder that relative paths resolve against; default: the config file's folder. */
  baseDir?: string;
  /** Check that data files / model folders exist (default true). */
  checkFiles?: boolean;
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
    const folder = modelFolderProblems(config.model, config.engine, baseDir, checkFiles);
    errors.push(...folder.errors);
    width = folder.width;
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
  const sources = dataSourceProblems(config.data, baseDir, checkFiles);
  for (const split of ['train', 'eval'] as const) {
    const src = config.data[split];
    if (!src) continue;
    const at = `/data/${split}`;
    errors.push(...sources.filter((p) => p.path === `${at}/source`));
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
  const validate = schemaValidator();
  const valid = validate(data);
  const schemaErrors: ConfigError[] = valid ? [] : schemaProblems(validate.errors ?? []);
  const baseDir = opts.baseDir ?? dirname(resolve(file));
  const checkFiles = opts.checkFiles ?? true;
  const rawSweep = isObject(json) ? json.sweep : undefined;
  if (rawSweep !== undefined) {
    if (isObject(data) && data.engine === 'sentence-transformers') {
      // The sweep queue launches the bundled trainer per combination; the Python engine has no such path yet.
      const engine = {
        path: '/sweep',
        keyword: 'engine',
        message:
          'a sweep runs on the bundled engine only: with "engine": "sentence-transformers", write one config per combination (or drop "sweep")',
      };
      return { errors: [engine, ...schemaErrors.filter((e) => !isUnder(e.path, '/sweep'))], warnings: [] };
    }
    const one = (c: unknown) => validateRunConfig(c, file, opts);
    if (schemaErrors.some((e) => isUnder(e.path, '/sweep'))) {
      // The sweep itself is malformed: its own errors, and those of the config it would sweep.
      const base = one(withoutSweep(json));
      return { errors: [...schemaErrors.filter((e) => isUnder(e.path, '/sweep')), ...base.errors], warnings: base.warnings };
    }
    const s = validateSweep(json, data as RunConfig & { sweep: SweepConfig }, { validate: one, suggest: nearest });
    // The engine's notes are those of the config without its sweep.
    const warnings = s.warnings ?? [];
    return s.base
      ? { config: { ...s.base.config, sweep: (data as RunConfig).sweep }, resolved: s.base, sweepRuns: s.runs, errors: [], warnings }
      : { errors: s.errors, warnings };
  }
  if (!valid) {
    // The checks that hold whatever the rest says (the files it names) still run: every problem at once.
    const model = isObject(data) ? modelFolderProblems(data.model, data.engine, baseDir, checkFiles).errors : [];
    const sources = isObject(data) ? dataSourceProblems(data.data, baseDir, checkFiles) : [];
    // Not where the schema found the value itself or a field around it wrong (a model with both "scratch"
    // and "pretrained"): that problem comes first.
    const independent = [...model, ...sources].filter((e) => !schemaErrors.some((s) => isUnder(e.path, s.path)));
    return { errors: [...schemaErrors, ...independent], warnings: [] };
  }
  const dimsGiven = (data as RunConfig).evaluation.dims.length > 0;
  const config = applyDerivedDefaults(data as RunConfig);
  const { errors, width } = semanticErrors(config, baseDir, checkFiles, dimsGiven);
  const engine = engineProblems(config, json, baseDir, checkFiles);
  errors.push(...engine.errors);
  return errors.length
    ? { errors, warnings: engine.warnings }
    : { config, resolved: resolveRunConfig(config, baseDir, width), errors, warnings: engine.warnings };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isUnder = (path: string, at: string) => path === at || path.startsWith(at + '/');
function withoutSweep(x: unknown): Record<string, unknown> {
  const o = { ...(x as Record<string, unknown>) };
  delete o.sweep;
  return o;
}

/** `file: /training/batchSize: expected integer, got "x"`, one line per error. */
export function formatConfigErrors(file: string, errors: ConfigError[]): string {
  return errors.map((e) => `${file}: ${e.path || '/'}: ${e.message}`).join('\n');
}
