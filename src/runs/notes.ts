/**
 * notes.json in a run folder: what the user says about a run (display name, tags, free text). The host owns
 * it (the trainer never touches it; run.json stays the trainer's). Reading is tolerant — a missing file is
 * no notes, a bad one is ignored with a reason (the tree says it), never a crash — and writing is atomic
 * (temp file + rename), so a reader (the RunStore on another refresh, a second window) never sees half.
 * No vscode import: unit-tested with plain folders.
 */
import { join } from 'node:path';
import { writeFileAtomic } from './atomicFile';
import { RUN_FILES, type RunNotes } from '../protocol/runFolder';
import { MAX_NOTES_BYTES, readRegularFile } from './safeRead';

export interface NotesRead {
  /** The notes, or null when there is no file or it is unusable. */
  notes: RunNotes | null;
  /** Why the file was ignored (names the file and the JSON path), when it was. */
  problem?: string;
}

/** Longest display name and tag kept (a pasted paragraph is a note, not a name). */
export const MAX_NAME = 120;
export const MAX_TAG = 40;

export function notesFile(dir: string): string {
  return join(dir, RUN_FILES.notes);
}

/** "a, b ,, a" → ["a", "b"]: trimmed, no empties, no duplicates, in order. */
export function parseTags(text: string): string[] {
  return normalizeTags(text.split(','));
}

function normalizeTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const s = t.replace(/\s+/g, ' ').trim().slice(0, MAX_TAG);
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

/** Notes as stored: display name trimmed (empty → none), tags normalised, the note as written. */
export function normalizeNotes(n: Partial<RunNotes>): RunNotes {
  const out: RunNotes = { tags: normalizeTags(n.tags ?? []), note: n.note ?? '' };
  const d = n.displayName?.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME);
  if (d) out.displayName = d;
  return out;
}

/** Whether the notes say nothing (no name, no tags, no note). */
export function isEmptyNotes(n: RunNotes | null | undefined): boolean {
  return !n || (!n.displayName && n.tags.length === 0 && n.note.trim() === '');
}

/** Checks a parsed notes.json: the notes, or why not (JSON path + what was expected). */
export function notesFromJson(v: unknown): { notes: RunNotes } | { problem: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { problem: 'expected an object {"displayName"?, "tags", "note"}' };
  const o = v as Record<string, unknown>;
  if (o.displayName !== undefined && typeof o.displayName !== 'string') return { problem: '/displayName: expected a string' };
  if (o.tags !== undefined && !(Array.isArray(o.tags) && o.tags.every((t) => typeof t === 'string')))
    return { problem: '/tags: expected an array of strings' };
  if (o.note !== undefined && typeof o.note !== 'string') return { problem: '/note: expected a string' };
  return {
    notes: normalizeNotes({
      displayName: o.displayName as string | undefined,
      tags: (o.tags as string[] | undefined) ?? [],
      note: (o.note as string | undefined) ?? '',
    }),
  };
}

/** Reads a run folder's notes.json: no file → no notes, no problem; a bad file → no notes, with the reason. */
export function readRunNotes(dir: string): NotesRead {
  const file = notesFile(dir);
  let text: string;
  try {
    // A regular file, capped: a notes.json that is a link to /dev/zero or a FIFO is a problem, not a hang.
    text = readRegularFile(file, MAX_NOTES_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { notes: null };
    return { notes: null, problem: `${file}: cannot read (${(e as Error).message})` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { notes: null, problem: `${file}: not JSON (${(e as Error).message})` };
  }
  const r = notesFromJson(v);
  return 'notes' in r ? { notes: r.notes } : { notes: null, problem: `${file}: ${r.problem}` };
}

/** Writes notes.json atomically (normalised). Returns what was written. */
export function writeRunNotes(dir: string, notes: Partial<RunNotes>): RunNotes {
  const n = normalizeNotes(notes);
  writeFileAtomic(notesFile(dir), JSON.stringify(n, null, 2) + '\n');
  return n;
}

/**
 * Changes some fields of a run's notes and writes them. A notes.json that exists but cannot be used is not
 * overwritten (that would lose what the user wrote by hand): the error says which file and why.
 */
export function updateRunNotes(dir: string, patch: Partial<RunNotes>): RunNotes {
  const cur = readRunNotes(dir);
  if (cur.problem) throw new Error(`${cur.problem}; fix or delete it, then try again`);
  const base: RunNotes = cur.notes ?? { tags: [], note: '' };
  const next: Partial<RunNotes> = { ...base, ...patch };
  // An empty display name clears it.
  if ('displayName' in patch && !patch.displayName?.trim()) delete next.displayName;
  return writeRunNotes(dir, next);
}
