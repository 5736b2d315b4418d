/**
 * The trainer's side of the run folder (docs/architecture.md#the-run-folder, src/protocol/runFolder.ts):
 *   config.json   written once, before the first step
 *   run.json      replaced atomically (temp file + rename): a reader never sees half a file
 *   metrics.jsonl append-only, one event per line, each written with one append (flushed to the OS at
 *                 every event, so a kill -9 loses at most the line being written; readers skip a torn one)
 *   log.txt       human log
 *   .lock         {pid, cmdline} of the trainer writing the run: two trainers never write one run folder
 * A new run folder is built under a dot-name (`.<id>.creating-<pid>`, skipped by every reader) and
 * renamed into place, so it appears complete (config.json, run.json, checkpoints/, .lock) or not at all.
 */
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomicFile';
import {
  isForeignLock,
  LOCK_FILE,
  lockHolderAlive,
  pidExists,
  readProcCmdline,
  readRunLock,
  thisHost,
  type RunLock,
} from './trainerProcess';
import { RUN_FILES, type MetricsLine, type RunInfo } from '../protocol/runFolder';
import type { RunConfig } from '../protocol/runConfig';

export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'run';
}

/** `<yyyymmdd-hhmmss>-<slug>-<4 hex>` (UTC, so ids sort by start time on every machine). */
export function makeRunId(name: string, date = new Date(), hex = randomBytes(2).toString('hex')): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  return `${stamp}-${slugify(name)}-${hex}`;
}

