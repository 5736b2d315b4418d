/**
 * Listing and reading run folders (.mrl/runs/<id>/). Every reader tolerates half-written folders: a run
 * whose run.json does not exist yet, a config.json being written, unknown fields.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RUN_FILES, type BestCheckpoint, type RunInfo, type RunStatus, type SweepRef } from '../protocol/runFolder';
import { MAX_CONFIG_BYTES, MAX_INFO_BYTES, readJsonFile } from './safeRead';

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'stopped'];

export interface RunEntry {
  id: string;
  dir: string;
  /** run.json, or a stand-in when it is missing/unreadable (then `infoMissing` is true). */
  info: RunInfo;
  infoMissing: boolean;
  /** mtime of run.json (ms): its age. */
  infoMtime: number;
  /** run.json's mtime, inode and size: whether to read it again. An atomic rewrite (rename) is a new
   *  inode, so two writes within one mtime tick (a last step, then "completed") are still told apart. */
  infoStamp?: string;
  /** When `infoMissing`: the latest mtime (ms) of config.json, run.json and the folder — the last sign
   *  of life of a trainer that never wrote a valid run.json (readers call it stale after a grace). */
  lastWrite?: number;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isPrimitive = (x: unknown): boolean => x === null || ['string', 'number', 'boolean'].includes(typeof x);

/** Known optional fields of run.json and the type each must have (a wrong one is dropped). */
const STRING_FIELDS = ['backendReason', 'error', 'engine', 'configFile', 'baseDir', 'cmdline', 'stopSignal', 'resumedAt'] as const;
const NUMBER_FIELDS = ['step', 'totalSteps', 'devices'] as const;

function sweepRef(x: unknown): SweepRef | undefined {
  if (!isObj(x) || typeof x.id !== 'string' || typeof x.index !== 'number' || !isObj(x.params)) return undefined;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x.params)) if (isPrimitive(v)) params[k] = v;
  const ref: SweepRef = { id: x.id, index: x.index, params };
  // A repeated sweep's place (combination, repeat): kept when they are counts, dropped otherwise.
  for (const k of ['combination', 'repeat'] as const) if (Number.isInteger(x[k]) && (x[k] as number) >= 0) ref[k] = x[k] as number;
  return ref;
}

function bestCheckpoints(x: unknown): Record<string, BestCheckpoint> | undefined {
  if (!isObj(x)) return undefined;
  const out: Record<string, BestCheckpoint> = {};
  for (const [d, b] of Object.entries(x))
    if (isObj(b) && typeof b.metric === 'string' && typeof b.step === 'number' && typeof b.value === 'number')
      out[d] = { metric: b.metric, step: b.step, value: b.value };
  return out;
}

/**
 * run.json → RunInfo, or null when missing / not a regular file / too large / not JSON / not a run.
 * Known fields are kept only with their type (`"error": {}` would reach the panel, whose guard then
 * rejects the whole message); unknown fields only when they are plain values (a structure nested
 * thousands deep never travels further). A cloned repository writes whatever it likes here.
 */
export function readRunInfo(dir: string): RunInfo | null {
  const o = readJsonFile(join(dir, RUN_FILES.info), MAX_INFO_BYTES);
  if (!isObj(o)) return null;
  const status = STATUSES.includes(o.status as RunStatus) ? (o.status as RunStatus) : null;
  if (!status) return null;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (isPrimitive(v)) extra[k] = v;
  for (const k of STRING_FIELDS) if (typeof extra[k] !== 'string') delete extra[k];
  for (const k of NUMBER_FIELDS) if (typeof extra[k] !== 'number') delete extra[k];
  const sweep = sweepRef(o.sweep);
  if (sweep) extra.sweep = sweep;
  const best = bestCheckpoints(o.bestCheckpoints);
  if (best) extra.bestCheckpoints = best;
  // The sentence-transformers callback's closing summary (python/matryoshka_lab_callback.py): numbers.
  if (isObj(o.trainSummary))
    extra.trainSummary = Object.fromEntries(Object.entries(o.trainSummary).filter(([, v]) => typeof v === 'number'));
  return {
    ...extra,
    id: typeof o.id === 'string' ? o.id : basename(dir),
    name: typeof o.name === 'string' ? o.name : basename(dir),
    status,
    pid: typeof o.pid === 'number' ? o.pid : null,
    startedAt: typeof o.startedAt === 'string' ? o.startedAt : '',
    endedAt: typeof o.endedAt === 'string' ? o.endedAt : null,
    backend: typeof o.backend === 'string' ? o.backend : '',
  };
}

