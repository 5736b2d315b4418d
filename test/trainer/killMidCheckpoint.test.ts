// Issue 22 §2: resume after a kill -9 *during* a checkpoint write. The real trainer CLI stops itself in the
// middle of writing a checkpoint file (MRL_FAULT_INJECT "pause": half the bytes written, then SIGSTOP), the
// test looks at the folder in that instant and sends SIGKILL; the resume continues from the last complete
// checkpoint, never the half-written one, and the run completes with every step of its curve once.
// And a checkpoint damaged after it was written (a byte flipped in its tensor data, which parses) is
// caught by the digests in its state.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FaultSpec } from '../../src/trainer/cli/faultInjection';
import { latestReadableCheckpoint, listCheckpoints } from '../../src/trainer/loop/checkpoint';
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

const ws = mkdtempSync(join(tmpdir(), 'mrl-killckpt-'));
writeFileSync(join(ws, 'package.json'), '{}');
writePairs(join(ws, 'pairs.jsonl'));
const STEPS = 10;
const config = join(ws, 'tiny.mrl.json');
writeFileSync(config, JSON.stringify(tinyConfig('kill mid checkpoint', STEPS)));
const runs = join(ws, '.mrl', 'runs');
const runDir = join(runs, 'r1');
const ckpts = join(runDir, 'checkpoints');

/** Runs the trainer until it stops itself inside the write `fault` names; checks that instant; kills it with -9. */
async function killMidWrite(args: string[], fault: Omit<FaultSpec, 'under' | 'kind' | 'marker'>, expectFile: RegExp) {
  const marker = join(ws, `marker-${Date.now()}`);
  const t = startTrainer(args, { under: runs, kind: 'pause', marker, ...fault });
  await waitFor(() => existsSync(marker) || t.child.exitCode !== null, 'pause inside a checkpoint write');
  assert.ok(existsSync(marker), `the trainer ended without reaching the write: ${t.stderr()}`);
  const at = JSON.parse(readFileSync(marker, 'utf8')) as { call: string; path: string };
  // The instant of the kill: a checkpoint's temp folder holds a file cut short; no step folder of it exists.
  assert.match(at.path, expectFile);
  const tmp = at.path.slice(0, at.path.lastIndexOf('/'));
  assert.match(basename(tmp), /^step-\d+\.tmp-\d+$/);
  const step = Number(/^step-(\d+)/.exec(basename(tmp))![1]);
  assert.ok(existsSync(at.path), 'the file being written exists');
  assert.equal(existsSync(join(ckpts, `step-${step}`)), false, `step-${step} is not in place yet`);
  const before = listCheckpoints(runDir);
  t.child.kill('SIGKILL');
  const { signal } = await exited(t, 'the killed trainer');
  assert.equal(signal, 'SIGKILL');
  return { step, tmp, before, partialBytes: statSync(at.path).size };
}

