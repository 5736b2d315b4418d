// Validating a config (editor diagnostics) never reads or stats files outside the workspace folders: a
// cloned repo's *.mrl.json naming ~/.ssh/… or ../../secret must not make the editor probe them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { touchedPaths } from './fsSpy';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDiagnostics } from '../../src/config/diagnostics';
import { insideWorkspace, namedPaths, validateText } from '../../src/host/configEditor/validateAdapter';

const root = mkdtempSync(join(tmpdir(), 'mrl-outside-'));
after(() => rmSync(root, { recursive: true, force: true }));
const ws = join(root, 'ws');
const outside = join(root, 'outside');
mkdirSync(join(ws, 'models', 'inside'), { recursive: true });
mkdirSync(join(outside, 'model'), { recursive: true });
// A model folder outside, 32 wide: reading it would give "dim 64 is larger than the model's width 32".
writeFileSync(join(outside, 'model', 'config.json'), JSON.stringify({ hidden_size: 32 }));
writeFileSync(join(outside, 'model', 'model.safetensors'), '');
writeFileSync(join(ws, 'models', 'inside', 'config.json'), JSON.stringify({ hidden_size: 32 }));
writeFileSync(join(ws, 'models', 'inside', 'model.safetensors'), '');
symlinkSync(join(outside, 'model'), join(ws, 'models', 'link'));

const config = (modelPath: string, source = 'data/train.jsonl') =>
  JSON.stringify(
    {
      name: 't',
      model: { pretrained: { path: modelPath } },
      loss: { type: 'MatryoshkaLoss', matryoshkaDims: [64, 16], loss: { type: 'MultipleNegativesRankingLoss' } },
      data: { train: { source, columns: ['anchor', 'positive'] } },
    },
    null,
    2,
  );

test('paths outside the workspace are not read: no file check, a warning note on each', () => {
  const file = join(ws, 'a.mrl.json');
  const text = config('../outside/model', join(outside, 'secret.jsonl'));
  let v!: ReturnType<typeof validateText>;
  const paths = touchedPaths(() => (v = validateText(text, file, [ws])));
  assert.deepEqual(
    paths.filter((p) => p.startsWith(outside)),
    [],
    `read outside: ${paths.join(', ')}`,
  );
  const diags = configDiagnostics(text, v.errors);
  assert.deepEqual(
    diags.map((d) => [d.path, d.severity, d.kind]),
    [
      ['/model/pretrained/path', 'warning', 'outsideWorkspace'],
      ['/data/train/source', 'warning', 'outsideWorkspace'],
    ],
  );
  assert.match(diags[0].message, /^not checked: .*outside[\\/]model is outside the workspace folders/);
  // Not an error: a launch is not blocked by it (the trainer checks the files itself).
  assert.ok(v.config);

  // Without roots (the trainer's own use): the same config is fully checked — it reads the model folder.
  let full!: ReturnType<typeof validateText>;
  const fullPaths = touchedPaths(() => (full = validateText(text, file)));
  assert.ok(
    fullPaths.some((p) => p.startsWith(outside)),
    'the spy sees the reads validation makes',
  );
  assert.ok(
    full.errors.some((e) => e.keyword === 'dimTooLarge'),
    JSON.stringify(full.errors),
  );
  assert.ok(full.errors.some((e) => e.keyword === 'missingFile' && e.path === '/data/train/source'));
});

test('paths inside the workspace are still checked; a symlink out of it counts as outside', () => {
  const file = join(ws, 'a.mrl.json');
  const inside = validateText(config('models/inside'), file, [ws]);
  assert.deepEqual(inside.errors.map((e) => e.keyword).sort(), ['dimTooLarge', 'missingFile']);
  const viaLink = config('models/link');
  let v!: ReturnType<typeof validateText>;
  const paths = touchedPaths(() => (v = validateText(viaLink, file, [ws])));
  assert.deepEqual(
    v.errors.map((e) => [e.path, e.keyword]),
    [['/model/pretrained/path', 'outsideWorkspace']],
  );
  assert.ok(!paths.some((p) => p.startsWith(join(outside, 'model', 'config.json'))), paths.join(', '));
  // No workspace folder at all: nothing is inside.
  assert.deepEqual(
    validateText(config('models/inside'), file, []).errors.map((e) => [e.path, e.keyword]),
    [
      ['/model/pretrained/path', 'outsideWorkspace'],
      ['/data/train/source', 'outsideWorkspace'],
    ],
  );
});

test('namedPaths / insideWorkspace', () => {
  assert.deepEqual(
    namedPaths({
      model: { pretrained: { path: 'm' } },
      loss: [
        { loss: { type: 'MatryoshkaLoss', loss: { type: 'GISTEmbedLoss', guide: 'g' } } },
        { loss: { type: 'CachedGISTEmbedLoss', guide: 'self' } },
      ],
      data: { train: { source: 'a.csv' }, eval: { source: 'builtin:wordnet' } },
    }),
    [
      { pointer: '/model/pretrained/path', value: 'm' },
      { pointer: '/loss/0/loss/loss/guide', value: 'g' },
      { pointer: '/data/train/source', value: 'a.csv' },
    ],
  );
  assert.equal(insideWorkspace([ws], ws), true);
  assert.equal(insideWorkspace([ws], join(ws, 'x', 'y')), true);
  assert.equal(insideWorkspace([ws], join(ws, '..', 'outside')), false);
  assert.equal(insideWorkspace([ws], ws + '-sibling'), false);
  assert.equal(insideWorkspace([outside, ws], join(ws, 'x')), true);
});
