/**
 * Quick fixes for config diagnostics, without VS Code: an unknown key → the nearest key the schema allows
 * at that place; a value outside an enum → the nearest allowed value. The schema is walked generically
 * ($ref, allOf/anyOf/oneOf, properties, items), so it keeps working as schemas/run-config.schema.json grows.
 */
import type { ConfigDiagnostic, Range } from './diagnostics';
import { pointerToSegments } from './diagnostics';
import { nearest, suggestLossType } from './schemaErrors';

type Schema = Record<string, unknown>;
const isObj = (x: unknown): x is Schema => typeof x === 'object' && x !== null && !Array.isArray(x);

function deref(root: Schema, s: unknown, seen = new Set<unknown>()): Schema[] {
  if (!isObj(s) || seen.has(s)) return [];
  seen.add(s);
  const out: Schema[] = [s];
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#')) {
    const target = pointerToSegments(s.$ref.slice(1)).reduce<unknown>((n, k) => (isObj(n) ? n[k] : undefined), root);
    out.push(...deref(root, target, seen));
  }
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const arr = s[k];
    if (Array.isArray(arr)) for (const b of arr) out.push(...deref(root, b, seen));
  }
  for (const k of ['then', 'else'] as const) if (isObj(s[k])) out.push(...deref(root, s[k], seen));
  return out;
}

/** All schemas that may apply at a pointer (a union across branches: good enough for suggestions). */
export function schemasAt(root: Schema, segs: readonly string[]): Schema[] {
  let cur = deref(root, root);
  for (const seg of segs) {
    const next: Schema[] = [];
    for (const s of cur) {
      if (isObj(s.properties) && seg in s.properties) next.push(...deref(root, s.properties[seg]));
      if (/^\d+$/.test(seg)) {
        if (Array.isArray(s.prefixItems) && s.prefixItems[Number(seg)]) next.push(...deref(root, s.prefixItems[Number(seg)]));
        if (isObj(s.items)) next.push(...deref(root, s.items));
      }
      if (isObj(s.additionalProperties)) next.push(...deref(root, s.additionalProperties));
    }
    cur = [...new Set(next)];
    if (!cur.length) break;
  }
  return cur;
}

export function allowedKeys(root: Schema, segs: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, segs)) if (isObj(s.properties)) for (const k of Object.keys(s.properties)) keys.add(k);
  return [...keys];
}

export function allowedValues(root: Schema, segs: readonly string[]): unknown[] {
  const vals: unknown[] = [];
  for (const s of schemasAt(root, segs)) {
    if (Array.isArray(s.enum)) vals.push(...s.enum);
    if ('const' in s) vals.push(s.const);
  }
  return [...new Set(vals)];
}

export interface QuickFix {
  title: string;
  range: Range;
  newText: string;
  /** Safe to apply without looking (the one obvious fix). */
  preferred: boolean;
}

export function quickFixesFor(d: ConfigDiagnostic, text: string, schema: Schema, offsetOf: (r: Range) => [number, number]): QuickFix[] {
  const segs = pointerToSegments(d.path);
  if (d.kind === 'unknownKey') {
    const key = d.key ?? segs[segs.length - 1];
    const parent = segs.slice(0, -1);
    const cands = allowedKeys(schema, parent);
    const best = nearest(key, cands);
    if (best) return [{ title: `Change "${key}" to "${best}"`, range: d.range, newText: JSON.stringify(best), preferred: true }];
    return [];
  }
  if (d.kind === 'enum') {
    const [s, e] = offsetOf(d.range);
    const raw = text.slice(s, e);
    let written: unknown;
    try {
      written = JSON.parse(raw);
    } catch {
      return [];
    }
    if (typeof written !== 'string') return [];
    const vals = allowedValues(schema, segs).filter((v): v is string => typeof v === 'string');
    // A loss type (the only "type" enum): also by the capitals an abbreviation spells ("CachedMNRL").
    const best = segs[segs.length - 1] === 'type' ? suggestLossType(written, vals) : nearest(written, vals);
    if (best) return [{ title: `Change "${written}" to "${best}"`, range: d.range, newText: JSON.stringify(best), preferred: true }];
  }
  return [];
}
