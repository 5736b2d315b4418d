// Export Model's pure part (src/host/launch/exportPlan.ts): the options argument, the preselected dim ×
// precision from a run folder with precision keys, the checkpoint choices, the default folder, the
// command line and the program's answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  checkpointChoices,
  checkpointSteps,
  configDims,
  defaultExportDir,
  exportOptionsOf,
  exportPlan,
  exportTempDir,
  parseExportOutput,
  pointChoices,
  pointItemText,
  readLastEval,
  safeName,
} from '../../src/host/launch/exportPlan';
import { LAST_BY_DIM, writeRun } from './exportFixtures';

const tmp = mkdtempSync(join(tmpdir(), 'mrl-export-plan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('options: each field checked, an error names the field and what was expected; a selection array is no options', () => {
  assert.deepEqual(exportOptionsOf(undefined), { options: {} });
  assert.deepEqual(exportOptionsOf([{ id: 'a' }]), { options: {} });
  assert.deepEqual(exportOptionsOf({ dim: 64, precision: 'int8', checkpoint: 'best', out: 'exports/x' }), {
    options: { dim: 64, precision: 'int8', checkpoint: 'best', out: 'exports/x' },
  });
  assert.deepEqual(exportOptionsOf({ checkpoint: '120' }), { options: { checkpoint: 120 } });
  assert.deepEqual(exportOptionsOf({ checkpoint: 0 }), { options: { checkpoint: 0 } });
  const err = (x: unknown) => (exportOptionsOf(x) as { error: string }).error;
  assert.match(err({ dim: 0 }), /"dim" must be a positive whole number, not 0/);
  assert.match(err({ dim: '64' }), /"dim" must be a positive whole number, not "64"/);
  assert.match(err({ precision: 'fp16' }), /"precision" must be "float32", "int8", "binary" or absent, not "fp16"/);
  assert.match(err({ checkpoint: 'first' }), /"checkpoint" must be "best", "last" or a step number/);
  assert.match(err({ out: '' }), /"out" must be a folder path/);
  assert.match(err({ dims: 64 }), /unknown field "dims" \(expected dim, precision, checkpoint, out\)/);
});

test('the last eval of a run folder follows the resume rule; the advisor’s point is preselected, a rescored point exporting its precision', () => {
  const dir = writeRun(join(tmp, 'runs'), 'r1');
  const last = readLastEval(dir);
  assert.equal(last.step, 3, 'the step-6 eval was dropped by the resume from step 3');
  assert.deepEqual(last.byDim, LAST_BY_DIM);

  const { advice, choices } = pointChoices(last.byDim, 95);
  assert.ok(advice);
  assert.deepEqual([advice.point.dim, advice.point.precision, advice.point.rescore], [16, 'binary', true]);
  // One row per (dim, precision), the recommended one first, then cheapest first.
  assert.deepEqual(
    choices.map((c) => `${c.precision}@${c.dim}${c.recommended ? '*' : ''}`),
    ['binary@16*', 'binary@8', 'binary@4', 'int8@4', 'int8@8', 'int8@16', 'float32@4', 'float32@8', 'float32@16'],
  );
  const first = choices[0];
  assert.equal(first.bytesPerVector, 2);
  assert.equal(first.plain?.value, 0.4);
  assert.equal(first.rescored?.value, 0.48);
  const text = pointItemText(first, advice);
  assert.equal(text.label, '$(star-full) binary · dim 16');
  assert.equal(text.description, '2 bytes/vector · ndcg@10 0.4 (80.0 %) · rescored ndcg@10 0.48 (96.0 %)');
  assert.match(text.detail!, /fewest bytes per vector reaching 95 % of float32 at dim 16/);
  assert.match(text.detail!, /rescoring, a search-time choice.*The export is the same/);
  assert.equal(pointItemText(choices[1], advice).label, 'binary · dim 8', 'only the recommended row is starred');

  // The setting moves the answer: at 99 % only int8 at dim 16 rescored (1.0) is cheap enough.
  const strict = pointChoices(last.byDim, 99);
  assert.deepEqual([strict.choices[0].dim, strict.choices[0].precision, strict.choices[0].recommended], [16, 'int8', true]);
});

test('without a per-dim eval: every precision at the config’s dims, the full width at float32 recommended', () => {
  assert.deepEqual(configDims({ loss: { matryoshkaDims: [4, 16, 8] }, evaluation: { dims: [] } }), [16, 8, 4]);
  assert.deepEqual(configDims({ loss: { matryoshkaDims: [4, 16] }, evaluation: { dims: [32, 8] } }), [32, 8]);
  assert.deepEqual(configDims(null), []);
  const { advice, choices } = pointChoices({}, 95, [16, 8]);
  assert.equal(advice, null);
  assert.equal(choices.length, 6);
  assert.deepEqual([choices[0].dim, choices[0].precision, choices[0].recommended], [16, 'float32', true]);
  assert.equal(pointItemText(choices[1], null).description.endsWith('not evaluated yet'), true);
});

