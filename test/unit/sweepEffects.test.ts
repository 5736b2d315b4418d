// A swept field that cannot change what is trained (issue 21 §6: a sweep over miniBatchSize alone gave
// identical metrics, GradCache being exact, and nothing said so): a note of severity information on the
// swept path, never an error, and the line the sweep's start message adds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDiagnostics } from '../../src/config/diagnostics';
import { noEffectSummary, whyNoEffect } from '../../src/config/sweepEffects';
import { validateRunConfig } from '../../src/config/validate';
import { validateText } from '../../src/host/configEditor/validateAdapter';
import type { RunConfig } from '../../src/protocol/runConfig';

const ws = mkdtempSync(join(tmpdir(), 'mrl-sweep-effects-'));
after(() => rmSync(ws, { recursive: true, force: true }));
const file = join(ws, 's.mrl.json');

const sweepText = (params: Record<string, unknown[]>, loss?: unknown) =>
  JSON.stringify({ ...(loss ? { loss } : {}), sweep: { method: 'grid', parameters: params } }, null, 2);

test('miniBatchSize of a Cached* loss: an information note on the path; the sweep still runs', () => {
  const text = sweepText({ 'loss.loss.miniBatchSize': [8, 16] });
  const v = validateText(text, file, [ws]);
  assert.equal(v.sweepRuns?.length, 2, 'a note, not an error: the sweep is valid');
  const diags = configDiagnostics(text, v.errors);
  assert.equal(diags.length, 1, JSON.stringify(diags));
  const [d] = diags;
  assert.equal(d.severity, 'information');
  assert.equal(d.kind, 'sweepNoEffect');
  assert.equal(d.path, '/sweep/parameters/loss.loss.miniBatchSize');
  assert.equal(text.split('\n')[d.range.start.line].slice(d.range.start.character, d.range.end.character), '"loss.loss.miniBatchSize"');
  assert.match(
    d.message,
    /"loss\.loss\.miniBatchSize" changes memory and speed, not the results: CachedMultipleNegativesRankingLoss uses GradCache, which is exact/,
  );
  assert.match(d.message, /Every run of this sweep trains the same model\.$/);
  // In validate's result it is a warning (never blocks), not an error.
  const r = validateRunConfig(JSON.parse(text), file);
  assert.deepEqual(r.errors, []);
  assert.equal(r.warnings.filter((w) => w.keyword === 'sweepNoEffect').length, 1);
});

test('beside a field that does change the results: the note, without "every run … the same model"', () => {
  const text = sweepText({ 'training.learningRate': [0.001, 0.002], 'loss.loss.miniBatchSize': [8, 16] });
  const diags = configDiagnostics(text, validateText(text, file, [ws]).errors);
  assert.equal(diags.length, 1);
  assert.doesNotMatch(diags[0].message, /same model/);
  const config = validateRunConfig(JSON.parse(text), file).config!;
  assert.equal(
    noEffectSummary(config, ['training.learningRate', 'loss.loss.miniBatchSize']),
    'Note: loss.loss.miniBatchSize changes memory and speed, not the results: CachedMultipleNegativesRankingLoss uses GradCache, which is exact (the same gradient for any mini-batch size, up to float rounding).',
  );
  assert.equal(noEffectSummary(config, ['training.learningRate', 'seed']), undefined);
  assert.match(
    noEffectSummary(config, ['loss.loss.miniBatchSize', 'training.logEvery'])!,
    /^Every run of this sweep trains the same model: /,
  );
});

test('which fields: the cadence of logs, evaluations, checkpoints; what is kept, measured, named — not what trains', () => {
  const config = validateRunConfig({}, file).config! as RunConfig;
  for (const p of [
    'training.logEvery',
    'training.evalEvery',
    'training.checkpointEvery',
    'training.keepBest',
    'evaluation.maxQueries',
    'evaluation.precisions',
    'name',
  ])
    assert.ok(whyNoEffect(config, p), p);
  for (const p of [
    'seed',
    'training.learningRate',
    'training.batchSize',
    'loss.matryoshkaDims',
    'model.scratch.hiddenSize',
    'backend',
    'data.evalFraction',
  ])
    assert.equal(whyNoEffect(config, p), undefined, p);
  // miniBatchSize only where GradCache runs: a weighted term's cached loss, not an un-cached one.
  const sum = validateRunConfig(
    {
      loss: [
        { weight: 1, loss: { type: 'CachedMultipleNegativesRankingLoss' } },
        { weight: 1, loss: { type: 'MultipleNegativesRankingLoss' } },
      ],
    },
    file,
  ).config!;
  assert.ok(whyNoEffect(sum, 'loss.0.loss.miniBatchSize'));
  assert.ok(whyNoEffect(sum, 'loss[0].loss.miniBatchSize'));
  assert.equal(whyNoEffect(sum, 'loss.1.loss.miniBatchSize'), undefined);
});
