/**
 * `training.keepBest`: the best checkpoint of each listed dim, kept besides the latest step checkpoints.
 *
 *   checkpoints/best-<dim>                  what readers open (Export Model's `--checkpoint best`): a
 *                                           symlink to the folder below, replaced atomically
 *   checkpoints/.best-<dim>-step-<n>-<hex>/ the files: model.safetensors, tokenizer.json, state.json
 *                                           (the trainer state at step n, plus `best: {dim, metric, value}`)
 *   run.json bestCheckpoints[dim]           {metric, step, value}
 *
 * No optimizer moments: Export and inference need the model only, and AdamW's m and v are two more
 * copies of every parameter — a best checkpoint is a third of a step checkpoint's size on disk.
 *
 * Replacing a best never leaves a moment where `best-<dim>` is missing or half written: the new files go
 * into a temp folder (`….tmp-<pid>`, removed like a step checkpoint's by removeTempCheckpoints), renamed
 * into its own hidden folder, then a new symlink is renamed over the old one (rename(2) replaces a
 * symlink atomically), and only then is the old folder deleted. A crash leaves the previous best intact
 * (a stray hidden folder is removed at the next resume). Where symlinks cannot be created (Windows
 * without the right), `best-<dim>` is a plain folder swapped by two renames, the old one set aside
 * first and put back by the next resume if a crash fell between them.
 *
 * run.json is updated after the folder: a reader never finds a record whose folder does not hold it yet.
 * The folder's state.json says which step it holds; a resume reconciles the two (restoreBests).
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  bestCheckpointDir,
  isBestCheckpointTarget,
  RUN_FILES,
  type BestCheckpoint,
  type ByDim,
  type MetricsEvent,
} from '../../protocol/runFolder';
import type { KeepBestConfig } from '../../protocol/runConfig';
import { lowerIsBetter } from '../../insights/metricRules';
import type { RunWriter } from '../../runs/runWriter';
import { fileDigest, stateJson, type TrainerState } from './checkpoint';

/** The files a best checkpoint holds (those of a step checkpoint without optimizer.safetensors). */
export const BEST_FILES = ['model.safetensors', 'tokenizer.json', 'state.json'] as const;

/** Writes the model as it is now (BEST_FILES) into an existing, empty folder; `extra` goes into state.json. */
export type ModelWriter = (dir: string, extra: Record<string, unknown>) => void;

