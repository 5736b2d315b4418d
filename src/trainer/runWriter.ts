/**
 * The trainer's side of the run folder (DESIGN.md, src/protocol/runFolder.ts):
 *   config.json   written once, before the first step
 *   run.json      replaced atomically (temp file + rename): a reader never sees half a file
 *   metrics.jsonl append-only, one event per line, each written with one append (flushed to the OS at
 *                 every event, so a kill -9 loses at most the line being written; readers skip a torn one)
 *   log.txt       human log
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** Writes `data` to `file` atomically: a temp file in the same folder, then rename over the target. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export class RunWriter {
  private info: RunInfo;

  private constructor(
    readonly dir: string,
    info: RunInfo,
  ) {
    this.info = info;
  }

  /** A new run folder; fails if it exists (never mixes two runs). */
  static create(dir: string, info: RunInfo, config: RunConfig): RunWriter {
    if (existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, RUN_FILES.info))) {
      throw new Error(`run folder ${dir} already holds a run; use --resume to continue it`);
    }
    mkdirSync(join(dir, RUN_FILES.checkpoints), { recursive: true });
    writeFileAtomic(join(dir, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
    const w = new RunWriter(dir, info);
    w.writeInfo();
    return w;
  }

  /** An existing run folder, to resume it. */
  static open(dir: string): RunWriter {
    const info = JSON.parse(readFileSync(join(dir, RUN_FILES.info), 'utf8')) as RunInfo;
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
