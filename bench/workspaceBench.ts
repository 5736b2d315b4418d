/**
 * Workspace benchmark: the host on a generated workspace of 500 finished runs (~14 MB, bench/workspaceGen.ts),
 * with the fake `vscode` module of the unit tests, plus the overlay of 50 runs drawn in real Chromium.
 *   store.firstRefreshMs      RunStore: one refresh listing every run with its status (and the first slice
 *                             of metrics); store.firstRefreshMetricBytes: the metrics bytes it read
 *   store.allSummariesMs      RunStore alone: refreshes (and drains) until every metrics.jsonl is read
 *   activation.treePopulatedMs  from `new RunsModel()` (activation) to the runs tree's first complete fetch
 *                             (root + expanded groups + their items), VS Code's tree refresh emulated
 *                             (200 ms leading-edge debounce of onDidChangeTreeData, as ExtHostTreeView does)
 *   activation.allSummariesMs  from activation until every run's metrics are read in the background;
 *                             maxBlockMs: the longest synchronous slice the host ran meanwhile;
 *                             treeFetches / treeItems: refetches the tree events caused and items built
 *   tree.visibleMs / tree.allNodesMs  getChildren + getTreeItem of the expanded nodes / of every node
 *   panel.initMs / initBytes  the panel's `init` message (every run, with configs) built on `ready`
 *   overlay50.hostMs          Compare Runs on 50 runs: show → `ready` → every replay message posted
 *   overlay50.drawMs          those messages posted into the panel (Chromium) → every chart in or near the
 *                             viewport drawn (charts/chartsDrawn: of how many; the rest draw when scrolled near:
 *                             scrollDrawMs, scrolled down chart by chart → all drawn); chartFrames / heldFrames: frames
 *                             that redrew the charts / whose chart redraw waited for the burst interval
 *   overlay50.totalMs         host + webview
 *   overlay50Cold             the same right after activation, on the 50 oldest runs (not read yet)
 *   cells500                  issue 21's workspace (500 runs, 82 MB) opened with the panel's Runs tab at
 *                             activation: ms until every metric cell is right (completeMs; bench/cellsCompleteBench.ts)
 * Runnable alone: `npx tsx bench/workspaceBench.ts [--no-browser]` prints the JSON.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- host modules are required after the fake `vscode` is installed */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { useFakeVscode } from '../test/unit/fakeVscode';
import { generateWorkspace, type GeneratedWorkspace } from './workspaceGen';

const round = (x: number) => Math.round(x * 10) / 10;
const tick = () => new Promise((r) => setImmediate(r));

type Provider = {
  getChildren(el?: unknown): unknown[];
  getTreeItem(el: unknown): { collapsibleState?: number; label?: unknown };
  onDidChangeTreeData: (l: (e: unknown) => void) => unknown;
};

/** Expanded nodes only (what VS Code asks for) or every node; returns the items built. */
function fetchTree(p: Provider, all: boolean): number {
  let items = 0;
  const walk = (el?: unknown) => {
    for (const c of p.getChildren(el)) {
      const it = p.getTreeItem(c);
      // What crosses to the renderer: the item, serialised.
      JSON.stringify(it);
      items++;
      if (it.collapsibleState === 2 || (all && it.collapsibleState === 1)) walk(c);
    }
  };
  walk(undefined);
  return items;
}

/** ExtHostTreeView's handling of onDidChangeTreeData: a 200 ms debounce with a leading edge. A change of
 *  elements refetches those items; a root change (undefined) refetches every expanded node. */
class TreeHostEmulation {
  fetches = 0;
  items = 0;
  fetchMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued: unknown[] = [];
  private leadingDone = false;
  constructor(private readonly p: Provider) {
    p.onDidChangeTreeData((e) => this.event(e));
  }
  private event(e: unknown): void {
    const els = Array.isArray(e) ? e : [e];
    if (!this.timer && !this.leadingDone) {
      this.leadingDone = true;
      this.run(els);
    } else this.queued.push(...els);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.leadingDone = false;
      const q = this.queued;
      this.queued = [];
      if (q.length) this.run(q);
    }, 200);
  }
  private run(els: unknown[]): void {
    const t0 = performance.now();
    this.fetches++;
    if (els.includes(undefined)) this.items += fetchTree(this.p, false);
    else
      for (const el of new Set(els)) {
        JSON.stringify(this.p.getTreeItem(el));
        this.items++;
      }
    this.fetchMs += performance.now() - t0;
  }
  idle(): boolean {
    return !this.timer;
  }
}

function allRead(ws: GeneratedWorkspace, get: (id: string) => { bytesRead?: number } | undefined): boolean {
  return ws.runs.every((r) => (get(r.id)?.bytesRead ?? 0) >= r.metricsBytes);
}

