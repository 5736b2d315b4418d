/**
 * The schema pass of config validation: ajv on schemas/run-config.schema.json, and its errors in our
 * words (JSON pointer, what was expected, did-you-mean). VS Code's JSON language service validates the
 * same file (contributes.jsonValidation) with its own messages, so the schema is written for both: a
 * loss is one object whose `type` is a plain enum and whose parameters per type come from `if`/`then`
 * (a oneOf of per-type objects made the language service answer a misspelt type with the one branch it
 * judged closest: `Value must be "CachedMultipleNegativesRankingLoss"`). No vscode, no tfjs.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import schema from '../../schemas/run-config.schema.json';
import { BASE_LOSS_TYPES } from './lossConfig';

/** One problem of a config (see validate.ts). */
export interface SchemaProblem {
  path: string;
  message: string;
  keyword?: string;
  fromSchema?: boolean;
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;
export function schemaValidator(): ReturnType<Ajv2020['compile']> {
  if (!compiled) {
    // strictRequired off: an `if`'s `required: ["type"]` names a property defined beside it, not in it.
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false });
    // VS Code's own keywords (its JSON language service reads them for completion and messages): annotations here.
    ajv.addVocabulary(['doNotSuggest', 'errorMessage', 'enumDescriptions', 'markdownEnumDescriptions']);
    compiled = ajv.compile(schema);
  }
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

/** Capitals and digits of a name: "CachedMultipleNegativesRankingLoss" → "CMNRL", "CachedMNRL" → "CMNRL". */
const initials = (s: string) => s.replace(/[^A-Z0-9]/g, '');

/**
 * The loss type a misspelt one most likely means: a near spelling, else the one name whose capitals it
 * spells (the abbreviations people write: "MNRL", "CachedMNRL", "CMNSRL").
 */
export function suggestLossType(word: string, allowed: readonly string[]): string | undefined {
  const near = nearest(word, allowed);
  if (near) return near;
  const want = initials(word);
  const hits = want.length >= 3 ? allowed.filter((t) => initials(t) === want || initials(t) === want + 'L') : [];
  return hits.length === 1 ? hits[0] : undefined;
}

export const ALL_LOSS_TYPES: readonly string[] = ['MatryoshkaLoss', ...BASE_LOSS_TYPES];

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '…' : s;
}

type Defs = Record<string, { properties?: Record<string, unknown> }>;
const defs = schema.$defs as unknown as Defs;

/** The parameters a loss type takes (its schema's properties, "type" aside), or undefined for an unknown type. */
export function lossParameters(type: unknown): string[] | undefined {
  return typeof type === 'string' && ALL_LOSS_TYPES.includes(type) ? Object.keys(defs[type]?.properties ?? {}) : undefined;
}

const quoted = (keys: readonly string[]) => keys.map((k) => `"${k}"`).join(', ');

/** `"miniBatchSize" is not a parameter of MultipleNegativesRankingLoss …`: a key another loss type takes. */
function notAParameterOf(type: string, key: string): string {
  const own = lossParameters(type) ?? [];
  const takers = ALL_LOSS_TYPES.filter((t) => lossParameters(t)?.includes(key));
  const hint =
    type === 'MatryoshkaLoss' && takers.some((t) => t !== 'MatryoshkaLoss')
      ? `; a parameter of the wrapped loss goes inside "loss"`
      : takers.length
        ? `; ${takers.join(', ')} take${takers.length === 1 ? 's' : ''} it`
        : '';
  return `"${key}" is not a parameter of ${type}, which takes ${own.length ? quoted(own) : 'none'}${hint}`;
}

// The schemas behind an error, by identity (ajv's schemaPath is relative to the $ref it was compiled in).
type LossObjectSchema = { properties: { type: unknown }; propertyNames?: unknown };
const lossObjects = [defs.baseLoss, defs.singleLoss] as unknown as LossObjectSchema[];
const isLossObject = (s: unknown) => lossObjects.includes(s as LossObjectSchema);
const isLossTypeSchema = (s: unknown) => lossObjects.some((o) => o.properties.type === s);
/** The loss type whose propertyNames schema this is. */
const propertyNamesOf = (s: unknown) => ALL_LOSS_TYPES.find((t) => (defs[t] as LossObjectSchema | undefined)?.propertyNames === s);

function toProblem(e: ErrorObject): SchemaProblem | undefined {
  const path = e.instancePath;
  switch (e.keyword) {
    case 'if':
    case 'propertyNames':
      return undefined; // the then-branch's errors, or the property name's own (below), say what is wrong
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      // Inside a loss, what is allowed is what its type takes, not every loss' parameters.
      const type = (e.data as { type?: unknown } | undefined)?.type;
      const own = isLossObject(e.parentSchema) ? lossParameters(type) : undefined;
      const allowed = own ? ['type', ...own] : Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const guess = nearest(key, allowed);
      return {
        path: `${path}/${escapePointer(key)}`,
        keyword: e.keyword,
        message: `unknown key "${key}"` + (guess ? `; did you mean "${guess}"?` : '.') + ` Allowed here: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path, keyword: e.keyword, message: `missing required key "${missing}"` };
    }
    case 'enum': {
      const ofType = propertyNamesOf(e.parentSchema);
      if (ofType && e.propertyName !== undefined)
        return {
          path: `${path}/${escapePointer(e.propertyName)}`,
          keyword: 'propertyNames',
          message: notAParameterOf(ofType, e.propertyName),
        };
      if (isLossTypeSchema(e.parentSchema)) {
        const allowed = (e.params as { allowedValues: string[] }).allowedValues;
        if (e.data === 'MatryoshkaLoss')
          return {
            path,
            keyword: e.keyword,
            message: `MatryoshkaLoss cannot wrap another MatryoshkaLoss. Expected one of: ${allowed.join(', ')}`,
          };
        const guess = typeof e.data === 'string' ? suggestLossType(e.data, allowed) : undefined;
        return {
          path,
          keyword: e.keyword,
          message:
            `unknown loss type ${describe(e.data)}` +
            (guess ? `; did you mean "${guess}"?` : '.') +
            ` Expected one of: ${allowed.join(', ')}`,
        };
      }
      return {
        path,
        keyword: e.keyword,
        message: `expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => describe(v)).join(', ')}, got ${describe(e.data)}`,
      };
    }
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
 * ajv's errors as problems, each once. A key that no loss type takes is reported by the loss object's
 * `additionalProperties` and again by its type's `propertyNames`: the first says it (with did-you-mean).
 */
export function schemaProblems(errors: readonly ErrorObject[]): SchemaProblem[] {
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const e of errors) {
    const p = toProblem(e);
    if (!p) continue;
    p.fromSchema = true;
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  const unknown = new Set(out.filter((p) => p.keyword === 'additionalProperties').map((p) => p.path));
  return out.filter((p) => p.keyword !== 'propertyNames' || !unknown.has(p.path));
}