test('kill -9 while a checkpoint file is half written: resume continues from the last complete checkpoint, twice over', async () => {
  // 1. The first run, killed halfway through step 4's optimizer.safetensors (the second checkpoint's).
  const k1 = await killMidWrite(
    ['--config', config, '--out', runDir],
    { match: 'optimizer.safetensors', at: 2, partial: 0.5 },
    /optimizer\.safetensors$/,
  );
  assert.equal(k1.step, 4);
  assert.deepEqual(k1.before, [2], 'only step-2 is complete');
  assert.ok(k1.partialBytes > 0, 'bytes of the cut file landed');
  // What the kill leaves: run.json still says running, and a reader shows the run failed (its trainer is gone).
  assert.equal(runInfo(runDir).status, 'running');
  const seen = readerView(runs, 'r1')!;
  assert.equal(seen.status, 'failed');
  assert.match(seen.reason ?? '', /trainer process is gone/);
  assert.equal(latestReadableCheckpoint(runDir)!.state.step, 2, 'the temp folder is no checkpoint');

  // 2. The resume, killed in turn while writing step 6's state.json (its last file, a third of it written).
  const k2 = await killMidWrite(['--resume', runDir], { match: 'state.json', at: 2, partial: 0.3 }, /step-6\.tmp-\d+\/state\.json$/);
  assert.equal(k2.step, 6);
  assert.deepEqual(k2.before, [2, 4], "the first temp folder was removed; the resume's step 4 is complete");
  assert.ok(!readdirSync(ckpts).includes(basename(k1.tmp)), 'the first temp folder is gone');

  // 3. The last resume, no fault: from step 4, the last complete checkpoint.
  const t = startTrainer(['--resume', runDir]);
  const { code } = await exited(t, 'the final resume');
  assert.equal(code, 0, t.stderr());
  assert.match(t.stderr(), /resuming r1 from step 4/);
  const info = runInfo(runDir);
  assert.equal(info.status, 'completed');
  assert.equal(info.step, STEPS);
  assert.equal(info.pid, null);
  assert.deepEqual(listCheckpoints(runDir), [8, 10]);
  assert.ok(!readdirSync(ckpts).some((n) => n.includes('.tmp-')), `no temp folder left: ${readdirSync(ckpts)}`);
  assert.ok(existsSync(join(runDir, 'model', 'model.safetensors')));
  assert.equal(existsSync(join(runDir, '.lock')), false);
  const log = readFileSync(join(runDir, 'log.txt'), 'utf8');
  assert.match(log, new RegExp(`removed 1 unfinished checkpoint folder\\(s\\): ${basename(k1.tmp).replace('.', '\\.')}`));
  assert.match(log, new RegExp(`removed 1 unfinished checkpoint folder\\(s\\): ${basename(k2.tmp).replace('.', '\\.')}`));
  // The curve: every step once, the two resumes from the complete checkpoints (2, then 4).
  const m = metricsView(runDir);
  assert.deepEqual(m.resumes, [2, 4]);
  assert.deepEqual(eventKeys(m.events), completeCurve(STEPS));
});

test("a byte flipped in a checkpoint's tensor data (it still parses): the digest catches it, resume takes the one before", async () => {
  const dir = join(runs, 'flip');
  const t = startTrainer(['--config', config, '--out', dir]);
  assert.equal((await exited(t, 'the run')).code, 0, t.stderr());
  assert.deepEqual(listCheckpoints(dir), [8, 10]);
  const model = join(dir, 'checkpoints', 'step-10', 'model.safetensors');
  const bytes = readFileSync(model);
  bytes[bytes.length - 3] ^= 0x40; // inside the last tensor's data: the header and sizes are intact
  writeFileSync(model, bytes);
  const logged: string[] = [];
  const ckpt = latestReadableCheckpoint(dir, (s) => void logged.push(s))!;
  assert.equal(ckpt.state.step, 8);
  assert.match(logged.join('\n'), /step-10 is unreadable \(model\.safetensors is not the file written .*\); falling back to step 8/);
  assert.equal('files' in ckpt.state, false, 'the digests are not trainer state');
  // A run marked failed after that step (its model save failed, say) resumes from step 8 and drops step-10.
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...runInfo(dir), status: 'failed', error: 'disk trouble' }));
  const r = startTrainer(['--resume', dir]);
  assert.equal((await exited(r, 'the resume')).code, 0, r.stderr());
  assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /removed the unreadable checkpoint\(s\) after step 8: step-10/);
  assert.equal(runInfo(dir).status, 'completed');
  assert.deepEqual(listCheckpoints(dir), [8, 10]);
  assert.equal(latestReadableCheckpoint(dir)!.state.step, 10, 'step-10 written again, whole');
  const m = metricsView(dir);
  assert.deepEqual(m.resumes, [8]);
  assert.deepEqual(eventKeys(m.events), completeCurve(STEPS));
});