export async function runWorkspaceBench(opts: { browser?: boolean } = {}): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'mrl-wsbench-'));
  const restore = useFakeVscode();
  try {
    const ws = generateWorkspace(join(root, 'ws'), { runs: 500, sweeps: 8, stopped: 0.06, failed: 0.03 });
    const out: Record<string, unknown> = { runs: ws.runs.length, megabytes: round(ws.bytes / 2 ** 20) };

    // ---- RunStore alone
    const { RunStore } = require('../src/runs/store') as typeof import('../src/runs/store');
    {
      const store = new RunStore(ws.runsDir);
      const t0 = performance.now();
      const r = store.refresh();
      const firstMs = performance.now() - t0;
      const statuses: Record<string, number> = {};
      for (const s of store.list()) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
      const firstBytes = store.list().reduce((a, s) => a + (s.bytesRead ?? 0), 0);
      let passes = 1;
      let maxPassMs = firstMs;
      let pending = r.pending.length;
      const drain = (store as unknown as { drain?: () => { pending: string[] } }).drain?.bind(store);
      while (pending > 0 && passes < 10_000) {
        const t = performance.now();
        pending = (drain ? drain() : store.refresh()).pending.length;
        maxPassMs = Math.max(maxPassMs, performance.now() - t);
        passes++;
      }
      out.store = {
        firstRefreshMs: round(firstMs),
        listed: store.list().length,
        statuses,
        firstRefreshMetricBytes: firstBytes,
        allSummariesMs: round(performance.now() - t0),
        passes,
        maxPassMs: round(maxPassMs),
        allRead: allRead(ws, (id) => store.get(id)),
      };
    }

    // ---- activation: RunsModel + the runs tree, VS Code's tree refresh emulated
    const vs = require('../test/unit/hostFakeVscode') as typeof import('../test/unit/hostFakeVscode');
    vs.state.workspaceFolders = [{ uri: vs.Uri.file(join(root, 'ws')) }];
    const { RunsModel } = require('../src/host/runsModel') as typeof import('../src/host/runsModel');
    const { RunsTreeProvider } = require('../src/host/runsView/tree') as typeof import('../src/host/runsView/tree');
    {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const t0 = performance.now();
      const model = new RunsModel();
      const tree = new RunsTreeProvider(model) as unknown as Provider;
      const host = new TreeHostEmulation(tree);
      // The view asks for its rows once the extension is active.
      const tv = performance.now();
      const visibleItems = fetchTree(tree, false);
      const populated = performance.now() - t0;
      const firstFetchMs = performance.now() - tv;
      while (!allRead(ws, (id) => model.get(id)) && performance.now() - t0 < 120_000) await tick();
      const allMs = performance.now() - t0;
      while (!host.idle()) await tick();
      h.disable();
      out.activation = {
        treePopulatedMs: round(populated),
        firstFetchMs: round(firstFetchMs),
        visibleItems,
        allSummariesMs: round(allMs),
        maxBlockMs: round(h.max / 1e6),
        treeFetches: host.fetches,
        treeItems: host.items,
        treeFetchMs: round(host.fetchMs),
      };
      // ---- the tree once everything is read
      const tv2 = performance.now();
      const vis = fetchTree(tree, false);
      const visMs = performance.now() - tv2;
      const ta = performance.now();
      const all = fetchTree(tree, true);
      out.tree = { visibleItems: vis, visibleMs: round(visMs), allNodes: all, allNodesMs: round(performance.now() - ta) };
      model.dispose();
    }

    // ---- the panel: init with every run; Compare Runs on 50
    const { MetricsPanel } = require('../src/host/panel/panelHost') as typeof import('../src/host/panel/panelHost');
    const { metricsPanelDeps } = require('../src/host/extension') as typeof import('../src/host/extension');
    {
      const model = new RunsModel();
      while (!allRead(ws, (id) => model.get(id))) await tick();
      const log = { appendLine() {} } as unknown as import('vscode').OutputChannel;
      const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, log, () => {}));
      const ids = model
        .list()
        .filter((r) => r.status === 'completed')
        .slice(0, 50)
        .map((r) => r.id);
      vs.state.panels.length = 0;
      const t0 = performance.now();
      panel.show(ids, { compare: true });
      const p = vs.state.panels[0];
      const ti = performance.now();
      p.send({ type: 'ready', state: null });
      const initMs = performance.now() - ti;
      const replayed = () => new Set(p.posted.filter((m) => m.type === 'metrics').map((m) => m.runId)).size;
      while (replayed() < ids.length && performance.now() - t0 < 60_000) await tick();
      const hostMs = performance.now() - t0;
      const messages = p.posted.slice();
      const init = messages.find((m) => m.type === 'init');
      out.panel = { initMs: round(initMs), initBytes: JSON.stringify(init).length, initRuns: init?.runs.length };
      const overlay: Record<string, unknown> = {
        runs: ids.length,
        hostMs: round(hostMs),
        messages: messages.length,
        bytes: JSON.stringify(messages).length,
      };
      panel.dispose();
      model.dispose();
      if (opts.browser !== false) {
        const d = await drawInChromium(messages, ids);
        Object.assign(overlay, d);
        overlay.totalMs = round(hostMs + d.drawMs);
      }
      out.overlay50 = overlay;
    }
    // Compare Runs right after activation, on the 50 oldest runs (their metrics not read yet: the
    // background reads newest first): read on demand, replayed together.
    {
      const model = new RunsModel();
      const log = { appendLine() {} } as unknown as import('vscode').OutputChannel;
      const panel = new MetricsPanel(metricsPanelDeps(vs.Uri.file('/ext') as never, model, log, () => {}));
      const ids = model
        .list()
        .filter((r) => r.status === 'completed')
        .slice(-50)
        .map((r) => r.id);
      const unread = ids.filter((id) => !model.isRead(id)).length;
      vs.state.panels.length = 0;
      const t0 = performance.now();
      panel.show(ids, { compare: true });
      const p = vs.state.panels[0];
      p.send({ type: 'ready', state: null });
      const replayed = () => new Set(p.posted.filter((m) => m.type === 'metrics').map((m) => m.runId)).size;
      while (replayed() < ids.length && performance.now() - t0 < 60_000) await tick();
      const hostMs = performance.now() - t0;
      const messages = p.posted.slice();
      const cold: Record<string, unknown> = { runs: ids.length, unreadAtChoice: unread, hostMs: round(hostMs), messages: messages.length };
      panel.dispose();
      model.dispose();
      if (opts.browser !== false) {
        const d = await drawInChromium(messages, ids);
        Object.assign(cold, d);
        cold.totalMs = round(hostMs + d.drawMs);
      }
      out.overlay50Cold = cold;
    }
    if (opts.browser !== false) {
      const { runCellsCompleteBench } = await import('./cellsCompleteBench');
      out.cells500 = await runCellsCompleteBench();
    }
    return out;
  } finally {
    restore();
    rmSync(root, { recursive: true, force: true });
  }
}

