/**
 * The trainer CLI (dist/trainer.js; `npm run train -- …`):
 *   --config <file.mrl.json> [--out <runDir>] [--backend auto|wasm|cpu|tensorflow]
 *   --config <sweep.mrl.json> [--sweep-id <id>] [--sweep-index <i> [--out <runDir>]]
 *   --resume <runDir> [--backend …]
 * A config with a `sweep` runs each of its combinations in turn (or only run i), each an ordinary run
 * folder whose run.json names the sweep ({id, index, params}); a stop signal stops the current run and
 * starts no further one.
 * Exit codes: 0 completed or stopped on request, 1 the run (a run of the sweep) failed, 2 bad arguments /
 * config / data / a batch that cannot fit / a run another live trainer holds / a folder to resume holding a
 * link or a special file (src/runs/resumeCheck.ts) / a --out another trainer
 * created its run in while this one prepared (nothing is created on disk then; in a sweep, that run and
 * the ones after it are not started),
 * 130 / 143 SIGINT / SIGTERM before the run folder existed (nothing written); 129 SIGHUP, or 130 / 143 for a
 * second signal, once it exists: the run is marked stopped at its last checkpoint.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadRunConfig } from '../../config/loadConfig';
import { describeParams, newSweepId } from '../../config/sweep';
import type { SweepRun } from '../../config/sweepValidation';
import { formatConfigErrors, validateRunConfig } from '../../config/validate';
import { noEffectSummary } from '../../config/sweepEffects';
import type { BackendName } from '../../protocol/runConfig';
import { RUN_FILES, type RunInfo, type SweepRef } from '../../protocol/runFolder';
import { LOCK_FILE, pidExists } from '../../runs/trainerProcess';
import { resumeFolderProblem } from '../../runs/resumeCheck';
import { latestReadableCheckpoint, listCheckpoints, type LoadedCheckpoint } from '../loop/checkpoint';
import { DataError } from '../../data/types';
import { sentenceTransformersMain } from '../../engines/sentenceTransformers/launch';
import { installFaultInjectionFromEnv } from './faultInjection';
import { Progress } from './progress';
import {
  acquireRunLock,
  defaultRunsDir,
  makeRunId,
  markExitingNow,
  releaseRunLock,
  RunFolderTakenError,
  RunLockedError,
} from '../../runs/runWriter';
import { prepareRun, RunInputError, type PreparedRun } from '../loop/prepare';
import { markUnresumable } from '../loop/runRecord';
import { runTraining } from '../loop/train';

export const USAGE = `usage:
  npm run train -- --config <file.mrl.json> [--out <runDir>] [--backend auto|wasm|cpu|tensorflow] [--workers auto|<n>]
  npm run train -- --resume <runDir> [--backend auto|wasm|cpu|tensorflow] [--workers auto|<n>]
  npm run train -- --config <file.mrl.json> --emit-script <dir>

  --config   the run config (JSONC); validated against schemas/run-config.schema.json. A config with a
             "sweep" runs every combination of its values, one run after another (each validated first)
  --out      the run folder to create (default: <workspace>/.mrl/runs/<yyyymmdd-hhmmss>-<name>-<hex>,
             workspace = nearest folder upward with .mrl, else package.json or .git, else cwd); with a
             sweep, only together with --sweep-index
  --sweep-id     the sweep id its runs share (default: a new one, <yyyymmdd-hhmmss>-<name>-sweep-<hex>)
  --sweep-index  run only this run of the sweep (0-based, in the sweep's order: with "repeat", every
             combination with repeat 0, then every combination with repeat 1, …)
  --backend  overrides the config's backend
  --workers  extra threads sharing each step on wasm / cpu (default auto: one per core beyond the first,
             at most 3; 0 = one thread). Results are reproducible for a given number of workers.
  --resume   continues a stopped / killed run from its last checkpoint
  --python   the Python of "engine": "sentence-transformers" configs (default: $MRL_PYTHON, else python3)
  --emit-script  ("engine": "sentence-transformers") write train.py, its data, the callback, the local model
             folders and run.sh (the launch command) to <dir>, an empty or new folder, and run nothing
  --help     this text`;

const BACKENDS: BackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow'];
const FLAGS = ['--config', '--out', '--backend', '--resume', '--workers', '--sweep-id', '--sweep-index', '--python', '--emit-script'];

export interface CliArgs {
  config?: string;
  out?: string;
  backend?: BackendName;
  resume?: string;
  /** undefined = auto */
  workers?: number;
  sweepId?: string;
  sweepIndex?: number;
  /** The interpreter for engine sentence-transformers. */
  python?: string;
  /** Engine sentence-transformers: write the run's script, data and launch command to this folder, run nothing. */
  emitScript?: string;
  help?: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = {};
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === '--help' || flag === '-h') {
      a.help = true;
      continue;
    }
    if (!FLAGS.includes(flag)) throw new UsageError(`unknown ${flag.startsWith('-') ? 'option' : 'argument'} "${argv[i]}"`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    }
    const key =
      ({ '--sweep-id': 'sweepId', '--sweep-index': 'sweepIndex', '--emit-script': 'emitScript' } as Record<string, string>)[flag] ??
      (flag.slice(2) as 'config' | 'out' | 'backend' | 'resume' | 'workers' | 'python');
    if (a[key as keyof CliArgs] !== undefined) throw new UsageError(`${flag} given twice`);
    if (key === 'sweepIndex') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--sweep-index must be an integer ≥ 0, got "${value}"`);
      a.sweepIndex = n;
    } else if (key === 'sweepId') {
      // It names run folders' sweep and travels in run.json: one safe word, like a run id.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value) || value.includes('..'))
        throw new UsageError(`--sweep-id must be letters, digits, ".", "_" or "-" (like a run id), got "${value}"`);
      a.sweepId = value;
    } else if (key === 'workers') {
      if (value === 'auto') continue;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 64)
        throw new UsageError(`--workers must be "auto" or an integer from 0 to 64, got "${value}"`);
      a.workers = n;
    } else if (key === 'backend') {
      if (!BACKENDS.includes(value as BackendName)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${value}"`);
      a.backend = value as BackendName;
    } else a[key as 'config' | 'out' | 'resume' | 'python' | 'emitScript'] = value;
  }
  if (a.help) return a;
  if (!a.config && !a.resume) throw new UsageError('give --config <file> or --resume <runDir>');
  if (a.config && a.resume) throw new UsageError('--config and --resume cannot be combined (a resumed run keeps its own config)');
  if (a.resume && a.out) throw new UsageError('--out cannot be combined with --resume (the run continues in its own folder)');
  if (a.emitScript !== undefined && (!a.config || a.out || a.sweepId !== undefined || a.sweepIndex !== undefined))
    throw new UsageError('--emit-script goes with --config alone (it writes a folder to run elsewhere; nothing runs here)');
  if (a.resume && (a.sweepId !== undefined || a.sweepIndex !== undefined))
    throw new UsageError('--sweep-id / --sweep-index go with --config (a resumed run keeps its place in its sweep)');
  return a;
}

