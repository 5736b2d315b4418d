// What the runs tree shows, as pure functions (no vscode import) so it is unit-tested.
import type { RunNotes, RunStatus } from '../../protocol/runFolder';
import { distinctRunLabels, runDisplayName, type LabelRun } from '../../insights/runLabel';
import { formatDuration, runTimes, runTimesText } from '../../insights/runTime';
import type { RunSummary } from '../../runs/series';

export const GROUP_ORDER: readonly RunStatus[] = ['running', 'completed', 'stopped', 'failed'];
export const GROUP_LABEL: Record<RunStatus, string> = {
  running: 'Running',
  completed: 'Completed',
  stopped: 'Stopped',
  failed: 'Failed',
};

export function formatAge(fromIso: string | undefined, now: number): string {
  const t = fromIso ? Date.parse(fromIso) : NaN;
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

/** 3 significant digits, no exponent for the usual loss/metric range. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/**
 * "loss 0.432 · ndcg@10@256 0.61 · 5m ago"; a running run's (`running`: its run.json) starts with its
 * elapsed and remaining time: "12 min elapsed · ≈ 7 min left · loss 0.432 · …".
 */
export function runDescription(
  summary: RunSummary,
  startedAt: string | undefined,
  now: number,
  problem?: string,
  notes?: RunNotes,
  running?: Parameters<typeof runTimesText>[0],
): string {
  const parts: string[] = [];
  // A description is plain text (never markdown): the problem is shown as written, shortened.
  if (problem) parts.push(oneLine(problem, 60));
  const times = running ? runTimesText(running, now) : '';
  if (times) parts.push(times);
  const tags = tagsText(notes);
  if (tags) parts.push(tags);
  if (summary.loss !== null) parts.push(`loss ${fmt(summary.loss)}`);
  if (summary.best) parts.push(`${summary.best.metric}@${summary.best.dim} ${fmt(summary.best.value)}`);
  const age = formatAge(startedAt, now);
  if (age) parts.push(age);
  return parts.join(' · ');
}

/**
 * "step 120/500 · ≈ 7 min left · loss 0.43 · 85 samples/s" for the status bar and the start notification
 * (`info`: the run's run.json, for the time left).
 */
export function liveText(
  summary: RunSummary,
  step: number | undefined,
  total: number | undefined,
  info?: Parameters<typeof runTimes>[0],
  now = Date.now(),
): string {
  const parts: string[] = [];
  const s = step ?? summary.lastStep;
  if (s !== null && s !== undefined) parts.push(total ? `step ${s}/${total}` : `step ${s}`);
  const remaining = info ? runTimes(info, now)?.remaining : undefined;
  if (remaining !== undefined) parts.push(`≈ ${formatDuration(remaining)} left`);
  if (summary.loss !== null) parts.push(`loss ${fmt(summary.loss)}`);
  if (summary.samplesPerSec !== null) parts.push(`${fmt(summary.samplesPerSec)} samples/s`);
  return parts.join(' · ');
}

/** contextValue of a run item: the menus' `when` clauses match on it. A run of another engine than the
 *  bundled trainer (run.json `engine`) gets `.external`, so Export Model is not offered on it. */
export function runContextValue(status: RunStatus, hasCheckpoint: boolean, engine?: string): string {
  const external = engine && engine !== 'bundled' ? '.external' : '';
  return `mrlRun.${status}${external}${hasCheckpoint && status !== 'running' && status !== 'completed' ? '.resumable' : ''}`;
}

export function groupRuns<T extends { status: RunStatus }>(runs: readonly T[]): { status: RunStatus; runs: T[] }[] {
  const by = new Map<RunStatus, T[]>(GROUP_ORDER.map((s) => [s, []]));
  for (const r of runs) by.get(r.status)?.push(r);
  return GROUP_ORDER.map((status) => ({ status, runs: by.get(status)! })).filter((g) => g.runs.length > 0);
}

/** Rows a list of the tree shows before its "Show more…" item; each click shows this many more. */
export const PAGE_SIZE = 50;

/**
 * A launch waiting in the launcher's queue (matryoshkaLab.maxConcurrentRuns), as the tree shows it. The
 * launcher builds these (launch/ depends on runsView/, never the reverse).
 */
export interface QueuedItem {
  runId: string;
  /** The config's name (a resume: the run's). */
  name: string;
  resume: boolean;
  /** A sweep's run: the sweep, its values (run.json `sweep` to be) and the sweep's name. */
  sweep?: { id: string; index: number; params: Record<string, unknown>; name: string };
  /** 1-based place in the queue, and how many wait. */
  position: number;
  total: number;
}

/** contextValue of a queued launch: its inline Cancel (matryoshkaLab.cancelQueuedRun) matches it. */
export const QUEUED_CONTEXT = 'mrlQueued';

/** "queued · 2 of 3" */
export function queuedDescription(q: Pick<QueuedItem, 'position' | 'total' | 'resume'>): string {
  return `queued${q.resume ? ' (resume)' : ''} · ${q.position} of ${q.total}`;
}

export interface SweepGroup<T> {
  id: string;
  /** The config name its runs share (run.json `name`). */
  name: string;
  /** Newest first. */
  runs: T[];
  /** Its runs still waiting in the launch queue, in queue order. */
  queued: QueuedItem[];
  counts: Partial<Record<RunStatus, number>>;
}

export interface TreeLayout<T> {
  /** Status groups in GROUP_ORDER (runs not in a sweep), newest first within each. */
  groups: { status: RunStatus; runs: T[] }[];
  /** Sweeps with a run running or queued first, then by their newest run. */
  sweeps: SweepGroup<T>[];
  /** Queued launches that belong to no sweep (Start Run, Resume Run), in queue order. */
  queued: QueuedItem[];
}

type LayoutRun = { id: string; status: RunStatus; info: { name: string; sweep?: { id?: unknown } } };

/**
 * The runs tree at any scale: the runs of a sweep (run.json `sweep.id`) under one node per sweep, the
 * others by status; queued launches under their sweep, or in a list of their own. `runs` come newest
 * first (RunStore.list()) and keep that order. O(n).
 */
export function layoutRuns<T extends LayoutRun>(runs: readonly T[], queued: readonly QueuedItem[] = []): TreeLayout<T> {
  const sweeps = new Map<string, SweepGroup<T>>();
  const loose: T[] = [];
  for (const r of runs) {
    const sid = r.info.sweep?.id;
    if (typeof sid !== 'string' || !sid) {
      loose.push(r);
      continue;
    }
    let g = sweeps.get(sid);
    if (!g) sweeps.set(sid, (g = { id: sid, name: r.info.name, runs: [], queued: [], counts: {} }));
    g.runs.push(r);
    g.counts[r.status] = (g.counts[r.status] ?? 0) + 1;
  }
  const queuedLoose: QueuedItem[] = [];
  for (const q of queued) {
    if (!q.sweep) {
      queuedLoose.push(q);
      continue;
    }
    let g = sweeps.get(q.sweep.id);
    // A sweep none of whose runs has started yet: its node comes from the queue alone.
    if (!g) sweeps.set(q.sweep.id, (g = { id: q.sweep.id, name: q.sweep.name, runs: [], queued: [], counts: {} }));
    g.queued.push(q);
  }
  // Map order is first-seen order, i.e. by newest run; a sweep running or waiting comes first.
  const ordered = [...sweeps.values()];
  const isLive = (g: SweepGroup<T>) => !!g.counts.running || g.queued.length > 0;
  return {
    groups: groupRuns(loose),
    sweeps: [...ordered.filter(isLive), ...ordered.filter((g) => !isLive(g))],
    queued: queuedLoose,
  };
}

/** A sweep's rows: its running runs, then its queued ones (next to start), then the rest, newest first. */
export function sweepRows<T extends { status: RunStatus }>(g: SweepGroup<T>): ({ run: T } | { queued: QueuedItem })[] {
  return [
    ...g.runs.filter((r) => r.status === 'running').map((run) => ({ run })),
    ...g.queued.map((queued) => ({ queued })),
    ...g.runs.filter((r) => r.status !== 'running').map((run) => ({ run })),
  ];
}

/** "sweep lr-grid · 4 runs (1 completed, 1 running, 2 queued)" */
export function sweepLabel(g: Pick<SweepGroup<unknown>, 'name' | 'runs' | 'counts'> & { queued?: readonly unknown[] }): string {
  const q = g.queued?.length ?? 0;
  const n = g.runs.length + q;
  const parts = (['completed', 'running', 'stopped', 'failed'] as const).filter((s) => g.counts[s]).map((s) => `${g.counts[s]} ${s}`);
  if (q) parts.push(`${q} queued`);
  return `sweep ${g.name} · ${n} run${n === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** A sweep node's tooltip: its name and id (escaped: they come from run folders) and counts. */
export function sweepTooltip(g: Pick<SweepGroup<unknown>, 'id' | 'name' | 'runs' | 'counts'> & { queued?: readonly unknown[] }): string {
  return `**${escapeMarkdown(g.name)}** — sweep ${escapeMarkdown(g.id)}\n\n${escapeMarkdown(sweepLabel(g))}\n\n`;
}

/**
 * The tree's labels (src/insights/runLabel.ts) over every run listed and every launch queued: runs that
 * share a name lead with what differs between them — their swept values (run.json) and the config keys
 * that differ among the configs `configOf` has (the tree reads them in the background: reading hundreds
 * of config.json before the first rows would hold the view up). Computed per name on first use.
 */
export class TreeLabels {
  private byName = new Map<string, { keys: string[]; runs: LabelRun[] }>();
  private labels = new Map<string, string>();

  constructor(
    runs: readonly { id: string; info: { name: string; sweep?: unknown }; notes?: RunNotes }[],
    queued: readonly QueuedItem[] = [],
    configOf: (runId: string) => Record<string, unknown> | null | undefined = () => undefined,
  ) {
    const add = (key: string, r: LabelRun) => {
      let g = this.byName.get(r.name || key);
      if (!g) this.byName.set(r.name || key, (g = { keys: [], runs: [] }));
      g.keys.push(key);
      g.runs.push(r);
    };
    for (const r of runs) add(`run:${r.id}`, { id: r.id, name: r.info.name, notes: r.notes, sweep: r.info.sweep, config: configOf(r.id) });
    for (const q of queued)
      add(`queued:${q.runId}`, { id: q.runId, name: q.name, sweep: q.sweep ? { params: q.sweep.params } : undefined });
  }

  /** Runs whose name another run listed shares: their configs tell them apart (read these). */
  static sharingNames<T extends { info: { name: string } }>(runs: readonly T[]): T[] {
    const count = new Map<string, number>();
    for (const r of runs) count.set(r.info.name, (count.get(r.info.name) ?? 0) + 1);
    return runs.filter((r) => (count.get(r.info.name) ?? 0) > 1);
  }

  private of(key: string, name: string): string {
    const l = this.labels.get(key);
    if (l !== undefined) return l;
    const g = this.byName.get(name);
    if (!g) return name;
    distinctRunLabels(g.runs).forEach((text, i) => this.labels.set(g.keys[i], text));
    return this.labels.get(key) ?? name;
  }

  run(r: { id: string; info: { name: string } }): string {
    return this.of(`run:${r.id}`, r.info.name || `run:${r.id}`);
  }

  queued(q: QueuedItem): string {
    return this.of(`queued:${q.runId}`, q.name || `queued:${q.runId}`);
  }
}

/** The label of a list's last item when it shows only `shown` of `total` rows. */
export function moreLabel(shown: number, total: number): string {
  return `Show more… (${shown} of ${total})`;
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/**
 * Escape text for a MarkdownString: every ASCII punctuation character is backslash-escaped (CommonMark
 * allows it for all of them), so a run name, error or backend string from a cloned repo renders as the
 * text it is — no links (`[x](command:…)`), no HTML (`<img>`), no emphasis, no `$(icon)` — and newlines
 * cannot start a new block.
 */
export function escapeMarkdown(s: string): string {
  return String(s)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[!-/:-@[-`{-~]/g, (c) => '\\' + c);
}

