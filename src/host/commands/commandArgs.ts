/**
 * A command's target, as the tree, the explorer, a keybinding's `args` or another extension passes it
 * (no vscode): a tree node, a run id, `{id}`, or an array of those. Commands that get one skip their
 * quick pick (README: "Commands take their target as an argument").
 */

/** A run id from one argument: a string, or an object with a string `id` that is a run node (no `kind`,
 *  or kind "run"); undefined for anything else. */
export function idOf(a: unknown): string | undefined {
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object' && 'id' in a && typeof (a as { id: unknown }).id === 'string') {
    const n = a as { kind?: string; id: string };
    return n.kind === undefined || n.kind === 'run' ? n.id : undefined;
  }
  return undefined;
}

/** Run ids from a tree context menu call: (clicked, selection) — the selection wins when it has the click. */
export function idsOf(clicked: unknown, selection: unknown): string[] {
  if (Array.isArray(clicked)) return clicked.map(idOf).filter((x): x is string => !!x);
  const sel = Array.isArray(selection) ? selection.map(idOf).filter((x): x is string => !!x) : [];
  const one = idOf(clicked);
  if (sel.length > 1 && (!one || sel.includes(one))) return sel;
  return one ? [one] : sel;
}

/**
 * Stop Sweep's target from one argument: a sweep node `{kind: 'sweep', sweepId}` → {sweepId}; a run node
 * `{kind: 'run', id}` or `{id}` → {runId}; a string → {id} (a sweep id or a run id: the caller looks it up).
 */
export function sweepTargetOf(a: unknown): { sweepId: string } | { runId: string } | { id: string } | undefined {
  if (typeof a === 'string') return a ? { id: a } : undefined;
  if (a && typeof a === 'object' && !Array.isArray(a)) {
    const n = a as { kind?: unknown; sweepId?: unknown; id?: unknown };
    if (n.kind === 'sweep') return typeof n.sweepId === 'string' ? { sweepId: n.sweepId } : undefined;
    const id = idOf(a);
    if (id) return { runId: id };
  }
  return undefined;
}

/** Cancel Queued Run's target: a queued node `{kind: 'queued', runId}` or a run id; else undefined. */
export function queuedTargetOf(a: unknown): string | undefined {
  if (typeof a === 'string') return a || undefined;
  const n = a as { kind?: unknown; runId?: unknown } | null;
  return n && typeof n === 'object' && n.kind === 'queued' && typeof n.runId === 'string' ? n.runId : undefined;
}
