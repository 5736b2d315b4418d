// Issue 22 §5, faults nobody planned: a short real training (the trainer CLI, a tiny config) gets, at a
// file operation chosen by a seed, one of: kill -9 (the trainer stopped mid-operation, a prefix of its
// bytes written); a full disk (ENOSPC from that operation on); the run folder made read-only (EACCES;
// tests run as root, where chmod stops nothing, so both come from MRL_FAULT_INJECT, the trainer's
// test-only fault layer, src/trainer/cli/faultInjection.ts); metrics.jsonl truncated at a random byte
// after a kill; the latest checkpoint damaged (a byte flipped or the file cut) after a kill. Then the run
// is resumed with the fault gone (space freed, the folder writable again). Each must end `completed`, or
// `failed` with a message naming the cause — never a hang (a hang guard, not a timing assertion), never a
// run shown `running` with no process, never a completed step lost: every event the folder held before
// the resume (up to the step it resumes from) is still there after, and every later step is there once.
// MRL_FAULT_SEED=<n> replays a seed; the seed is printed with the summary and in every failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/common/random';
import { bestCheckpointDir, type MetricsEvent } from '../../src/protocol/runFolder';
import type { FaultSpec } from '../../src/trainer/cli/faultInjection';
import { bestCheckpointStep, bestOfEvents } from '../../src/trainer/loop/bestCheckpoints';
import { checkpointDir, fileDigest, listCheckpoints, type FileDigest } from '../../src/trainer/loop/checkpoint';
import {
  completeCurve,
  eventKeys,
  exited,
  metricsView,
  readerView,
  runInfo,
  startTrainer,
  tinyConfig,
  waitFor,
  writePairs,
} from './faultHarness';

const SEED = process.env.MRL_FAULT_SEED ? Number(process.env.MRL_FAULT_SEED) : randomInt(2 ** 31);
const STEPS = 10;
const KINDS = ['kill9', 'enospc', 'readonly', 'truncate', 'corrupt'] as const;
type Kind = (typeof KINDS)[number];

const ws = mkdtempSync(join(tmpdir(), 'mrl-faults-'));
writeFileSync(join(ws, 'package.json'), '{}');
writePairs(join(ws, 'pairs.jsonl'));
const config = join(ws, 'faults.mrl.json');
// training.keepBest too: its best checkpoints (a folder renamed into place, a symlink swapped over the
// previous one) are file operations a fault can strike like any other.
const base = tinyConfig('faults', STEPS) as { training: Record<string, unknown> };
writeFileSync(config, JSON.stringify({ ...base, training: { ...base.training, keepBest: { metric: 'ndcg@10', dims: [16, 8] } } }));

/** How many file operations a whole run makes in its runs folder (the range the fault points are drawn from). */
async function operationsOfARun(): Promise<number> {
  const runs = join(ws, 'count');
  const marker = join(ws, 'count.txt');
  const t = startTrainer(['--config', config, '--out', join(runs, 'r')], { under: runs, kind: 'count', marker });
  assert.equal((await exited(t, 'the counting run')).code, 0, t.stderr());
  return Number(readFileSync(marker, 'utf8'));
}

interface Injection {
  kind: Kind;
  at: number;
  /** Where the fault struck: the operation and file. */
  where: string;
  outcome: string;
}

/** An error as the summary shows it: its first words, without the run folder's path. */
const short = (s: string) =>
  s
    .replace(/'[^']*'/g, '…')
    .replace(/ \(injected by MRL_FAULT_INJECT\)/, '')
    .replace(/\s+/g, ' ')
    .slice(0, 80);

