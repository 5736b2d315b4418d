/**
 * The runs table's filter: one line of space-separated terms, all of which a row must match (AND).
 *   free text              name, display name, tags, id or note contains it (case-insensitive; "quoted
 *                          text" may hold spaces)
 *   status:running         the run's status (a prefix of one: `status:fail`)
 *   tag:baseline           one of the run's tags
 *   sweep:<id or name>     the run belongs to a sweep whose id contains it, or whose config name is it
 *   <key> <op> <value>     a condition on any column by its key, op one of > >= < <= = != (spaces
 *                          optional): `ndcg@10@64 > 0.2`, `training.learningRate <= 0.001`, `backend = wasm`
 * A bad expression is an error message (what is wrong and where), never an exception. Pure: no DOM.
 */
import type { RunStatus } from '../../src/protocol/runFolder';
import type { Column } from './columns';
import type { CellValue } from './cellFormat';
import type { TableRow } from './rows';

export type RowTest = (row: TableRow, now: number) => boolean;

/** `keys`: the columns its conditions read (a filter on metrics still loading is provisional). */
export type ParsedFilter = { ok: true; test: RowTest; terms: number; keys: string[] } | { ok: false; error: string };

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'stopped'];
type Op = '>=' | '<=' | '!=' | '==' | '=' | '>' | '<';
const OP_AT_START = /^(>=|<=|!=|==|=|>|<)/;
/** key, op and (maybe) value glued together: `ndcg@10@64>0.2`, `lr<=`. */
const GLUED = /^([^<>=!"]+)(>=|<=|!=|==|=|>|<)(.*)$/;

interface Token {
  text: string;
  quoted: boolean;
}

function tokenize(input: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const end = input.indexOf('"', i + 1);
      if (end < 0) return `unclosed quote at column ${i + 1}`;
      out.push({ text: input.slice(i + 1, end), quoted: true });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < input.length && !/\s/.test(input[j])) j++;
    out.push({ text: input.slice(i, j), quoted: false });
    i = j;
  }
  return out;
}

function compareNumber(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '!=':
      return a !== b;
    default:
      return a === b;
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function condition(col: Column, op: Op, raw: string, whole: string): RowTest | string {
  const isNum = NUMBER.test(raw);
  if (!isNum && op !== '=' && op !== '==' && op !== '!=') return `"${whole}": ${op} needs a number, got "${raw}"`;
  if (isNum) {
    const b = Number(raw);
    return (row, now) => {
      const v: CellValue = col.value(row, now);
      const a = typeof v === 'number' ? v : typeof v === 'string' && NUMBER.test(v) ? Number(v) : NaN;
      // A row without the value never matches (not even `!=`): the filter asks about values it has.
      return Number.isFinite(a) && compareNumber(a, op, b);
    };
  }
  const want = raw.toLowerCase();
  const eq = op !== '!=';
  return (row, now) => {
    const v = col.value(row, now);
    if (v === undefined) return false;
    return (String(v).toLowerCase() === want) === eq;
  };
}

function qualifier(name: string, value: string): RowTest | string | null {
  const v = value.toLowerCase();
  switch (name.toLowerCase()) {
    case 'status': {
      const hits = STATUSES.filter((s) => s.startsWith(v));
      if (!v || hits.length === 0) return `status:${value}: the status is one of ${STATUSES.join(', ')}`;
      return (row) => hits.includes(row.run.status);
    }
    case 'tag':
      if (!v) return 'tag: needs a tag, e.g. tag:baseline';
      return (row) => row.tags.some((t) => t.toLowerCase() === v);
    case 'sweep':
      if (!v) return 'sweep: needs a sweep id or name';
      return (row) => {
        const s = row.run.sweep;
        if (!s) return false;
        const cfgName = row.run.config?.name;
        return s.id.toLowerCase().includes(v) || (typeof cfgName === 'string' && cfgName.toLowerCase() === v);
      };
    default:
      return null;
  }
}

/**
 * Parse `input` against the columns there are (`columns`, resolved by key; case-insensitive when the exact
 * key is not there). An empty input matches everything.
 */
export function parseFilter(input: string, columns: readonly Column[]): ParsedFilter {
  const tokens = tokenize(input);
  if (typeof tokens === 'string') return { ok: false, error: tokens };
  const byKey = new Map(columns.map((c) => [c.key, c]));
  const byLower = new Map(columns.map((c) => [c.key.toLowerCase(), c]));
  const resolve = (k: string) => byKey.get(k) ?? byLower.get(k.toLowerCase());
  const tests: RowTest[] = [];
  const keys: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.quoted) {
      const q = t.text.toLowerCase();
      if (q) tests.push((row) => row.haystack.includes(q));
      continue;
    }
    let key: string | undefined;
    let op: Op | undefined;
    let value: string | undefined;
    const glued = GLUED.exec(t.text);
    if (glued) {
      key = glued[1];
      op = glued[2] as Op;
      value = glued[3] || undefined;
      if (value === undefined) value = tokens[++i]?.text;
    } else if (OP_AT_START.test(t.text)) {
      return { ok: false, error: `"${t.text}": a condition needs a column key before the operator, e.g. ndcg@10@64 > 0.2` };
    } else if (i + 1 < tokens.length && !tokens[i + 1].quoted && OP_AT_START.test(tokens[i + 1].text)) {
      key = t.text;
      const next = tokens[++i].text;
      op = OP_AT_START.exec(next)![1] as Op;
      value = next.slice(op.length) || tokens[++i]?.text;
    }
    if (key !== undefined && op !== undefined) {
      const whole = `${key} ${op} ${value ?? ''}`.trim();
      if (value === undefined || value === '') return { ok: false, error: `"${whole}": a value is missing after ${op}` };
      if (OP_AT_START.test(value)) return { ok: false, error: `"${key} ${op} ${value}": two operators` };
      const col = resolve(key);
      if (!col) return { ok: false, error: `"${whole}": no column with the key "${key}" (a header's tooltip shows its key)` };
      const c = condition(col, op, value, whole);
      if (typeof c === 'string') return { ok: false, error: c };
      tests.push(c);
      if (!keys.includes(col.key)) keys.push(col.key);
      continue;
    }
    const colon = t.text.indexOf(':');
    if (colon > 0) {
      const q = qualifier(t.text.slice(0, colon), t.text.slice(colon + 1));
      if (typeof q === 'string') return { ok: false, error: q };
      if (q) {
        tests.push(q);
        continue;
      }
    }
    const text = t.text.toLowerCase();
    tests.push((row) => row.haystack.includes(text));
  }
  return { ok: true, terms: tests.length, keys, test: (row, now) => tests.every((f) => f(row, now)) };
}

/** The rows that pass (all of them when the filter is empty). */
export function applyFilter(rows: readonly TableRow[], test: RowTest, now: number): TableRow[] {
  return rows.filter((r) => test(r, now));
}
