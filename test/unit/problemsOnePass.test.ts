// Every problem of a config in one pass, once, with the severity Start Run gives it (issue 21 §5). The
// user's config: a string miniBatchSize, a loss type "CachedMNRL", a sweep path "training.learnRate",
// and data files that are not there. Before, Problems showed the loss type (ours), VS Code's misleading
// `Value must be "CachedMultipleNegativesRankingLoss"`, the string only as VS Code's warning, nothing for
// the sweep path; with a missing data file, only that. (What VS Code's own JSON language service says of
// the same text: test/vscode/schemaMessages.test.mjs.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDiagnostics, editorDiagnostics, type ConfigDiagnostic } from '../../src/config/diagnostics';
import { validateText } from '../../src/host/configEditor/validateAdapter';
import { validateRunConfig } from '../../src/config/validate';
import { suggestLossType } from '../../src/config/schemaErrors';
import { BASE_LOSS_TYPES } from '../../src/config/lossConfig';
import { quickFixesFor } from '../../src/config/quickFixes';
import schema from '../../schemas/run-config.schema.json';

const ws = mkdtempSync(join(tmpdir(), 'mrl-one-pass-'));
after(() => rmSync(ws, { recursive: true, force: true }));
const file = join(ws, 'user.mrl.json');
writeFileSync(join(ws, 'pairs.jsonl'), '{"anchor": "a", "positive": "b"}\n');

const USER_CONFIG = `{
  "name": "user",
  "model": { "scratch": { "hiddenSize": 64 } },
  "data": { "train": { "source": "./missing-train.jsonl" }, "eval": { "source": "./missing-eval.jsonl" } },
  "loss": { "type": "MatryoshkaLoss", "loss": { "type": "CachedMNRL", "miniBatchSize": "16" }, "matryoshkaDims": [64, 32] },
  "sweep": { "method": "grid", "parameters": { "training.learnRate": [0.001, 0.0005] } }
}`;

const diagnose = (text: string) => configDiagnostics(text, validateText(text, file, [ws]).errors);
const at = (text: string, d: ConfigDiagnostic) => {
  const lines = text.split('\n');
  return lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
};

test("the user's config: all five problems at once, each an error on its own range, all published in the editor", () => {
  const all = diagnose(USER_CONFIG);
  const by = (path: string) => {
    const hits = all.filter((d) => d.path === path);
    assert.equal(hits.length, 1, `${path}: ${JSON.stringify(all.map((d) => [d.path, d.message]))}`);
    return hits[0];
  };
  const type = by('/loss/loss/type');
  assert.match(type.message, /unknown loss type "CachedMNRL"; did you mean "CachedMultipleNegativesRankingLoss"\?/);
  assert.equal(at(USER_CONFIG, type), '"CachedMNRL"');
  const lines = USER_CONFIG.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  assert.deepEqual(
    quickFixesFor(type, USER_CONFIG, schema as Record<string, unknown>, (r) => [offset(r.start), offset(r.end)]).map((f) => f.title),
    ['Change "CachedMNRL" to "CachedMultipleNegativesRankingLoss"'],
    'its quick fix',
  );
  const mini = by('/loss/loss/miniBatchSize');
  assert.equal(mini.message, 'expected integer, got "16"');
  assert.equal(at(USER_CONFIG, mini), '"16"');
  assert.match(by('/data/train/source').message, /data file not found: .*missing-train\.jsonl/);
  assert.match(by('/data/eval/source').message, /data file not found: .*missing-eval\.jsonl/);
  const sweep = by('/sweep/parameters/training.learnRate');
  assert.match(
    sweep.message,
    /"training\.learnRate" does not name a field of this config: unknown key "learnRate"; did you mean "learningRate"\?/,
  );
  assert.equal(at(USER_CONFIG, sweep), '"training.learnRate"', 'on the path (the key), not on its values');
  assert.equal(all.length, 5, JSON.stringify(all.map((d) => d.message)));
  assert.ok(all.every((d) => d.severity === 'error'));
  // VS Code's JSON language service warns of the type and the string too: ours are the errors, all of them shown.
  assert.deepEqual(editorDiagnostics(all, true), all);
});