/** Input problems found while preparing (the config itself was validated) → the lines to print, or undefined for a real failure. */
function inputError(e: unknown, configFile: string): string | undefined {
  if (e instanceof DataError) return (e.configPath ? `${configFile}: ${e.configPath}: bad data:\n` : '') + e.message;
  if (e instanceof RunInputError) return `${configFile}: ${e.path}: ${e.message}`;
  return undefined;
}

/** What the signal handlers need to know: whether a run folder exists yet, and which. */
interface Current {
  started: boolean;
  runDir: string;
  /** The run folder whose lock this process took before its run started (a resume): released on the way out. */
  lockedDir?: string;
}

interface Session {
  args: CliArgs;
  progress: Progress;
  log: (s: string) => void;
  stop: { requested: boolean };
  current: Current;
}

export async function main(argv: string[]): Promise<number> {
  // Tests only: a disk that fails at a chosen file operation (faultInjection.ts); unset, nothing changes.
  installFaultInjectionFromEnv();
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  // Before either engine reads or writes anything of a folder to resume: regular files and folders only.
  const unsafe = args.resume ? resumeFolderProblem(resolve(args.resume)) : undefined;
  if (unsafe) {
    process.stderr.write(`error: not resuming: ${unsafe}\n`);
    return 2;
  }
  // "engine": "sentence-transformers": a generated train.py on the user's PyTorch (its own module).
  const engineExit = await sentenceTransformersMain(args);
  if (engineExit !== undefined) return engineExit;
  if (args.emitScript !== undefined) {
    process.stderr.write(
      `error: --emit-script writes a sentence-transformers run: ${args.config} needs "engine": "sentence-transformers" (and must be valid)\n`,
    );
    return 2;
  }
  const progress = new Progress(process.stderr);
  const log = (s: string) => progress.message(s);

  // Signals are handled from the start: while preparing (nothing on disk yet) a signal exits at once,
  // writing nothing; once the run folder exists it finishes the step (or abandons an evaluation),
  // checkpoints and marks the run "stopped". The long phases yield to the event loop (cooperative.ts).
  const stop = { requested: false };
  const current: Current = { started: false, runDir: '' };
  const onSignal = (sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => {
    const code = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[sig];
    if (!current.started) {
      if (current.lockedDir) releaseRunLock(current.lockedDir);
      process.stderr.write(`\n${sig}: stopped before the run started (nothing was written for it)\n`);
      process.exit(code);
    }
    // A second signal, or the terminal gone (SIGHUP: nothing can be printed any more): exit now, with
    // the run marked stopped at its last checkpoint rather than left "running".
    if (stop.requested || sig === 'SIGHUP') {
      const why =
        sig === 'SIGHUP'
          ? 'SIGHUP (terminal closed): exited at once; --resume continues from the last checkpoint'
          : `${sig} again: exited at once; --resume continues from the last checkpoint`;
      markExitingNow(current.runDir, why);
      if (sig !== 'SIGHUP') process.stderr.write(`\n${why}\n`);
      process.exit(code);
    }
    stop.requested = true;
    progress.message(`${sig}: finishing this step, then a checkpoint…`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGHUP', () => onSignal('SIGHUP'));
  const session: Session = { args, progress, log, stop, current };
  try {
    return await prepareAndTrain(session);
  } finally {
    // A resume refused or failed before its run started must not leave its lock behind (runTraining
    // releases it otherwise; releasing twice is harmless: only this process's lock is removed).
    if (current.lockedDir) releaseRunLock(current.lockedDir);
  }
}

/** Everything after the arguments and the signal handlers: prepare the run (or resume), then train it → the exit code. */
async function prepareAndTrain(session: Session): Promise<number> {
  const { args, log, current } = session;
  let prepared: PreparedRun;
  let runDir: string;
  let resumeFrom: LoadedCheckpoint | undefined;
  let infoExtra: Record<string, unknown> = {};
  let configLabel: string;
  try {
    if (args.resume) {
      runDir = resolve(args.resume);
      configLabel = join(runDir, RUN_FILES.config);
      if (!existsSync(join(runDir, RUN_FILES.info)) || !existsSync(configLabel)) {
        process.stderr.write(`error: ${runDir} is not a run folder (no ${RUN_FILES.info} / ${RUN_FILES.config})\n`);
        return 2;
      }
      const hadLock = existsSync(join(runDir, LOCK_FILE));
      // The lock first, then the state: a second resume racing this one across its (long) preparation is
      // refused here, rather than both choosing the same checkpoint and training one after the other.
      try {
        acquireRunLock(runDir);
      } catch (e) {
        if (!(e instanceof RunLockedError)) throw e;
        process.stderr.write(`error: run ${basename(runDir)} is still running (${lockHolderText(e)} holds its lock); stop it first\n`);
        return 2;
      }
      current.lockedDir = runDir;
      const info = JSON.parse(readFileSync(join(runDir, RUN_FILES.info), 'utf8')) as RunInfo;
      if (info.status === 'completed') {
        process.stderr.write(`error: run ${info.id} is already completed\n`);
        return 2;
      }
      // A run folder from before run locks: its run.json's pid is all there is to go by.
      if (info.status === 'running' && info.pid && info.pid !== process.pid && pidExists(info.pid) && !hadLock) {
        process.stderr.write(`error: run ${info.id} is still running (pid ${info.pid}); stop it first\n`);
        return 2;
      }
      resumeFrom = latestReadableCheckpoint(runDir, log);
      if (!resumeFrom) {
        const none = listCheckpoints(runDir).length === 0;
        const why = none
          ? 'no checkpoint to resume from (the trainer ended before writing its first one)'
          : 'no readable checkpoint to resume from (every one is damaged)';
        markUnresumable(runDir, info, why);
        process.stderr.write(`error: ${runDir} has ${why}\n`);
        return 2;
      }
      const baseDir = typeof info.baseDir === 'string' ? info.baseDir : runDir;
      const json = JSON.parse(readFileSync(configLabel, 'utf8')) as unknown;
      const v = validateRunConfig(json, configLabel, { baseDir });
      if (!v.resolved) {
        process.stderr.write(formatConfigErrors(configLabel, v.errors) + '\n');
        return 2;
      }
      log(`resuming ${info.id} from step ${resumeFrom.state.step}`);
      prepared = await prepareRun(v.resolved, { backend: args.backend, workers: args.workers, resumeFrom, log });
    } else {
      const file = resolve(args.config!);
      configLabel = args.config!;
      const loaded = loadRunConfig(file);
      if (!loaded.resolved) {
        process.stderr.write(formatConfigErrors(configLabel, loaded.errors) + '\n');
        return 2;
      }
      if (loaded.sweepRuns) return await runSweep(session, file, loaded.resolved.config.name, loaded.sweepRuns);
      if (args.sweepId !== undefined || args.sweepIndex !== undefined) {
        process.stderr.write(`error: ${configLabel} has no "sweep": --sweep-id / --sweep-index name a run of a sweep config\n`);
        return 2;
      }
      const baseDir = dirname(file);
      runDir = args.out ? resolve(args.out) : join(defaultRunsDir(file), makeRunId(loaded.resolved.config.name));
      if (!freeRunDir(runDir)) return 2;
      infoExtra = { configFile: file, baseDir };
      prepared = await prepareRun(loaded.resolved, { backend: args.backend, workers: args.workers, log });
    }
  } catch (e) {
    const msg = inputError(e, configLabel! ?? '');
    process.stderr.write(`error: ${msg ?? (e as Error).message}\n`);
    return msg ? 2 : 1;
  }
  return (await trainPrepared(session, prepared, runDir, infoExtra, resumeFrom)).code;
}

function lockHolderText(e: RunLockedError): string {
  return `pid ${e.pid}${e.host ? ` on ${e.host}` : ''}`;
}

/** A --out (or default) folder a new run may be created in; says why not otherwise. */
function freeRunDir(runDir: string): boolean {
  if (existsSync(join(runDir, RUN_FILES.info))) {
    process.stderr.write(`error: ${runDir} already holds a run; choose another --out or --resume it\n`);
    return false;
  }
  if (existsSync(runDir) && (!statSync(runDir).isDirectory() || readdirSync(runDir).length > 0)) {
    process.stderr.write(`error: ${runDir} exists and is not an empty folder; choose another --out\n`);
    return false;
  }
  return true;
}

/** Trains a prepared run in runDir (created here unless resumed) → the exit code and the run's status. */
async function trainPrepared(
  s: Session,
  prepared: PreparedRun,
  runDir: string,
  infoExtra: Record<string, unknown>,
  resumeFrom?: LoadedCheckpoint,
): Promise<{ code: number; status?: string }> {
  const workers = prepared.workers;
  s.log(`run folder: ${runDir}${workers ? ` (${workers + 1} threads)` : ''}`);
  s.current.runDir = runDir;
  s.current.started = true;
  let result;
  try {
    result = await runTraining(prepared, {
      runDir,
      resumeFrom,
      infoExtra: { ...infoExtra, workers },
      stop: s.stop,
      progress: s.progress,
      workers,
    });
  } catch (e) {
    // Another trainer holds the run, or created its own run in this --out while this one prepared: a refusal.
    if (!(e instanceof RunLockedError) && !(e instanceof RunFolderTakenError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return { code: 2 };
  }
  if (result.status === 'failed') {
    process.stderr.write(`error: the run failed at step ${result.step}: ${result.error?.message}\n`);
    return { code: 1, status: result.status };
  }
  return { code: 0, status: result.status };
}

/**
 * The runs of a sweep config, one after another (or the one --sweep-index names), each an ordinary run
 * folder whose run.json carries {id, index, params} of the sweep. A stop signal ends the current run and
 * starts no further one; a run the trainer refuses (data, memory: exit 2) ends the sweep there; a run
 * that fails does not stop the others (exit 1 at the end).
 */
async function runSweep(s: Session, file: string, name: string, runs: SweepRun[]): Promise<number> {
  const { args, log } = s;
  const label = args.config!;
  if (args.sweepIndex !== undefined && args.sweepIndex >= runs.length) {
    process.stderr.write(
      `error: ${label}: --sweep-index ${args.sweepIndex} is past the sweep's last run (it has ${runs.length}: 0 to ${runs.length - 1})\n`,
    );
    return 2;
  }
  if (args.out && args.sweepIndex === undefined) {
    process.stderr.write(
      `error: ${label} is a sweep of ${runs.length} runs, each in its own folder: --out goes with --sweep-index (one run)\n`,
    );
    return 2;
  }
  const id = args.sweepId ?? newSweepId(name);
  const todo = args.sweepIndex !== undefined ? [runs[args.sweepIndex]] : runs;
  const baseDir = dirname(file);
  if (todo.length > 1) log(`sweep ${id}: ${todo.length} runs, one after another`);
  const note = noEffectSummary(runs[0].config, Object.keys(runs[0].params));
  if (note) log(`sweep ${id}: ${note}`);
  let failed = 0;
  for (const [i, run] of todo.entries()) {
    if (s.stop.requested) break;
    s.current.started = false;
    const rep =
      run.repeat === undefined ? '' : `${Object.keys(run.params).length ? ', ' : ''}repeat ${run.repeat + 1}, seed ${run.config.seed}`;
    const what = `run ${run.index + 1} of ${runs.length} (${describeParams(run.params)}${rep})`;
    // A refusal ends the sweep: the runs after it would meet the same refusal (data, memory, the folder).
    const refused = () => {
      const rest = todo.length - i - 1;
      process.stderr.write(`sweep ${id}: ${what} was refused: the sweep ends here${rest ? ` (${rest} run(s) not started)` : ''}\n`);
      return 2;
    };
    log(`sweep ${id}: ${what}`);
    const runDir = args.out ? resolve(args.out) : join(defaultRunsDir(file), makeRunId(run.config.name));
    if (!freeRunDir(runDir)) return refused();
    let prepared: PreparedRun;
    try {
      prepared = await prepareRun(run.resolved, { backend: args.backend, workers: args.workers, log });
    } catch (e) {
      const msg = inputError(e, label);
      process.stderr.write(`error: sweep ${id}, ${what}: ${msg ?? (e as Error).message}\n`);
      if (msg) return refused();
      failed++;
      continue;
    }
    const sweep: SweepRef = { id, index: run.index, params: run.params };
    if (run.repeat !== undefined) Object.assign(sweep, { combination: run.combination, repeat: run.repeat });
    const r = await trainPrepared(s, prepared, runDir, { configFile: file, baseDir, sweep });
    if (r.code === 2) return refused();
    if (r.code !== 0) failed++;
  }
  if (s.stop.requested) log(`sweep ${id}: stopped; no further run started`);
  else if (failed) process.stderr.write(`sweep ${id}: ${failed} of ${todo.length} run(s) failed; the others ran\n`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
