/**
 * `workspace.cells500`: the workspace of issue 21's report (bench/workspaceGen.ts REPORTED_WORKSPACE: 500
 * runs, ~82 MB of metrics) opened with the metrics panel at once, its Runs tab showing: the host (RunsModel +
 * MetricsPanel on the fake `vscode` of the unit tests) reads the runs while its messages are forwarded, as
 * they are posted, into the real panel in Chromium. Reported:
 *   completeMs      panel opened (the extension just activated: no metrics read yet) → every metric cell of
 *                   every row equals the run's latest (or best) evaluation read from the files by
 *                   bench/expectedCells.ts
 *   rowsMs          → the table lists all 500 runs
 *   hostDoneMs      → the host holds every run's figures complete (RunStore.digestOf: quick summaries; the
 *                   full read for the charts goes on behind); with an older host, → every run read
 *   wrongCellsSeen  cells seen, while polling every POLL_MS, holding a value other than the final one (a
 *                   stale evaluation shown as the latest): 0 is the only right answer
 *   messages, megabytesPosted  what the host posted to the webview until complete
 * Called by bench/workspaceBench.ts; `npx tsx bench/cellsCompleteBench.ts` runs it alone.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- host modules are required after the fake `vscode` is installed */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { formatNumber } from '../webview/runsTable/cellFormat';
import { useFakeVscode } from '../test/unit/fakeVscode';
import { expectedCells } from './expectedCells';
import { generateWorkspace, REPORTED_WORKSPACE } from './workspaceGen';

const POLL_MS = 100;
const round = (x: number) => Math.round(x * 10) / 10;
/** The columns checked: every metric at every dim, latest and best, and the funnel's metrics. */
const CHECKED = /^(best:)?[^:]+@\d+$|^funnel:(ndcg|mrr|recall|map)/;

export interface CellsComplete {
  runs: number;
  megabytes: number;
  completeMs: number | null;
  rowsMs: number | null;
  hostDoneMs: number | null;
  wrongCellsSeen: number;
  cellsChecked: number;
  messages: number;
  megabytesPosted: number;
}

export async function runCellsCompleteBench(timeoutMs = 120_000): Promise<CellsComplete> {
  const root = mkdtempSync(join(tmpdir(), 'mrl-cells500-'));
  const restore = useFakeVscode();
  const { launchChromium, openPanel, startPanelServer } = await import('../test/webview/harness');
  const srv = await startPanelServer();
  const browser = await launchChromium();
  try {
    const ws = generateWorkspace(join(root, 'ws'), REPORTED_WORKSPACE);
    const expected: Record<string, Record<string, string>> = {};
    let cellsChecked = 0;
    for (const r of ws.runs) {
      const cells: Record<string, string> = {};
      for (const [k, v] of expectedCells(join(ws.runsDir, r.id))) if (CHECKED.test(k)) cells[k] = formatNumber(v);
      expected[r.id] = cells;
      cellsChecked += Object.keys(cells).length;
    }
    const { page } = await openPanel(browser, srv, 'vscode-dark', { width: 1280, height: 900 });
    await page.click('#tabRuns');
    await page.evaluate((e) => ((window as any).__expected = e), expected);

    const vs = require('../test/unit/hostFakeVscode') as typeof import('../test/unit/hostFakeVscode');
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(join(root, 'ws')) }];
    const { RunsModel } = require('../src/host/runsModel') as typeof import('../src/host/runsModel');
    const { MetricsPanel } = require('../src/host/panel/panelHost') as typeof import('../src/host/panel/panelHost');
    const { metricsPanelDeps } = require('../src/host/extension') as typeof import('../src/host/extension');
    const log = { appendLine() {} } as unknown as import('vscode').OutputChannel;
    vs.state.panels.length = 0;

    // The workspace generator's garbage is not the host's: collected before the clock starts.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    // Activation, and at once Open Panel on the newest run (what the palette command does).
    const t0 = performance.now();
    const model = new RunsModel();
    const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, log, () => {}));
    panel.show(
      model
        .list()
        .slice(0, 1)
        .map((r) => r.id),
    );
    const p = vs.state.panels[0];
    p.send({ type: 'ready', state: null });

    let hostDoneMs: number | null = null;
    const m = model as unknown as { digestOf?: (id: string) => unknown };
    const hostDone = (id: string) => (m.digestOf ? m.digestOf(id) !== undefined : model.isRead(id));
    let done = false;
    let sent = 0;
    let bytes = 0;
    // The messages go over as they are posted (VS Code's postMessage is asynchronous IPC as well).
    const pump = (async () => {
      while (!done) {
        if (hostDoneMs === null && ws.runs.every((r) => hostDone(r.id))) hostDoneMs = performance.now() - t0;
        if (sent < p.posted.length) {
          const batch = p.posted.slice(sent);
          sent = p.posted.length;
          // As JSON text, as VS Code's IPC carries them (Playwright's own serialisation of 1.4 MB of objects
          // took a second of this process, which is also the host's).
          const json = JSON.stringify(batch);
          bytes += json.length;
          await page.evaluate((text) => {
            for (const m of JSON.parse(text) as unknown[]) window.postMessage(m, '*');
          }, json);
        } else await new Promise((r) => setTimeout(r, 2));
      }
    })();

    let rowsMs: number | null = null;
    let completeMs: number | null = null;
    let wrongCellsSeen = 0;
    while (completeMs === null && performance.now() - t0 < timeoutMs) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const c = await page.evaluate((n) => {
        const w = window as any;
        const t = w.__mrlPanel.table();
        const exp = w.__expected as Record<string, Record<string, string>>;
        if (!t) return { rows: 0, right: 0, wrong: 0 };
        const shown = new Set(t.columns.map((c: { key: string }) => c.key));
        let right = 0;
        let wrong = 0;
        for (const r of t.rows as { id: string; cells: Record<string, string> }[]) {
          const e = exp[r.id];
          if (!e) continue;
          let ok = true;
          for (const k in e) {
            const v = shown.has(k) ? r.cells[k] : undefined;
            if (v !== e[k]) ok = false;
            if (v !== undefined && v !== '' && v !== e[k]) wrong++;
          }
          if (ok) right++;
        }
        return { rows: t.total === n ? t.rows.length : 0, right, wrong };
      }, ws.runs.length);
      const now = performance.now() - t0;
      if (rowsMs === null && c.rows === ws.runs.length) rowsMs = now;
      wrongCellsSeen += c.wrong;
      if (c.right === ws.runs.length) completeMs = now;
    }
    done = true;
    await pump;
    const messages = sent;
    panel.dispose();
    model.dispose();
    return {
      runs: ws.runs.length,
      megabytes: round(ws.bytes / 2 ** 20),
      completeMs: completeMs === null ? null : round(completeMs),
      rowsMs: rowsMs === null ? null : round(rowsMs),
      hostDoneMs: hostDoneMs === null ? null : round(hostDoneMs),
      wrongCellsSeen,
      cellsChecked,
      messages,
      megabytesPosted: round(bytes / 2 ** 20),
    };
  } finally {
    await browser.close();
    await srv.close();
    restore();
    rmSync(root, { recursive: true, force: true });
  }
}

if (/cellsCompleteBench\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  runCellsCompleteBench().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
