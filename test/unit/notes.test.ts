// notes.json (src/runs/notes.ts): round trip, tolerant reading (a bad file is ignored with a reason, never
// a crash), atomic writes under a concurrent reader, the RunStore re-reading it when it changes, and what
// the runs tree shows of it (src/host/runsView/treeModel.ts: label, tags in the description, escaped tooltip).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { isEmptyNotes, notesFile, parseTags, readRunNotes, updateRunNotes, writeRunNotes } from '../../src/runs/notes';
import { RunSeries } from '../../src/runs/series';
import { RunStore } from '../../src/runs/store';
import { runDescription, runLabel, runTooltipMarkdown } from '../../src/host/runsView/treeModel';

const root = mkdtempSync(join(tmpdir(), 'mrl-notes-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `r${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

test('round trip: written notes read back the same; tags trimmed and de-duplicated; an empty name clears it', () => {
  const d = fresh();
  assert.deepEqual(readRunNotes(d), { notes: null }, 'no file: no notes, no problem');
  const w = writeRunNotes(d, { displayName: '  best  run ', tags: [' a', 'b ', 'a', ''], note: 'line 1\nline 2' });
  assert.deepEqual(w, { tags: ['a', 'b'], note: 'line 1\nline 2', displayName: 'best run' });
  assert.deepEqual(readRunNotes(d), { notes: w });
  assert.deepEqual(JSON.parse(readFileSync(notesFile(d), 'utf8')), w);
  assert.deepEqual(updateRunNotes(d, { tags: parseTags('x, y ,, x') }), { ...w, tags: ['x', 'y'] });
  const cleared = updateRunNotes(d, { displayName: '  ' });
  assert.equal(cleared.displayName, undefined);
  assert.deepEqual(readRunNotes(d).notes, { tags: ['x', 'y'], note: 'line 1\nline 2' });
  assert.deepEqual(parseTags(''), []);
  assert.ok(isEmptyNotes({ tags: [], note: ' ' }) && !isEmptyNotes({ tags: ['t'], note: '' }) && isEmptyNotes(undefined));
  // only the notes file and nothing left over from the atomic write
  assert.deepEqual(readdirSync(d), ['notes.json']);
});

test('a bad notes.json is ignored with a reason naming the file and the JSON path, and is not overwritten', () => {
  const cases: [string, RegExp][] = [
    ['{"tags": "a,b", "note": ""}', /notes\.json: \/tags: expected an array of strings$/],
    ['{"tags": [], "note": 3}', /\/note: expected a string$/],
    ['{"displayName": 1, "tags": []}', /\/displayName: expected a string$/],
    ['[1, 2]', /expected an object/],
    ['{"tags": [', /notes\.json: not JSON/],
  ];
  for (const [text, re] of cases) {
    const d = fresh();
    writeFileSync(notesFile(d), text);
    const r = readRunNotes(d);
    assert.equal(r.notes, null);
    assert.match(r.problem ?? '', re, text);
    assert.ok(r.problem!.startsWith(notesFile(d)));
    assert.throws(() => updateRunNotes(d, { note: 'x' }), /fix or delete it/);
    assert.equal(readFileSync(notesFile(d), 'utf8'), text, 'what the user wrote is kept');
  }
  // missing fields of a good object default; unknown fields are dropped
  const d = fresh();
  writeFileSync(notesFile(d), '{"displayName": "x", "extra": 1}');
  assert.deepEqual(readRunNotes(d), { notes: { displayName: 'x', tags: [], note: '' } });
  // a folder named notes.json: a reason, not a crash
  const e = fresh();
  mkdirSync(notesFile(e));
  assert.match(readRunNotes(e).problem ?? '', /cannot read/);
});

test('a write is atomic: a reader polling while another process rewrites notes.json never sees half a file', async () => {
  const d = fresh();
  writeRunNotes(d, { tags: ['start'], note: '' });
  // 200 kB notes: big enough that a plain (non-atomic) write would be seen torn. The writer rewrites the
  // file until the reader has read it often enough while it was being rewritten (a line on its stdin),
  // then prints the index of its last write: no reliance on how many reads fit in some time.
  const script = `const { writeRunNotes } = require(${JSON.stringify(resolve(__dirname, '../../src/runs/notes.ts'))});
const big = 'x'.repeat(200000);
let stop = false;
process.stdin.on('data', () => (stop = true));
let i = 0;
(function burst() {
  for (let k = 0; k < 10; k++) writeRunNotes(${JSON.stringify(d)}, { tags: ['t' + i], note: big + i++ });
  if (stop) console.log(i - 1);
  else setImmediate(burst);
})();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (b) => (stderr += b));
  child.stdout.on('data', (b) => (stdout += b));
  const done = new Promise<number | null>((r) => child.on('exit', r));
  let exited = false;
  void done.then(() => (exited = true));
  let readsWhileWriting = 0;
  const tagsSeen = new Set<string>();
  // A generous overall deadline, only to fail a hang (a writer that never starts).
  const deadline = Date.now() + 120_000;
  try {
    while (readsWhileWriting < 50 || tagsSeen.size < 3) {
      assert.ok(!exited, `the writer exited early: ${stderr}`);
      assert.ok(Date.now() < deadline, `still waiting for the writer after ${readsWhileWriting} reads: ${stderr}`);
      const r = readRunNotes(d);
      assert.equal(r.problem, undefined, `read ${readsWhileWriting}: ${r.problem}`);
      const tag = r.notes!.tags[0];
      if (tag !== 'start') {
        // A whole file: the note is the one written with this tag.
        assert.match(tag, /^t\d+$/);
        assert.equal(r.notes!.note, 'x'.repeat(200000) + tag.slice(1), `torn read: tag ${tag} with another write's note`);
        readsWhileWriting++;
        tagsSeen.add(tag);
      }
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    child.stdin.end('stop\n');
  }
  assert.equal(await done, 0, stderr);
  const last = Number(stdout.trim());
  assert.ok(Number.isInteger(last) && last >= 9, stdout);
  assert.equal(readRunNotes(d).notes!.tags[0], `t${last}`, 'the last write is what stays');
  assert.deepEqual(readdirSync(d), ['notes.json'], 'no temp files left');
});

