import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import { configDiagnostics, LineIndex, locateErrors } from '../../src/config/diagnostics';
import { allowedKeys, quickFixesFor } from '../../src/config/quickFixes';
import { nearest, validateRunConfig } from '../../src/config/validate';
import realSchema from '../../schemas/run-config.schema.json';

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
    const [d] = locateErrors(text, [
      { path: '/model/scratch/poolng', keyword: 'additionalProperties', message: 'unknown key "poolng"; did you mean "pooling"?' },
    ]);
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

describe('with the real validator (src/config/validate.ts) and schema', () => {
  const diagsFor = (t: string) => configDiagnostics(t, validateRunConfig(parse(t), '/nonexistent/x.mrl.json').errors);
  test('unknown key: on the key, with a quick fix to the nearest valid key', () => {
    const t = '{\n  "name": "x",\n  "trainng": { "epochs": 1 }\n}';
    const [d] = diagsFor(t);
    assert.equal(d.kind, 'unknownKey');
    assert.deepEqual(d.range, at(2, 2, 9));
    const off = (r: typeof d.range): [number, number] => {
      const st = [0, ...[...t].flatMap((c, i) => (c === '\n' ? [i + 1] : []))];
      return [st[r.start.line] + r.start.character, st[r.end.line] + r.end.character];
    };
    assert.equal(quickFixesFor(d, t, realSchema as Record<string, unknown>, off)[0]?.newText, '"training"');
  });
  test('wrong type and out-of-range values: on the value', () => {
    const t = '{\n  "seed": "oops",\n  "training": { "batchSize": 0 }\n}';
    const ds = diagsFor(t);
    const seed = ds.find((d) => d.path === '/seed')!;
    assert.deepEqual(seed.range, at(1, 10, 6));
    const bs = ds.find((d) => d.path === '/training/batchSize')!;
    assert.deepEqual(bs.range, at(2, 29, 1));
  });
  test('checks the schema cannot express: a data file that does not exist, a dim wider than the model', () => {
    const t = JSON.stringify(
      {
        model: { scratch: { hiddenSize: 32, numHeads: 2 } },
        data: { train: { source: 'nope.jsonl' } },
        loss: { type: 'MatryoshkaLoss', loss: { type: 'MultipleNegativesRankingLoss' }, matryoshkaDims: [64, 16] },
      },
      null,
      2,
    );
    const ds = diagsFor(t);
    const file = ds.find((d) => d.kind === 'missingFile');
    const dim = ds.find((d) => d.kind === 'dimTooLarge');
    assert.ok(file, JSON.stringify(ds));
    assert.equal(t.split('\n')[file!.range.start.line].slice(file!.range.start.character, file!.range.end.character), '"nope.jsonl"');
    assert.ok(dim, JSON.stringify(ds));
    assert.equal(t.split('\n')[dim!.range.start.line].trim().replace(/,$/, ''), '64');
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
