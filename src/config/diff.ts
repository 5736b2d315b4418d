/**
 * Config diff: flatten two or more run configs to dotted paths and tell which keys differ.
 * Pure (no vscode, no Node): the webview's diff table and the extension host both use it.
 *
 * Paths: object keys joined by "." (`training.learningRate`), array items by index (`loss[0].weight`).
 * A key that is not a plain identifier is quoted (`data["a.b"]`) so that a path always reads back to one
 * place. Arrays of scalars stay one leaf (`loss.matryoshkaDims` = [768, 512, 256]): a dims list is one
 * setting to a reader, and diffing it item by item would show misleading "[3] added" rows.
 * Empty objects/arrays are leaves too, so `{}` vs missing still shows up.
 */

export type FlatConfig = Map<string, unknown>;

/** The key under which a run's provenance joins its config in a diff: `provenance.git.commit`, `provenance.data[0].sha256`. */
export const PROVENANCE_KEY = 'provenance';

/**
 * A run's config with where it came from (run.json `git` and `data`) under PROVENANCE_KEY, so that a diff
 * of two runs shows a different commit, an uncommitted change or a changed data file beside the settings.
 * A run config has no such key (the schema allows none), so nothing is hidden. Unchanged without either.
 */
export function withProvenance(config: Record<string, unknown>, run: { git?: unknown; data?: unknown }): Record<string, unknown> {
  const prov: Record<string, unknown> = {};
  if (run.git !== undefined) prov.git = run.git;
  if (run.data !== undefined) prov.data = run.data;
  return Object.keys(prov).length ? { ...config, [PROVENANCE_KEY]: prov } : config;
}

export interface ConfigDiffRow {
  path: string;
  /** One value per config, in input order; `undefined` = the key is absent from that config. */
  values: unknown[];
  /** Not every config has the same value (absent counts as a value of its own). */
  changed: boolean;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$@-]*$/;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isScalar(x: unknown): boolean {
  return x === null || (typeof x !== 'object' && typeof x !== 'function');
}

export function joinPath(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  const part = IDENT.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (prefix === '') return part;
  return part.startsWith('[') ? `${prefix}${part}` : `${prefix}.${part}`;
}

/** Flatten one config to path → leaf value, in the config's own key order. */
export function flattenConfig(config: unknown, prefix = '', out: FlatConfig = new Map()): FlatConfig {
  if (isPlainObject(config)) {
    const keys = Object.keys(config);
    if (keys.length === 0 && prefix !== '') out.set(prefix, {});
    for (const k of keys) flattenConfig(config[k], joinPath(prefix, k), out);
  } else if (Array.isArray(config)) {
    if (config.length === 0 || config.every(isScalar)) {
      if (prefix !== '') out.set(prefix, config);
    } else {
      config.forEach((item, i) => flattenConfig(item, joinPath(prefix, i), out));
    }
  } else if (prefix !== '') {
    out.set(prefix, config);
  }
  return out;
}

/** Structural equality of leaf values (scalars, scalar arrays, empty containers). */
export function leafEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Diff N ≥ 1 configs. Rows in order of first appearance (first config's order, then keys only later
 * configs have). `all: false` (default) keeps only changed rows.
 */
export function diffConfigs(configs: readonly unknown[], opts: { all?: boolean } = {}): ConfigDiffRow[] {
  const flats = configs.map((c) => flattenConfig(c));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flats) {
    for (const p of f.keys()) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  const rows: ConfigDiffRow[] = [];
  for (const path of paths) {
    const values = flats.map((f) => (f.has(path) ? f.get(path) : undefined));
    const changed = values.some((v) => !leafEqual(v, values[0]));
    if (changed || opts.all) rows.push({ path, values, changed });
  }
  return rows;
}

/** The paths whose values differ between two configs (a key present in only one counts). */
export function changedKeys(a: unknown, b: unknown): string[] {
  return diffConfigs([a, b]).map((r) => r.path);
}

/** A leaf value as the table shows it: strings quoted only when they would read as something else. */
export function formatConfigValue(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') {
    return v === '' || /^(true|false|null|-?\d)/.test(v) || v.trim() !== v ? JSON.stringify(v) : v;
  }
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ')}]`;
  if (isPlainObject(v)) return '{}';
  return String(v);
}
