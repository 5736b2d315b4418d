/**
 * Before a trainer resumes a run folder (either engine): the folder may come from anywhere (a cloned
 * repository), and resuming writes into it — appends to metrics.jsonl and log.txt, checkpoints pruned
 * and replaced, the final model/ written, best-<dim> links swapped. Through a link each of those
 * would write, or delete, outside the folder (`log.txt -> ~/.bashrc`, `model -> ~/.config/app`,
 * `checkpoints/best-16 -> ../../../..`), and a FIFO or `/dev/zero` in place of a file hangs the trainer
 * or grows it without bound. A folder the trainers wrote holds none of these: regular files and
 * folders only, besides the `best-<dim>` links of training.keepBest to their hidden siblings.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { isBestCheckpointTarget, RUN_FILES } from '../protocol/runFolder';
import { MAX_CONFIG_BYTES, MAX_INFO_BYTES, MAX_LOCK_BYTES } from './safeRead';
import { LOCK_FILE } from './trainerProcess';

/** The files a resume reads or writes, with the size cap of those it reads whole. */
const FILES: ReadonlyArray<[string, number?]> = [
  [RUN_FILES.info, MAX_INFO_BYTES],
  [RUN_FILES.config, MAX_CONFIG_BYTES],
  [LOCK_FILE, MAX_LOCK_BYTES],
  [RUN_FILES.metrics],
  [RUN_FILES.log],
];
/** The folders it reads or writes: walked whole. `data/` is the sentence-transformers engine's. */
const FOLDERS = [RUN_FILES.checkpoints, 'data', 'model'];

function kind(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return st.isFile() ? 'a file' : 'a special file';
}

function lstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The first entry under `dir` that is neither a regular file nor a folder; `bestLinks`: the best-<dim>
 * links of training.keepBest to their hidden siblings (isBestCheckpointTarget) are allowed at this level.
 */
function strayEntry(dir: string, bestLinks: boolean): { path: string; st: Stats } | undefined {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      const inner = strayEntry(p, false);
      if (inner) return inner;
    } else if (st.isSymbolicLink() && bestLinks) {
      // `best-<dim>.tmp-<pid>`: the link a writer killed mid-swap left (removed with the other temp entries).
      const dim = /^best-(\d+)(?:\.tmp-\d+)?$/.exec(name)?.[1];
      if (dim === undefined || !isBestCheckpointTarget(Number(dim), readlinkSync(p))) return { path: p, st };
    } else if (!st.isFile()) return { path: p, st };
  }
  return undefined;
}

/**
 * Why `runDir` must not be resumed (a sentence naming the entry and what it is), or undefined when it
 * holds only what a trainer writes. Only the folder's contents are judged, not the path leading to it.
 */
export function resumeFolderProblem(runDir: string): string | undefined {
  const name = (p: string) => relative(runDir, p);
  const linked = (p: string, what: string) =>
    `${name(p)} in ${runDir} is ${what}: a run folder a trainer wrote holds only regular files and folders, and ` +
    'through this one the resumed run would write, read or delete outside the folder (a run folder from elsewhere, such as a cloned repository?)';
  for (const [file, cap] of FILES) {
    const p = join(runDir, file);
    const st = lstat(p);
    if (!st) continue;
    if (!st.isFile()) return linked(p, `${kind(st)}, not a regular file`);
    if (cap !== undefined && st.size > cap)
      return `${name(p)} in ${runDir} is larger than a trainer writes it (${st.size} bytes; at most ${cap})`;
  }
  for (const folder of FOLDERS) {
    const p = join(runDir, folder);
    const st = lstat(p);
    if (!st) continue;
    if (!st.isDirectory()) return linked(p, `${kind(st)}, not a folder`);
    let stray: { path: string; st: Stats } | undefined;
    try {
      stray = strayEntry(p, folder === RUN_FILES.checkpoints);
    } catch (e) {
      return `cannot read ${p}: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (stray) return linked(stray.path, kind(stray.st));
  }
  return undefined;
}