/** One injection into a fresh run, its resume, and the checks; → what happened, for the summary. */
async function inject(i: number, kind: Kind, at: number, rng: Rng): Promise<Injection> {
  const runs = join(ws, `runs-${i}`);
  mkdirSync(runs);
  const runDir = join(runs, 'r');
  const marker = join(ws, `marker-${i}.json`);
  const fault: FaultSpec =
    kind === 'enospc' || kind === 'readonly'
      ? { under: runs, kind, at, marker }
      : { under: runs, kind: 'pause', at, partial: rng.next(), marker };
  const t = startTrainer(['--config', config, '--out', runDir], fault);
  if (fault.kind === 'pause') {
    await waitFor(() => existsSync(marker) || t.child.exitCode !== null, `pause at operation ${at}`);
    t.child.kill('SIGKILL');
  }
  const first = await exited(t, `the ${kind} run`);
  const hit = existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as { call: string; path: string }) : undefined;
  const where = hit ? `${hit.call} ${hit.path.slice(runs.length + 1)}` : 'never reached';
  const inj: Injection = { kind, at, where, outcome: '' };
  const stderr = t.stderr();

  // The fault struck while the run folder was being created (under its dot-name): no run exists.
  if (!existsSync(join(runDir, 'run.json'))) {
    assert.ok(hit, `no run folder and no fault: ${stderr}`);
    assert.deepEqual(
      readdirSync(runs).filter((n) => !n.startsWith('.')),
      [],
      'nothing a reader lists',
    );
    if (kind === 'enospc') assert.match(stderr, /ENOSPC/);
    if (kind === 'readonly') assert.match(stderr, /EACCES/);
    inj.outcome = `no run (struck during its creation, exit ${first.code ?? first.signal})`;
    return inj;
  }

  // Right after the fault: the run is never shown running without a process.
  const after = readerView(runs, 'r')!;
  assert.notEqual(after.status, 'running', `shown running with its trainer gone (${kind} at ${where})`);
  if (kind === 'enospc' && after.status === 'failed') {
    assert.equal(first.code, 1, stderr);
    assert.match(`${after.info.error}`, /ENOSPC/, 'a full disk is named in run.json');
  }
  if (kind === 'readonly' && after.status === 'failed') {
    assert.equal(first.code, 1, stderr);
    assert.match(stderr, /EACCES/, 'a read-only folder is named on stderr (run.json cannot be written)');
    assert.match(after.reason ?? '', /trainer process is gone/);
  }
  let damage = '';
  if (kind === 'truncate') {
    const file = join(runDir, 'metrics.jsonl');
    if (existsSync(file)) {
      const size = statSync(file).size;
      const keep = rng.int(size + 1);
      truncateSync(file, keep);
      damage = ` metrics cut to ${keep}/${size} B,`;
    }
  }
  if (kind === 'corrupt') {
    const steps = listCheckpoints(runDir);
    if (steps.length) {
      const dir = checkpointDir(runDir, steps[steps.length - 1]);
      const files = readdirSync(dir).sort();
      const f = files[rng.int(files.length)];
      const bytes = readFileSync(join(dir, f));
      if (rng.next() < 0.5) {
        const off = rng.int(bytes.length);
        bytes[off] ^= 1 + rng.int(255);
        writeFileSync(join(dir, f), bytes);
        damage = ` step-${steps.at(-1)}/${f} byte ${off} flipped,`;
      } else {
        const keep = rng.int(bytes.length);
        writeFileSync(join(dir, f), bytes.subarray(0, keep));
        damage = ` step-${steps.at(-1)}/${f} cut to ${keep} B,`;
      }
    }
  }
  const firstStatus =
    fault.kind === 'pause'
      ? 'killed'
      : `${after.status}${after.status === 'failed' ? `(${short(String(after.info.error ?? after.reason))})` : ''}`;
  if (after.status === 'completed') {
    inj.outcome = `${firstStatus} (the fault changed nothing that mattered)`;
    assert.deepEqual(eventKeys(metricsView(runDir).events), completeCurve(STEPS));
    return inj;
  }

  // The resume, with the fault gone (space freed, the folder writable again).
  const before = metricsView(runDir).events;
  const r = startTrainer(['--resume', runDir]);
  const second = await exited(r, `the resume after ${kind}`);
  const end = readerView(runs, 'r')!;
  assert.notEqual(end.status, 'running', 'never left running');
  assert.equal(existsSync(join(runDir, '.lock')), false, 'no lock left behind');
  if (end.status === 'failed') {
    // Nothing to resume from: said so on stderr; run.json names why the run failed (the disk's error when
    // the trainer could record it, else that nothing was left to resume from).
    assert.equal(second.code, 2, r.stderr());
    assert.match(r.stderr(), /no (readable )?checkpoint to resume from/);
    assert.match(`${end.info.error}`, /no (readable )?checkpoint to resume from|ENOSPC/);
    inj.outcome = `${firstStatus} →${damage} resume → failed(${short(String(end.info.error))})`;
    return inj;
  }
  assert.equal(second.code, 0, r.stderr());
  assert.equal(end.status, 'completed', r.stderr());
  const info = runInfo(runDir);
  assert.equal(info.step, STEPS);
  assert.ok(existsSync(join(runDir, 'model', 'model.safetensors')), 'the model is saved');
  assert.ok(!readdirSync(join(runDir, 'checkpoints')).some((n) => n.includes('.tmp-')), 'no temp checkpoint left');
  assert.ok(!readdirSync(runDir).some((n) => n.endsWith('.tmp') || /^\.lock\./.test(n)), `no temp file left: ${readdirSync(runDir)}`);
  const m = metricsView(runDir);
  const from = m.resumes.at(-1)!;
  assert.equal(m.resumes.length, 1);
  assertNoStepLost(before, m.events, from, kind);
  assertBestsHeld(runDir, m.events);
  inj.outcome = `${firstStatus} →${damage} resume from ${from} → completed`;
  return inj;
}

