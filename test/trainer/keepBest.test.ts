// training.keepBest on real tiny runs: run.json's record is the best eval value at each listed dim, its
// folder holds that step's model (re-evaluated: the same value), a better evaluation replaces it, pruning
// never removes it, resume keeps it, and a best from steps that a resume drops is not kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { validateRunConfig } from '../../src/config/validate';
import type { ResolvedRunConfig } from '../../src/config/resolve';
import { bestCheckpointDir, type MetricsLine, type RunInfo } from '../../src/protocol/runFolder';
import { latestCheckpoint, listCheckpoints, removeTempCheckpoints } from '../../src/trainer/loop/checkpoint';
import { BestCheckpoints } from '../../src/trainer/loop/bestCheckpoints';
import type { ProgressLine, ProgressSink } from '../../src/trainer/loop/report';
import { prepareRun } from '../../src/trainer/loop/prepare';
import { runTraining } from '../../src/trainer/loop/train';
import { evaluate } from '../../src/trainer/eval/evaluator';
import { embedTexts, EVAL_BATCH } from '../../src/trainer/eval/embed';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { WordPieceTokenizer } from '../../src/trainer/tokenizer/wordpiece';
import { RunWriter } from '../../src/runs/runWriter';
import { loadWordnet } from '../../src/data/wordnet';

const dir = mkdtempSync(join(tmpdir(), 'mrl-keepbest-'));
const rows = loadWordnet()
  .rows.filter((_, i) => i % 300 === 0)
  .slice(0, 400);
writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify({ anchor: r.anchor, positive: r.positive })).join('\n') + '\n');

// At seed 7 dim 8 is best at step 0 (the untrained model) and dim 16 improves late: both cases below.
const DIMS = [16, 8];
const TINY = {
  name: 'keep-best',
  seed: 7,
  backend: 'wasm',
  model: { scratch: { vocabSize: 300, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxSeqLength: 12 } },
  data: { train: { source: 'pairs.jsonl' }, evalFraction: 0.2 },
  loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [16, 8, 4] },
  training: {
    maxSteps: 12,
    batchSize: 16,
    learningRate: 0.003,
    warmupSteps: 2,
    logEvery: 2,
    evalEvery: 2,
    checkpointEvery: 2,
    keepBest: { metric: 'ndcg@10', dims: DIMS },
  },
  evaluation: { maxQueries: 40, metrics: ['ndcg@10', 'mrr@10'] },
};

function config(training: Record<string, unknown> = {}): ResolvedRunConfig {
  const r = validateRunConfig({ ...TINY, training: { ...TINY.training, ...training } }, join(dir, 'tiny.mrl.json'));
  assert.deepEqual(r.errors, []);
  return r.resolved!;
}

const quiet = () => {};

function readLines(runDir: string): MetricsLine[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsLine);
}

type Eval = { step: number; byDim: Record<string, Record<string, number>> };

/** The eval events a reader keeps (the resume rule, written out here independently of the trainer's code). */
function evalsOf(runDir: string): Eval[] {
  const out: Eval[] = [];
  for (const l of readLines(runDir)) {
    if ('type' in l && l.type === 'resume') {
      for (let i = out.length - 1; i >= 0; i--) if (out[i].step > l.fromStep) out.splice(i, 1);
    } else if ((l as { split?: string }).split === 'eval') out.push(l as unknown as Eval);
  }
  return out;
}

/** Per dim: the step and value of the highest ndcg@10, the earliest on a tie (a later equal value does not beat it). */
function expectedBests(evals: Eval[]): Record<string, { metric: string; step: number; value: number }> {
  const out: Record<string, { metric: string; step: number; value: number }> = {};
  for (const d of DIMS.map(String)) {
    let best: Eval | undefined;
    for (const e of evals) if (!best || e.byDim[d]['ndcg@10'] > best.byDim[d]['ndcg@10']) best = e;
    out[d] = { metric: 'ndcg@10', step: best!.step, value: best!.byDim[d]['ndcg@10'] };
  }
  return out;
}

function info(runDir: string): RunInfo {
  return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
}

function bestDir(runDir: string, d: number): string {
  return join(runDir, 'checkpoints', bestCheckpointDir(d));
}

function stepOfBest(runDir: string, d: number): number {
  return (JSON.parse(readFileSync(join(bestDir(runDir, d), 'state.json'), 'utf8')) as { step: number }).step;
}