test('the RunStore reads notes.json with the run and again when it changes (a changed run), ignoring a bad one', () => {
  const runsDir = fresh();
  const dir = join(runsDir, 'run1');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: 'run1',
      name: 'orig',
      status: 'completed',
      pid: null,
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: null,
      backend: 'cpu',
    }),
  );
  writeRunNotes(dir, { displayName: 'Shown', tags: ['a'], note: '' });
  const store = new RunStore(runsDir, () => false);
  store.refresh();
  assert.deepEqual(store.get('run1')!.notes, { displayName: 'Shown', tags: ['a'], note: '' });
  assert.deepEqual(store.refresh().changed, [], 'unchanged: not re-read, not reported');
  writeRunNotes(dir, { displayName: 'Renamed', tags: [], note: 'n' });
  let r = store.refresh();
  assert.deepEqual(r.changed, ['run1']);
  assert.equal(store.get('run1')!.notes!.displayName, 'Renamed');
  writeFileSync(notesFile(dir), '{oops');
  r = store.refresh();
  assert.deepEqual(r.changed, ['run1']);
  assert.equal(store.get('run1')!.notes, undefined);
  assert.match(store.get('run1')!.notesProblem ?? '', /not JSON/);
  assert.equal(store.get('run1')!.info.name, 'orig', 'run.json untouched');
  rmSync(notesFile(dir));
  store.refresh();
  assert.equal(store.get('run1')!.notes, undefined);
  assert.equal(store.get('run1')!.notesProblem, undefined);
  assert.ok(!existsSync(notesFile(dir)));
});

test('tree: the label is the display name, tags in the description, name, tags and note in the escaped tooltip', () => {
  const base = { id: '20260101-x-aaaa', status: 'completed' as const, died: false, info: { name: 'orig-name' } };
  assert.equal(runLabel(base), 'orig-name');
  const notes = { displayName: 'My [best](command:evil) run', tags: ['prod', '<b>x</b>'], note: 'first *line*\n\nsee [here](https://x)' };
  const r = { ...base, notes };
  assert.equal(runLabel(r), 'My [best](command:evil) run', 'a label is plain text');
  assert.equal(runLabel({ ...base, notes: { displayName: '  ', tags: [], note: '' } }), 'orig-name');
  // A sweep's runs share a name: the swept values tell them apart, ahead of the name (a display name still wins).
  const swept = {
    ...base,
    info: { name: 'lr-grid', sweep: { id: 's1', index: 1, params: { 'training.learningRate': 0.001, 'loss.loss.miniBatchSize': 16 } } },
  };
  assert.equal(runLabel(swept), 'lr=1e-3 miniBatch=16 · lr-grid');
  assert.equal(runLabel({ ...swept, notes: { displayName: 'best', tags: [], note: '' } }), 'best');
  const md = runTooltipMarkdown(r);
  assert.match(md, /^\*\*My \\\[best\\\]\\\(command\\:evil\\\) run\*\* — completed/);
  assert.match(md, /run name: orig\\-name/, 'the run name stays in the tooltip');
  assert.match(md, /tags: prod, \\<b\\>x\\<\\\/b\\>/);
  // the note keeps its lines (hard breaks), every character escaped: no emphasis, no link
  assert.ok(md.includes('first \\*line\\*  \n  \nsee \\[here\\]\\(https\\:\\/\\/x\\)'), md);
  assert.ok(!/\]\(/.test(md.replace(/\\\]\\\(/g, '')), 'no live link');
  assert.ok(!md.includes('run name:') || runLabel(r) !== 'orig-name');
  assert.ok(!runTooltipMarkdown(base).includes('run name:'), 'no display name: no second name');
  assert.ok(
    runTooltipMarkdown({ ...base, notesProblem: '/x/notes.json: not JSON' }).includes('notes ignored: \\/x\\/notes\\.json\\: not JSON'),
  );
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(runDescription(new RunSeries().summary(), '2026-01-01T11:55:00Z', now, undefined, notes), '#prod #<b>x</b> · 5m ago');
});
