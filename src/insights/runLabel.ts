/**
 * What a run is called in the runs view, the panel's table and legends, the diff editor's title and the
 * Compare table: runs that share a name (a sweep's runs all carry their config's name; a config run again
 * after an edit keeps it) lead with what differs between them — the swept values, then the config keys
 * whose values differ — and end with the shared name: `lr=3e-4 seed=2 · my-sweep`. The differing part
 * comes first because a narrow sidebar or column cuts the end of a label. The user's display name
 * (notes.json) wins over all of it. Pure: the host's tree and the webview share it.
 */
import type { RunNotes } from '../protocol/runFolder';

/** What a label is made from: run.json's name and sweep, notes.json, config.json (when known). */
export interface LabelRun {
  id?: string;
  name: string;
  notes?: RunNotes;
  /** run.json `sweep`: its `params` (dotted path → value) are the run's swept values. */
  sweep?: unknown;
  config?: Record<string, unknown> | null;
}

/** Keys shown before the rest is counted (`+2`): a label stays a label, the diff table has the detail. */
export const MAX_LABEL_KEYS = 3;

/** Config keys that never tell runs apart: the name is the shared part, the sweep block is its source. */
const IGNORED = /^(name|\$schema|sweep)(\.|\[|$)/;

/** Names everyone in the field shortens; other keys show their last path segment. */
const SHORT: Record<string, string> = { learningRate: 'lr', weightDecay: 'wd', miniBatchSize: 'miniBatch', batchSize: 'batch' };

/** A config's leaves: dotted path → value, and → what compares equal when the values are equal (scalars
 *  themselves, lists and empty objects as their JSON, computed once). */
interface Flat {
  values: Map<string, unknown>;
  same: Map<string, unknown>;
}

const flatCache = new WeakMap<object, Flat>();

/** config → dotted path → leaf (arrays of scalars are one leaf, as the config diff has them). Cached per
 *  config object: a run's config never changes, and the panel relabels its list when runs come and go. */
function flatten(config: Record<string, unknown>): Flat {
  let out = flatCache.get(config);
  if (out) return out;
  const values = new Map<string, unknown>();
  const same = new Map<string, unknown>();
  const leaf = (path: string, x: unknown) => {
    values.set(path, x);
    same.set(path, x !== null && typeof x === 'object' ? `\u0000${JSON.stringify(x)}` : x);
  };
  const walk = (x: unknown, path: string) => {
    if (Array.isArray(x)) {
      if (x.length === 0 || x.every((v) => v === null || typeof v !== 'object')) leaf(path, x);
      else x.forEach((v, i) => walk(v, `${path}[${i}]`));
    } else if (x !== null && typeof x === 'object') {
      const keys = Object.keys(x);
      if (keys.length === 0 && path) leaf(path, x);
      for (const k of keys) walk((x as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else if (path) leaf(path, x);
  };
  walk(config, '');
  flatCache.set(config, (out = { values, same }));
  return out;
}

function sweepParams(sweep: unknown): Record<string, unknown> | undefined {
  const p = (sweep as { params?: unknown } | undefined)?.params;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
}

/** A value as short as it reads: 0.0003 → 3e-4, 0.05, 64, "mean"; paths by their file name. */
export function formatLabelValue(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Number.isInteger(v)) return Math.abs(v) >= 1e6 ? expo(v) : String(v);
    const a = Math.abs(v);
    return a < 1e-2 || a >= 1e6 ? expo(v) : String(Number(v.toPrecision(3)));
  }
  if (typeof v === 'string') return clip(v.includes('/') ? v.slice(v.lastIndexOf('/') + 1) || v : v, 20);
  if (v === undefined) return '—';
  return clip(JSON.stringify(v), 20);
}

/** 0.0003 → "3e-4", 0.00125 → "1.25e-3" (no "+", no trailing zeros). */
function expo(v: number): string {
  const [m, e] = v.toExponential(2).split('e');
  return `${Number(m)}e${Number(e)}`;
}

function clip(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** Short names for a set of dotted paths: the last segment (SHORT applied), longer where two would clash. */
function shortNames(paths: readonly string[]): Map<string, string> {
  const name = (p: string, segs: number) => {
    const parts = p.split('.');
    const tail = parts.slice(-segs);
    if (segs === 1) tail[0] = SHORT[tail[0]] ?? tail[0];
    return tail.join('.');
  };
  const out = new Map<string, string>();
  for (const p of paths) {
    let segs = 1;
    while (segs < p.split('.').length && paths.some((q) => q !== p && name(q, segs) === name(p, segs))) segs++;
    out.set(p, name(p, segs));
  }
  return out;
}

/**
 * The keys that tell a group of same-named runs apart: every swept key (sweep params, in their order),
 * then the config keys whose values are not the same in all the runs that have a config (a key absent
 * from one of them counts as differing).
 */
export function differingKeys(runs: readonly LabelRun[]): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  const add = (k: string) => {
    if (!seen.has(k) && !IGNORED.test(k)) {
      seen.add(k);
      keys.push(k);
    }
  };
  for (const r of runs) for (const k of Object.keys(sweepParams(r.sweep) ?? {})) add(k);
  const flats = runs.filter((r) => r.config && typeof r.config === 'object').map((r) => flatten(r.config!).same);
  if (flats.length < 2) return keys;
  // A key differs when some config lacks it or holds another value than the first config that has it.
  const first = new Map<string, unknown>();
  const differs = new Set<string>();
  for (const f of flats) {
    for (const [k, v] of f) {
      if (!first.has(k)) first.set(k, v);
      else if (first.get(k) !== v) differs.add(k);
    }
  }
  for (const f of flats) if (f.size !== first.size) for (const k of first.keys()) if (!f.has(k)) differs.add(k);
  // In the order the keys first appear (the configs' own order).
  for (const k of first.keys()) if (differs.has(k)) add(k);
  return keys;
}

/** A run's value for a key: its config's, else its swept value; undefined when it has neither. */
function valueOf(r: LabelRun, key: string): { has: boolean; v: unknown } {
  if (r.config && typeof r.config === 'object') {
    const f = flatten(r.config).values;
    if (f.has(key)) return { has: true, v: f.get(key) };
  }
  const p = sweepParams(r.sweep);
  return p && key in p ? { has: true, v: p[key] } : { has: false, v: undefined };
}

/**
 * One label per run, in input order: `lr=3e-4 seed=2 · my-sweep` for runs that share their name with
 * another run of the set or that belong to a sweep, the name alone otherwise, the display name when the
 * user gave one. The set decides what differs: the runs listed (tree, table) or the runs compared (diff).
 */
export function distinctRunLabels(runs: readonly LabelRun[], maxKeys = MAX_LABEL_KEYS): string[] {
  const base = (r: LabelRun) => r.name || r.id || '';
  const groups = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const b = base(r);
    let g = groups.get(b);
    if (!g) groups.set(b, (g = []));
    g.push(i);
  });
  const out: string[] = new Array(runs.length);
  for (const [name, members] of groups) {
    const group = members.map((i) => runs[i]);
    const keys = group.length > 1 || sweepParams(group[0].sweep) ? differingKeys(group) : [];
    const short = shortNames(keys);
    members.forEach((i) => {
      const r = runs[i];
      const shown = r.notes?.displayName?.trim();
      if (shown) return void (out[i] = shown);
      const parts: string[] = [];
      for (const k of keys) {
        const { has, v } = valueOf(r, k);
        if (has) parts.push(`${short.get(k)}=${formatLabelValue(v)}`);
      }
      const more = parts.length - maxKeys;
      const text = more > 0 ? `${parts.slice(0, maxKeys).join(' ')} +${more}` : parts.join(' ');
      out[i] = text ? `${text} · ${name}` : name;
    });
  }
  return out;
}

/** One run's label on its own (no set to compare with): the display name, else swept values and name. */
export function runDisplayName(r: LabelRun): string {
  return distinctRunLabels([r])[0];
}