/** The best folder of dim d loaded into a freshly prepared encoder and evaluated: its ndcg@10 at d. */
async function reevaluate(c: ResolvedRunConfig, runDir: string, d: number): Promise<number> {
  const p = await prepareRun(c);
  const folder = bestDir(runDir, d);
  const saved = readSafetensors(join(folder, 'model.safetensors'));
  for (const [name, v] of p.encoder.params) {
    const t = saved.get(name);
    assert.ok(t, `${folder}/model.safetensors has ${name}`);
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  assert.ok(!existsSync(join(folder, 'optimizer.safetensors')), 'a best checkpoint holds no optimizer moments');
  const tok = WordPieceTokenizer.fromFile(join(folder, 'tokenizer.json'));
  const r = evaluate(
    p.evalSet,
    (texts) => embedTexts(p.encoder, tok, texts, { maxSeqLength: p.maxSeqLength, batchSize: EVAL_BATCH }),
    p.encoder.dim,
    {
      dims: [d],
      metrics: ['ndcg@10'],
      funnel: null,
    },
  );
  return r.byDim[String(d)]['ndcg@10'];
}

function stopAt(step: number, stop: { requested: boolean }, seen?: (s: number) => void): ProgressSink {
  return {
    update: (p: ProgressLine) => {
      seen?.(p.step);
      if (p.step === step) stop.requested = true;
    },
    message: () => {},
    done: () => {},
  };
}

let fullRecord: RunInfo['bestCheckpoints'];

test('a run with keepBest: run.json records the best eval value per dim, its folder holds that model, pruning keeps it', async () => {
  const c = config();
  const runDir = join(dir, 'full');
  // Watch the record while the run goes: a later, better evaluation must replace an earlier best.
  const records: string[] = [];
  const watch: ProgressSink = {
    update: () => {
      const b = info(runDir).bestCheckpoints;
      if (b) records.push(JSON.stringify(b));
    },
    message: () => {},
    done: () => {},
  };
  const r = await runTraining(await prepareRun(c), { runDir, progress: watch, print: quiet });
  assert.equal(r.status, 'completed');
  const evals = evalsOf(runDir);
  assert.deepEqual(
    evals.map((e) => e.step),
    [0, 2, 4, 6, 8, 10, 12],
  );
  const want = expectedBests(evals);
  fullRecord = info(runDir).bestCheckpoints;
  assert.deepEqual(fullRecord, want);
  // Replaced at least once: the first record (step 0, the untrained model, counts) is not the last.
  assert.ok(records.length > 0 && JSON.parse(records[0])['16'].step === 0, `first record ${records[0]}`);
  assert.ok(new Set(records).size >= 2, `the record changed during the run: ${[...new Set(records)].join(' → ')}`);
  for (const d of DIMS) {
    assert.equal(stepOfBest(runDir, d), want[String(d)].step, `best-${d} holds step ${want[String(d)].step}`);
    assert.equal(await reevaluate(c, runDir, d), want[String(d)].value, `best-${d} re-evaluated gives the recorded ndcg@10`);
  }
  // Pruning left the last two step checkpoints; a best of an earlier step is still there.
  assert.deepEqual(listCheckpoints(runDir), [10, 12]);
  const early = DIMS.filter((d) => want[String(d)].step < 10);
  assert.ok(early.length > 0, `some dim's best is older than the kept step checkpoints: ${JSON.stringify(want)}`);
  for (const d of early) assert.ok(existsSync(join(bestDir(runDir, d), 'model.safetensors')));
  // One hidden folder per dim: replaced bests are deleted, nothing temporary is left.
  const names = readdirSync(join(runDir, 'checkpoints'));
  assert.equal(names.filter((n) => n.startsWith('.best-')).length, DIMS.length, names.join(', '));
  assert.ok(!names.some((n) => n.includes('.tmp-')), names.join(', '));
});

test('stop and resume: the bests are kept and the run ends with the same record as an uninterrupted one', async () => {
  assert.ok(fullRecord, 'the first test ran');
  const c = config();
  const runDir = join(dir, 'resumed');
  const stop = { requested: false };
  const r1 = await runTraining(await prepareRun(c), { runDir, progress: stopAt(5, stop), stop, print: quiet });
  assert.equal(r1.status, 'stopped');
  const before = info(runDir).bestCheckpoints!;
  assert.deepEqual(before, expectedBests(evalsOf(runDir)));
  const ckpt = latestCheckpoint(runDir)!;
  assert.equal(ckpt.state.step, 5);
  // Right after the restore the record is the one the stopped run left (every best is at a step ≤ 5).
  let atResume: RunInfo['bestCheckpoints'];
  const seen: ProgressSink = {
    update: () => (atResume ??= info(runDir).bestCheckpoints),
    message: () => {},
    done: () => {},
  };
  const r2 = await runTraining(await prepareRun(c, { resumeFrom: ckpt }), { runDir, resumeFrom: ckpt, progress: seen, print: quiet });
  assert.equal(r2.status, 'completed');
  assert.deepEqual(atResume, before);
  assert.deepEqual(info(runDir).bestCheckpoints, expectedBests(evalsOf(runDir)));
  assert.deepEqual(info(runDir).bestCheckpoints, fullRecord);
  for (const d of DIMS) assert.equal(stepOfBest(runDir, d), fullRecord![String(d)].step);
});

test('a best from steps that the resume rule drops (a crash before the next checkpoint) is not kept', async () => {
  const c = config({ checkpointEvery: 4 });
  const runDir = join(dir, 'crashed');
  const stop = { requested: false };
  await runTraining(await prepareRun(c), { runDir, progress: stopAt(11, stop), stop, print: quiet });
  const rec = info(runDir).bestCheckpoints!;
  // As after a kill -9 at step 11 (no checkpoint written on the way out): the latest checkpoint is step 8's.
  assert.deepEqual(listCheckpoints(runDir), [8, 11]);
  rmSync(join(runDir, 'checkpoints', 'step-11'), { recursive: true });
  const ckpt = latestCheckpoint(runDir)!;
  assert.equal(ckpt.state.step, 8);
  const late = DIMS.filter((d) => rec[String(d)].step > 8);
  assert.ok(late.length > 0, `some best came after step 8 (the test would be vacuous otherwise): ${JSON.stringify(rec)}`);
  let atResume: RunInfo['bestCheckpoints'];
  const seen: ProgressSink = {
    update: () => (atResume ??= info(runDir).bestCheckpoints),
    message: () => {},
    done: () => {},
  };
  const r = await runTraining(await prepareRun(c, { resumeFrom: ckpt }), { runDir, resumeFrom: ckpt, progress: seen, print: quiet });
  assert.equal(r.status, 'completed');
  // At the first resumed step, no record points past step 8: those bests came from dropped events.
  for (const d of DIMS) {
    const a = atResume?.[String(d)];
    if (a) assert.ok(a.step <= 8, `dim ${d}: ${JSON.stringify(a)}`);
  }
  for (const d of late) assert.equal(atResume?.[String(d)], undefined, `dim ${d}: no model of its surviving best is left`);
  const log = readFileSync(join(runDir, 'log.txt'), 'utf8');
  for (const d of late) assert.match(log, new RegExp(`keepBest dim ${d}: .*drops`));
  assert.deepEqual(info(runDir).bestCheckpoints, expectedBests(evalsOf(runDir)));
  assert.deepEqual(info(runDir).bestCheckpoints, fullRecord);
  for (const d of DIMS) assert.equal(stepOfBest(runDir, d), info(runDir).bestCheckpoints![String(d)].step);
});

// ---------------------------------------------------------------- the keeper's file operations

function keeperRun(name: string): { runDir: string; writer: RunWriter } {
  const runDir = join(dir, name);
  const writer = RunWriter.create(
    runDir,
    { id: name, name, status: 'running', pid: process.pid, startedAt: '', endedAt: null, backend: 'cpu' },
    TINY as never,
  );
  return { runDir, writer };
}

/** A model writer standing in for the encoder's files: the step in every file, so a mixed folder shows. */
function fakeModel(step: number) {
  return (d: string, extra: Record<string, unknown>) => {
    writeFileSync(join(d, 'model.safetensors'), `model ${step}`);
    writeFileSync(join(d, 'tokenizer.json'), `{"step": ${step}}`);
    writeFileSync(join(d, 'state.json'), JSON.stringify({ step, ...extra }));
  };
}

test('a write cut short leaves the previous best whole; its temp folder is cleaned like a step checkpoint', () => {
  const { runDir, writer } = keeperRun('cut-short');
  const k = new BestCheckpoints(runDir, writer, { metric: 'ndcg@10', dims: [16] });
  k.afterEval(0, { '16': { 'ndcg@10': 0.1 } }, fakeModel(0));
  assert.throws(
    () =>
      k.afterEval(2, { '16': { 'ndcg@10': 0.2 } }, (d) => {
        writeFileSync(join(d, 'model.safetensors'), 'half');
        throw new Error('disk full');
      }),
    /disk full/,
  );
  assert.deepEqual(info(runDir).bestCheckpoints, { '16': { metric: 'ndcg@10', step: 0, value: 0.1 } });
  assert.equal(readFileSync(join(bestDir(runDir, 16), 'model.safetensors'), 'utf8'), 'model 0');
  assert.ok(readdirSync(join(runDir, 'checkpoints')).some((n) => n.includes('.tmp-')));
  removeTempCheckpoints(runDir);
  assert.ok(!readdirSync(join(runDir, 'checkpoints')).some((n) => n.includes('.tmp-')));
  assert.equal(readFileSync(join(bestDir(runDir, 16), 'model.safetensors'), 'utf8'), 'model 0');
  // A worse or equal value does not replace it; loss-like metrics would compare the other way (metricRules).
  k.afterEval(4, { '16': { 'ndcg@10': 0.1 } }, fakeModel(4));
  assert.equal(info(runDir).bestCheckpoints!['16'].step, 0);
});

test('replacing a best: a reader polling best-<dim> from another process never finds it missing or mixed', async () => {
  const { runDir, writer } = keeperRun('atomic');
  const k = new BestCheckpoints(runDir, writer, { metric: 'ndcg@10', dims: [16] });
  k.afterEval(0, { '16': { 'ndcg@10': 0 } }, fakeModel(0));
  const done = join(runDir, 'done');
  const link = bestDir(runDir, 16);
  // The reader: reads the three files of best-16 in a loop until `done` exists; counts reads where a file
  // was missing or the files disagree on the step.
  const reader = spawn(
    process.execPath,
    [
      '-e',
      // A reader of several files resolves best-16 once (contract: src/protocol/runFolder.ts); ENOENT while
      // the entry best-16 is there is the old folder deleted after a replacement (read again: following the
      // link again can itself land in a folder being deleted, so the entry, not its target, is what is
      // checked); with no entry best-16 at all it is a window without a best.
      // It says when it starts reading and each time it has seen one more step (stdout to a pipe is
      // synchronous on Linux), so the writer below waits for states, not for time.
      `const fs=require('fs'),p=require('path');const link=${JSON.stringify(link)};let reads=0,retries=0,missing=0,mixed=0;const steps=new Set();
       while(!fs.existsSync(${JSON.stringify(done)})){if(++reads===1)process.stdout.write('reading\\n');
         try{const real=fs.realpathSync(link);
             const m=fs.readFileSync(p.join(real,'model.safetensors'),'utf8').split(' ')[1];
             const t=JSON.parse(fs.readFileSync(p.join(real,'tokenizer.json'),'utf8')).step;
             const s=JSON.parse(fs.readFileSync(p.join(real,'state.json'),'utf8')).step;
             const had=steps.size;steps.add(s);if(steps.size>had)process.stdout.write('seen '+steps.size+'\\n');if(String(t)!==m||String(s)!==m)mixed++;}
         catch(e){if(e.code!=='ENOENT')throw e;let there=true;try{fs.lstatSync(link);}catch{there=false;}if(there)retries++;else missing++;}}
       process.stdout.write(JSON.stringify({reads,retries,missing,mixed,steps:steps.size}));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => reader.on('exit', r));
  const yieldToReader = () => new Promise((r) => setTimeout(r, 1));
  for (const end = Date.now() + 120_000; !out.includes('reading'); await yieldToReader())
    assert.ok(Date.now() < end, 'hang guard: the reader never started');
  // Replace it many times while the reader reads (a turn of the event loop between, so the reader runs):
  // 300 times at least, and until the reader has seen the best replaced, however slowly it runs.
  for (let s = 1, end = Date.now() + 120_000; s <= 300 || !/^seen [2-9]/m.test(out); s++) {
    k.afterEval(s, { '16': { 'ndcg@10': s } }, fakeModel(s));
    if (s % 10 === 0) await yieldToReader();
    assert.ok(Date.now() < end, `hang guard: the reader saw no replacement after ${s}: ${out}`);
  }
  writeFileSync(done, '');
  assert.equal(await exited, 0);
  const res = JSON.parse(out.trim().split('\n').at(-1)!) as {
    reads: number;
    retries: number;
    missing: number;
    mixed: number;
    steps: number;
  };
  assert.equal(res.missing, 0, `reads that found no best-16: ${out}`);
  assert.equal(res.mixed, 0, `reads that found files of two steps in one folder: ${out}`);
  assert.ok(res.reads > 0 && res.steps >= 2, `the reader saw the best replaced: ${out}`);
  assert.ok(lstatSync(link).isSymbolicLink() || lstatSync(link).isDirectory());
  assert.equal(readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('.best-')).length, 1);
});

test('restore: a folder whose record did not make it to run.json (crash between them) is recorded from the curve', () => {
  const { runDir, writer } = keeperRun('reconcile');
  const k = new BestCheckpoints(runDir, writer, { metric: 'ndcg@10', dims: [16] });
  k.afterEval(0, { '16': { 'ndcg@10': 0.1 } }, fakeModel(0));
  k.afterEval(2, { '16': { 'ndcg@10': 0.3 } }, fakeModel(2));
  writer.update({ bestCheckpoints: { '16': { metric: 'ndcg@10', step: 0, value: 0.1 } } }); // the record as before the crash
  const events = [0, 2, 4].map((step, i) => ({
    step,
    epoch: 0,
    time: 0,
    split: 'eval' as const,
    values: {},
    byDim: { '16': { 'ndcg@10': [0.1, 0.3, 0.2][i] } },
  }));
  const k2 = new BestCheckpoints(runDir, writer, { metric: 'ndcg@10', dims: [16] });
  k2.restore(4, events, () => undefined);
  assert.deepEqual(info(runDir).bestCheckpoints, { '16': { metric: 'ndcg@10', step: 2, value: 0.3 } });
  // The value to beat is 0.3: a worse evaluation after the resume does not become the best.
  k2.afterEval(6, { '16': { 'ndcg@10': 0.25 } }, fakeModel(6));
  assert.equal(info(runDir).bestCheckpoints!['16'].step, 2);
});

test('restore on a run folder from elsewhere (a cloned repository): a best-<dim> linking out is dropped, never what it names', () => {
  const { runDir, writer } = keeperRun('linked-out');
  const outside = join(dir, 'users-folder');
  mkdirSync(join(outside, 'sub'), { recursive: true });
  writeFileSync(join(outside, 'sub', 'precious.txt'), 'keep me');
  writeFileSync(join(outside, 'state.json'), JSON.stringify({ step: 2 }));
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  // Relative (what `rm -r checkpoints/<link text>` would reach) and absolute.
  symlinkSync(relative(join(runDir, 'checkpoints'), outside), join(runDir, 'checkpoints', 'best-16'));
  symlinkSync(outside, join(runDir, 'checkpoints', 'best-8'));
  const events = [2, 4].map((step, i) => ({
    step,
    epoch: 0,
    time: 0,
    split: 'eval' as const,
    values: {},
    byDim: { '16': { 'ndcg@10': [0.3, 0.2][i] } },
  }));
  const k = new BestCheckpoints(runDir, writer, { metric: 'ndcg@10', dims: [16, 8] });
  // Its state.json says step 2, the best of the curve: through a link that is not ours it is not taken for the best.
  k.restore(4, events, () => undefined);
  assert.equal(readFileSync(join(outside, 'sub', 'precious.txt'), 'utf8'), 'keep me');
  assert.deepEqual(readdirSync(outside).sort(), ['state.json', 'sub']);
  assert.deepEqual(info(runDir).bestCheckpoints, {}, 'no best is recorded through a foreign link');
  assert.equal(existsSync(join(runDir, 'checkpoints', 'best-16')) || isSymlink(join(runDir, 'checkpoints', 'best-16')), false);
  // A better evaluation writes a best of its own; the user's folder is still untouched.
  k.afterEval(6, { '16': { 'ndcg@10': 0.5 }, '8': { 'ndcg@10': 0.5 } }, fakeModel(6));
  assert.equal(readFileSync(join(bestDir(runDir, 16), 'model.safetensors'), 'utf8'), 'model 6');
  assert.match(readlinkSync(join(runDir, 'checkpoints', 'best-8')), /^\.best-8-step-6-[0-9a-f]+$/);
  assert.equal(readFileSync(join(outside, 'sub', 'precious.txt'), 'utf8'), 'keep me');
  assert.deepEqual(readdirSync(outside).sort(), ['state.json', 'sub']);
});

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
