// Export Model… (src/host/commands/exportCommand.ts + src/host/launch/exporter.ts) over the fake `vscode`,
// on a real run folder read by the real RunStore, running a stand-in dist/export.js that obeys the
// exporter's contract (./exportFixtures.ts): the pickers preselect the advisor's choice, the arguments
// skip them, the program's answer and its errors reach the user, Cancel ends the program.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';
import { writeRun, writeStandIn } from './exportFixtures';

useFakeVscode();

const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { ExportCommand, EXPORT_ACTIONS } =
  require('../../src/host/commands/exportCommand') as typeof import('../../src/host/commands/exportCommand');
const { Exporter } = require('../../src/host/launch/exporter') as typeof import('../../src/host/launch/exporter');
const { RunStore } = require('../../src/runs/store') as typeof import('../../src/runs/store');

const tmp = mkdtempSync(join(tmpdir(), 'mrl-export-cmd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const ws = join(tmp, 'ws');
const runs = join(ws, '.mrl', 'runs');
const ext = join(tmp, 'ext');
const ID = '20260101-100000-quant-0001';
writeRun(runs, ID);
writeRun(runs, '20260101-110000-st-0002', { engine: 'sentence-transformers' });
writeStandIn(ext);
const argLog = join(tmp, 'argv.jsonl');
const pidFile = join(tmp, 'export.pid');
process.env.MRL_FAKE_EXPORT_LOG = argLog;
process.env.MRL_FAKE_EXPORT_PID = pidFile;

const store = new RunStore(runs);
store.refresh();
const log: string[] = [];
const channel = { appendLine: (s: string) => log.push(s), show: () => log.push('(shown)') };
let percent = 95;
const command = new ExportCommand(store, new Exporter(ext, channel), () => percent, channel);

/** Whether a process exists (signal 0; the exporter is our child, reaped by Node once it exits). */
function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Generous deadline, only to fail a hang. */
async function waitFor(what: string, cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 60_000; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}
const argvs = (): { argv: string[]; electronRunAsNode: string | null }[] =>
  existsSync(argLog)
    ? readFileSync(argLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];

beforeEach(() => {
  percent = 95;
  rmSync(argLog, { force: true });
  rmSync(join(ws, 'exports'), { recursive: true, force: true });
  Object.assign(vs.state, {
    messages: [],
    picks: [],
    pickAnswers: [],
    saveAnswers: [],
    saveDialogs: [],
    infoAnswers: [],
    infoActions: [],
    executed: [],
    progress: [],
    trusted: true,
    settings: {},
    workspaceFolders: [{ uri: vs.Uri.file(ws) }],
  });
});

test('the pickers preselect the advisor’s point and the best checkpoint; the save dialog proposes exports/<run>-d<D>-<precision>; the folder is returned and announced', async () => {
  const seen: { label: string; description?: string; detail?: string }[][] = [];
  // Each picker is accepted as shown (Enter: its first row), as a user taking the preselection would.
  vs.state.pickAnswers.push(
    (items) => (seen.push(items), items[0]),
    (items) => (seen.push(items), items[0]),
  );
  vs.state.saveAnswers.push((o) => o.defaultUri);
  vs.state.infoAnswers.push(EXPORT_ACTIONS.card);
  const out = await command.exportModel({ kind: 'run', id: ID }, [{ kind: 'run', id: ID }]);
  const expected = join(ws, 'exports', 'quant-d16-binary');
  assert.equal(out, expected);

  assert.equal(vs.state.picks[0].title, 'Export Model: quant — dim and precision');
  assert.equal(seen[0][0].label, '$(star-full) binary · dim 16', 'the advisor’s point first: binary at 16, rescored, 2 bytes');
  assert.equal(seen[0].length, 9, 'every dim × precision scored');
  assert.match(seen[0][0].detail!, /search-time choice/);
  assert.equal(vs.state.picks[1].title, 'Export Model: quant — checkpoint');
  assert.deepEqual(
    seen[1].map((i) => i.label),
    ['$(star-full) best for dim 16', 'last', 'step 3'],
  );
  assert.equal(vs.state.saveDialogs[0].defaultUri?.fsPath, expected);

  // The stand-in ran once, with every choice as a flag, through the host's runtime as Node.
  assert.deepEqual(argvs(), [
    {
      argv: [join(runs, ID), '--dim', '16', '--precision', 'binary', '--checkpoint', 'best', '--out', expected, '--json'],
      electronRunAsNode: '1',
    },
  ]);
  assert.ok(existsSync(join(expected, 'modules.json')) && existsSync(join(expected, 'README.md')));
  const p = vs.state.progress[0];
  assert.equal(p.title, 'Matryoshka Lab: exporting quant at dim 16, binary');
  assert.equal(p.cancellable, true);
  assert.ok(p.reports.includes('loading the checkpoint'), `progress shows the program's lines: ${p.reports.join(' | ')}`);
  const note = vs.state.infoActions.at(-1)!;
  assert.equal(
    note.text,
    `Matryoshka Lab: exported quant at dim 16, binary (best checkpoint, step 3) to ${expected}; re-loaded and checked, max |Δ| 2.4e-7.`,
  );
  assert.deepEqual(note.actions, ['Open Folder', 'Reveal in Explorer', 'Open Model Card']);
  await waitFor('the model card to open', () => vs.state.executed.some((e) => e.command === 'markdown.showPreview'));
  const shown = vs.state.executed.find((e) => e.command === 'markdown.showPreview')!;
  assert.equal((shown.args[0] as { fsPath: string }).fsPath, join(expected, 'README.md'));
});

test('the advisor’s percent setting moves the preselection; the store’s series and the file give the same', async () => {
  percent = 99;
  let first: { label: string } | undefined;
  vs.state.pickAnswers.push((items) => ((first = items[0]), undefined));
  assert.equal(await command.exportModel(ID), undefined, 'dismissed: nothing runs');
  assert.equal(first?.label, '$(star-full) int8 · dim 16');
  // A run the store has not read: its metrics.jsonl is read (same resume rule).
  const unread = new ExportCommand(
    { get: (id) => store.get(id), list: () => store.list(), isRead: () => false },
    new Exporter(ext, channel),
    () => 99,
    channel,
  );
  vs.state.pickAnswers.push((items) => ((first = items[0]), undefined));
  await unread.exportModel(ID);
  assert.equal(first?.label, '$(star-full) int8 · dim 16');
  assert.deepEqual(argvs(), []);
});

test('arguments skip every picker: {dim, precision, checkpoint, out} (a relative out is the workspace’s)', async () => {
  const out = await command.exportModel(ID, { dim: 8, precision: 'int8', checkpoint: 3, out: 'models/q8' });
  assert.equal(out, join(ws, 'models', 'q8'));
  assert.equal(vs.state.picks.length, 0);
  assert.equal(vs.state.saveDialogs.length, 0);
  assert.deepEqual(argvs()[0].argv.slice(1), [
    '--dim',
    '8',
    '--precision',
    'int8',
    '--checkpoint',
    '3',
    '--out',
    join(ws, 'models', 'q8'),
    '--json',
  ]);
  assert.match(vs.state.infoActions.at(-1)!.text, /exported quant at dim 8, int8 \(step 3\)/);
  // Bad options: a clear error, nothing runs.
  assert.equal(await command.exportModel(ID, { dim: 8, precision: 'fp16' }), undefined);
  assert.match(
    vs.state.messages.at(-1)!.text,
    /Export Model's options: "precision" must be "float32", "int8", "binary" or absent, not "fp16"/,
  );
  assert.equal(argvs().length, 1);
});

test('the program’s refusal is shown with its message; nothing is returned', async () => {
  const out = await command.exportModel(ID, { dim: 3, precision: 'float32', checkpoint: 'last', out: join(tmp, 'never') });
  assert.equal(out, undefined);
  const err = vs.state.messages.find((m) => m.level === 'error');
  assert.equal(err?.text, 'Matryoshka Lab: could not export quant at dim 3, float32: --dim 3: the run evaluates dims 16, 8, 4');
  assert.ok(!existsSync(join(tmp, 'never')));
  assert.ok(
    log.some((l) => l.includes("export: dim 3 is not one of the run's dims")),
    'stderr reaches the output channel',
  );
});

test('Cancel ends the program (its process is gone) and leaves no folder', async () => {
  rmSync(pidFile, { force: true });
  const out = join(tmp, 'cancelled');
  const pending = command.exportModel(ID, { dim: 5, precision: 'float32', checkpoint: 'last', out });
  await waitFor('the exporter to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(isPidAlive(pid), true);
  assert.ok(existsSync(join(tmp, `.cancelled.export-${pid}`)), 'the program is writing its temp folder');
  vs.state.progress[0].cancel();
  assert.equal(await pending, undefined);
  await waitFor('the exporter to be gone', () => !isPidAlive(pid));
  assert.equal(vs.state.messages.at(-1)?.text, 'Matryoshka Lab: export of quant at dim 5, float32 cancelled; nothing was written.');
  assert.ok(!existsSync(out));
  assert.ok(!existsSync(join(tmp, `.cancelled.export-${pid}`)), 'the temp folder the killed program left is removed');
});

test('a dismissed save dialog leaves no exports/ folder behind; refused: Restricted Mode, another engine, unknown run', async () => {
  vs.state.pickAnswers.push(
    (items) => items[0],
    (items) => items[0],
  );
  assert.equal(await command.exportModel(ID), undefined);
  assert.equal(vs.state.saveDialogs.length, 1);
  assert.ok(!existsSync(join(ws, 'exports')), 'the exports/ folder made for the dialog is removed again');

  vs.state.trusted = false;
  assert.equal(await command.exportModel(ID, { dim: 8, out: 'x' }), undefined);
  assert.match(
    vs.state.messages.at(-1)!.text,
    /^Matryoshka Lab: Export Model is disabled in Restricted Mode — it runs the bundled exporter/,
  );
  vs.state.trusted = true;
  assert.equal(await command.exportModel('20260101-110000-st-0002'), undefined);
  assert.match(vs.state.messages.at(-1)!.text, /trained by the sentence-transformers engine/);
  assert.equal(await command.exportModel('nope'), undefined);
  assert.equal(vs.state.messages.at(-1)!.text, 'Matryoshka Lab: no run nope in the runs folder.');
  // The palette: a pick among the runs it can export (not the other engine's).
  await command.exportModel();
  assert.equal(vs.state.picks.at(-1)!.title, 'Export Model');
  assert.equal(vs.state.picks.at(-1)!.labels.length, 1);
  assert.deepEqual(argvs(), []);
});

test('a non-empty folder chosen in the save dialog (its replace question answered yes) is replaced: --force', async () => {
  const existing = join(tmp, 'existing');
  mkdirSync(existing, { recursive: true });
  writeFileSync(join(existing, 'old.txt'), 'old');
  vs.state.pickAnswers.push(
    (items) => items[0],
    (items) => items[0],
  );
  vs.state.saveAnswers.push(() => vs.Uri.file(existing));
  assert.equal(await command.exportModel(ID), existing);
  assert.deepEqual(argvs()[0].argv.slice(-4), ['--out', existing, '--force', '--json']);
  assert.ok(existsSync(join(existing, 'modules.json')) && !existsSync(join(existing, 'old.txt')));
});

test('a missing exporter says how to build it', async () => {
  const bare = new ExportCommand(store, new Exporter(join(tmp, 'no-ext'), channel), () => 95, channel);
  assert.equal(await bare.exportModel(ID, { dim: 8, out: 'x' }), undefined);
  assert.match(vs.state.messages.at(-1)!.text, /the exporter is missing \(.*export\.js\)\. Build it with "npm run build"\./);
});
