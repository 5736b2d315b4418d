/**
 * Validation of a config's `sweep`, before anything starts: the config without its sweep must be valid;
 * every path must name a field of that config; and every combination's concrete config must pass the
 * same validation as a config written by hand. A problem inside a combination is reported on the value
 * that caused it (`/sweep/parameters/training.learningRate/1`), so the editor underlines that value.
 * validate.ts calls this with its own single-config validator (passed in: no import cycle).
 */
import type { RunConfig, SweepConfig } from '../protocol/runConfig';
import type { ResolvedRunConfig } from './resolve';
import {
  expandSweep,
  fieldPointer,
  gridSize,
  MAX_SWEEP_RUNS,
  overlappingPath,
  parameterPointer,
  pathProblem,
  pathSegments,
  repeatSeeds,
  setAtPath,
  sweepCombinationCount,
  sweepRepeats,
  sweepSlots,
} from './sweep';
import { noEffectNotes } from './sweepEffects';

/** The shapes of validate.ts (structural: this module imports nothing of it at run time). */
interface Problem {
  path: string;
  message: string;
  keyword?: string;
}
interface SingleResult {
  config?: RunConfig;
  resolved?: ResolvedRunConfig;
  errors: Problem[];
  /** What the chosen engine does differently (src/config/engineChecks.ts): notes, not errors. */
  warnings?: Problem[];
}

/** One run of a sweep: its place, its values and its config (no `sweep` key), also resolved. */
export interface SweepRun {
  index: number;
  params: Record<string, unknown>;
  config: RunConfig;
  resolved: ResolvedRunConfig;
  /** A sweep with `repeat` > 1: the combination this run repeats and which repeat it is (run.json `sweep`). */
  combination?: number;
  repeat?: number;
}

export interface SweepContext {
  /** Validates one concrete config (no sweep) as validateRunConfig does. */
  validate: (json: unknown) => SingleResult;
  /** Did-you-mean among keys. */
  suggest: (word: string, keys: string[]) => string | undefined;
}

/** Beyond this many problems the rest of the combinations are not reported (the first ones say enough). */
const MAX_PROBLEMS = 50;

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '…' : s;
}

function withoutSweep(x: unknown): Record<string, unknown> {
  const o = { ...(x as Record<string, unknown>) };
  delete o.sweep;
  return o;
}

