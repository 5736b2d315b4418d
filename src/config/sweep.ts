/**
 * A config's `sweep` (docs/architecture.md#sweeps: it expands into ordinary runs that share a sweep id): which combinations
 * of values it stands for, in which order, and where a dotted path puts a value in a config. Pure (no
 * vscode, no tfjs, no file system): the trainer CLI, the host's launch queue and the validator share it.
 */
import { randomBytes } from 'node:crypto';
import type { SweepConfig } from '../protocol/runConfig';
import { segmentsToPointer } from './diagnostics';
import { mulberry32 } from '../common/random';

/** More runs than this from one config is a typo (or a sweep that never ends): combinations × repeats. */
export const MAX_SWEEP_RUNS = 1000;
/** Most seeds per combination (`sweep.repeat`). */
export const MAX_SWEEP_REPEAT = 100;

export interface SweepCombination {
  /** Position in the expansion (0-based): run.json `sweep.index`. */
  index: number;
  /** Dotted path → the value of this combination (run.json `sweep.params`). */
  params: Record<string, unknown>;
  /** For each parameter (declared order), the index of its value in the parameter's list. */
  valueIndex: number[];
}

/** `training.learningRate` → ["training", "learningRate"]; `loss.1.weight` and `loss[1].weight` → ["loss", "1", "weight"]. */
export function pathSegments(dotted: string): string[] {
  const segs: string[] = [];
  for (const m of dotted.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[1] ?? m[2]);
  return segs;
}

/** The JSON pointer of a swept field in a concrete config: `training.learningRate` → `/training/learningRate`. */
export function fieldPointer(dotted: string): string {
  return segmentsToPointer(pathSegments(dotted));
}

/** The pointer of a parameter (or of one of its values) inside the sweep: `/sweep/parameters/training.learningRate/1`. */
export function parameterPointer(dotted: string, valueIndex?: number): string {
  return segmentsToPointer(valueIndex === undefined ? ['sweep', 'parameters', dotted] : ['sweep', 'parameters', dotted, valueIndex]);
}

/** How many combinations the parameters make (the full grid; 1 without parameters: the config itself). */
export function gridSize(sweep: Pick<SweepConfig, 'parameters'>): number {
  return Object.values(sweep.parameters ?? {}).reduce((n, vs) => n * vs.length, 1);
}

/** How many combinations the sweep expands to: the grid, capped by maxRuns. */
export function sweepCombinationCount(sweep: SweepConfig): number {
  const total = gridSize(sweep);
  return sweep.maxRuns === undefined ? total : Math.min(total, sweep.maxRuns);
}

/** Runs per combination: `repeat`, 1 when absent. */
export function sweepRepeats(sweep: Pick<SweepConfig, 'repeat'>): number {
  return sweep.repeat ?? 1;
}

/** How many runs the sweep expands to: its combinations × its repeats. */
export function sweepRunCount(sweep: SweepConfig): number {
  return sweepCombinationCount(sweep) * sweepRepeats(sweep);
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit integers that spreads every input bit over the output. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The seeds of `n` repeats of a config whose `seed` is `seed`: repeat 0 keeps it (a sweep with `repeat`
 * reruns the runs it would make without, plus others), repeat r > 0 takes a 32-bit hash of (seed, r),
 * drawn again in the unlikely case it equals an earlier repeat's. The same seed and r give the same seed on
 * every machine and in every combination: repeat r of two combinations differ only by the swept values.
 */
export function repeatSeeds(seed: number, n: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    if (r === 0) {
      out.push(seed);
      continue;
    }
    let s = fmix32((seed ^ Math.imul(r, 0x9e3779b9)) >>> 0);
    while (out.includes(s)) s = fmix32(s + 1);
    out.push(s);
  }
  return out;
}

/** One run of a sweep: its place in the run order, the combination it runs and with which repeat. */
export interface SweepRunSlot {
  /** Position in the run order (0-based): run.json `sweep.index`, `--sweep-index`. */
  index: number;
  /** The combination's position among expandSweep's (run.json `sweep.combination`). */
  combination: number;
  /** 0-based (run.json `sweep.repeat`): repeatSeeds(seed, n)[repeat] is the run's seed. */
  repeat: number;
}

/**
 * The run order of `combinations` combinations run `repeats` times: repeat-major (every combination with
 * repeat 0, then every one with repeat 1, …), so that a sweep stopped half way, or the first runs of a
 * queue, cover the whole grid once before they add seeds.
 */
export function sweepSlots(combinations: number, repeats: number): SweepRunSlot[] {
  const out: SweepRunSlot[] = [];
  for (let r = 0; r < repeats; r++) for (let c = 0; c < combinations; c++) out.push({ index: out.length, combination: c, repeat: r });
  return out;
}

/** Grid position `n` (mixed radix, the last parameter fastest) → one value index per parameter. */
function decode(n: number, sizes: number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let k = sizes.length - 1; k >= 0; k--) {
    out[k] = n % sizes[k];
    n = Math.floor(n / sizes[k]);
  }
  return out;
}

/**
 * The combinations, in order (the runs: sweepSlots). grid: the cartesian product in declared order (first parameter slowest),
 * the first maxRuns of it. random: maxRuns distinct grid positions drawn with `seed` (a partial
 * Fisher–Yates over the grid, kept sparse so a huge grid costs nothing), in the order drawn.
 */
