/** Rows of a data set as the trainer sees them: named text columns plus an optional numeric score. */

/** One row: column name → text (or number for a score column). */
export type Row = Record<string, string | number>;

/** Where a row came from, so a bad value can be reported with the file and line. */
export interface RowOrigin {
  file: string;
  /** 1-based line number in the file (for builtin data: the row index + 1). */
  line: number;
}

export interface LoadedRows {
  rows: Row[];
  origins: RowOrigin[];
  /** Column names seen in the file (header or JSON keys of the first row). */
  columns: string[];
  /**
   * Rows that belong together (same WordNet synset): the train/eval split keeps a group on one side,
   * so an eval definition never appears in train. Absent: every row is its own group.
   */
  groups?: string[];
  /** SHA-256 (hex) of the file's bytes, for a file source: run.json `data` records it. */
  sha256?: string;
}

/** A problem in a data file, with its place. */
export interface DataIssue {
  file: string;
  line: number;
  message: string;
}

/** Thrown when a data file cannot be used; carries every issue found (capped), not only the first. */
export class DataError extends Error {
  constructor(
    readonly issues: DataIssue[],
    readonly configPath?: string,
  ) {
    super(
      issues
        .slice(0, 20)
        .map((i) => `${i.file}:${i.line}: ${i.message}`)
        .join('\n') + (issues.length > 20 ? `\n… and ${issues.length - 20} more` : ''),
    );
    this.name = 'DataError';
  }
}
