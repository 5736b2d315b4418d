// Notes and tags of a run (notes.json, src/runs/notes.ts): Rename (display name), Edit Tags, Edit Note,
// and Edit Notes (one entry point: a pick of the three; what the runs table sends). Each takes its target
// like the other run commands (a run id, a tree node, `{id}`; src/host/commands/commandArgs.ts) and, optionally, the
// new value as a second argument (a string): then no input box, so tests and other callers need no UI.
// A tree context menu passes the selection as the second argument (an array): that is no value.
// Allowed in Restricted Mode: it only writes the run folder's notes.json, it runs nothing.
import * as vscode from 'vscode';
import { parseTags, updateRunNotes } from '../../runs/notes';
import type { RunState } from '../../runs/store';
import type { RunNotes } from '../../protocol/runFolder';
import { idsOf } from './commandArgs';
import type { RunsModel } from '../runsModel';
import { runLabel } from '../runsView/treeModel';
import { pickRun, showError, showWarning } from '../ui';

import { NOTES_CMD } from './commandIds';

type Field = 'displayName' | 'tags' | 'note';

/** The new value when the caller gave one (a string), else undefined (ask). */
function valueArg(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export class NotesCommands {
  constructor(private readonly model: Pick<RunsModel, 'get' | 'list' | 'refresh'>) {}

  /** Set (or, with an empty name, clear) a run's display name. → the notes written, or undefined. */
  renameRun(a?: unknown, value?: unknown): Promise<RunNotes | undefined> {
    return this.edit(a, 'displayName', valueArg(value), 'Rename Run');
  }

  /** Set a run's tags from comma-separated text (empty: none). */
  editTags(a?: unknown, value?: unknown): Promise<RunNotes | undefined> {
    return this.edit(a, 'tags', valueArg(value), 'Edit Run Tags');
  }

  /** Set a run's free-text note (empty: none). */
  editNote(a?: unknown, value?: unknown): Promise<RunNotes | undefined> {
    return this.edit(a, 'note', valueArg(value), 'Edit Run Note');
  }

  /** One entry point: pick Rename / Tags / Note, then that command. */
  async editNotes(a?: unknown, field?: unknown, value?: unknown): Promise<RunNotes | undefined> {
    const run = await this.target(a, 'Edit Run Notes');
    if (!run) return undefined;
    let f: Field | undefined = field === 'displayName' || field === 'tags' || field === 'note' ? field : undefined;
    if (!f) {
      const n = run.notes;
      const items: (vscode.QuickPickItem & { field: Field })[] = [
        {
          label: '$(edit) Rename',
          description: n?.displayName ? `now “${n.displayName}”` : `now the run name “${run.info.name}”`,
          field: 'displayName',
        },
        { label: '$(tag) Tags', description: n?.tags.length ? n.tags.join(', ') : 'none', field: 'tags' },
        { label: '$(note) Note', description: n?.note ? oneLine(n.note) : 'none', field: 'note' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: `Edit Run Notes: ${runLabel(run)}` });
      if (!pick) return undefined;
      f = pick.field;
    }
    return this.edit(run.id, f, valueArg(value), f === 'displayName' ? 'Rename Run' : f === 'tags' ? 'Edit Run Tags' : 'Edit Run Note');
  }

  private async target(a: unknown, title: string): Promise<RunState | undefined> {
    let ids = idsOf(a, undefined);
    if (!ids.length) ids = await pickRun(this.model.list(), title);
    if (!ids.length) return undefined;
    const run = this.model.get(ids[0]);
    if (!run) void showWarning(`no run ${ids[0]} in the runs folder.`);
    return run;
  }

  private async edit(a: unknown, field: Field, given: string | undefined, title: string): Promise<RunNotes | undefined> {
    const run = await this.target(a, title);
    if (!run) return undefined;
    const text = given ?? (await this.ask(run, field, title));
    if (text === undefined) return undefined; // dismissed
    const patch: Partial<RunNotes> =
      field === 'displayName' ? { displayName: text } : field === 'tags' ? { tags: parseTags(text) } : { note: text };
    try {
      const written = updateRunNotes(run.dir, patch);
      this.model.refresh(); // the tree, the panel and the table pick it up from the store
      return written;
    } catch (e) {
      void showError(`could not save the notes of ${run.id}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private ask(run: RunState, field: Field, title: string): Thenable<string | undefined> {
    const n = run.notes;
    const opts: Record<Field, vscode.InputBoxOptions> = {
      displayName: {
        prompt: `Display name of ${run.info.name} (${run.id}); empty: back to the run name`,
        value: n?.displayName ?? run.info.name,
      },
      tags: { prompt: 'Tags, comma-separated (empty: none)', value: n?.tags.join(', ') ?? '', placeHolder: 'baseline, lr-sweep' },
      note: { prompt: 'A note on this run (empty: none)', value: n?.note ?? '' },
    };
    return vscode.window.showInputBox({ title: `${title}: ${runLabel(run)}`, ...opts[field] });
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 50 ? t.slice(0, 49) + '…' : t;
}

export function registerNotesCommands(ctx: vscode.ExtensionContext, model: RunsModel): void {
  const c = new NotesCommands(model);
  const reg = (id: string, fn: (...args: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg(NOTES_CMD.renameRun, (a?: unknown, v?: unknown) => c.renameRun(a, v));
  reg(NOTES_CMD.editTags, (a?: unknown, v?: unknown) => c.editTags(a, v));
  reg(NOTES_CMD.editNote, (a?: unknown, v?: unknown) => c.editNote(a, v));
  reg(NOTES_CMD.editNotes, (a?: unknown, f?: unknown, v?: unknown) => c.editNotes(a, f, v));
}
