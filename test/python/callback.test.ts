// python/matryoshka_lab_callback.py driven by plain python3 (no torch, no transformers: the callback is
// standard library only) with sentence-transformers-shaped args / state / control and real log
// dictionaries (test/python/drive_callback.py); the folders it writes are read back by the project's
// own readers (RunStore, readRunInfo, parseMetricsJsonl, toPanelRun).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { toPanelRun } from '../../src/host/panel/panelRun';
import { isResumeEvent, parseMetricsJsonl, parsePrecisionKey, precisionKey, type MetricsEvent } from '../../src/protocol/runFolder';
import { applyResume } from '../../src/insights/metricRules';
import { readRunInfo } from '../../src/runs/runDir';
import { RunStore } from '../../src/runs/store';

const python = process.env.MRL_TEST_PYTHON ?? 'python3';
const hasPython = spawnSync(python, ['--version']).status === 0;
const driver = resolve(__dirname, 'drive_callback.py');
const root = mkdtempSync(join(tmpdir(), 'mrl-stcb-'));
after(() => rmSync(root, { recursive: true, force: true }));
const runsDir = join(root, 'runs');

function drive(
  scenario: string,
  runDir: string,
  cwd = root,
  name?: string,
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(python, [driver, scenario, runDir, ...(name ? [name] : [])], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, MRL_RUN_DIR: '', MRL_OWNER_PID: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function metrics(dir: string): { events: MetricsEvent[]; invalid: number; resumes: number } {
  const { lines, invalid } = parseMetricsJsonl(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
  return { events: applyResume(lines), invalid, resumes: lines.filter(isResumeEvent).length };
}

describe(
  'sentence-transformers callback → run folder',
  { skip: hasPython ? false : `${python} not found: the callback needs a Python interpreter` },
  () => {
    test('a completed run: run.json, config.json, train and per-dim eval events the readers parse', () => {
      const dir = join(runsDir, 'completed');
      const r = drive('completed', dir);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), dir);

      const info = readRunInfo(dir);
      assert.ok(info);
      assert.equal(info.status, 'completed');
      assert.equal(info.engine, 'sentence-transformers');
      assert.equal(info.pid, null);
      assert.equal(info.step, 12);
      assert.equal(info.totalSteps, 12);
      assert.equal(info.backend, 'pytorch-cpu');
      assert.match(info.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(info.endedAt && info.endedAt >= info.startedAt);
      assert.deepEqual((info.trainSummary as Record<string, number>).train_samples_per_second, 61.4);

      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(cfg.engine, 'sentence-transformers');
      assert.equal(cfg.model, 'sentence-transformers/all-MiniLM-L6-v2');
      const ta = cfg.trainingArguments as Record<string, unknown>;
      assert.equal(ta.learning_rate, 2e-5);
      assert.equal(ta.lr_scheduler_type, 'linear', 'enums are written by value');
      assert.equal(ta.hub_token, undefined, 'tokens never reach the disk');

      const { events, invalid, resumes } = metrics(dir);
      assert.equal(invalid, 0);
      assert.equal(resumes, 0);
      const train = events.filter((e) => e.split === 'train');
      const evals = events.filter((e) => e.split === 'eval');
      assert.deepEqual(
        train.map((e) => e.step),
        [3, 6, 9, 12],
      );
      assert.deepEqual(train[0].values, { loss: 1.7, gradNorm: 1.5, lr: 1.5000000000000002e-5 });
      // Evaluations at step 0, 6 and 12, each once (the trainer's on_log copy of eval metrics is skipped).
      assert.deepEqual(
        evals.map((e) => e.step),
        [0, 6, 12],
      );
      const last = evals[2];
      assert.deepEqual(Object.keys(last.byDim ?? {}).sort(), ['32', '64']);
      assert.equal(last.byDim!['64']['ndcg@10'], 0.62);
      assert.equal(last.byDim!['32']['ndcg@10'], 0.52);
      assert.equal(last.byDim!['64']['mrr@10'], 0.57);
      assert.equal(last.byDim!['64']['map@100'], 0.52);
      assert.equal(last.byDim!['64']['recall@10'], 0.72);
      assert.equal(last.byDim!['64'].spearman, 0.8200000000000001, 'spearman_cosine → spearman');
      assert.equal(last.byDim!['64'].pearson, 0.72);
      // No dim in a metric name, no trainer bookkeeping among the values.
      assert.ok(!Object.keys(last.values).some((k) => /dim_|runtime|per_second|^epoch$/.test(k)), Object.keys(last.values).join());
      assert.equal(last.values.sequential_score, 0.72, "a SequentialEvaluator's own score stays a value");
      assert.equal(last.values.loss, 1.25);
      assert.equal(last.values['funnel:ndcg@10'], 0.61);
      assert.equal(last.values.nan_metric, null, 'NaN is written as null (JSON has no NaN)');
      // A run without quantised precisions: float32 only, under the bare names (what readers of old runs expect).
      for (const d of ['64', '32'])
        assert.ok(
          Object.keys(last.byDim![d]).every((k) => parsePrecisionKey(k).precision === 'float32'),
          Object.keys(last.byDim![d]).join(),
        );
    });

    test('quantised precisions: dim_64_int8_rescore_map@100 → byDim["64"]["int8+rescore:map@100"], beside the float32 names', () => {
      const dir = join(root, 'other-runs', 'precisions'); // not in runsDir: the RunStore test below lists that folder
      const r = drive('precisions', dir);
      assert.equal(r.status, 0, r.stderr);
      const { events, invalid } = metrics(dir);
      assert.equal(invalid, 0);
      const evals = events.filter((e) => e.split === 'eval');
      assert.deepEqual(
        evals.map((e) => e.step),
        [0, 6, 12],
      );
      const last = evals[2];
      const metricNames = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@10', 'map@100'];
      const quantised = (['int8', 'binary'] as const).flatMap((p) =>
        [false, true].flatMap((rs) => metricNames.map((m) => precisionKey(m, p, rs))),
      );
      for (const d of ['64', '32']) {
        const keys = Object.keys(last.byDim![d]);
        for (const k of quantised) assert.ok(keys.includes(k), `byDim["${d}"] lacks ${k}: ${keys.join()}`);
        assert.ok(keys.includes('ndcg@10') && keys.includes('spearman'), 'the float32 metrics keep their bare names');
        assert.ok(!keys.some((k) => /_rescore|^(int8|binary)_/.test(k)), `no evaluator spelling left: ${keys.join()}`);
      }
      // Values as the simulated evaluator logged them: 0.45 + step/100 − variant/20 − metric/100 at dim 64.
      assert.equal(last.byDim!['64']['int8:ndcg@10'], 0.57);
      assert.equal(last.byDim!['64']['int8+rescore:mrr@10'], 0.51);
      assert.equal(last.byDim!['64']['binary:recall@1'], 0.45);
      assert.equal(last.byDim!['64']['binary+rescore:map@100'], 0.38);
      assert.equal(last.byDim!['32']['binary+rescore:ndcg@10'], 0.32);
      assert.equal(last.byDim!['64']['ndcg@10'], 0.62, 'float32 unchanged');
      assert.ok(!Object.keys(last.values).some((k) => /int8|binary/.test(k)), Object.keys(last.values).join());
    });

    test('SIGTERM: the step ends with a checkpoint and the run is "stopped"; a resume appends a marker and completes', () => {
      const dir = join(runsDir, 'stopped');
      const r = drive('stopped', dir);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /SIGTERM: finishing this step/);
      const info = readRunInfo(dir);
      assert.equal(info?.status, 'stopped');
      assert.equal(info?.step, 4);
      assert.match(readFileSync(join(dir, 'log.txt'), 'utf8'), /checkpoint at step 4/);

      const r2 = drive('resume', dir);
      assert.equal(r2.status, 0, r2.stderr);
      const resumed = readRunInfo(dir);
      assert.equal(resumed?.status, 'completed');
      assert.equal(resumed?.startedAt, info?.startedAt, 'a resumed run keeps its start');
      assert.equal(typeof resumed?.resumedAt, 'string');
      const { events, resumes } = metrics(dir);
      assert.equal(resumes, 1);
      assert.deepEqual(
        events.filter((e) => e.split === 'train').map((e) => e.step),
        [3, 6, 9, 12],
      );
    });

    test('an exception out of training marks the run failed with its message; a non-main process writes nothing', () => {
      const dir = join(runsDir, 'failed');
      const r = drive('failed', dir);
      assert.equal(r.status, 1);
      const info = readRunInfo(dir);
      assert.equal(info?.status, 'failed');
      assert.equal(info?.error, 'RuntimeError: CUDA out of memory (simulated)');
      assert.equal(info?.pid, null);

      const worker = join(runsDir, 'worker');
      assert.equal(drive('worker', worker).status, 0);
      assert.equal(existsSync(worker), false);
    });

    test('default folder: <workspace>/.mrl/runs/<yyyymmdd-hhmmss>-<slug>-<4 hex>', () => {
      const ws = join(root, 'ws');
      mkdirSync(join(ws, '.mrl'), { recursive: true });
      mkdirSync(join(ws, 'scripts'));
      const r = drive('default', '-', join(ws, 'scripts'), 'My ST run!');
      assert.equal(r.status, 0, r.stderr);
      const ids = readdirSync(join(ws, '.mrl', 'runs'));
      assert.equal(ids.length, 1);
      assert.match(ids[0], /^\d{8}-\d{6}-my-st-run-[0-9a-f]{4}$/);
      assert.equal(r.stdout.trim(), join(ws, '.mrl', 'runs', ids[0]));
    });

    test('launched by our trainer (MRL_OWNER_PID): run.json names the trainer; once it is gone the script exits at the next step', () => {
      const owned = join(root, 'owned', 'run');
      const r = drive('completed', owned, root, undefined, { MRL_OWNER_PID: String(process.pid) });
      assert.equal(r.status, 0, r.stderr);
      const info = readRunInfo(owned);
      assert.equal(info?.status, 'completed');
      assert.equal(info?.cmdline, undefined, 'the trainer is recognised by its own command line');
      // A trainer killed with SIGKILL: its pid is gone (a process that has exited and been reaped).
      const dead = spawnSync(python, ['-c', 'pass']).pid!;
      const orphan = join(root, 'owned', 'orphan');
      const o = drive('completed', orphan, root, undefined, { MRL_OWNER_PID: String(dead) });
      assert.equal(o.status, 137, o.stderr);
      assert.match(o.stderr, /trainer process is gone: exiting/);
      const left = readRunInfo(orphan);
      assert.equal(left?.pid, dead, "the final status is the host's to write (it killed the trainer)");
      assert.equal(left?.status, 'running');
      assert.equal(metrics(orphan).events.filter((e) => e.split === 'train').length, 0, 'not one step more');
    });

    test('RunStore lists the folders with their statuses, series and panel view', () => {
      assert.equal(drive('stopped', join(runsDir, 'stopped-only')).status, 0);
      const store = new RunStore(runsDir);
      store.refresh();
      const byId = new Map(store.list().map((s) => [s.id, s]));
      assert.deepEqual([...byId.keys()].sort(), ['completed', 'failed', 'stopped', 'stopped-only']);
      assert.equal(byId.get('completed')?.status, 'completed');
      assert.equal(byId.get('stopped')?.status, 'completed', 'stopped, then resumed to the end');
      assert.equal(byId.get('stopped-only')?.status, 'stopped');
      assert.equal(byId.get('failed')?.status, 'failed');
      const s = byId.get('completed')!;
      assert.equal(s.series.events.length, 7);
      assert.equal(s.summary.lastStep, 12);
      const panel = toPanelRun(s.info, s.config());
      assert.equal(panel.engine, 'sentence-transformers');
      assert.equal(panel.status, 'completed');
    });

    test('a running script is alive while its process (by command line) is, failed once it is gone', async () => {
      const dir = join(runsDir, 'live');
      // A python process that opens the run, then waits for stdin to close (no sleeps as synchronisation).
      const { spawn } = await import('node:child_process');
      const code = [
        'import sys, types',
        `sys.path.insert(0, ${JSON.stringify(resolve(__dirname, '..', '..', 'python'))})`,
        'from matryoshka_lab_callback import MatryoshkaLabCallback',
        `cb = MatryoshkaLabCallback(run_dir=${JSON.stringify(dir)}, name="live")`,
        'st = types.SimpleNamespace(global_step=0, max_steps=5, epoch=0.0, is_world_process_zero=True)',
        'cb.on_train_begin(None, st, types.SimpleNamespace())',
        'print("open", flush=True)',
        'sys.stdin.read()',
        'import os; os._exit(0)',
      ].join('\n');
      const child = spawn(python, ['-c', code], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, MRL_RUN_DIR: '', MRL_OWNER_PID: '' },
      });
      await new Promise<void>((res) => child.stdout.on('data', (d: Buffer) => d.toString().includes('open') && res()));
      const store = new RunStore(runsDir);
      store.refresh();
      assert.equal(store.get('live')?.status, 'running');
      assert.equal(store.get('live')?.info.pid, child.pid);
      const exited = new Promise((res) => child.on('exit', res));
      child.stdin.end();
      await exited;
      store.refresh();
      assert.equal(store.get('live')?.status, 'failed', 'os._exit left "running" behind: the reader sees the process gone');
      assert.equal(store.get('live')?.died, true);
    });
  },
);