export interface TooltipRun {
  id: string;
  status: RunStatus;
  died: boolean;
  reason?: string;
  readError?: string;
  info: { name: string; backend?: string; backendReason?: unknown; step?: unknown; totalSteps?: unknown; error?: unknown };
  notes?: RunNotes;
  notesProblem?: string;
}

/** A run's label on its own: the display name from notes.json if set, else its swept values and name
 *  (else its id). The tree labels its rows with TreeLabels, which compares runs of the same name. */
export function runLabel(r: { id: string; info: { name: string; sweep?: unknown }; notes?: RunNotes }): string {
  return runDisplayName({ id: r.id, name: r.info.name, notes: r.notes, sweep: r.info.sweep });
}

/** Tags for a description: "#baseline #lr" (plain text, shortened). */
export function tagsText(notes: RunNotes | undefined): string {
  return notes?.tags.length ? oneLine(notes.tags.map((t) => `#${t}`).join(' '), 40) : '';
}

/** The run item's tooltip, as markdown in which everything read from the run folder is escaped; `label`:
 *  the tree's (TreeLabels), else the run's own. */
export function runTooltipMarkdown(r: TooltipRun, label = runLabel(r)): string {
  const e = escapeMarkdown;
  const out: string[] = [];
  out.push(`**${e(label)}** — ${e(r.status)}${r.died ? ' (process gone: the trainer died without finishing)' : ''}`);
  // With a display name, the run's own name (run.json) stays visible here.
  if (label !== (r.info.name || r.id)) out.push(`run name: ${e(r.info.name || r.id)}`);
  out.push(e(r.id));
  if (r.notes?.tags.length) out.push(`tags: ${r.notes.tags.map(e).join(', ')}`);
  // The note keeps its line breaks (each line escaped on its own; a blank line stays a paragraph break).
  if (r.notes?.note.trim())
    out.push(
      r.notes.note
        .trim()
        .split(/\r?\n/)
        .map((l) => (l.trim() ? e(l) : ''))
        .join('  \n'),
    );
  if (r.notesProblem) out.push(`notes ignored: ${e(r.notesProblem)}`);
  if (r.reason && !r.died) out.push(e(r.reason));
  if (r.readError) out.push(`could not read the run folder: ${e(r.readError)}`);
  if (r.info.backend) out.push(`backend: ${e(r.info.backend)}${r.info.backendReason ? ` (${e(String(r.info.backendReason))})` : ''}`);
  if (typeof r.info.step === 'number')
    out.push(`step ${r.info.step}${typeof r.info.totalSteps === 'number' && r.info.totalSteps ? `/${r.info.totalSteps}` : ''}`);
  if (r.info.error) out.push(`error: ${e(String(r.info.error))}`);
  return out.join('\n\n') + '\n\n';
}
