/**
 * Export Model's pure part (no vscode, so it is unit-tested in plain Node): what the command's arguments
 * mean, what its pickers offer and preselect, where the folder goes by default, how `dist/export.js` is
 * run and what its last stdout line says. The UI is src/host/commands/exportCommand.ts; running the
 * program with a progress notification is ./exporter.ts.
 *
 * The program's contract (src/trainer/export/cli.ts): `node dist/export.js <run dir> --dim D
 * [--precision float32|int8|binary] [--checkpoint best|last|<step>] --out DIR [--force] --json`; exit 0 with a last
 * stdout line `{"ok":true,"out":…,"dim":D,"precision":…,"checkpoint":{"kind":"best"|"step","step":N},
 * "maxAbsDiff":x}`, exit 1 or 2 with a message on stderr and a last stdout line `{"ok":false,"error":…}`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { adviseFrontier, bytesPerVector, type FrontierAdvice, type FrontierPoint } from '../../insights/frontier';
import { parseMetricsJsonl, PRECISIONS, RUN_FILES, type ByDim, type Precision, type RunInfo } from '../../protocol/runFolder';
import { RunSeries } from '../../runs/series';
import { nodeRuntime, type LaunchPlan } from './launchPlan';

/** `--checkpoint`: the best one kept for the dim (run.json `bestCheckpoints`), the latest, or a step. */
export type CheckpointChoice = 'best' | 'last' | number;

/** The command's optional second argument: each field given skips its picker. */
export interface ExportOptions {
  dim?: number;
  precision?: Precision;
  checkpoint?: CheckpointChoice;
  /** The output folder: absolute, or relative to the first workspace folder. */
  out?: string;
}

const OPTION_KEYS = ['dim', 'precision', 'checkpoint', 'out'];

/**
 * The options object a keybinding, another extension or a test passes (`{dim, precision, checkpoint,
 * out}`), checked: an error names the field and what was expected. Anything that is not a plain object
 * (a tree's selection array, undefined) means no options.
 */
export function exportOptionsOf(x: unknown): { options: ExportOptions } | { error: string } {
  if (x === undefined || x === null || typeof x !== 'object' || Array.isArray(x)) return { options: {} };
  const o = x as Record<string, unknown>;
  const bad = (key: string, expected: string) => ({
    error: `Export Model's options: "${key}" must be ${expected}, not ${JSON.stringify(o[key])}`,
  });
  for (const k of Object.keys(o))
    if (!OPTION_KEYS.includes(k)) return { error: `Export Model's options: unknown field "${k}" (expected ${OPTION_KEYS.join(', ')})` };
  const options: ExportOptions = {};
  if (o.dim !== undefined) {
    if (typeof o.dim !== 'number' || !Number.isInteger(o.dim) || o.dim <= 0) return bad('dim', 'a positive whole number');
    options.dim = o.dim;
  }
  if (o.precision !== undefined) {
    if (typeof o.precision !== 'string' || !(PRECISIONS as readonly string[]).includes(o.precision))
      return bad('precision', PRECISIONS.map((p) => `"${p}"`).join(', ') + ' or absent');
    options.precision = o.precision as Precision;
  }
  if (o.checkpoint !== undefined) {
    const c = o.checkpoint;
    if (c === 'best' || c === 'last') options.checkpoint = c;
    else if (typeof c === 'number' && Number.isInteger(c) && c >= 0) options.checkpoint = c;
    else if (typeof c === 'string' && /^\d+$/.test(c)) options.checkpoint = Number(c);
    else return bad('checkpoint', '"best", "last" or a step number');
  }
  if (o.out !== undefined) {
    if (typeof o.out !== 'string' || !o.out.trim()) return bad('out', 'a folder path');
    options.out = o.out;
  }
  return { options };
}

/** The latest eval event's per-dim values (the resume rule applied), read from a run folder. */
export function readLastEval(runDir: string): { step: number | null; byDim: ByDim } {
  let text: string;
  try {
    text = readFileSync(path.join(runDir, RUN_FILES.metrics), 'utf8');
  } catch {
    return { step: null, byDim: {} };
  }
  const series = new RunSeries();
  series.push(parseMetricsJsonl(text).lines);
  return lastEvalOf(series);
}

/** The latest eval event's per-dim values of a series (the host's run store holds one per run). */
export function lastEvalOf(series: RunSeries): { step: number | null; byDim: ByDim } {
  const d = series.evalDigest();
  return { step: d.evalStep, byDim: d.last };
}

/** The dims a run evaluates, from its config.json (for a run without a per-dim eval yet). */
export function configDims(config: Record<string, unknown> | null): number[] {
  const ev = (config?.evaluation ?? {}) as { dims?: unknown };
  const loss = (config?.loss ?? {}) as { matryoshkaDims?: unknown };
  const list = Array.isArray(ev.dims) && ev.dims.length ? ev.dims : Array.isArray(loss.matryoshkaDims) ? loss.matryoshkaDims : [];
  const dims = list.filter((d): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0);
  return [...new Set(dims)].sort((a, b) => b - a);
}

