// The real trainer CLI (from sources, through tsx) under injected faults (src/trainer/cli/faultInjection.ts,
// MRL_FAULT_INJECT), and what a reader of its run folder sees: shared by killMidCheckpoint.test.ts and
// faultInjection.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyResume } from '../../src/insights/metricRules';
import { parseMetricsJsonl, type MetricsEvent, type RunInfo } from '../../src/protocol/runFolder';
import { RunStore, type RunState } from '../../src/runs/store';
import type { FaultSpec } from '../../src/trainer/cli/faultInjection';

const CLI = resolve('src/trainer/cli/main.ts');
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;

/** A hang guard, never a statement about speed: a trainer of a few steps that has not ended by then is stuck. */
export const HANG_GUARD_MS = 120_000;

/** 200 distinct pairs: a data file the tiny configs below train on without WordNet. */
export function writePairs(file: string): void {
  const things = ['cat', 'dog', 'sun', 'moon', 'tree'];
  const kinds = ['feline', 'canine', 'star', 'satellite', 'plant'];
  const rows = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({ anchor: `the ${things[i % 5]} number ${i}`, positive: `a thing called ${i} ${kinds[i % 5]}` }),
  );
  writeFileSync(file, rows.join('\n') + '\n');
}

/** A config of a few steps on `pairs.jsonl` beside it: a train line every step, an evaluation every 4, a checkpoint every 2. */
export function tinyConfig(name: string, maxSteps: number): Record<string, unknown> {
  return {
    name,
    seed: 3,
    backend: 'wasm',
    model: { scratch: { vocabSize: 200, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
    data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.1 },
    loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8] },
    training: { maxSteps, batchSize: 8, learningRate: 0.002, logEvery: 1, evalEvery: 4, checkpointEvery: 2 },
    evaluation: { maxQueries: 10 },
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Trainer {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<Exit>;
}

/** The trainer CLI with `args` (one thread), a fault armed when `fault` is given. */
export function startTrainer(args: string[], fault?: FaultSpec): Trainer {
  const env = { ...process.env };
  if (fault) env.MRL_FAULT_INJECT = JSON.stringify(fault);
  else delete env.MRL_FAULT_INJECT;
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--workers', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<Exit>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stderr: () => err, exit };
}

/** Resolves when `cond` holds; throws (naming `what`) past the hang guard. Polls: no timing is asserted. */
export async function waitFor(cond: () => boolean, what: string, ms = HANG_GUARD_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`hang guard: no ${what} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The trainer's exit, or the hang guard's error (the trainer is killed then). */
export async function exited(t: Trainer, what: string): Promise<Exit> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      t.child.kill('SIGKILL');
      reject(new Error(`hang guard: ${what} did not exit within ${HANG_GUARD_MS / 1000} s\n${t.stderr()}`));
    }, HANG_GUARD_MS);
  });
  try {
    return await Promise.race([t.exit, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** The run as the extension shows it (a "running" run.json whose trainer is gone reads as failed). */
export function readerView(runsDir: string, id: string): RunState | undefined {
  const store = new RunStore(runsDir);
  store.refresh();
  return store.get(id);
}

export function runInfo(runDir: string): RunInfo {
  return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
}

/** metrics.jsonl with the resume rule applied, and its resume markers' steps. */
export function metricsView(runDir: string): { events: MetricsEvent[]; resumes: number[]; invalid: number } {
  const file = join(runDir, 'metrics.jsonl');
  const parsed = parseMetricsJsonl(existsSync(file) ? readFileSync(file, 'utf8') : '');
  const resumes = parsed.lines.flatMap((l) => ('type' in l && l.type === 'resume' ? [l.fromStep] : []));
  return { events: applyResume(parsed.lines), resumes, invalid: parsed.invalid };
}

/** `split@step` of each event, in file order: what a curve is drawn from. */
export const eventKeys = (events: MetricsEvent[]): string[] => events.map((e) => `${e.split}@${e.step}`);

/** The events a complete run of `maxSteps` (train every step, eval at 0, every 4 and the end) holds, in order. */
export function completeCurve(maxSteps: number): string[] {
  const out = ['eval@0'];
  for (let s = 1; s <= maxSteps; s++) {
    out.push(`train@${s}`);
    if (s % 4 === 0 || s === maxSteps) out.push(`eval@${s}`);
  }
  return out;
}
