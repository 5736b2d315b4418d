/**
 * The one place the host calls the config validator (src/config/validate.ts: ajv with the schema, then
 * the checks a schema cannot express — the trainer runs the same function before it starts).
 */
import { parse, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ConfigError } from '../../config/diagnostics';
import { escapePointer, validateRunConfig } from '../../config/validate';
import { fieldPointer, parameterPointer, pathSegments, setAtPath } from '../../config/sweep';
import { isStrictlyInside } from '../../runs/runDir';
import type { SweepRunRef } from '../launch/launchTypes';

export interface TextValidation {
  /** The text as parsed (may be invalid). */
  parsed?: unknown;
  /** The resolved config (defaults filled in) when valid. */
  config?: Record<string, unknown>;
  /** A valid sweep config: its runs, in order (what Start Run queues). */
  sweepRuns?: SweepRunRef[];
  errors: ConfigError[];
}

/** Keyword of the note placed on a path that was not checked because it lies outside the workspace. */
export const OUTSIDE_WORKSPACE = 'outsideWorkspace';

/** The files and folders a config names (model folder, guide models, data files), with their pointers. */
export function namedPaths(parsed: unknown): { pointer: string; value: string }[] {
  const out: { pointer: string; value: string }[] = [];
  const obj = (x: unknown): Record<string, unknown> | undefined =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
  const root = obj(parsed);
  if (!root) return out;
  const pre = obj(obj(root.model)?.pretrained);
  if (typeof pre?.path === 'string') out.push({ pointer: '/model/pretrained/path', value: pre.path });
  const lossAt = (l: unknown, at: string) => {
    const o = obj(l);
    if (!o) return;
    if (typeof o.guide === 'string' && o.guide !== 'self') out.push({ pointer: `${at}/guide`, value: o.guide });
    if (o.type === 'MatryoshkaLoss') lossAt(o.loss, `${at}/loss`);
  };
  if (Array.isArray(root.loss)) root.loss.forEach((t, i) => lossAt(obj(t)?.loss, `/loss/${i}/loss`));
  else lossAt(root.loss, '/loss');
  const data = obj(root.data);
  for (const split of Object.keys(data ?? {})) {
    const src = obj(data![split])?.source;
    if (typeof src === 'string' && !src.startsWith('builtin:')) out.push({ pointer: `/data/${escapePointer(split)}/source`, value: src });
  }
  return out;
}

/**
 * The paths a sweep's values name: each value of each parameter set into the config on its own, and the
 * paths namedPaths finds at (or under) that parameter's field, pointed at the value in the sweep
 * (`/sweep/parameters/data.train.source/1`). Every combination is validated with the files checked
 * (src/config/sweepValidation.ts), so each of its paths must pass the same rule as a plain config's.
 */
export function sweptPaths(parsed: unknown): { pointer: string; value: string }[] {
  const out: { pointer: string; value: string }[] = [];
  const root = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const params = (root?.sweep as { parameters?: unknown } | undefined)?.parameters;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return out;
  for (const [dotted, values] of Object.entries(params as Record<string, unknown>)) {
    if (!Array.isArray(values)) continue;
    const segs = pathSegments(dotted);
    if (!segs.length) continue;
    const field = fieldPointer(dotted);
    values.forEach((v, i) => {
      const copy = structuredClone(root) as Record<string, unknown>;
      delete copy.sweep;
      try {
        setAtPath(copy, segs, v, []);
      } catch {
        return; // a path through a non-object: the sweep's own validation reports it
      }
      for (const p of namedPaths(copy))
        if (p.pointer === field || p.pointer.startsWith(field + '/')) out.push({ pointer: parameterPointer(dotted, i), value: p.value });
    });
  }
  return out;
}

/** Is `p` (absolute) one of the roots or inside one — lexically, and after resolving symlinks? */
export function insideWorkspace(roots: readonly string[], p: string): boolean {
  return roots.some((root) => {
    const rel = relative(resolve(root), resolve(p));
    const lexical = rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith('..' + sep));
    // Only a path that is lexically inside is resolved (realpath), so nothing outside is touched to
    // catch a symlink inside the workspace that points out of it.
    return lexical && (rel === '' || isStrictlyInside(root, p));
  });
}

/**
 * Validate a config's text. With `roots` (the workspace folders), no file outside them is read or
 * stat'ed: if the config names any path outside, the file checks (existence, the model's width) are
 * skipped and each such path gets an `outsideWorkspace` note (a warning, not an error). A cloned repo's
 * config must not make the editor probe the user's home directory.
 */
export function validateText(text: string, file: string, roots?: readonly string[]): TextValidation {
  const perr: ParseError[] = [];
  const parsed: unknown = parse(text, perr, { allowTrailingComma: true, disallowComments: false });
  // Syntax errors are placed by configDiagnostics' own parse; validating half-parsed JSON adds noise.
  if (perr.length) return { errors: [] };
  let checkFiles = true;
  const notes: ConfigError[] = [];
  if (roots) {
    const base = dirname(resolve(file));
    for (const { pointer, value } of [...namedPaths(parsed), ...sweptPaths(parsed)]) {
      const abs = isAbsolute(value) ? value : resolve(base, value);
      if (insideWorkspace(roots, abs)) continue;
      checkFiles = false;
      notes.push({
        path: pointer,
        keyword: OUTSIDE_WORKSPACE,
        message: `not checked: ${abs} is outside the workspace folders (the editor reads no files outside them; the trainer checks it at launch)`,
      });
    }
  }
  const r = validateRunConfig(parsed, file, { checkFiles });
  const sweepRuns = r.sweepRuns?.map((s) => ({ index: s.index, params: s.params, name: s.config.name }));
  return {
    parsed,
    config: r.config as unknown as Record<string, unknown> | undefined,
    sweepRuns,
    errors: [...r.errors, ...notes, ...r.warnings],
  };
}
