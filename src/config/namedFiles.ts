/**
 * The checks of the files a config names — its data sources and its pretrained model folder. They hold
 * whatever the rest of the config says, so they also run on a config that failed the schema (validate.ts:
 * every problem of a config in one pass, a missing data file beside a misspelt loss type). So they read
 * unvalidated JSON defensively: a field of the wrong type is the schema's to report, skipped here.
 * No vscode, no tfjs.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pretrainedLocation } from './engineChecks';
import { modelFolderWidth } from './modelFolder';
import { describe, nearest, type SchemaProblem } from './schemaErrors';

export const BUILTIN_SOURCES = ['builtin:wordnet'] as const;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The file sources' problems: an unknown builtin, a file type we do not read, a file that is not there. */
export function dataSourceProblems(data: unknown, baseDir: string, checkFiles: boolean): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  if (!isObj(data)) return out;
  for (const split of ['train', 'eval'] as const) {
    const src = isObj(data[split]) ? data[split].source : undefined;
    if (typeof src !== 'string' || src === '') continue;
    const at = `/data/${split}/source`;
    if (src.startsWith('builtin:')) {
      if (!(BUILTIN_SOURCES as readonly string[]).includes(src)) {
        const guess = nearest(src, BUILTIN_SOURCES);
        out.push({
          path: at,
          keyword: 'builtin',
          message:
            `unknown builtin data set ${describe(src)}` +
            (guess ? `; did you mean "${guess}"?` : '.') +
            ` Available: ${BUILTIN_SOURCES.join(', ')}`,
        });
      }
    } else if (!/\.(jsonl|ndjson|csv|tsv|tab)$/i.test(src)) {
      out.push({
        path: at,
        keyword: 'fileType',
        message: `expected a .jsonl, .csv or .tsv file, or "builtin:wordnet", got ${describe(src)}`,
      });
    } else if (checkFiles) {
      const abs = isAbsolute(src) ? src : resolve(baseDir, src);
      if (!existsSync(abs)) out.push({ path: at, keyword: 'missingFile', message: `data file not found: ${abs}` });
    }
  }
  return out;
}

/**
 * A pretrained model folder's problems, and the model's width as far as the folder tells it (undefined for
 * a scratch model, a Hub id, an unchecked or missing folder).
 */
export function modelFolderProblems(
  model: unknown,
  engine: unknown,
  baseDir: string,
  checkFiles: boolean,
): { errors: SchemaProblem[]; width: number | undefined } {
  const errors: SchemaProblem[] = [];
  const path = isObj(model) && isObj(model.pretrained) ? model.pretrained.path : undefined;
  if (typeof path !== 'string' || path === '' || !checkFiles) return { errors, width: undefined };
  // sentence-transformers also takes a Hugging Face Hub id (downloaded by the script): nothing to check here.
  const loc =
    engine === 'sentence-transformers'
      ? pretrainedLocation(path, baseDir)
      : { kind: 'folder' as const, dir: isAbsolute(path) ? path : resolve(baseDir, path) };
  if (loc.kind !== 'folder') return { errors, width: undefined };
  const dir = loc.dir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    errors.push({ path: '/model/pretrained/path', keyword: 'missingFile', message: `model folder not found: ${dir}` });
    return { errors, width: undefined };
  }
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
  return { errors, width: modelFolderWidth(dir) };
}