test('checkpoints: best for the dim when run.json keeps one, else last; then the other steps kept (temp folders skipped)', () => {
  const dir = writeRun(join(tmp, 'runs'), 'r2');
  assert.deepEqual(checkpointSteps(dir), [6, 3]);
  const info = { status: 'completed' as const, bestCheckpoints: { '16': { metric: 'ndcg@10', step: 3, value: 0.5 } } };
  const at16 = checkpointChoices(info, 16, [6, 3]);
  assert.deepEqual(
    at16.map((c) => c.checkpoint),
    ['best', 'last', 3],
  );
  assert.equal(at16[0].description, 'step 3 · ndcg@10 0.5');
  assert.equal(at16[1].description, 'the final model (step 6)');
  assert.deepEqual(
    checkpointChoices(info, 8, [6, 3]).map((c) => c.checkpoint),
    ['last', 3],
    'no best kept for dim 8',
  );
  assert.equal(checkpointChoices({ status: 'running' }, 8, [6])[0].description, 'the last complete checkpoint (step 6)');
  assert.deepEqual(checkpointSteps(join(tmp, 'nowhere')), []);
});

test('the default folder: <root>/exports/<run name>-d<D>-<precision>, a fresh name when taken', () => {
  assert.equal(safeName('my run/v2: ok'), 'my-run-v2-ok');
  assert.equal(safeName('...'), 'model');
  assert.equal(
    defaultExportDir('/ws', 'quant', 64, 'int8', () => false),
    join('/ws', 'exports', 'quant-d64-int8'),
  );
  const taken = new Set([join('/ws', 'exports', 'quant-d64-int8'), join('/ws', 'exports', 'quant-d64-int8-2')]);
  assert.equal(
    defaultExportDir('/ws', 'quant', 64, 'int8', (p) => taken.has(p)),
    join('/ws', 'exports', 'quant-d64-int8-3'),
  );
});

test('the command line: the configured Node or the host’s runtime as Node, every choice as a flag, --json', () => {
  const job = { runDir: '/ws/.mrl/runs/r', dim: 64, precision: 'int8' as const, checkpoint: 'best' as const, out: '/ws/exports/x' };
  const env = { PATH: '/bin', NODE_OPTIONS: '--inspect' };
  const own = exportPlan({ nodePath: '', execPath: '/opt/code/code', exportJs: '/ext/dist/export.js', env, job });
  assert.equal(own.command, '/opt/code/code');
  assert.equal(own.env.ELECTRON_RUN_AS_NODE, '1');
  assert.equal(own.env.NODE_OPTIONS, undefined);
  assert.deepEqual(own.args, [
    '/ext/dist/export.js',
    '/ws/.mrl/runs/r',
    '--dim',
    '64',
    '--precision',
    'int8',
    '--checkpoint',
    'best',
    '--out',
    '/ws/exports/x',
    '--json',
  ]);
  const configured = exportPlan({
    nodePath: '/usr/bin/node',
    execPath: '/opt/code/code',
    exportJs: '/e.js',
    env,
    job: { ...job, checkpoint: 120 },
  });
  assert.equal(configured.command, '/usr/bin/node');
  assert.equal(configured.env.ELECTRON_RUN_AS_NODE, undefined);
  assert.deepEqual(configured.args.slice(6, 8), ['--checkpoint', '120']);
  const forced = exportPlan({ nodePath: '', execPath: '/x', exportJs: '/e.js', env, job: { ...job, force: true } });
  assert.deepEqual(forced.args.slice(-4), ['--out', '/ws/exports/x', '--force', '--json']);
  assert.equal(exportTempDir('/ws/exports/x', 42), join('/ws/exports', '.x.export-42'));
});

test('the answer: the last stdout line when it is the JSON one, else stderr, else the exit', () => {
  const ok = '{"ok":true,"out":"/x","dim":64,"precision":"int8","checkpoint":{"kind":"best","step":40},"maxAbsDiff":3e-7}';
  assert.deepEqual(parseExportOutput(`loading\n${ok}\n`, '', 0, null), {
    ok: true,
    out: '/x',
    dim: 64,
    precision: 'int8',
    checkpoint: { kind: 'best', step: 40 },
    maxAbsDiff: 3e-7,
  });
  assert.deepEqual(parseExportOutput('{"ok":false,"error":"no checkpoint"}\n', 'export: no checkpoint\n', 1, null), {
    ok: false,
    error: 'no checkpoint',
  });
  assert.deepEqual(parseExportOutput('', 'Error: boom\n    at x\nlast words\n', 1, null), { ok: false, error: 'last words' });
  assert.deepEqual(parseExportOutput('', '', null, 'SIGKILL'), {
    ok: false,
    error: 'the exporter gave no answer (it was ended by SIGKILL)',
  });
  assert.deepEqual(parseExportOutput(`${ok}\n`, '', 1, null), { ok: false, error: 'the exporter said ok but it exited with code 1' });
  assert.deepEqual(parseExportOutput('{"ok":true}\n', '', 0, null), {
    ok: false,
    error: 'the exporter said ok but named no output folder',
  });
});
