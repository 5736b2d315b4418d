// Issue 22 §2, the host side of the panel's Export CSV / Export PNG (src/host/panel/panelHost.ts `save`):
// the webview sends the bytes, the host asks where (a save dialog whose answer the test gives) and writes
// them there — the file holds exactly what was sent; a cancelled dialog writes nothing; a path that cannot
// be written is reported, never an unhandled rejection; a remote folder goes through workspace.fs; a
// malformed message opens no dialog.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { useFakeVscode } from './fakeVscode';

const restoreVscode = useFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'mrl-panel-export-'));
after(() => {
  restoreVscode();
  rmSync(root, { recursive: true, force: true });
});

const vs = require('./hostFakeVscode') as typeof import('./hostFakeVscode');
const { RunsModel } = require('../../src/host/runsModel') as typeof import('../../src/host/runsModel');
const { MetricsPanel } = require('../../src/host/panel/panelHost') as typeof import('../../src/host/panel/panelHost');
const { metricsPanelDeps } = require('../../src/host/extension') as typeof import('../../src/host/extension');

const ws = join(root, 'ws');
const out = join(root, 'exports');
mkdirSync(join(ws, '.mrl/runs/r1'), { recursive: true });
mkdirSync(out);
writeFileSync(
  join(ws, '.mrl/runs/r1/run.json'),
  JSON.stringify({
    id: 'r1',
    name: 'r1',
    status: 'completed',
    pid: null,
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: null,
    backend: 'cpu',
  }),
);
writeFileSync(join(ws, '.mrl/runs/r1/config.json'), '{}');
writeFileSync(join(ws, '.mrl/runs/r1/metrics.jsonl'), '');

// What the webview's exporters send (webview/charts/export*.ts): CSV text, and a PNG as a data URL.
const CSV = 'run,split,step,dim,metric,value\nr1,eval,0,64,ndcg@10,0.1234\nr1,eval,10,64,ndcg@10,0.5\n"a, b",train,1,,loss,1.5e-3\n';
// A 1×1 PNG, byte for byte (its signature, IHDR, IDAT, IEND), so the decoded bytes can be compared exactly.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360f8cfc0f01f0005ff02feb3d1b48c0000000049454e44ae426082',
  'hex',
);
const log: string[] = [];
let model: InstanceType<typeof RunsModel>;
let panel: InstanceType<typeof MetricsPanel>;
let webview: InstanceType<typeof vs.FakePanel>;

beforeEach(() => {
  vs.state.workspaceFolders = [{ uri: vs.Uri.file(ws) }];
  vs.state.messages = [];
  vs.state.saveAnswers = [];
  vs.state.saveDialogs = [];
  vs.state.panels.length = 0;
  log.length = 0;
  panel?.dispose();
  model?.dispose();
  model = new RunsModel();
  const channel = { appendLine: (l: string) => void log.push(l) } as unknown as import('vscode').OutputChannel;
  panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, channel, () => {}));
  panel.show(['r1']);
  webview = vs.state.panels[0];
  webview.send({ type: 'ready', state: null });
});
after(() => {
  panel.dispose();
  model.dispose();
});

/** The export is async (dialog, then write): wait for its last visible effect, a message. */
async function settled(n = 1): Promise<void> {
  for (const end = Date.now() + 120_000; vs.state.messages.length < n; await new Promise((r) => setImmediate(r)))
    assert.ok(Date.now() < end, 'hang guard: the export said nothing');
}

