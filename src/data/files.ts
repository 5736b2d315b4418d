/**
 * JSONL, CSV and TSV readers. Every row keeps its line number so a bad value can be reported as
 * `file:line`. CSV follows RFC 4180 (quoted fields may hold commas, quotes as "" and newlines); TSV is
 * one row per line, tab-separated, no quoting (the common "tsv" of data sets). The first line of a
 * CSV / TSV is the header.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { runSync, type Work } from '../common/cooperative';
import { DataError, type DataIssue, type LoadedRows, type Row } from './types';

export type FileFormat = 'jsonl' | 'csv' | 'tsv';

export function formatOf(file: string): FileFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  return undefined;
}

export function loadFile(file: string): LoadedRows {
  return runSync(loadFileWork(file));
}

/**
 * The file's text, strictly UTF-8: a byte sequence that is not UTF-8 (a Latin-1 or UTF-16 export) is a
 * DataError naming the file and the first bad line, never text full of U+FFFD that trains silently.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const line = firstBadUtf8Line(bytes);
    throw new DataError([{ file, line, message: 'invalid UTF-8: save the file as UTF-8 (this line holds bytes that are not UTF-8 text)' }]);
  }
}

function firstBadUtf8Line(bytes: Uint8Array): number {
  const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let start = 0;
  for (let line = 1; ; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      dec.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    if (end >= bytes.length) return line;
    start = end + 1;
  }
}

/** loadFile as cooperative work (see ../common/cooperative.ts). */
export function* loadFileWork(file: string): Work<LoadedRows> {
  const format = formatOf(file);
  if (!format) throw new DataError([{ file, line: 0, message: 'unknown file type: expected .jsonl, .csv or .tsv' }]);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError([{ file, line: 0, message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  yield;
  // The bytes trained on, hashed once here (run.json `data`): no second read that could see another file.
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  yield;
  let text = decodeUtf8(bytes, file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  yield;
  const loaded =
    format === 'jsonl' ? yield* parseJsonlWork(text, file) : yield* parseDelimitedWork(text, file, format === 'csv' ? ',' : '\t');
  return { ...loaded, sha256 };
}

function* parseJsonlWork(text: string, file: string): Work<LoadedRows> {
  const rows: Row[] = [];
  const origins: LoadedRows['origins'] = [];
  const issues: DataIssue[] = [];
  const columns = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if ((i & 511) === 511) yield;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      issues.push({ file, line, message: `invalid JSON: ${(e as Error).message}` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ file, line, message: 'expected a JSON object with one key per column' });
      continue;
    }
    const row: Row = {};
    for (const [k, v] of Object.entries(value)) {
      // Keep only values a column can hold; a wrong type is reported when the column is selected.
      if (typeof v === 'string' || typeof v === 'number') row[k] = v;
      else badTypes.set(row, { ...(badTypes.get(row) ?? {}), [k]: describeType(v) });
      columns.add(k);
    }
    rows.push(row);
    origins.push({ file, line });
  }
  if (issues.length) throw new DataError(issues);
  return { rows, origins, columns: [...columns] };
}

/** JSON values that are neither string nor number, by row, so column selection can name the type. */
export const badTypes = new WeakMap<Row, Record<string, string>>();

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** RFC 4180 records with the line each starts on. */
function* csvRecords(text: string, file: string, issues: DataIssue[]): Work<{ fields: string[]; line: number }[]> {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let startLine = 1;
  let quotedAt = 0;
  for (let i = 0; i < text.length; i++) {
    if ((i & 0xffff) === 0xffff) yield;
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      inQuotes = true;
      quotedAt = line;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ fields, line: startLine });
      fields = [];
      field = '';
      line++;
      startLine = line;
    } else field += c;
  }
  if (inQuotes) issues.push({ file, line: quotedAt, message: 'unterminated quoted field' });
  if (field !== '' || fields.length) {
    fields.push(field);
    out.push({ fields, line: startLine });
  }
  return out.filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === ''));
}

function* parseDelimitedWork(text: string, file: string, delimiter: ',' | '\t'): Work<LoadedRows> {
  const issues: DataIssue[] = [];
  const records =
    delimiter === ','
      ? yield* csvRecords(text, file, issues)
      : text
          .split(/\r?\n/)
          .map((l, i) => ({ fields: l.split('\t'), line: i + 1 }))
          .filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === ''));
  if (records.length === 0) throw new DataError([{ file, line: 1, message: 'empty file: expected a header line with the column names' }]);
  const header = records[0].fields.map((h) => h.trim());
  header.forEach((h, i) => {
    if (h === '') issues.push({ file, line: records[0].line, message: `header column ${i + 1} has no name` });
    else if (header.indexOf(h) !== i) issues.push({ file, line: records[0].line, message: `duplicate column name "${h}"` });
  });
  const rows: Row[] = [];
  const origins: LoadedRows['origins'] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    if ((r & 1023) === 0) yield;
    if (rec.fields.length !== header.length) {
      issues.push({ file, line: rec.line, message: `expected ${header.length} fields (${header.join(', ')}), got ${rec.fields.length}` });
      continue;
    }
    const row: Row = {};
    header.forEach((h, i) => (row[h] = rec.fields[i]));
    rows.push(row);
    origins.push({ file, line: rec.line });
  }
  if (issues.length) throw new DataError(issues);
  return { rows, origins, columns: header };
}
