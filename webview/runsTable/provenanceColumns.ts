/**
 * The runs table's provenance columns: where a run came from, as its run.json records it (`git`: the
 * config's commit, `data`: each split's file hash or builtin package version). Pure: no DOM.
 */
import type { Column } from './columns';

/** Where a run came from (run.json `git`, `data`): in the column chooser, not shown by default. */
export function provenanceColumns(): Column[] {
  const col = (key: string, title: string, value: Column['value'], cellTitle: Column['cellTitle']): Column => ({
    key,
    label: key,
    title: `${title} (key: ${key})`,
    group: 'run',
    kind: 'text',
    defaultShown: false,
    value,
    cellTitle,
  });
  return [
    col(
      'git',
      "Git commit of the config's work tree when the run started (short; * = uncommitted changes)",
      (r) => (r.run.git ? r.run.git.commit.slice(0, 7) + (r.run.git.dirty ? '*' : '') : undefined),
      (r) => {
        const g = r.run.git;
        return g && `${g.commit}${g.branch ? ` on ${g.branch}` : ' (detached)'}${g.dirty ? ', with uncommitted changes' : ''}`;
      },
    ),
    col(
      'data',
      "Data: each file's SHA-256 (short), or the builtin data set's package version",
      (r) => r.run.data?.map((d) => ('sha256' in d ? d.sha256.slice(0, 8) : `${d.builtin} ${d.version ?? '?'}`)).join(', '),
      (r) =>
        r.run.data
          ?.map(
            (d) =>
              `${d.split}: ${'sha256' in d ? `${d.path} sha256 ${d.sha256}` : `builtin:${d.builtin} (${d.package} ${d.version ?? '?'})`}, ${d.rows} rows`,
          )
          .join('\n'),
    ),
  ];
}