export function expandSweep(sweep: SweepConfig): SweepCombination[] {
  const parameters = sweep.parameters ?? {};
  const paths = Object.keys(parameters);
  const sizes = paths.map((p) => parameters[p].length);
  const total = gridSize(sweep);
  const n = sweepCombinationCount(sweep);
  const positions: number[] = [];
  if (sweep.method === 'random') {
    const rand = mulberry32(sweep.seed ?? 0); // the same runs on every machine
    const swapped = new Map<number, number>();
    const at = (i: number) => swapped.get(i) ?? i;
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(rand() * (total - i));
      const pick = at(j);
      swapped.set(j, at(i));
      positions.push(pick);
    }
  } else for (let i = 0; i < n; i++) positions.push(i);
  return positions.map((pos, index) => {
    const valueIndex = decode(pos, sizes);
    const params: Record<string, unknown> = {};
    paths.forEach((p, k) => (params[p] = parameters[p][valueIndex[k]]));
    return { index, params, valueIndex };
  });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The container at `segs` in `root` (an object, or an array and a numeric segment), or why there is none. */
function step(node: unknown, seg: string): { ok: true; value: unknown; has: boolean } | { ok: false } {
  if (isObj(node)) return { ok: true, value: node[seg], has: Object.prototype.hasOwnProperty.call(node, seg) };
  if (Array.isArray(node) && /^\d+$/.test(seg)) return { ok: true, value: node[Number(seg)], has: Number(seg) < node.length };
  return { ok: false };
}

/**
 * Where a dotted path lands in `resolved` (a config with its defaults filled in): the parent must be there
 * (an object, or an array indexed by number); the last key may be absent (an optional field: the schema
 * decides). Returns undefined when it lands, else what is missing ("training has no field \"lr\"").
 */
export function pathProblem(
  resolved: unknown,
  segs: readonly string[],
  suggest: (word: string, keys: string[]) => string | undefined,
): string | undefined {
  if (segs.length === 0) return 'an empty path';
  if (segs[0] === 'sweep') return 'a sweep cannot sweep itself';
  if (segs[0] === '$schema') return '"$schema" is for editors, not a run setting';
  let node: unknown = resolved;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = step(node, segs[i]);
    const where = i === 0 ? 'the config' : `"${segs.slice(0, i).join('.')}"`;
    if (!s.ok)
      return `${where} is ${node === null ? 'null' : Array.isArray(node) ? 'a list (index it by number)' : `a ${typeof node}`}, not an object with fields`;
    if (!s.has || s.value === undefined) {
      const keys = isObj(node) ? Object.keys(node) : [];
      const guess = suggest(segs[i], keys);
      return `${where} has no field "${segs[i]}"` + (guess ? `; did you mean "${guess}"?` : '');
    }
    node = s.value;
  }
  const last = step(node, segs[segs.length - 1]);
  const where = segs.length === 1 ? 'the config' : `"${segs.slice(0, -1).join('.')}"`;
  if (!last.ok)
    return `${where} is ${node === null ? 'null' : Array.isArray(node) ? 'a list (index it by number)' : `a ${typeof node}`}, not an object with fields`;
  if (Array.isArray(node) && !last.has) return `${where} has ${node.length} item(s), no index ${segs[segs.length - 1]}`;
  return undefined;
}

/**
 * Sets `value` at `segs` in `target` (a config as written, edited in place). A container the file leaves
 * out is copied from the first of `sources` that has it (the same config with its defaults filled), so
 * that sweeping `loss.loss.miniBatchSize` in a file without a `loss` key sweeps the default loss, not a
 * bare object.
 */
export function setAtPath(target: Record<string, unknown>, segs: readonly string[], value: unknown, sources: readonly unknown[]): void {
  let node: Record<string, unknown> = target;
  let res = [...sources];
  for (let i = 0; i < segs.length - 1; i++) {
    const key = segs[i];
    res = res.map((r) => (r === undefined ? undefined : (step(r, key) as { value?: unknown }).value));
    const cur = node[key];
    if (cur === undefined || cur === null || typeof cur !== 'object') node[key] = structuredClone(res.find((r) => r !== undefined));
    node = node[key] as Record<string, unknown>;
  }
  node[segs[segs.length - 1]] = structuredClone(value);
}

/** A path that is another's prefix (`loss.loss` and `loss.loss.scale`): which value wins would depend on order. */
export function overlappingPath(paths: readonly string[], i: number): string | undefined {
  const a = pathSegments(paths[i]);
  for (let j = 0; j < i; j++) {
    const b = pathSegments(paths[j]);
    const n = Math.min(a.length, b.length);
    if (a.slice(0, n).every((s, k) => s === b[k])) return paths[j];
  }
  return undefined;
}

/** `<yyyymmdd-hhmmss>-<slug>-sweep-<4 hex>` (UTC), the shape of a run id (docs/architecture.md#the-run-folder) marked as a sweep. */
export function newSweepId(name: string, date = new Date(), hex = randomBytes(2).toString('hex')): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 34)
      .replace(/-+$/, '') || 'run';
  return `${stamp}-${slug}-sweep-${hex}`;
}

/** "grid over training.learningRate, seed × 3 repeats", "3 repeats of the config": what a sweep runs, in a line. */
export function describeSweep(sweep: { method?: string; parameters?: Record<string, unknown>; repeat?: number }): string {
  const paths = Object.keys(sweep.parameters ?? {});
  const repeats = sweep.repeat ?? 1;
  if (!paths.length) return `${repeats} repeat${repeats === 1 ? '' : 's'} of the config, each with its own seed`;
  const grid = `${sweep.method ?? 'grid'} over ${paths.join(', ')}`;
  return repeats > 1 ? `${grid}, × ${repeats} repeats with their own seeds` : grid;
}

/** "training.learningRate=0.001, loss.loss.miniBatchSize=16": a combination in a line. */
export function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
}