/** Segments shared by two pointers: which swept field a problem elsewhere most likely comes from. */
function sharedDepth(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

/** A last key the config does not hold (an optional field, or a typo): what the schema says of it, if it refuses it. */
function unknownLeaf(raw: unknown, p: string, value: unknown, sources: unknown[], ctx: SweepContext): string | undefined {
  const segs = pathSegments(p);
  let node: unknown = sources[1];
  for (const s of segs.slice(0, -1)) node = (node as Record<string, unknown>)[s];
  if (typeof node === 'object' && node !== null && segs[segs.length - 1] in node) return undefined;
  const one = withoutSweep(structuredClone(raw));
  setAtPath(one, segs, value, sources);
  const ptr = fieldPointer(p);
  return ctx.validate(one).errors.find((e) => e.keyword === 'additionalProperties' && e.path === ptr)?.message;
}

/**
 * `raw`: the config as written (with `sweep`); `filled`: the same after the schema pass (defaults filled,
 * `sweep` valid by the schema; the rest may have failed it). Returns the config without its sweep
 * (resolved) and the runs, or the problems: those of the config without its sweep, of the paths (checked
 * even when that config has problems of its own: every problem at once), and of the combinations (less
 * those every combination shares with the config without its sweep, already reported once).
 */
export function validateSweep(
  raw: unknown,
  filled: RunConfig & { sweep: SweepConfig },
  ctx: SweepContext,
): { base?: ResolvedRunConfig; runs?: SweepRun[]; errors: Problem[]; warnings?: Problem[] } {
  const base = ctx.validate(withoutSweep(raw));
  const sweep: SweepConfig = { ...filled.sweep, parameters: filled.sweep.parameters ?? {} };
  const defaults = withoutSweep(filled);
  // Where the paths must land: the config with every default filled, else as far as the schema filled it.
  const reference = base.config ?? defaults;
  const paths = Object.keys(sweep.parameters);
  const errors: Problem[] = [...base.errors];
  const inBase = new Set(base.errors.map((e) => `${e.path}\u0000${e.message}`));
  const pathErrors: Problem[] = [];
  const repeats = sweepRepeats(sweep);
  if (paths.length === 0 && repeats < 2) {
    errors.push({
      path: '/sweep',
      keyword: 'sweepSize',
      message: 'a sweep needs "parameters" (the values to try) or "repeat" above 1 (the same config with other seeds)',
    });
    return { errors, warnings: base.warnings };
  }
  paths.forEach((p, i) => {
    const segs = pathSegments(p);
    const why = pathProblem(reference, segs, ctx.suggest) ?? unknownLeaf(raw, p, sweep.parameters[p][0], [defaults, reference], ctx);
    const other = overlappingPath(paths, i);
    if (why)
      pathErrors.push({ path: parameterPointer(p), keyword: 'sweepPath', message: `"${p}" does not name a field of this config: ${why}` });
    else if (other)
      pathErrors.push({ path: parameterPointer(p), keyword: 'sweepPath', message: `"${p}" overlaps "${other}": sweep one or the other` });
  });
  errors.push(...pathErrors);
  const warnings = [...(base.warnings ?? [])];
  const total = gridSize(sweep);
  if (!pathErrors.length && sweep.maxRuns === undefined && total > MAX_SWEEP_RUNS) {
    errors.push({
      path: '/sweep/parameters',
      keyword: 'sweepSize',
      message: `the grid has ${total} combinations, more than ${MAX_SWEEP_RUNS} runs: set "maxRuns" (at most ${MAX_SWEEP_RUNS})`,
    });
    return { warnings, errors };
  }
  const combinations = sweepCombinationCount(sweep);
  if (!pathErrors.length && combinations * repeats > MAX_SWEEP_RUNS) {
    const what = combinations === 1 ? '1 combination' : `${combinations} combinations`;
    errors.push({
      path: '/sweep/repeat',
      keyword: 'sweepSize',
      message: `${what} × ${repeats} repeats = ${combinations * repeats} runs, more than ${MAX_SWEEP_RUNS}: fewer repeats, fewer values or a lower "maxRuns" (it counts combinations)`,
    });
    return { warnings, errors };
  }
  // The values of the good paths are checked even when another path is bad: every problem at once.
  const good = paths.filter((p) => !pathErrors.some((e) => e.path === parameterPointer(p)));
  if (!good.length && paths.length) return { errors, warnings };
  if (base.config) warnings.push(...noEffectNotes(base.config, good));
  const checked: SweepConfig = pathErrors.length
    ? {
        ...sweep,
        parameters: Object.fromEntries(good.map((p) => [p, sweep.parameters[p]])),
        maxRuns: Math.min(sweep.maxRuns ?? MAX_SWEEP_RUNS, MAX_SWEEP_RUNS),
      }
    : sweep;

  const pointers = good.map(fieldPointer);
  const seen = new Set<string>();
  const combos: SweepRun[] = [];
  const add = (e: Problem, key: string) => {
    if (seen.has(key) || errors.length >= MAX_PROBLEMS) return;
    seen.add(key);
    errors.push(e);
  };
  for (const c of expandSweep(checked)) {
    const concrete = withoutSweep(structuredClone(raw));
    good.forEach((p) => setAtPath(concrete, pathSegments(p), c.params[p], [defaults, reference]));
    const r = ctx.validate(concrete);
    if (r.config && r.resolved) {
      combos.push({ index: c.index, params: c.params, config: r.config, resolved: r.resolved });
      continue;
    }
    for (const e of r.errors) {
      if (inBase.has(`${e.path}\u0000${e.message}`)) continue; // the config's own, reported above
      const k = pointers.findIndex((ptr) => e.path === ptr || e.path.startsWith(ptr + '/'));
      if (k >= 0) {
        const p = good[k];
        if (e.keyword === 'additionalProperties' && e.path === pointers[k]) {
          // The schema has no such field: every value would say so, the parameter's key says it once.
          add(
            { path: parameterPointer(p), keyword: 'sweepPath', message: `"${p}" does not name a field of this config: ${e.message}` },
            `path:${p}`,
          );
        } else {
          const inner = e.path.slice(pointers[k].length);
          const at = parameterPointer(p, c.valueIndex[k]);
          add(
            { path: at, keyword: 'sweepValue', message: `${p} = ${describe(c.params[p])}: ${inner ? `${inner}: ` : ''}${e.message}` },
            `${at}\u0000${e.message}`,
          );
        }
      } else {
        // A problem outside the swept fields comes from a combination of values (a width and a dim):
        // placed on the value of the swept field nearest to it, naming the whole combination.
        let best = 0;
        pointers.forEach((ptr, j) => {
          if (sharedDepth(ptr, e.path) > sharedDepth(pointers[best], e.path)) best = j;
        });
        const at = parameterPointer(good[best], c.valueIndex[best]);
        const combo = good.map((p) => `${p} = ${describe(c.params[p])}`).join(', ');
        add(
          { path: at, keyword: 'sweepCombination', message: `run ${c.index} of the sweep (${combo}): ${e.path || '/'}: ${e.message}` },
          `${at}\u0000${e.path}\u0000${e.message}`,
        );
      }
    }
  }
  if (errors.length || !base.resolved) return { errors, warnings };
  return { base: base.resolved, runs: withRepeats(combos, repeats), errors, warnings };
}

/**
 * The runs of validated combinations run `repeats` times (sweepSlots' order): each repeat is its
 * combination's config with the repeat's seed (repeatSeeds of the combination's own seed), nothing else
 * changed, so it needs no second validation. One repeat: the combinations as they are.
 */
function withRepeats(combos: SweepRun[], repeats: number): SweepRun[] {
  if (repeats < 2) return combos;
  const seeds = combos.map((c) => repeatSeeds(c.config.seed, repeats));
  return sweepSlots(combos.length, repeats).map((slot) => {
    const c = combos[slot.combination];
    const config: RunConfig = { ...c.config, seed: seeds[slot.combination][slot.repeat] };
    return {
      index: slot.index,
      params: c.params,
      config,
      resolved: { ...c.resolved, config },
      combination: slot.combination,
      repeat: slot.repeat,
    };
  });
}