interface OverlayDraw {
  /** Messages posted → every chart in or near the viewport drawn (the others wait until scrolled near). */
  drawMs: number;
  charts: number;
  chartsDrawn: number;
  /** Chart passes (frames that drew charts) for the whole burst, and frames whose charts waited. */
  chartFrames: number;
  heldFrames: number;
  /** Then: scrolled down chart by chart until every chart is drawn. */
  scrollDrawMs: number;
}

/** The host's messages posted into the real panel, in order, as fast as they came; → ms until drawn. */
async function drawInChromium(messages: unknown[], ids: string[]): Promise<OverlayDraw> {
  const { launchChromium, openPanel, startPanelServer } = await import('../test/webview/harness');
  const srv = await startPanelServer();
  const browser = await launchChromium();
  try {
    const { page } = await openPanel(browser, srv, 'vscode-dark', { width: 1280, height: 900 });
    return await page.evaluate(
      async ({ messages, ids }) => {
        const w = window as any;
        const t0 = performance.now();
        for (const m of messages) window.postMessage(m, '*');
        // Let every message event run, then wait for the frame that draws them.
        await new Promise((r) => setTimeout(r, 0));
        await w.__mrlPanel.settle();
        const drawMs = performance.now() - t0;
        const shown: string[] = w.__mrlPanel.state().shownRunIds;
        if (shown.length !== ids.length) throw new Error(`panel shows ${shown.length} runs, expected ${ids.length}`);
        const chartIds: string[] = w.__mrlPanel.chartIds();
        const drawnCount = () => chartIds.filter((id) => w.__mrlPanel.chart(id).drawn).length;
        const chartsDrawn = drawnCount();
        const st = w.__mrlPanel.stats();
        const t1 = performance.now();
        // Scroll down chart by chart: the IntersectionObserver reports after the next layout, and the frame
        // after that draws what came near.
        for (const id of chartIds) {
          if (w.__mrlPanel.chart(id).drawn) continue;
          document.querySelector(`.chart-card[data-chart-id="${CSS.escape(id)}"]`)!.scrollIntoView({ block: 'end' });
          const t = performance.now();
          while (!w.__mrlPanel.chart(id).drawn && performance.now() - t < 10_000) {
            await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
            await w.__mrlPanel.settle();
          }
        }
        const round = (x: number) => Math.round(x * 10) / 10;
        return {
          drawMs: round(drawMs),
          charts: chartIds.length,
          chartsDrawn,
          chartFrames: st.chartFrames,
          heldFrames: st.heldFrames,
          scrollDrawMs: round(performance.now() - t1),
        };
      },
      { messages, ids },
    );
  } finally {
    await browser.close();
    await srv.close();
  }
}

if (/workspaceBench\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  runWorkspaceBench({ browser: !process.argv.includes('--no-browser') }).then(
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
