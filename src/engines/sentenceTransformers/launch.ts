/**
 * engine "sentence-transformers" in the trainer CLI: check the interpreter (before anything is written),
 * prepare the run folder (config.json, run.json, data/, train.py, the callback beside it), run train.py
 * with the configured Python — `python -m torch.distributed.run --standalone --nproc_per_node N` (torchrun)
 * when devices > 1: a rendezvous of its own on localhost, on a free port, so that two runs never meet on
 * torchrun's default 29500 — and hand signals to it. This process stays the run's owner: run.json's pid is ours (the
 * host stops a trainer it recognises), the callback in train.py writes the progress, and if Python dies
 * without a final status we write one.
 *
 * Stop: SIGTERM / SIGINT are passed on once; the callback ends the step, checkpoints (transformers'
 * checkpoints/checkpoint-<step>/) and marks the run stopped. A second signal is passed on too: Python
 * exits at once. Under torchrun, workers that do not finish within torchrun's own grace (30 s) are
 * killed by it. If this process is killed (SIGKILL after the host's stop grace), the callback sees its
 * owner gone at the next step and exits. Resume: `train.py --resume` (resume_from_checkpoint=True).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { loadRunConfig } from '../../config/loadConfig';
import type { ResolvedRunConfig } from '../../config/resolve';
import { formatConfigErrors, validateRunConfig } from '../../config/validate';
import { writeFileAtomic } from '../../runs/atomicFile';
import type { RunConfig } from '../../protocol/runConfig';
import { RUN_FILES, type RunInfo } from '../../protocol/runFolder';
import { prepareData } from '../../data/dataset';
import { provenance } from '../../runs/gitProvenance';
import { DataError } from '../../data/types';
import { acquireRunLock, defaultRunsDir, makeRunId, releaseRunLock, RunLockedError, RunWriter } from '../../runs/runWriter';
import { readJsonFile } from '../../runs/safeRead';
import { exportData } from './data';
import { emitScriptMain } from './emitScript';
import { generateScript, requiredVersion, versionAtLeast, type ScriptInput } from './script';

export const ENGINE = 'sentence-transformers';
export const SCRIPT_FILE = 'train.py';
export const CALLBACK_FILE = 'matryoshka_lab_callback.py';
/** The interpreter when neither --python nor MRL_PYTHON (the host's matryoshkaLab.pythonPath) says. */
export const DEFAULT_PYTHON = 'python3';

/**
 * A fresh, empty folder only this user can write (mkdtemp: mode 0700) to run Python in. Python puts the
 * folder of the script it runs (or, for `-c` and `-m`, its working folder) first on its import path, and
 * Windows looks a bare program name up in the working folder first: a run folder or a config's folder
 * from a cloned repository must be neither (a `torch.py` beside train.py would run as the import).
 */
export function privateDir(): string {
  return mkdtempSync(join(tmpdir(), 'mrl-python-'));
}