/**
 * Every event the folder held before the resume, up to the step it resumed from, is still there (in
 * order), and every step after it is there once; for faults that do not delete lines, the whole curve.
 * The resume may add the evaluation at its own step when the file lost it (it re-runs one that is due).
 */
function assertNoStepLost(before: MetricsEvent[], after: MetricsEvent[], from: number, kind: Kind): void {
  const upTo = (es: MetricsEvent[]) => eventKeys(es.filter((e) => e.step <= from));
  const kept = upTo(after);
  const expected = upTo(before);
  const readded = kept.length === expected.length + 1 && kept.at(-1) === `eval@${from}` && !expected.includes(`eval@${from}`);
  assert.deepEqual(readded ? kept.slice(0, -1) : kept, expected, `the events up to step ${from} are those before the resume`);
  assert.deepEqual(
    eventKeys(after.filter((e) => e.step > from)),
    completeCurve(STEPS).filter((k) => Number(k.split('@')[1]) > from),
    'every step after the resume point, once',
  );
  if (kind !== 'truncate') assert.deepEqual(eventKeys(after), completeCurve(STEPS), 'the whole curve');
}

/**
 * training.keepBest after the faults: each dim's record is the best evaluation of the curve as it stands,
 * and best-<dim> holds that step, its files those its state.json lists; a dim without a record has no folder.
 */
function assertBestsHeld(runDir: string, events: MetricsEvent[]): void {
  const rec = runInfo(runDir).bestCheckpoints ?? {};
  for (const d of [16, 8]) {
    const best = bestOfEvents(events, 'ndcg@10', d)!;
    const folder = join(runDir, 'checkpoints', bestCheckpointDir(d));
    if (!rec[String(d)]) {
      assert.equal(existsSync(folder), false, `dim ${d} has no record, and no folder`);
      continue;
    }
    assert.deepEqual(rec[String(d)], { metric: 'ndcg@10', step: best.step, value: best.value }, `dim ${d}'s record`);
    assert.equal(bestCheckpointStep(runDir, d), best.step, `best-${d} holds step ${best.step}`);
    const state = JSON.parse(readFileSync(join(folder, 'state.json'), 'utf8')) as { files: Record<string, FileDigest> };
    assert.deepEqual(Object.keys(state.files).sort(), ['model.safetensors', 'tokenizer.json']);
    for (const [f, want] of Object.entries(state.files)) assert.deepEqual(fileDigest(join(folder, f)), want, `best-${d}/${f}`);
  }
}

test(`fault injection (MRL_FAULT_SEED=${SEED}): kill -9, full disk, read-only folder, truncated metrics, damaged checkpoint — then resume`, async () => {
  const rng = new Rng(SEED);
  const ops = await operationsOfARun();
  assert.ok(ops > 40, `a run makes ${ops} file operations`);
  // Every kind once (in a seeded order), and one more drawn at random.
  const kinds: Kind[] = [...rng.shuffle([...KINDS]), KINDS[rng.int(KINDS.length)]];
  const done: Injection[] = [];
  try {
    for (const [i, kind] of kinds.entries()) done.push(await inject(i, kind, 1 + rng.int(ops), rng));
  } catch (e) {
    const so = done.map((d) => `${d.kind}@${d.at}: ${d.outcome}`).join('; ');
    const next = kinds[done.length];
    throw new Error(
      `fault injection seed=${SEED} (replay: MRL_FAULT_SEED=${SEED} npm test -- faultInjection), injection ${done.length + 1} (${next}): ${(e as Error).message}\nbefore it: ${so}`,
      { cause: e },
    );
  }
  console.log(
    `fault injection seed=${SEED}: ${done.length} injections into runs of ${ops} file operations:\n` +
      done.map((d) => `  ${d.kind}@${d.at} (${d.where}): ${d.outcome}`).join('\n'),
  );
  assert.equal(done.length, kinds.length);
});
