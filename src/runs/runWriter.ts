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
import { LOCK_FILE, lockHolderAlive, pidExists, readProcCmdline, type RunLock } from './trainerProcess';
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
      throw new Error(`run folder ${dir} already holds a run; use --resume to continue it`);
    }
    if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
      throw new Error(`${dir} exists and is not an empty folder; choose another --out`);
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

  update(patch: Partial<RunInfo>): void {
    this.info = { ...this.info, ...patch };
    this.writeInfo();
  }

  private writeInfo(): void {
    writeFileAtomic(join(this.dir, RUN_FILES.info), JSON.stringify(this.info, null, 2) + '\n');
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
    rmSync(join(runsDir, n), { recursive: true, force: true });
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
  const h: RunLock = { pid: process.pid, cmdline: ownCmdline(), since: new Date().toISOString() };
  return JSON.stringify(h) + '\n';
}

/** A run folder that another live trainer holds. */
export class RunLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`run ${basename(dir)} is being written by another trainer (pid ${pid}); stop it first`);
    this.name = 'RunLockedError';
  }
}

/**
 * Takes the run folder's lock (created with 'wx': of two trainers racing, one wins). A stale lock (its
 * pid dead, or reused by another program) is taken over. Throws RunLockedError if a live trainer holds it.
 */
export function acquireRunLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, lockText(), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: Partial<RunLock> = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunLock>;
    } catch {
      // an empty / torn lock (its writer died mid-write): stale
    }
    if (holder.pid === process.pid) return;
    if (lockHolderAlive(holder)) throw new RunLockedError(dir, holder.pid!);
    try {
      unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new Error(`could not take the lock ${file}`);
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
    if (h.pid === process.pid) unlinkSync(file);
  } catch {
    // gone already
  }
}