/** python/matryoshka_lab_callback.py: beside dist/ in the extension, or in the source tree. */
export function callbackSource(): string {
  const candidates = [join(__dirname, '..', 'python', CALLBACK_FILE), resolve(__dirname, '..', '..', '..', 'python', CALLBACK_FILE)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${CALLBACK_FILE} not found (looked in ${candidates.join(', ')})`);
  return found;
}

// Imports sentence-transformers first (its version is what matters), then what its trainer needs.
const PROBE = `
import json, sys
out = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import sentence_transformers
    out["sentence_transformers"] = getattr(sentence_transformers, "__version__", "0")
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"
else:
    missing = []
    for name in ("torch", "transformers", "datasets", "accelerate"):
        try:
            out[name] = getattr(__import__(name), "__version__", "?")
        except Exception as e:
            missing.append(f"{name} ({type(e).__name__}: {e})")
    out["missing"] = missing
    try:
        import torch
        out["cuda"] = torch.cuda.device_count()
    except Exception:
        pass
print(json.dumps(out))
`;

export interface Interpreter {
  python: string;
  executable: string;
  pythonVersion: string;
  versions: Record<string, string>;
  cuda?: number;
}

export class EngineError extends Error {}

/**
 * Is `python` an interpreter with a recent enough sentence-transformers (and torch, transformers,
 * datasets, accelerate)? Throws EngineError naming the interpreter and what it found.
 */
export function checkInterpreter(python: string, need: { version: string; why: string }): Interpreter {
  const cwd = privateDir();
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(python, ['-c', PROBE], { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  const install = `${python} -m pip install "sentence-transformers[train]>=${need.version}"`;
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new EngineError(
      code === 'ENOENT'
        ? `the Python interpreter "${python}" was not found. Set matryoshkaLab.pythonPath (or --python) to a Python with sentence-transformers ≥ ${need.version}`
        : `could not run the Python interpreter "${python}": ${r.error.message}`,
    );
  }
  let probe: Record<string, unknown>;
  try {
    probe = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    throw new EngineError(
      `"${python}" is not a working Python 3 (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  const who = `${python} (Python ${String(probe.python)})`;
  if (typeof probe.error === 'string') {
    throw new EngineError(
      `${who} has no sentence-transformers (${probe.error}); this config needs sentence-transformers ≥ ${need.version}: ${install}`,
    );
  }
  const st = String(probe.sentence_transformers);
  if (!versionAtLeast(st, need.version)) {
    throw new EngineError(`${who} has sentence-transformers ${st}; this config needs ≥ ${need.version} (${need.why}): ${install}`);
  }
  const missing = (probe.missing as string[] | undefined) ?? [];
  if (missing.length) throw new EngineError(`${who} has sentence-transformers ${st} but not ${missing.join(', ')}: ${install}`);
  const versions: Record<string, string> = {};
  for (const k of ['sentence_transformers', 'torch', 'transformers', 'datasets', 'accelerate'])
    if (typeof probe[k] === 'string') versions[k.replace('_', '-')] = probe[k];
  return {
    python,
    executable: String(probe.executable),
    pythonVersion: String(probe.python),
    versions,
    cuda: typeof probe.cuda === 'number' ? probe.cuda : undefined,
  };
}

/**
 * How a run of `devices` processes meets: torchrun's --standalone (a c10d rendezvous on localhost whose port
 * the operating system picks, free, per run; torch/distributed/run.py), never the fixed default port 29500 that
 * `--nproc_per_node N` alone uses for every run on the machine. Recorded in run.json (`rendezvous`); the
 * callback adds the endpoint the processes actually used (MASTER_ADDR:MASTER_PORT).
 */
export const RENDEZVOUS = 'torchrun --standalone (c10d on localhost, a free port per run)';

/** The interpreter's arguments that run train.py: torchrun for devices > 1. */
export function launchArgs(devices: number, script: string, resume: boolean): string[] {
  const argv = devices > 1 ? ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(devices), script] : [script];
  if (resume) argv.push('--resume');
  return argv;
}

/** transformers' checkpoints (checkpoint-<step>/) in the run's checkpoints/ folder. */
export function latestHfCheckpoint(runDir: string): number | undefined {
  let best: number | undefined;
  try {
    for (const n of readdirSync(join(runDir, RUN_FILES.checkpoints))) {
      const m = /^checkpoint-(\d+)$/.exec(n);
      if (m && statSync(join(runDir, RUN_FILES.checkpoints, n)).isDirectory()) best = Math.max(best ?? 0, Number(m[1]));
    }
  } catch {
    // no checkpoints folder
  }
  return best;
}

export interface EngineArgs {
  config?: string;
  out?: string;
  resume?: string;
  python?: string;
  /** Write train.py, its data, the callback and run.sh to this folder; run nothing (./emitScript.ts). */
  emitScript?: string;
}

const err = (s: string) => process.stderr.write(`error: ${s}\n`);

/** The config's data, read and split; or, on bad data, the error on stderr (naming the config and its JSON path) and undefined. */
export function dataOrExplain(config: RunConfig, baseDir: string, configFile: string): ReturnType<typeof prepareData> | undefined {
  try {
    return prepareData(config, baseDir);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    err((e.configPath ? `${configFile}: ${e.configPath}: bad data:\n` : '') + e.message);
    return undefined;
  }
}

/**
 * The resolved config of a config file / run folder for this engine; 'other' when it is not for this
 * engine (the bundled trainer's path takes it, and reports what is wrong with it), or the errors to print.
 */
function engineOf(args: EngineArgs): { resolved: ResolvedRunConfig; file: string; warnings: string[] } | { errors: string } | 'other' {
  if (args.config) {
    const file = resolve(args.config);
    const loaded = loadRunConfig(file);
    if (!loaded.resolved) {
      // Invalid: report here only when the file asks for this engine (the bundled path reports the rest).
      return /"engine"\s*:\s*"sentence-transformers"/.test(loaded.text ?? '')
        ? { errors: formatConfigErrors(args.config, loaded.errors) }
        : 'other';
    }
    if (loaded.resolved.config.engine !== ENGINE) return 'other';
    return { resolved: loaded.resolved, file, warnings: loaded.warnings.map((w) => `${args.config}: ${w.path}: ${w.message}`) };
  }
  if (args.resume) {
    const runDir = resolve(args.resume);
    const file = join(runDir, RUN_FILES.config);
    let cfg: RunConfig;
    let baseDir = runDir;
    try {
      cfg = JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
      if (cfg.engine !== ENGINE) return 'other';
      const info = JSON.parse(readFileSync(join(runDir, RUN_FILES.info), 'utf8')) as RunInfo;
      if (typeof info.baseDir === 'string') baseDir = info.baseDir;
    } catch {
      return 'other';
    }
    // The config the run started with (resolved then); train.py and its data are in the run folder already.
    const v = validateRunConfig(cfg, file, { baseDir, checkFiles: false });
    return v.resolved ? { resolved: v.resolved, file, warnings: [] } : { errors: formatConfigErrors(file, v.errors) };
  }
  return 'other';
}

/**
 * The CLI's entry for this engine: undefined when the config / run is not for it (the bundled trainer
 * goes on), else the exit code (0 completed or stopped, 1 failed, 2 bad input: nothing written).
 */
export async function sentenceTransformersMain(args: EngineArgs): Promise<number | undefined> {
  const which = engineOf(args);
  if (which === 'other') return undefined;
  if ('errors' in which) {
    process.stderr.write(which.errors + '\n');
    return 2;
  }
  const { resolved } = which;
  if (args.emitScript !== undefined) return emitScriptMain(args.emitScript, which.file, resolved, which.warnings);
  const python = args.python || process.env.MRL_PYTHON || DEFAULT_PYTHON;
  const config = resolved.config;
  for (const w of which.warnings) process.stderr.write(`warning: ${w}\n`);
  let interp: Interpreter;
  try {
    interp = checkInterpreter(python, requiredVersion(resolved));
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    err(e.message);
    return 2;
  }
  if (config.devices > 1 && (interp.cuda ?? 0) < config.devices) {
    process.stderr.write(
      `warning: devices ${config.devices}, but torch sees ${interp.cuda ?? 0} CUDA device(s): the processes will share what there is (gloo on the CPU when none)\n`,
    );
  }
  return args.resume ? resumeRun(resolve(args.resume), resolved, interp) : startRun(args, which.file, resolved, interp);
}

function startRun(args: EngineArgs, file: string, resolved: ResolvedRunConfig, interp: Interpreter): Promise<number> | number {
  const { config, baseDir } = resolved;
  const runDir = args.out ? resolve(args.out) : join(defaultRunsDir(file), makeRunId(config.name));
  if (existsSync(join(runDir, RUN_FILES.info))) {
    err(`${runDir} already holds a run; choose another --out or --resume it`);
    return 2;
  }
  if (existsSync(runDir) && (!statSync(runDir).isDirectory() || readdirSync(runDir).length > 0)) {
    err(`${runDir} exists and is not an empty folder; choose another --out`);
    return 2;
  }
  const data = dataOrExplain(config, baseDir, args.config ?? file);
  if (!data) return 2;
  const now = new Date();
  const info: RunInfo = {
    id: runDir.split(/[\\/]/).pop()!,
    name: config.name,
    status: 'running',
    pid: process.pid,
    startedAt: now.toISOString(),
    endedAt: null,
    backend: 'pytorch',
    backendReason: `${interp.executable} (Python ${interp.pythonVersion}), ${Object.entries(interp.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    engine: ENGINE,
    step: 0,
    configFile: file,
    baseDir,
    devices: config.devices,
    ...provenance(file, data.sources),
  };
  if (config.devices > 1) info.rendezvous = RENDEZVOUS;
  if (config.training.maxSteps > 0) info.totalSteps = config.training.maxSteps;
  const writer = RunWriter.create(runDir, info, config);
  let script: string;
  try {
    const exported = exportData(runDir, data.train, data.eval, config.evaluation.maxQueries);
    script = generateScript(scriptInput(resolved, exported.scored, file));
    // The folder's copy is the user's record (readable, rerunnable by hand); what runs is a private copy.
    writeFileSync(join(runDir, SCRIPT_FILE), script);
    copyFileSync(callbackSource(), join(runDir, CALLBACK_FILE));
    writer.log(
      `sentence-transformers: ${info.backendReason}; ${exported.trainRows} train rows, ${exported.queries} eval queries over ${exported.corpus} texts`,
    );
  } catch (e) {
    // The folder exists and says "running": it must end "failed" with the reason, and free its lock.
    const error = `preparing the sentence-transformers run failed: ${e instanceof Error ? e.message : String(e)}`;
    writer.update({ status: 'failed', error, endedAt: new Date().toISOString(), pid: null });
    releaseRunLock(runDir);
    err(error);
    return 1;
  }
  process.stderr.write(`run folder: ${runDir}\n`);
  return runScript(runDir, config, interp, script, false);
}

/** What train.py is generated from: the validated config, never a file of the run folder. */
export function scriptInput(resolved: ResolvedRunConfig, scoredEval: boolean, configFile: string): ScriptInput {
  const loc = resolved.pretrained;
  if (!loc) throw new Error('unreachable: validated sentence-transformers configs are pretrained');
  const guides = Object.fromEntries(Object.entries(resolved.guides).map(([name, g]) => [name, g.kind === 'folder' ? g.dir : g.id]));
  return { resolved, model: loc.kind === 'folder' ? loc.dir : loc.id, guides, scoredEval, configFile };
}

/** Cap of data/eval.json read on resume (only whether it has scored pairs is asked). */
const MAX_EVAL_JSON_BYTES = 1024 * 1024 * 1024;

/**
 * Resume: the run folder may come from anywhere (a cloned repository), so nothing executable is taken
 * from it: train.py is generated again from config.json as validated (engineOf), the callback is the
 * extension's own, and Python runs them from a private folder (runScript). The folder gives data only:
 * data/, the checkpoints, run.json.
 */
function resumeRun(runDir: string, resolved: ResolvedRunConfig, interp: Interpreter): Promise<number> | number {
  const config = resolved.config;
  // The lock first, then the state (as the bundled trainer's --resume): of two resumes racing, the
  // second is refused instead of reading a state the first is about to change.
  try {
    acquireRunLock(runDir);
  } catch (e) {
    if (!(e instanceof RunLockedError)) throw e;
    err(`run ${basename(runDir)} is still running (pid ${e.pid}${e.host ? ` on ${e.host}` : ''} holds its lock); stop it first`);
    return 2;
  }
  const refuse = (why: string): number => {
    releaseRunLock(runDir);
    err(why);
    return 2;
  };
  let info: RunInfo;
  try {
    info = JSON.parse(readFileSync(join(runDir, RUN_FILES.info), 'utf8')) as RunInfo;
  } catch {
    return refuse(`${runDir} is not a run folder (no readable ${RUN_FILES.info})`);
  }
  if (info.status === 'completed') return refuse(`run ${info.id} is already completed`);
  const step = latestHfCheckpoint(runDir);
  if (step === undefined) return refuse(`${runDir} has no checkpoint to resume from (no ${RUN_FILES.checkpoints}/checkpoint-<step>/)`);
  const evalJson = readJsonFile(join(runDir, 'data', 'eval.json'), MAX_EVAL_JSON_BYTES);
  if (typeof evalJson !== 'object' || evalJson === null || !existsSync(join(runDir, 'data', 'train.jsonl'))) {
    return refuse(`${runDir} has no data to resume with (data/train.jsonl, data/eval.json)`);
  }
  // Generated again from the validated config: nothing executable is taken from the run folder.
  const script = generateScript(scriptInput(resolved, 'pairs' in evalJson, join(runDir, RUN_FILES.config)));
  writeFileAtomic(
    join(runDir, RUN_FILES.info),
    JSON.stringify({ ...info, status: 'running', pid: process.pid, endedAt: null, error: undefined }, null, 2) + '\n',
  );
  process.stderr.write(`resuming ${info.id} from checkpoint-${step}\n`);
  return runScript(runDir, config, interp, script, true);
}

/**
 * Runs `scriptText` (train.py) to its end; returns the exit code (0 completed / stopped, 1 otherwise).
 * It runs as train.py in a private folder beside the extension's own callback, that folder being
 * Python's working folder too: the run folder (MRL_RUN_DIR) is never on the import path.
 */
function runScript(runDir: string, config: RunConfig, interp: Interpreter, scriptText: string, resume: boolean): Promise<number> {
  const home = privateDir();
  const script = join(home, SCRIPT_FILE);
  try {
    writeFileSync(script, scriptText);
    copyFileSync(callbackSource(), join(home, CALLBACK_FILE));
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const argv = launchArgs(config.devices, script, resume);
  // Its own process group: a Ctrl-C in the terminal reaches this process only, which passes it on once
  // (in our group, Python would get it twice: from the terminal and from us, and exit at once).
  // The interpreter the probe ran, by its absolute path: a relative --python names a file from the
  // trainer's folder, and this process starts in the run folder.
  const child = spawn(interp.executable || interp.python, argv, {
    cwd: home,
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, MRL_RUN_DIR: runDir, MRL_OWNER_PID: String(process.pid), PYTHONUNBUFFERED: '1' },
  });
  let signals = 0;
  const forward = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) process.stderr.write(`\n${sig}: passed to sentence-transformers, which finishes this step, then checkpoints…\n`);
    child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, () => forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise<number>((done) => {
    let ended = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (ended) return;
      ended = true;
      for (const [s, h] of handlers) process.off(s, h);
      rmSync(home, { recursive: true, force: true });
      const file = join(runDir, RUN_FILES.info);
      let info: RunInfo | undefined;
      try {
        info = JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
      } catch {
        info = undefined;
      }
      if (info && info.status === 'running') {
        // Python ended without a final status (killed, or it failed before the callback was attached).
        const why = spawnError
          ? `could not start ${interp.python}: ${spawnError.message}`
          : signal
            ? `the sentence-transformers process was killed (${signal})`
            : `the sentence-transformers process exited with code ${code} before training ended`;
        const status = signals > 0 ? 'stopped' : 'failed';
        info = { ...info, status, pid: null, endedAt: new Date().toISOString(), error: why };
        writeFileAtomic(file, JSON.stringify(info, null, 2) + '\n');
      }
      releaseRunLock(runDir);
      if (info?.status === 'failed') process.stderr.write(`error: the run failed: ${info.error ?? `exit ${code}`}\n`);
      done(info?.status === 'completed' || info?.status === 'stopped' ? 0 : 1);
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('exit', (code, signal) => finish(code, signal));
  });
}