/** The workspace of a config file: the nearest folder upward holding `.mrl`, else `package.json` or `.git`, else cwd. */
export function findWorkspaceRoot(configFile: string, cwd = process.cwd()): string {
  const start = dirname(resolve(configFile));
  for (const markers of [['.mrl'], ['package.json', '.git']]) {
    let dir = start;
    for (;;) {
      if (markers.some((m) => existsSync(join(dir, m)))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return cwd;
}

export function defaultRunsDir(configFile: string): string {
  return join(findWorkspaceRoot(configFile), '.mrl', 'runs');
}

export class RunWriter {
  private info: RunInfo;

  private constructor(
    readonly dir: string,
    info: RunInfo,
  ) {
    this.info = info;
  }

  /** A new run folder, built under a temporary dot-name and renamed into place; fails if a run is there already. */
  static create(dir: string, info: RunInfo, config: RunConfig): RunWriter {
    if (existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, RUN_FILES.info))) {
      throw new RunFolderTakenError(`run folder ${dir} already holds a run; use --resume to continue it`);
    }
    if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
      throw new RunFolderTakenError(`${dir} exists and is not an empty folder; choose another --out`);
    }
    const parent = dirname(dir);
    mkdirSync(parent, { recursive: true });
    removeAbandonedCreations(parent);
    const tmp = join(parent, `.${basename(dir)}.creating-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      mkdirSync(join(tmp, RUN_FILES.checkpoints), { recursive: true });
      writeFileSync(join(tmp, LOCK_FILE), lockText(), { flag: 'wx' });
      writeFileAtomic(join(tmp, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
      writeFileAtomic(join(tmp, RUN_FILES.info), JSON.stringify(info, null, 2) + '\n');
      if (existsSync(dir)) rmdirSync(dir); // an empty --out folder: replaced by the complete one
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      // Another trainer created its run there between the checks above and the rename (rename never
      // replaces a non-empty folder): a refusal like the checks', not a failure.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR')
        throw new RunFolderTakenError(`another trainer created a run in ${dir} meanwhile; choose another --out`);
      throw e;
    }
    return new RunWriter(dir, info);
  }

  /**
   * An existing run folder, to resume it. The caller holds its lock (acquireRunLock). A metrics file
   * whose last line was torn by a kill -9 gets its line ended first, so the next event is a line of its own.
   */
  static open(dir: string): RunWriter {
    const info = JSON.parse(readFileSync(join(dir, RUN_FILES.info), 'utf8')) as RunInfo;
    endTornLine(join(dir, RUN_FILES.metrics));
    return new RunWriter(dir, info);
  }

  get runInfo(): Readonly<RunInfo> {
    return this.info;
  }

  /**
   * run.json with `patch` applied, replaced atomically. `inPlaceIfFull` (the final status of a run that
   * failed, often for lack of space): when the disk is full the temp file cannot be made, but run.json's
   * own blocks can be rewritten, so it is rewritten in place rather than left saying "running". Not
   * atomic: a reader may see it torn for that moment (and skips it, as any unreadable run.json).
   */
  update(patch: Partial<RunInfo>, o: { inPlaceIfFull?: boolean } = {}): void {
    this.info = { ...this.info, ...patch };
    const file = join(this.dir, RUN_FILES.info);
    const text = JSON.stringify(this.info, null, 2) + '\n';
    try {
      writeFileAtomic(file, text);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!o.inPlaceIfFull || (code !== 'ENOSPC' && code !== 'EDQUOT')) throw e;
      writeFileSync(file, text);
    }
  }

  /** One line, one append: a reader sees whole lines (or a torn last one after a kill -9). */
  append(line: MetricsLine): void {
    appendFileSync(join(this.dir, RUN_FILES.metrics), JSON.stringify(line) + '\n');
  }

  log(message: string): void {
    appendFileSync(join(this.dir, RUN_FILES.log), `${new Date().toISOString()} ${message}\n`);
  }
}

/** Temp run folders (`.<id>.creating-<pid>`) whose trainer died before the rename: removed. */
export function removeAbandonedCreations(runsDir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = /^\..+\.creating-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid || pidExists(Number(m[1]))) continue;
    // Its lock (written first) names the machine: a trainer of another machine creating a run in a shared
    // runs folder is not dead because its pid is not alive here.
    const lock = readRunLock(join(runsDir, n));
    if (lock && isForeignLock(lock)) continue;
    rmSync(join(runsDir, n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

/**
 * The temp files a writer killed mid-write leaves in a run folder — run.json's (`run.json.<pid>.<hex>.tmp`,
 * atomicFile.ts) and a lock's (`.lock.<pid>-<hex>`, acquireRunLock) — whose pid is dead: removed. The
 * caller holds the run's lock. → the names removed.
 */
export function removeDeadWritersTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const n of readdirSync(dir)) {
    const m = /^(?:run\.json\.(\d+)\.[0-9a-f]+\.tmp|\.lock\.(\d+)-[0-9a-f]+)$/.exec(n);
    const pid = m ? Number(m[1] ?? m[2]) : undefined;
    if (pid === undefined || pid === process.pid || pidExists(pid)) continue;
    // A lock's temp names its machine: a trainer of another machine (a shared runs folder) is not judged from here.
    const lock = m![2] !== undefined ? readRunLock(dir, n) : undefined;
    if (lock && isForeignLock(lock)) continue;
    rmSync(join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

/** Appends '\n' to a non-empty file that does not end with one (a line torn by a kill -9). */
export function endTornLine(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return false;
    writeSync(fd, '\n', size);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** This process's command line as the OS shows it to others (/proc on Linux), else argv. */
function ownCmdline(): string {
  return readProcCmdline(process.pid)?.replace(/\0$/, '') ?? process.argv.join('\0');
}

function lockText(): string {
  const h: RunLock = { pid: process.pid, cmdline: ownCmdline(), since: new Date().toISOString(), host: thisHost() };
  return JSON.stringify(h) + '\n';
}

/** A run folder that another live trainer holds (or one on another machine: that cannot be judged from here). */
export class RunLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly host?: string,
  ) {
    super(`run ${basename(dir)} is being written by another trainer (pid ${pid}${host ? ` on ${host}` : ''}); stop it first`);
    this.name = 'RunLockedError';
  }
}

/** The folder a new run was to be created in holds something already (another trainer's run, other files): a refusal. */
export class RunFolderTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderTakenError';
  }
}

/**
 * Takes the run folder's lock. Throws RunLockedError if a live trainer holds it (or a trainer on another
 * machine: see RunLock.host). Of any number of trainers racing for it, one wins, also when they race to
 * take over the same stale lock (its pid dead, reused by another program, or the file torn):
 *   - a lock file appears whole: it is written under a name of our own, then hard-linked to `.lock`
 *     (link, like 'wx', fails when the name exists), so no one reads a half-written lock as torn;
 *   - `.lock` is never unlinked except by its live owner (releaseRunLock): a stale one is replaced with
 *     rename(2), and only by the one taker that created `.lock.takeover-<inode>` first (the inode of the
 *     stale lock, so each stale file has its own sidecar), after checking that `.lock` is still that
 *     file. Unlink + 'wx', as before, let a second taker unlink the lock the first had just written.
 *   - a taker that died holding its sidecar leaves a stale sidecar: it is taken over the same way (its
 *     own `.takeover-<inode>`), so nothing is left that blocks the run for good.
 */
export function acquireRunLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  const mine = join(dir, `${LOCK_FILE}.${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(mine, lockText(), { flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 400; attempt++) {
      if (linkNew(mine, file)) return;
      const seen = seeLockFile(file);
      if (!seen) continue; // released meanwhile
      const holder = parseLock(seen.text);
      if (holder.pid === process.pid && !isForeignLock(holder)) return;
      if (lockHolderAlive(holder)) throw new RunLockedError(dir, holder.pid!, isForeignLock(holder) ? holder.host : undefined);
      const r = replaceStale(file, seen, mine);
      if (r === 'won') return;
      if (r === 'busy') sleepSync(2); // another taker is between its sidecar and its rename
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new Error(`could not take the lock ${file}`);
}

/** A lock file as read: its inode and its text, to tell later whether the name still holds that file. */
interface SeenLock {
  ino: number;
  text: string;
}

function seeLockFile(file: string): SeenLock | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return { ino: fstatSync(fd).ino, text: readFileSync(fd, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

function parseLock(text: string): Partial<RunLock> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Partial<RunLock>) : {};
  } catch {
    return {}; // an empty / torn lock (its writer died mid-write): stale
  }
}

/** `to` created as another name of `from` (complete at once); false when `to` exists. */
function linkNew(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links (FAT, some network shares): exclusive create, written in place.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
      try {
        writeFileSync(to, readFileSync(from), { flag: 'wx' });
        return true;
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e2;
      }
    }
    throw e;
  }
}

/**
 * Replaces `target` (`seen`, judged stale) with our lock file `mine`, if this process is the one taker
 * allowed to: 'won' (our lock is at `target`), 'retry' (`target` is not that file any more: judge again),
 * 'busy' (a live taker holds the sidecar and is about to replace it, or give up).
 */
function replaceStale(target: string, seen: SeenLock, mine: string): 'won' | 'retry' | 'busy' {
  const side = `${target}.takeover-${seen.ino}`;
  if (!linkNew(mine, side)) {
    const s = seeLockFile(side);
    if (!s) return 'retry';
    if (lockHolderAlive(parseLock(s.text))) return 'busy';
    // Its taker died between its sidecar and its rename: the right to replace `target` passes to the
    // one that takes over the sidecar, which then holds our lock.
    const r = replaceStale(side, s, mine);
    if (r !== 'won') return r;
  }
  // We alone may replace `target` now; no one else renames or unlinks it (its owner is dead).
  const now = seeLockFile(target);
  if (!now || now.ino !== seen.ino || now.text !== seen.text) {
    unlinkSync(side);
    return 'retry';
  }
  renameSync(side, target);
  return 'won';
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Drops the lock if this process holds it. */
/**
 * The trainer is exiting at once (a second SIGINT/SIGTERM, SIGHUP): no checkpoint now, the last one is
 * kept. If this process still owns the run (run.json says running with our pid), mark it stopped and
 * release the lock, so that nothing is left saying "running".
 */
export function markExitingNow(dir: string, why: string): void {
  try {
    const file = join(dir, RUN_FILES.info);
    const info = JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
    if (info.status === 'running' && info.pid === process.pid) {
      writeFileAtomic(
        file,
        JSON.stringify({ ...info, status: 'stopped', pid: null, endedAt: new Date().toISOString(), error: why }, null, 2) + '\n',
      );
      appendFileSync(join(dir, RUN_FILES.log), `${new Date().toISOString()} ${why}\n`);
    }
  } catch {
    // no run.json yet (still being created under its temporary name): nothing claims to be running
  }
  releaseRunLock(dir);
}

export function releaseRunLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunLock>;
    if (h.pid === process.pid && !isForeignLock(h)) unlinkSync(file);
  } catch {
    // gone already
  }
}