/** config.json of a run (the resolved config), or null. */
export function readRunConfig(dir: string): Record<string, unknown> | null {
  const v = readJsonFile(join(dir, RUN_FILES.config), MAX_CONFIG_BYTES);
  return isObj(v) ? v : null;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** `mtime:inode:size` of a file, or '' when it cannot be read. */
export function fileStamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.ino}:${st.size}`;
  } catch {
    return '';
  }
}

/** One folder → RunEntry, or null when it is not a run folder (no run.json and no config.json). */
export function readRunEntry(dir: string): RunEntry | null {
  const id = basename(dir);
  // The stamp before the content: a run.json replaced in between is then re-read at the next refresh.
  // (Content first could pair the last "running" with the final file's stamp, and never read the final status.)
  const infoMtime = mtime(join(dir, RUN_FILES.info));
  const infoStamp = fileStamp(join(dir, RUN_FILES.info));
  const info = readRunInfo(dir);
  if (info) return { id, dir, info: { ...info, id }, infoMissing: false, infoMtime, infoStamp };
  // A folder the trainer is still setting up (config.json first), or whose run.json is torn.
  const cfgFile = join(dir, RUN_FILES.config);
  if (!existsSync(cfgFile) && !existsSync(join(dir, RUN_FILES.info))) return null;
  const cfg = readRunConfig(dir);
  const st = mtime(cfgFile) || mtime(dir);
  const lastWrite = Math.max(mtime(cfgFile), mtime(join(dir, RUN_FILES.info)), mtime(dir));
  return {
    id,
    dir,
    info: {
      id,
      name: typeof cfg?.name === 'string' ? cfg.name : id,
      status: 'running',
      pid: null,
      startedAt: st ? new Date(st).toISOString() : '',
      endedAt: null,
      backend: '',
    },
    infoMissing: true,
    infoMtime: 0,
    lastWrite,
  };
}

/** Every run folder under `runsDir`, newest first (by startedAt, then id). Missing folder → []. */
export function listRuns(runsDir: string): RunEntry[] {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return [];
  }
  const out: RunEntry[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const dir = join(runsDir, n);
    if (!isRunFolderEntry(dir)) continue;
    const e = readRunEntry(dir);
    if (e) out.push(e);
  }
  return out.sort(compareRuns);
}

export function compareRuns(a: RunEntry, b: RunEntry): number {
  const ta = Date.parse(a.info.startedAt) || 0;
  const tb = Date.parse(b.info.startedAt) || 0;
  return tb - ta || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Is this entry of the runs folder a folder of its own, not a symlink (to a folder anywhere: a cloned
 * `.mrl/runs/x -> ~/.config/SomeApp` would be listed, its notes written and offered to Delete Run)?
 */
export function isRunFolderEntry(dir: string): boolean {
  try {
    return lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** `p`'s real path: symlinks resolved; a part that does not exist yet is joined to its parent's real path. */
export function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realPath(parent), basename(p));
  }
}

/**
 * The runs folder `rel` (relative to the workspace `root`) as a real path, if it stays inside the
 * workspace once links are resolved; else why not. A cloned repository may commit `.mrl/runs` as a link
 * to `../../.config`: everything in it would be listed, its notes written, offered to Delete Run.
 */
export function confineRunsDir(root: string, rel: string): { dir: string } | { problem: string } {
  const realRoot = realPath(resolve(root));
  const dir = realPath(resolve(root, rel));
  const r = relative(realRoot, dir);
  if (r === '' || (!isAbsolute(r) && r !== '..' && !r.startsWith('..' + sep))) return { dir };
  return {
    problem: `the runs folder ${join(root, rel)} resolves to ${dir}, outside the workspace ${realRoot}: not read. Set matryoshkaLab.runsFolder (user settings) to an absolute folder to keep runs elsewhere.`,
  };
}

/**
 * Is `target` strictly inside `root` (after resolving symlinks)? Delete Run uses this so that it never
 * removes anything outside the runs folder, whatever a run id or a symlink says.
 */
export function isStrictlyInside(root: string, target: string): boolean {
  // Not there (yet): its parent is resolved, so a symlinked parent is still caught.
  const r = realPath(resolve(root));
  const t = realPath(resolve(target));
  const rel = relative(r, t);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/** Whether the run folder holds a checkpoint to resume from (a non-empty checkpoints/): Resume Run and
 *  the tree's Resume menu ask it. */
export function hasCheckpoint(dir: string): boolean {
  const c = join(dir, RUN_FILES.checkpoints);
  try {
    return existsSync(c) && readdirSync(c).length > 0;
  } catch {
    return false;
  }
}

/** A run id that is a single safe path segment (no separators, no dot-dot). */
export function isSafeRunId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) && !id.includes('..');
}

/** runId = <yyyymmdd-hhmmss>-<slug>-<4 hex> (docs/architecture.md#the-run-folder). `now` and `hex` injectable for tests. */
export function newRunId(name: string, now = new Date(), hex = Math.floor(Math.random() * 0x10000)): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'run';
  return `${ts}-${slug}-${hex.toString(16).padStart(4, '0')}`;
}