test('each of its problems alone is an error, and one does not hide another', () => {
  const cached = (mini: string) => `{ "loss": { "type": "CachedMultipleNegativesRankingLoss", "miniBatchSize": ${mini} } }`;
  // A string miniBatchSize in a loss whose type is right: the schema's error, ours (VS Code only warns of it).
  const [s] = diagnose(cached('"16"'));
  assert.equal(s.severity, 'error');
  assert.equal(s.path, '/loss/miniBatchSize');
  assert.deepEqual(editorDiagnostics([s], true), [s]);
  assert.deepEqual(diagnose(cached('16')), [], 'the same with a number is fine');
  // The loss type alone: one error (not one per branch of the schema), with the did-you-mean.
  const t = diagnose(`{ "loss": { "type": "CachedMNRL" } }`);
  assert.equal(t.length, 1, JSON.stringify(t));
  assert.match(t[0].message, /did you mean "CachedMultipleNegativesRankingLoss"/);
  // A sweep path and a missing data file, the schema otherwise satisfied: both (the path was dropped before).
  const two = diagnose(
    `{ "data": { "train": { "source": "gone.jsonl" } }, "sweep": { "method": "grid", "parameters": { "training.learnRate": [1] } } }`,
  );
  assert.deepEqual(two.map((d) => d.path).sort(), ['/data/train/source', '/sweep/parameters/training.learnRate']);
  // A bad swept value beside a missing data file: the value is reported, the file once (not per combination).
  const vals = diagnose(
    `{ "data": { "train": { "source": "gone.jsonl" } }, "sweep": { "method": "grid", "parameters": { "training.learningRate": [0.001, -1, 0.01] } } }`,
  );
  assert.deepEqual(
    vals.map((d) => d.path),
    ['/data/train/source', '/sweep/parameters/training.learningRate/1'],
    JSON.stringify(vals.map((d) => d.message)),
  );
  // A file that is there, beside a schema error: only the schema error.
  const ok = diagnose(`{ "data": { "train": { "source": "pairs.jsonl" } }, "seed": "x" }`);
  assert.deepEqual(
    ok.map((d) => d.path),
    ['/seed'],
  );
});

test('a loss parameter its type does not take: on the key, naming what the type takes and who takes it', () => {
  const text = `{ "loss": { "type": "MultipleNegativesRankingLoss", "miniBatchSize": 8 } }`;
  const [d, ...rest] = diagnose(text);
  assert.deepEqual(rest, []);
  assert.equal(d.severity, 'error');
  assert.equal(d.path, '/loss/miniBatchSize');
  assert.equal(at(text, d), '"miniBatchSize"');
  assert.match(
    d.message,
    /"miniBatchSize" is not a parameter of MultipleNegativesRankingLoss, which takes "scale"; CachedMultipleNegativesRankingLoss/,
  );
  const wrapped = diagnose(
    `{ "loss": { "type": "MatryoshkaLoss", "miniBatchSize": 8, "loss": { "type": "CachedMultipleNegativesRankingLoss" } } }`,
  );
  assert.equal(wrapped.length, 1, JSON.stringify(wrapped));
  assert.match(wrapped[0].message, /not a parameter of MatryoshkaLoss.*goes inside "loss"/);
  // a key no loss takes: one error (the unknown key, with its did-you-mean among this type's keys), not two
  const typo = diagnose(`{ "loss": { "type": "CoSENTLoss", "scael": 8 } }`);
  assert.equal(typo.length, 1, JSON.stringify(typo));
  assert.match(typo[0].message, /unknown key "scael"; did you mean "scale"\? Allowed here: type, scale$/);
  assert.equal(typo[0].kind, 'unknownKey');
});

test('loss type did-you-mean: a near spelling, or the name whose capitals an abbreviation spells', () => {
  assert.equal(suggestLossType('CachedMNRL', BASE_LOSS_TYPES), 'CachedMultipleNegativesRankingLoss');
  assert.equal(suggestLossType('MNRL', BASE_LOSS_TYPES), 'MultipleNegativesRankingLoss');
  assert.equal(suggestLossType('CMNSRL', BASE_LOSS_TYPES), 'CachedMultipleNegativesSymmetricRankingLoss');
  assert.equal(suggestLossType('CoSENTLos', BASE_LOSS_TYPES), 'CoSENTLoss');
  assert.equal(suggestLossType('XYZ', BASE_LOSS_TYPES), undefined);
  assert.equal(suggestLossType('ML', BASE_LOSS_TYPES), undefined, 'two capitals say too little');
});

test('defaults still come from the type’s own branch: a Cached* loss gets miniBatchSize, the others none', () => {
  const loss = (l: object) => validateRunConfig({ loss: l }, file).config!.loss;
  assert.deepEqual(loss({ type: 'CachedMultipleNegativesRankingLoss' }), {
    type: 'CachedMultipleNegativesRankingLoss',
    scale: 20,
    miniBatchSize: 32,
  });
  assert.deepEqual(loss({ type: 'MultipleNegativesRankingLoss' }), { type: 'MultipleNegativesRankingLoss', scale: 20 });
  assert.deepEqual(loss({ type: 'CoSENTLoss' }), { type: 'CoSENTLoss', scale: 20 });
});