test('Export CSV: the chosen path receives exactly the CSV sent; the dialog offers a safe name in the workspace, CSV files', async () => {
  const target = join(out, 'metrics.csv');
  vs.state.saveAnswers.push(() => vs.Uri.file(target));
  webview.send({ type: 'exportCsv', suggestedName: 'r1: eval/ndcg?.csv', csv: CSV });
  await settled();
  assert.equal(readFileSync(target, 'utf8'), CSV);
  assert.deepEqual(vs.state.saveDialogs, [
    { defaultUri: vs.Uri.file(join(ws, 'r1_ eval_ndcg_.csv')), title: undefined, filters: { CSV: ['csv'] } },
  ]);
  assert.deepEqual(vs.state.messages, [{ level: 'info', text: `Matryoshka Lab: saved ${target}` }]);
  // Saving again over the same file replaces it (the dialog asked about overwriting).
  vs.state.saveAnswers.push(() => vs.Uri.file(target));
  webview.send({ type: 'exportCsv', suggestedName: 'again.csv', csv: 'step\n1\n' });
  await settled(2);
  assert.equal(readFileSync(target, 'utf8'), 'step\n1\n');
});

test('Export PNG: the data URL is decoded; the file holds the PNG bytes; the dialog offers PNG files', async () => {
  const target = join(out, 'chart.png');
  vs.state.saveAnswers.push(() => vs.Uri.file(target));
  webview.send({ type: 'exportPng', suggestedName: 'chart.png', dataUrl: `data:image/png;base64,${PNG.toString('base64')}` });
  await settled();
  assert.deepEqual(readFileSync(target), PNG);
  assert.deepEqual(vs.state.saveDialogs.at(-1)?.filters, { PNG: ['png'] });
  assert.equal(vs.state.messages.at(-1)?.text, `Matryoshka Lab: saved ${target}`);
});

test('a cancelled dialog writes nothing and says nothing; a malformed message opens no dialog', async () => {
  const before = readdirSync(out);
  webview.send({ type: 'exportCsv', suggestedName: 'x.csv', csv: CSV }); // no answer queued: cancelled
  for (const end = Date.now() + 120_000; vs.state.saveDialogs.length < 1; await new Promise((r) => setImmediate(r)))
    assert.ok(Date.now() < end, 'hang guard: no dialog');
  // The dialog was answered (cancelled); the write would follow in the same continuation: let it run.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(readdirSync(out), before);
  assert.deepEqual(vs.state.messages, []);
  // Not a PNG data URL, a CSV without text: dropped before any dialog, and logged.
  webview.send({ type: 'exportPng', suggestedName: 'x.png', dataUrl: 'data:text/html;base64,PHNjcmlwdD4=' });
  webview.send({ type: 'exportCsv', suggestedName: 'x.csv' });
  assert.equal(vs.state.saveDialogs.length, 1);
  assert.equal(log.filter((l) => /dropped an invalid message/.test(l)).length, 2);
});

test('a path that cannot be written: an error naming it, nothing written, no unhandled rejection', async () => {
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => void rejections.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    const target = join(out, 'no-such-folder', 'metrics.csv');
    vs.state.saveAnswers.push(() => vs.Uri.file(target));
    webview.send({ type: 'exportCsv', suggestedName: 'metrics.csv', csv: CSV });
    await settled();
    assert.equal(vs.state.messages[0].level, 'error');
    assert.match(vs.state.messages[0].text, new RegExp(`could not save ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
    assert.equal(existsSync(target), false);
    assert.match(log.join('\n'), /export CSV to .* failed: ENOENT/);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('a folder that is not on this disk (a remote workspace): the bytes go through workspace.fs.writeFile', async () => {
  const written: { uri: string; data: Buffer }[] = [];
  const orig = vs.workspace.fs.writeFile;
  vs.workspace.fs.writeFile = async (u: InstanceType<typeof vs.Uri>, data: Uint8Array) =>
    void written.push({ uri: String(u), data: Buffer.from(data) });
  try {
    vs.state.saveAnswers.push(() => new vs.Uri('vscode-remote', '/home/me/chart.png'));
    webview.send({ type: 'exportPng', suggestedName: 'chart.png', dataUrl: `data:image/png;base64,${PNG.toString('base64')}` });
    await settled();
    assert.deepEqual(written, [{ uri: 'vscode-remote:///home/me/chart.png', data: PNG }]);
    assert.equal(vs.state.messages[0].text, 'Matryoshka Lab: saved /home/me/chart.png');
  } finally {
    vs.workspace.fs.writeFile = orig;
  }
});
