/**
 * Is a pid the process writing *this* run folder? What Stop asks before any signal, in every mode: a
 * run.json (and its `.lock`, its `cmdline`) is whatever a cloned repository committed, so a "running" run
 * may name any pid. Only the process's own argv, read from the OS, binds it to the run:
 *   - our trainer (`isTrainerCommandLine`: …/dist/trainer.js, …/src/trainer/cli/main.ts) whose
 *     `--out <dir>` or `--resume <dir>` is this run folder (real paths) — every launch of the host;
 *   - our trainer without `--out` (`--config <file>` from a terminal, a terminal sweep) whose default runs
 *     folder (src/runs/runWriter.ts defaultRunsDir) is this run's runs folder;
 *   - a Python running this run folder's train.py (the sentence-transformers callback tracking a script
 *     started by hand).
 * Linux reads /proc/<pid>/cmdline (exact argv) and /proc/<pid>/cwd; macOS `ps -o args=` (argv joined by
 * spaces: only absolute paths are matched); elsewhere nothing can be read: undefined, and Stop refuses
 * anything but a child process the host itself started.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { defaultRunsDir } from './runWriter';
import { realPath } from './runDir';
import { isTrainerCommandLine, readProcCmdline } from './trainerProcess';

export interface ProcessView {
  /** argv as NUL-separated text (Linux) — or undefined where unreadable. */
  cmdline?: string;
  /** argv joined by spaces (macOS `ps`), when `cmdline` cannot be had. */
  argsText?: string;
  /** The process's working folder (Linux), to resolve relative arguments. */
  cwd?: string;
}

/** What the OS says of `pid` (see the header); an empty view when nothing can be read. */
export function viewProcess(pid: number, platform: NodeJS.Platform = process.platform): ProcessView {
  if (!Number.isInteger(pid) || pid <= 0) return {};
  if (platform === 'linux') {
    const cmdline = readProcCmdline(pid);
    if (cmdline === undefined) return {};
    let cwd: string | undefined;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      cwd = undefined;
    }
    return { cmdline, cwd };
  }
  if (platform === 'darwin') {
    const r = spawnSync('/bin/ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 5000 });
    const text = r.status === 0 ? r.stdout.trim() : '';
    return text ? { argsText: text } : {};
  }
  return {};
}

const FLAGS_WITH_DIR = ['--out', '--resume'];

/** `--flag value` / `--flag=value` pairs of an argv. */
function flagValues(argv: readonly string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag && i + 1 < argv.length) out.push(argv[i + 1]);
    else if (argv[i].startsWith(flag + '=')) out.push(argv[i].slice(flag.length + 1));
  }
  return out;
}

/**
 * Does this process view bind to the run folder `runDir`? true / false when the argv could be read;
 * undefined when it could not (no such process, another user's, or a platform that does not tell).
 */
export function processWritesRun(view: ProcessView, runDir: string): boolean | undefined {
  const dir = realPath(resolve(runDir));
  if (view.cmdline !== undefined) {
    const argv = view.cmdline.replace(/\0$/, '').split('\0');
    const abs = (p: string): string | undefined => (isAbsolute(p) ? p : view.cwd ? resolve(view.cwd, p) : undefined);
    const same = (p: string | undefined, want: string) => p !== undefined && realPath(p) === want;
    if (isTrainerCommandLine(view.cmdline)) {
      const dirs = FLAGS_WITH_DIR.flatMap((f) => flagValues(argv, f));
      if (dirs.length) return dirs.some((d) => same(abs(d), dir));
      // No --out: the trainer writes into the default runs folder of its --config.
      return flagValues(argv, '--config').some((c) => {
        const file = abs(c);
        return file !== undefined && realPath(defaultRunsDir(file)) === dirname(dir);
      });
    }
    // A Python running this run folder's train.py (the callback tracking a script started by hand).
    if (/python[\d.]*(\.exe)?$/i.test(basename(argv[0] ?? ''))) return argv.slice(1).some((a) => same(abs(a), join(dir, 'train.py')));
    return false;
  }
  if (view.argsText !== undefined) {
    // Argv joined by spaces: a trainer, and this run folder right after --out / --resume.
    const t = view.argsText;
    if (!/(^|[\s/])(dist\/trainer\.js|src\/trainer\/cli\/main\.ts)(\s|$)/.test(t)) return false;
    const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return [resolve(runDir), dir].some((d) => new RegExp(`(^|\\s)(${FLAGS_WITH_DIR.join('|')})[ =]${esc(d)}/?(\\s|$)`).test(t));
  }
  return undefined;
}

/** `processWritesRun(viewProcess(pid), runDir)`. */
export function isRunProcess(pid: number, runDir: string, platform: NodeJS.Platform = process.platform): boolean | undefined {
  return processWritesRun(viewProcess(pid, platform), runDir);
}
