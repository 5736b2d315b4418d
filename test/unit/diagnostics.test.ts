import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configDiagnostics, LineIndex, locateErrors, semanticChecks } from '../../src/config/diagnostics';
import { allowedKeys, nearest, quickFixesFor } from '../../src/config/quickFixes';

const text = `{
  // comments are allowed (jsonc)
  "name": "tiny",
  "model": { "scratch": { "hiddenSize": 64, "poolng": "mean" } },
  "training": { "batchSize": -4, "scheduler": "cosin" },
  "loss": { "type": "MatryoshkaLoss", "matryoshkaDims": [32, 128], "loss": { "type": "MultipleNegativesRankingLoss" } },
  "data": { "train": { "source": "missing.jsonl" } }
}`;
const at = (line: number, col: number, len: number) => ({ start: { line, character: col }, end: { line, character: col + len } });
const slice = (r: { start: { line: number; character: number }; end: { character: number } }) =>
  text.split('\n')[r.start.line].slice(r.start.character, r.end.character);

describe('diagnostic ranges', () => {
  test('a bad value: the value itself', () => {
    const [d] = locateErrors(text, [{ path: '/training/batchSize', message: 'must be >= 1' }]);
    assert.equal(slice(d.range), '-4');
    assert.deepEqual(d.range, at(4, 29, 2));
  });
  test('an unknown key reported at its parent (ajv additionalProperties): the key', () => {
    const [d] = locateErrors(text, [{ path: '/model/scratch', message: "must NOT have additional properties: 'poolng'" }]);
    assert.equal(d.kind, 'unknownKey');
    assert.equal(d.key, 'poolng');
    assert.equal(slice(d.range), '"poolng"');
    assert.equal(d.path, '/model/scratch/poolng');
  });
  test('an unknown key named by its own pointer: the key', () => {
    const [d] = locateErrors(text, [{ path: '/model/scratch/poolng', message: 'unknown key (additional property)' }]);
    assert.equal(d.kind, 'unknownKey');
    assert.equal(slice(d.range), '"poolng"');
  });
  test('a missing required key: the key of the object that lacks it', () => {
    const [d] = locateErrors(text, [{ path: '/model/scratch', message: "must have required property 'numLayers'" }]);
    assert.equal(slice(d.range), '"scratch"');
    const [r] = locateErrors(text, [{ path: '', message: "must have required property 'seed'" }]);
    assert.deepEqual(r.range, at(0, 0, 1));
  });
  test('array items, enum values, syntax errors', () => {
    const [d] = locateErrors(text, [{ path: '/loss/matryoshkaDims/1', message: 'too big' }]);
    assert.equal(slice(d.range), '128');
    const [e] = locateErrors(text, [{ path: '/training/scheduler', message: 'must be equal to one of the allowed values' }]);
    assert.equal(e.kind, 'enum');
    assert.equal(slice(e.range), '"cosin"');
    const bad = locateErrors('{ "a": 1,, }', []);
    assert.equal(bad[0].kind, 'syntax');
  });
  test('line index: CRLF-free offsets map both ways', () => {
    const li = new LineIndex('ab\ncd\n');
    assert.deepEqual(li.position(4), { line: 1, character: 1 });
    assert.deepEqual(li.position(6), { line: 2, character: 0 });
  });
});

describe('checks the schema cannot express', () => {
  const cfg = {
    model: { scratch: { hiddenSize: 64 } },
    loss: [{ weight: 1, loss: { type: 'MatryoshkaLoss', matryoshkaDims: [32, 128] } }],
    data: { train: { source: 'missing.jsonl' }, eval: { source: 'builtin:wordnet' } },
  };
  test('missing data file and a dim wider than the model, with pointers', () => {
    const errs = semanticChecks(cfg, { configDir: '/ws', exists: () => false });
    assert.deepEqual(errs.map((e) => e.path).sort(), ['/data/train/source', '/loss/0/loss/matryoshkaDims/1']);
    assert.match(errs.find((e) => e.path.includes('Dims'))!.message, /128 is larger than the model width 64/);
  });
  test('pretrained width from the model folder', () => {
    const errs = semanticChecks(
      { model: { pretrained: { path: 'm' } }, loss: { type: 'MatryoshkaLoss', matryoshkaDims: [512, 768, 1024] } },
      { configDir: '/ws', exists: () => true, pretrainedWidth: () => 768 },
    );
    assert.deepEqual(errs.map((e) => e.path), ['/loss/matryoshkaDims/2']);
  });
  test('diagnostics on the text, de-duplicated', () => {
    const sem = semanticChecks(JSON.parse(text.replace(/\/\/.*\n/, '')), { configDir: '/ws', exists: () => false });
    const ds = configDiagnostics(text, [{ path: '/data/train/source', message: sem[0].message }], sem);
    assert.equal(ds.filter((d) => d.path === '/data/train/source').length, 1);
    const dim = ds.find((d) => d.kind === 'dimTooLarge')!;
    assert.equal(slice(dim.range), '128');
    assert.equal(ds.find((d) => d.kind === 'missingFile')!.kind, 'missingFile');
  });
});

describe('quick fixes', () => {
  const schema = {
    $defs: {
      scratch: { type: 'object', properties: { hiddenSize: {}, pooling: { enum: ['mean', 'cls'] } }, additionalProperties: false },
    },
    properties: {
      model: { oneOf: [{ properties: { scratch: { $ref: '#/$defs/scratch' } } }, { properties: { pretrained: {} } }] },
      training: { properties: { scheduler: { enum: ['constant', 'linear', 'cosine'] } } },
    },
  };
  const offsetOf = (r: { start: { line: number; character: number }; end: { line: number; character: number } }): [number, number] => {
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
    return [starts[r.start.line] + r.start.character, starts[r.end.line] + r.end.character];
  };
  test('unknown key → nearest valid key through $ref and oneOf', () => {
    assert.deepEqual(allowedKeys(schema, ['model']).sort(), ['pretrained', 'scratch']);
    const [d] = locateErrors(text, [{ path: '/model/scratch', message: "must NOT have additional properties: 'poolng'" }]);
    const [fix] = quickFixesFor(d, text, schema, offsetOf);
    assert.equal(fix.newText, '"pooling"');
    assert.equal(fix.title, 'Change "poolng" to "pooling"');
  });
  test('enum value → nearest allowed value; nothing when nothing is close', () => {
    const [d] = locateErrors(text, [{ path: '/training/scheduler', message: 'must be equal to one of the allowed values' }]);
    assert.equal(quickFixesFor(d, text, schema, offsetOf)[0].newText, '"cosine"');
    assert.equal(nearest('zzzzzz', ['mean', 'cls']), undefined);
  });
});
