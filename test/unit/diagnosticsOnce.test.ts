// Each problem once in Problems, with the severity Start Run gives it (issues 10 §6, 21 §5). For a *.mrl.json
// open in the editor, VS Code's JSON language service validates our schema too (contributes.jsonValidation)
// and reports its messages as warnings: every problem Start Run refuses is ours, an error, at the same place
// (src/config/diagnostics.ts editorDiagnostics); only JSON syntax errors are left to the language service
// (an error there already). Launch-time validation (every diagnostic) sees everything.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configDiagnostics, editorDiagnostics, rangesMeet } from '../../src/config/diagnostics';
import { validateText } from '../../src/host/configEditor/validateAdapter';
import { quickFixesFor } from '../../src/config/quickFixes';
import realSchema from '../../schemas/run-config.schema.json';

const ws = mkdtempSync(join(tmpdir(), 'mrl-diag-once-'));
after(() => rmSync(ws, { recursive: true, force: true }));
const file = join(ws, 'edit.mrl.json');

const diagnose = (text: string) => configDiagnostics(text, validateText(text, file, [ws]).errors);

test('schema errors (a type error, an unknown key) are errors of ours in the editor too: the language service only warns', () => {
  const text = `{
  "name": "edit-me",
  "seed": "oops", "trainng": {},
  "data": { "train": { "source": "builtin:wordnet" } }
}`;
  const all = diagnose(text);
  const type = all.find((d) => d.message === 'expected integer, got "oops"')!;
  const key = all.find((d) => d.kind === 'unknownKey')!;
  assert.ok(type && key, JSON.stringify(all));
  assert.equal(type.schemaKeyword, 'type');
  assert.equal(key.schemaKeyword, 'additionalProperties');
  assert.deepEqual(editorDiagnostics(all, true), all, 'the language service warns of both: ours say Start Run refuses them');
  assert.ok(all.every((d) => d.severity === 'error'));
  assert.deepEqual(editorDiagnostics(all, false), all, 'a file no editor shows (or json.validate off): ours, all of them');
  // the unknown-key diagnostic carries its quick fix
  const fixes = quickFixesFor(key, text, realSchema as Record<string, unknown>, (r) => {
    const lines = text.split('\n');
    const off = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
    return [off(r.start), off(r.end)];
  });
  assert.ok(
    fixes.some((f) => f.title === 'Change "trainng" to "training"'),
    JSON.stringify(fixes.map((f) => f.title)),
  );
});

test('semantic errors stay in the editor, even under a keyword name the schema also uses ("minimum")', () => {
  // a dim wider than the model, the funnel's order, and maxSteps 0 (keyword "minimum", but a semantic check:
  // the schema allows -1 and ≥ 1 only through it, so the JSON language service does not report 0)
  const text = `{
  "model": { "scratch": { "hiddenSize": 64, "numHeads": 4 } },
  "data": { "train": { "source": "builtin:wordnet" } },
  "training": { "maxSteps": 0 },
  "evaluation": { "dims": [32, 128], "funnel": { "shortlistDim": 64, "rerankDim": 32, "shortlistSize": 10 } }
}`;
  const all = diagnose(text);
  const shown = editorDiagnostics(all, true);
  assert.ok(all.length >= 3, JSON.stringify(all.map((d) => d.message)));
  assert.deepEqual(shown, all, 'nothing here is the schema’s own: all stay');
  assert.ok(shown.some((d) => d.kind === 'dimTooLarge'));
  assert.ok(shown.some((d) => d.path === '/training/maxSteps' && /got 0/.test(d.message)));
});

test('an unknown loss type is one error of ours (did-you-mean); JSON syntax errors go in the editor', () => {
  const all = diagnose(`{ "loss": { "type": "MultipleNegativeRankingLoss" } }`);
  const disc = all.filter((d) => /unknown loss type/.test(d.message));
  assert.equal(disc.length, 1);
  assert.match(disc[0].message, /did you mean "MultipleNegativesRankingLoss"/);
  assert.deepEqual(
    editorDiagnostics(all, true).filter((d) => /unknown loss type/.test(d.message)),
    disc,
  );
  const broken = diagnose('{ "seed": 1 "name": "x" }');
  assert.equal(broken[0].kind, 'syntax');
  assert.deepEqual(editorDiagnostics(broken, true), []);
  assert.deepEqual(editorDiagnostics(broken, false), broken);
});

test('rangesMeet: overlap or touch', () => {
  const r = (l0: number, c0: number, l1: number, c1: number) => ({ start: { line: l0, character: c0 }, end: { line: l1, character: c1 } });
  assert.ok(rangesMeet(r(1, 2, 1, 8), r(1, 5, 1, 5)));
  assert.ok(rangesMeet(r(1, 2, 1, 8), r(1, 8, 1, 9)));
  assert.ok(!rangesMeet(r(1, 2, 1, 8), r(1, 9, 1, 12)));
  assert.ok(!rangesMeet(r(1, 2, 1, 8), r(2, 0, 2, 1)));
  assert.ok(rangesMeet(r(0, 0, 3, 0), r(2, 5, 2, 6)));
});