/** One (dim, precision) a user can export, with what the run's last eval measured there. */
export interface PointChoice {
  dim: number;
  precision: Precision;
  bytesPerVector: number;
  /** The quantised index searched alone (float32: the plain metric); absent when not measured. */
  plain?: FrontierPoint;
  /** The same index with its shortlist re-scored by the float32 query; absent when not measured. */
  rescored?: FrontierPoint;
  /** The advisor's choice (preselected: first in the list). */
  recommended: boolean;
}

export interface PointChoices {
  /** The frontier's answer (null: no per-dim eval with a positive full-dim float32 value yet). */
  advice: FrontierAdvice | null;
  /** Recommended first, then cheapest first (bytes per vector; equal bytes: better quality first). */
  choices: PointChoice[];
}

const PRECISION_ORDER: Record<Precision, number> = { float32: 0, int8: 1, binary: 2 };

/**
 * The dim × precision picker's items. With a per-dim eval: every point `frontierPoints` scored, one item
 * per (dim, precision) — rescoring is a search-time choice, so a rescored point exports its precision —
 * and the cheapest point reaching `percent` % of full-dim float32 (`adviseFrontier`) recommended. Without
 * one: every precision at `fallbackDims` (the config's), the largest dim at float32 recommended.
 */
export function pointChoices(byDim: ByDim, percent: number, fallbackDims: readonly number[] = []): PointChoices {
  const advice = adviseFrontier(byDim, { percent });
  const by = new Map<string, PointChoice>();
  const choice = (dim: number, precision: Precision): PointChoice => {
    const k = `${dim}:${precision}`;
    let c = by.get(k);
    if (!c) by.set(k, (c = { dim, precision, bytesPerVector: bytesPerVector(dim, precision), recommended: false }));
    return c;
  };
  if (advice) {
    for (const p of advice.points) {
      const c = choice(p.dim, p.precision);
      if (p.rescore) c.rescored = p;
      else c.plain = p;
    }
    choice(advice.point.dim, advice.point.precision).recommended = true;
  } else {
    const dims = fallbackDims.length
      ? [...fallbackDims]
      : Object.keys(byDim)
          .map(Number)
          .filter((d) => Number.isInteger(d) && d > 0);
    const top = Math.max(...dims);
    for (const d of dims) for (const p of PRECISIONS) choice(d, p).recommended = d === top && p === 'float32';
  }
  const quality = (c: PointChoice) => Math.max(c.plain?.ratio ?? -1, c.rescored?.ratio ?? -1);
  const choices = [...by.values()].sort(
    (a, b) =>
      Number(b.recommended) - Number(a.recommended) ||
      a.bytesPerVector - b.bytesPerVector ||
      quality(b) - quality(a) ||
      PRECISION_ORDER[a.precision] - PRECISION_ORDER[b.precision] ||
      b.dim - a.dim,
  );
  return { advice, choices };
}

const pct = (ratio: number) => `${(Math.round(ratio * 1000) / 10).toFixed(1)} %`;
const num = (x: number) => String(Number(x.toPrecision(3)));

/** A picker row for a point: label, description (bytes and quality), detail (why it is recommended). */
export function pointItemText(c: PointChoice, advice: FrontierAdvice | null): { label: string; description: string; detail?: string } {
  const label = `${c.recommended ? '$(star-full) ' : ''}${c.precision} · dim ${c.dim}`;
  const parts = [`${c.bytesPerVector} bytes/vector`];
  if (advice) {
    const q = (p: FrontierPoint) => `${advice.metric} ${num(p.value)} (${pct(p.ratio)})`;
    if (c.plain) parts.push(q(c.plain));
    if (c.rescored) parts.push(`rescored ${q(c.rescored)}`);
    if (!c.plain && !c.rescored) parts.push('not measured');
  } else parts.push('not evaluated yet');
  let detail: string | undefined;
  if (c.recommended && advice) {
    const p = advice.point;
    detail =
      `Recommended: the fewest bytes per vector reaching ${advice.percent} % of float32 at dim ${advice.fullDim} (matryoshkaLab.advisorPercent)` +
      (p.rescore
        ? ` — with rescoring, a search-time choice: the ${p.precision} index shortlists, the float32 query re-scores the shortlist. The export is the same either way.`
        : '.');
  } else if (c.recommended) detail = 'No per-dim evaluation yet: the full width at float32.';
  else if (c.rescored && c.precision !== 'float32')
    detail = `Rescoring is a search-time choice (the ${c.precision} index shortlists, the float32 query re-scores): the export is the same.`;
  return { label, description: parts.join(' · '), detail };
}

/** One row of the checkpoint picker. */
export interface CheckpointItem {
  checkpoint: CheckpointChoice;
  label: string;
  description: string;
}

/** The steps of the run's `checkpoints/step-<n>/` folders, newest first. */
export function checkpointSteps(runDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(path.join(runDir, RUN_FILES.checkpoints));
  } catch {
    return [];
  }
  return names
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/**
 * The checkpoint picker's items, the default first: `best` when run.json keeps a best checkpoint for this
 * dim (`bestCheckpoints[dim]`, src/protocol/runFolder.ts), else `last`; then the other steps kept.
 */