/** What best-<dim> links to, when the trainer made that link (isBestCheckpointTarget); else undefined. */
function ownBestTarget(runDir: string, dim: number): string | undefined {
  try {
    const t = readlinkSync(join(runDir, RUN_FILES.checkpoints, bestCheckpointDir(dim)));
    return isBestCheckpointTarget(dim, t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The step a best checkpoint folder holds (its state.json), or undefined when it is missing or unreadable. */
export function bestCheckpointStep(runDir: string, dim: number): number | undefined {
  const link = join(runDir, RUN_FILES.checkpoints, bestCheckpointDir(dim));
  if (isLink(link) && !ownBestTarget(runDir, dim)) return undefined;
  try {
    const state = JSON.parse(readFileSync(join(runDir, RUN_FILES.checkpoints, bestCheckpointDir(dim), 'state.json'), 'utf8')) as {
      step?: unknown;
    };
    return Number.isInteger(state.step) ? (state.step as number) : undefined;
  } catch {
    return undefined;
  }
}

/** The best value of `metric` at `dim` among eval events in file order (the first one on a tie: later ones did not beat it). */
export function bestOfEvents(events: readonly MetricsEvent[], metric: string, dim: number): { step: number; value: number } | undefined {
  const lower = lowerIsBetter(metric);
  let best: { step: number; value: number } | undefined;
  for (const e of events) {
    if (e.split !== 'eval') continue;
    const v = e.byDim?.[String(dim)]?.[metric];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (!best || (lower ? v < best.value : v > best.value)) best = { step: e.step, value: v };
  }
  return best;
}

export class BestCheckpoints {
  private readonly root: string;
  private readonly lower: boolean;
  /** The value to beat per dim; `kept` false when no folder holds it (resume found no model for that step). */
  private readonly best = new Map<number, { step: number; value: number; kept: boolean }>();

  constructor(
    private readonly runDir: string,
    private readonly writer: RunWriter,
    private readonly o: KeepBestConfig,
    private readonly log: (s: string) => void = (s) => writer.log(s),
  ) {
    this.root = join(runDir, RUN_FILES.checkpoints);
    this.lower = lowerIsBetter(o.metric);
  }

  /** The record run.json holds (the dims whose best has a folder). */
  record(): Record<string, BestCheckpoint> {
    const out: Record<string, BestCheckpoint> = {};
    for (const d of this.o.dims) {
      const b = this.best.get(d);
      if (b?.kept) out[String(d)] = { metric: this.o.metric, step: b.step, value: b.value };
    }
    return out;
  }

  /**
   * After an evaluation at `step` (its eval line already appended): each listed dim whose metric beat
   * its best so far gets the model written as its best checkpoint, then run.json records it. Step 0
   * counts: the untrained model is the first best, and stays so only if nothing beats it.
   */
  afterEval(step: number, byDim: ByDim, writeModel: ModelWriter): void {
    let written: string | undefined;
    for (const d of this.o.dims) {
      const v = byDim[String(d)]?.[this.o.metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const b = this.best.get(d);
      if (b && !(this.lower ? v < b.value : v > b.value)) continue;
      const extra = { best: { dim: d, metric: this.o.metric, value: v } };
      // Several dims improved at one step: the later folders hard-link the first one's model (same bytes).
      const from = written;
      written = this.replace(d, step, (dir) => {
        if (from) copyModel(from, dir, extra);
        else writeModel(dir, extra);
      });
      this.best.set(d, { step, value: v, kept: true });
    }
    if (written) this.writer.update({ bestCheckpoints: this.record() });
  }

  /**
   * A resumed run from step `fromStep`: the bests that its curve still holds. `events` are the run's
   * metrics with the resume rule applied (the resume marker already appended, so nothing after
   * fromStep). For each dim the best of those eval events is the value to beat; its folder is kept if
   * it holds that step, else rewritten from the step checkpoint of that step if one is left
   * (`checkpointOf`). A best recorded at a step after fromStep came from events the resume rule drops
   * (a crash after it, before the next checkpoint): it is not kept, since the curve no longer holds it
   * and those steps are trained again. When no model of the surviving best is left, the dim keeps the
   * value to beat without a folder, so no later and worse evaluation becomes a "best".
   */
  restore(fromStep: number, events: readonly MetricsEvent[], checkpointOf: (step: number) => string | undefined): void {
    this.recoverAside();
    for (const d of this.o.dims) {
      const b = bestOfEvents(events, this.o.metric, d);
      if (!b) {
        this.remove(d);
        continue;
      }
      const held = bestCheckpointStep(this.runDir, d);
      if (held === b.step) {
        this.best.set(d, { ...b, kept: true });
        continue;
      }
      const src = checkpointOf(b.step);
      if (src) {
        this.replace(d, b.step, (dir) => copyModel(src, dir, { best: { dim: d, metric: this.o.metric, value: b.value } }));
        this.best.set(d, { ...b, kept: true });
      } else {
        this.remove(d);
        this.best.set(d, { ...b, kept: false });
      }
      const heldWhat =
        held === undefined
          ? 'no checkpoint'
          : `step ${held}` +
            (held > fromStep ? ` (from the steps after ${fromStep} that the resume rule drops and this run trains again)` : '');
      this.log(
        `keepBest dim ${d}: the best ${this.o.metric} of the resumed curve is ${b.value} at step ${b.step}; ${bestCheckpointDir(d)} held ${heldWhat}; ` +
          (src
            ? `rewritten from ${src}`
            : 'no checkpoint of that step is left, so the dim has no best checkpoint until an evaluation beats that value'),
      );
    }
    this.removeStray();
    this.writer.update({ bestCheckpoints: this.record() });
  }

  private link(d: number): string {
    return join(this.root, bestCheckpointDir(d));
  }

  /** Makes `fill`'s files the best checkpoint of dim d, atomically; returns the folder that now holds them. */
  private replace(d: number, step: number, fill: (dir: string) => void): string {
    mkdirSync(this.root, { recursive: true });
    const name = `.${bestCheckpointDir(d)}-step-${step}-${randomBytes(3).toString('hex')}`;
    const data = join(this.root, name);
    const tmp = `${data}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    fill(tmp);
    renameSync(tmp, data);
    const link = this.link(d);
    const old = this.target(d);
    const tmpLink = `${link}.tmp-${process.pid}`;
    rmSync(tmpLink, { recursive: true, force: true });
    let linked = false;
    try {
      symlinkSync(name, tmpLink, 'dir');
      linked = true;
    } catch {
      // no symlinks here: the plain-folder swap below
    }
    if (linked && !isRealDir(link)) {
      renameSync(tmpLink, link);
    } else {
      // best-<dim> is (or must be) a plain folder: set the old one aside, put the new one in, drop the old.
      if (linked) rmSync(tmpLink, { force: true });
      const aside = join(this.root, `.${bestCheckpointDir(d)}-aside-${process.pid}`);
      rmSync(aside, { recursive: true, force: true });
      if (existsSync(link) || isLink(link)) renameSync(link, aside);
      renameSync(data, link);
      rmSync(aside, { recursive: true, force: true });
    }
    if (old && old !== name) rmSync(join(this.root, old), { recursive: true, force: true });
    return link;
  }

  /** The hidden folder best-<dim> links to (undefined when it is no link, or a link the trainer did not make). */
  private target(d: number): string | undefined {
    return ownBestTarget(this.runDir, d);
  }

  /** Dim d has no best checkpoint: run.json's record first (no reader follows it to a missing folder), then the folder. */
  private remove(d: number): void {
    this.best.delete(d);
    const rec = this.writer.runInfo.bestCheckpoints;
    if (rec && String(d) in rec) {
      const { [String(d)]: _gone, ...rest } = rec;
      this.writer.update({ bestCheckpoints: rest });
    }
    const old = this.target(d);
    rmSync(this.link(d), { recursive: true, force: true });
    if (old) rmSync(join(this.root, old), { recursive: true, force: true });
  }

  /** A plain-folder swap cut short between its two renames: the set-aside best goes back in place. */
  private recoverAside(): void {
    if (!existsSync(this.root)) return;
    for (const d of this.o.dims) {
      const prefix = `.${bestCheckpointDir(d)}-aside-`;
      for (const n of readdirSync(this.root).filter((x) => x.startsWith(prefix))) {
        if (!existsSync(this.link(d)) && !isLink(this.link(d))) renameSync(join(this.root, n), this.link(d));
        else rmSync(join(this.root, n), { recursive: true, force: true });
      }
    }
  }

  /** Hidden best folders that no best-<dim> links to (a crash between their rename and the link's). */
  private removeStray(): void {
    if (!existsSync(this.root)) return;
    const live = new Set(this.o.dims.map((d) => this.target(d)).filter((t): t is string => t !== undefined));
    for (const n of readdirSync(this.root))
      if (/^\.best-\d+-step-/.test(n) && !live.has(n)) rmSync(join(this.root, n), { recursive: true, force: true });
  }
}

/** The model files of a checkpoint folder into `dir` (hard links where the file system allows: the bytes are never rewritten in place); state.json gets `extra`. */
function copyModel(src: string, dir: string, extra: Record<string, unknown>): void {
  for (const f of ['model.safetensors', 'tokenizer.json']) {
    try {
      linkSync(join(src, f), join(dir, f));
    } catch {
      copyFileSync(join(src, f), join(dir, f));
    }
  }
  const state = JSON.parse(readFileSync(join(src, 'state.json'), 'utf8')) as Record<string, unknown>;
  // The digests of the files copied (the optimizer moments stay behind).
  const files = Object.fromEntries(['model.safetensors', 'tokenizer.json'].map((f) => [f, fileDigest(join(dir, f))]));
  writeFileSync(join(dir, 'state.json'), stateJson(state as unknown as TrainerState, extra, files));
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function isRealDir(p: string): boolean {
  try {
    const s = lstatSync(p);
    return s.isDirectory() && !s.isSymbolicLink();
  } catch {
    return false;
  }
}
