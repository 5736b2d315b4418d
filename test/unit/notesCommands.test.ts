// Rename Run / Edit Run Tags / Edit Run Note / Edit Run Notes (src/host/commands/notesCommands.ts) over the fake
// `vscode`, on real run folders: the value as a second argument skips the input box; a tree node or a
// context menu's (clicked, selection) names the run; dismissing changes nothing; Restricted Mode is no bar.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

useFakeVscode(); // for the whole file

const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { NotesCommands } = require('../../src/host/commands/notesCommands') as typeof import('../../src/host/commands/notesCommands');
const { readRunNotes } = require('../../src/runs/notes') as typeof import('../../src/runs/notes');
const { RunStore } = require('../../src/runs/store') as typeof import('../../src/runs/store');

const root = mkdtempSync(join(tmpdir(), 'mrl-notes-cmd-'));
after(() => rmSync(root, { recursive: true, force: true }));

let store: InstanceType<typeof RunStore>;
let refreshed = 0;
const model = {
  list: () => store.list(),
  get: (id: string) => store.get(id),
  refresh: () => {
    refreshed++;
    return store.refresh();
  },
};
const cmds = new NotesCommands(model as never);
let k = 0;
let runsDir = '';
const dirOf = (id: string) => join(runsDir, id);

beforeEach(() => {
  runsDir = join(root, `ws${k++}`);
  for (const id of ['a', 'b']) {
    mkdirSync(dirOf(id), { recursive: true });
    writeFileSync(
      join(dirOf(id), 'run.json'),
      JSON.stringify({
        id,
        name: `name-${id}`,
        status: 'completed',
        pid: null,
        startedAt: `2026-01-0${id === 'a' ? 1 : 2}T00:00:00Z`,
        endedAt: null,
        backend: 'cpu',
      }),
    );
  }
  store = new RunStore(runsDir, () => false);
  store.refresh();
  refreshed = 0;
  vs.state.messages = [];
  vs.state.picks = [];
  vs.state.pickAnswers = [];
  vs.state.inputs = [];
  vs.state.inputAnswers = [];
  vs.state.trusted = true;
});

test('a value as the second argument: no input box; the store (tree, panel) sees the notes at once', async () => {
  assert.deepEqual(await cmds.renameRun('a', 'Baseline'), { displayName: 'Baseline', tags: [], note: '' });
  assert.deepEqual(await cmds.editTags({ kind: 'run', id: 'a' }, 'prod, lr-sweep, prod'), {
    displayName: 'Baseline',
    tags: ['prod', 'lr-sweep'],
    note: '',
  });
  assert.deepEqual(await cmds.editNote({ id: 'a' }, 'best at dim 64'), {
    displayName: 'Baseline',
    tags: ['prod', 'lr-sweep'],
    note: 'best at dim 64',
  });
  assert.equal(vs.state.inputs.length, 0);
  assert.equal(refreshed, 3);
  assert.deepEqual(store.get('a')!.notes, { displayName: 'Baseline', tags: ['prod', 'lr-sweep'], note: 'best at dim 64' });
  assert.deepEqual(JSON.parse(readFileSync(join(dirOf('a'), 'notes.json'), 'utf8')).tags, ['prod', 'lr-sweep']);
  // an empty name clears it (back to the run name); run.json is never touched
  await cmds.renameRun('a', '');
  assert.equal(readRunNotes(dirOf('a')).notes!.displayName, undefined);
  assert.equal(JSON.parse(readFileSync(join(dirOf('a'), 'run.json'), 'utf8')).name, 'name-a');
  assert.equal(readRunNotes(dirOf('b')).notes, null, 'the other run is untouched');
});

test('no value: an input box pre-filled with the current one; dismissed → nothing written', async () => {
  await cmds.editTags('b', 'x, y');
  vs.state.inputAnswers.push((o) => `${o.value}, z`);
  assert.deepEqual((await cmds.editTags('b'))!.tags, ['x', 'y', 'z']);
  assert.equal(vs.state.inputs[0].value, 'x, y');
  assert.match(vs.state.inputs[0].title ?? '', /^Edit Run Tags: name-b$/);
  vs.state.inputAnswers.push((o) => (o.value === 'name-b' ? 'Shown B' : 'wrong'));
  assert.equal((await cmds.renameRun('b'))!.displayName, 'Shown B');
  // a context menu call: (clicked node, selected nodes) — the selection array is not a value
  assert.equal(await cmds.editNote({ kind: 'run', id: 'b' }, [{ kind: 'run', id: 'b' }]), undefined, 'box dismissed');
  assert.equal(vs.state.inputs.at(-1)!.title, 'Edit Run Note: Shown B');
  assert.equal(readRunNotes(dirOf('b')).notes!.note, '');
});

test('Edit Run Notes: a pick of Rename / Tags / Note, then that box; a field argument skips the pick', async () => {
  vs.state.pickAnswers.push((items) => items.find((i: { label: string }) => i.label.includes('Note')));
  vs.state.inputAnswers.push(() => 'a note');
  assert.equal((await cmds.editNotes('a'))!.note, 'a note');
  assert.equal(vs.state.picks[0].title, 'Edit Run Notes: name-a');
  assert.deepEqual(
    vs.state.picks[0].labels.map((l) => l.replace(/^\$\(\S+\) /, '')),
    ['Rename', 'Tags', 'Note'],
  );
  assert.deepEqual((await cmds.editNotes('a', 'tags', 'q'))!.tags, ['q']);
  assert.equal(vs.state.picks.length, 1);
  assert.equal(await cmds.editNotes('a'), undefined, 'pick dismissed');
});

test('no target: a run pick; an unknown run: a warning; a bad notes.json: an error and the file kept; Restricted Mode works', async () => {
  vs.state.pickAnswers.push((items) => items.find((i: { id: string }) => i.id === 'a'));
  assert.equal((await cmds.renameRun(undefined, 'Picked'))!.displayName, 'Picked');
  assert.equal(await cmds.renameRun('zzz', 'x'), undefined);
  assert.deepEqual(vs.state.messages.at(-1), { level: 'warning', text: 'Matryoshka Lab: no run zzz in the runs folder.' });
  writeFileSync(join(dirOf('b'), 'notes.json'), '{"tags": 5}');
  assert.equal(await cmds.editNote('b', 'x'), undefined);
  assert.match(
    vs.state.messages.at(-1)!.text,
    /could not save the notes of b: .*notes\.json: \/tags: expected an array of strings; fix or delete it/,
  );
  assert.equal(readFileSync(join(dirOf('b'), 'notes.json'), 'utf8'), '{"tags": 5}');
  vs.state.trusted = false;
  assert.equal((await cmds.editNote('a', 'in restricted mode'))!.note, 'in restricted mode');
});