export function checkpointChoices(
  info: Pick<RunInfo, 'bestCheckpoints' | 'status'>,
  dim: number,
  steps: readonly number[],
): CheckpointItem[] {
  const items: CheckpointItem[] = [];
  const best = info.bestCheckpoints?.[String(dim)];
  if (best)
    items.push({
      checkpoint: 'best',
      label: `$(star-full) best for dim ${dim}`,
      description: `step ${best.step} · ${best.metric} ${num(best.value)}`,
    });
  const latest = steps[0];
  const what =
    info.status === 'running' ? 'the last complete checkpoint' : info.status === 'completed' ? 'the final model' : 'the latest checkpoint';
  items.push({ checkpoint: 'last', label: 'last', description: latest !== undefined ? `${what} (step ${latest})` : what });
  for (const s of steps) if (s !== latest) items.push({ checkpoint: s, label: `step ${s}`, description: `checkpoints/step-${s}` });
  return items;
}

/** A run name as a folder name: letters, digits, dot, dash and underscore. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'model';
}

/**
 * `<root>/exports/<run name>-d<D>-<precision>`, or with `-2`, `-3`… when that exists already (the program
 * writes a new folder; an export never lands inside another one).
 */
export function defaultExportDir(
  root: string,
  runName: string,
  dim: number,
  precision: Precision,
  exists: (p: string) => boolean = existsSync,
): string {
  const base = path.join(root, 'exports', `${safeName(runName)}-d${dim}-${precision}`);
  if (!exists(base)) return base;
  for (let i = 2; ; i++) if (!exists(`${base}-${i}`)) return `${base}-${i}`;
}

export interface ExportJob {
  runDir: string;
  dim: number;
  precision: Precision;
  checkpoint: CheckpointChoice;
  out: string;
  /** Replace a non-empty `out` (`--force`): only when the user confirmed it in the save dialog. */
  force?: boolean;
}

/** How to run `dist/export.js` for a job: the configured Node (./launchPlan.ts nodeRuntime), `--json`. */
export function exportPlan(i: {
  nodePath: string;
  execPath: string;
  exportJs: string;
  env: NodeJS.ProcessEnv;
  job: ExportJob;
}): LaunchPlan {
  const j = i.job;
  const node = nodeRuntime(i.nodePath, i.execPath, i.env);
  const args = [i.exportJs, j.runDir, '--dim', String(j.dim), '--precision', j.precision, '--checkpoint', String(j.checkpoint)];
  args.push('--out', j.out);
  if (j.force) args.push('--force');
  args.push('--json');
  return { command: node.command, args, env: node.env, cwd: path.dirname(j.runDir) };
}

/**
 * The temp sibling the program builds its folder in before renaming it to `out` (`.<name>.export-<pid>`,
 * src/trainer/export/exportModel.ts): what a program killed mid-way leaves, for the host to remove.
 */
export function exportTempDir(out: string, pid: number): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.export-${pid}`);
}

/** What the program answered. */
export type ExportResult =
  | {
      ok: true;
      out: string;
      dim: number;
      precision: string;
      checkpoint: { kind: string; step: number | null };
      maxAbsDiff: number | null;
    }
  | { ok: false; error: string };

/** The last line of text that is not blank. */
function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  return lines.length ? lines[lines.length - 1].trim() : '';
}

/**
 * The program's answer from its output and exit: its last stdout line (`{"ok": …}`) when it is one,
 * else what stderr says, else how it exited. A success needs exit 0 and an `out`.
 */
export function parseExportOutput(stdout: string, stderr: string, code: number | null, signal: string | null): ExportResult {
  let j: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(lastLine(stdout));
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { ok?: unknown }).ok === 'boolean')
      j = v as Record<string, unknown>;
  } catch {
    /* not the JSON line: judged by stderr and the exit below */
  }
  const exit = signal ? `it was ended by ${signal}` : `it exited with code ${code}`;
  if (j?.ok === true && code === 0 && typeof j.out === 'string' && j.out) {
    const c = (j.checkpoint ?? {}) as { kind?: unknown; step?: unknown };
    return {
      ok: true,
      out: j.out,
      dim: typeof j.dim === 'number' ? j.dim : NaN,
      precision: typeof j.precision === 'string' ? j.precision : '',
      checkpoint: { kind: typeof c.kind === 'string' ? c.kind : '', step: typeof c.step === 'number' ? c.step : null },
      maxAbsDiff: typeof j.maxAbsDiff === 'number' ? j.maxAbsDiff : null,
    };
  }
  if (j?.ok === false && typeof j.error === 'string' && j.error) return { ok: false, error: j.error };
  const err = lastLine(stderr);
  if (err) return { ok: false, error: err };
  if (j?.ok === true) return { ok: false, error: `the exporter said ok but ${code === 0 ? 'named no output folder' : exit}` };
  return { ok: false, error: `the exporter gave no answer (${exit})` };
}
