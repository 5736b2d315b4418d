/**
 * Config diagnostics without VS Code: validation errors (JSON pointer + message + keyword, from
 * src/config/validate.ts, which also runs the checks a schema cannot express) → exact ranges in the
 * *.mrl.json text, plus JSON syntax errors. The host turns these into vscode.Diagnostic.
 */
// The ESM build: esbuild cannot follow the UMD build's `require('./impl/…')` calls, and a bundle that
// imports plain 'jsonc-parser' fails at run time with "Cannot find module './impl/format'".
import { type Node, parseTree, type ParseError, printParseErrorCode } from 'jsonc-parser/lib/esm/main.js';

/** What validate.ts reports (structural, so this module needs no import of it). */
export interface ConfigError {
  /** JSON pointer ("/training/batchSize"; "" = the root). */
  path: string;
  message: string;
  /** The schema keyword that failed, or the semantic check's name ("missingFile", "dimTooLarge"). */
  keyword?: string;
  /** Found by the JSON Schema itself, not by a semantic check (validate.ts sets it). */
  fromSchema?: boolean;
}

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

export type ConfigDiagnosticKind =
  | 'schema'
  | 'syntax'
  | 'unknownKey'
  | 'enum'
  | 'missingFile'
  | 'dimTooLarge'
  | 'required'
  | 'outsideWorkspace'
  | 'engineNote'
  | 'sweepNoEffect';

export interface ConfigDiagnostic {
  range: Range;
  message: string;
  /** error: Start Run refuses the config; warning: it runs, but not as one might think; information: a note. */
  severity: 'error' | 'warning' | 'information';
  /** JSON pointer of the offending value (or of the unknown key). */
  path: string;
  kind: ConfigDiagnosticKind;
  /** For unknownKey: the key as written. */
  key?: string;
  /** The JSON Schema keyword behind it, when the schema itself found it. */
  schemaKeyword?: string;
}

export function pointerToSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function segmentsToPointer(segs: readonly (string | number)[]): string {
  return segs.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Offsets → line/character, computed once per text. */
export class LineIndex {
  private starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
  range(offset: number, length: number): Range {
    return { start: this.position(offset), end: this.position(offset + Math.max(0, length)) };
  }
}

/** Walk the tree by pointer segments; array indices as numbers. Returns the deepest node reached. */
function walk(root: Node, segs: string[]): { node: Node; depth: number } {
  let node = root;
  let depth = 0;
  for (const s of segs) {
    let next: Node | undefined;
    if (node.type === 'object') {
      const prop = node.children?.find((p) => p.children?.[0]?.value === s);
      next = prop?.children?.[1];
    } else if (node.type === 'array' && /^\d+$/.test(s)) {
      next = node.children?.[Number(s)];
    }
    if (!next) break;
    node = next;
    depth++;
  }
  return { node, depth };
}

/** The key node of the property whose value is `valueNode`, if any. */
function keyOf(valueNode: Node): Node | undefined {
  const p = valueNode.parent;
  return p?.type === 'property' ? p.children?.[0] : undefined;
}

/** Key named in an "additional property"/"unknown key" message: 'x', "x" or `x`. */
function namedKey(message: string): string | undefined {
  const m = /(?:additional propert(?:y|ies)|unknown key)[^'"`]*['"`]([^'"`]+)['"`]/i.exec(message);
  return m?.[1];
}
function requiredKey(message: string): string | undefined {
  return /required property ['"`]([^'"`]+)['"`]/i.exec(message)?.[1];
}

/**
 * Place each validation error on the text. The range is the offending value; for an unknown key, the
 * key itself; for a missing required key, the key of the object that lacks it (or its opening brace).
 */
export function locateErrors(text: string, errors: readonly ConfigError[]): ConfigDiagnostic[] {
  const lines = new LineIndex(text);
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  const out: ConfigDiagnostic[] = parseErrors.map((e) => ({
    range: lines.range(e.offset, Math.max(1, e.length)),
    message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    severity: 'error' as const,
    path: '',
    kind: 'syntax' as const,
  }));
  if (!root) return out;
  for (const err of errors) {
    const before = out.length;
    locateOne(err);
    if (err.fromSchema && err.keyword) for (let i = before; i < out.length; i++) out[i].schemaKeyword = err.keyword;
  }
  return out;

  function locateOne(err: ConfigError): void {
    if (!root) return;
    const segs = pointerToSegments(err.path);
    const { node, depth } = walk(root, segs);
    const reachedAll = depth === segs.length;
    const kw = err.keyword;
    const named = namedKey(err.message);
    const isUnknown = kw === 'additionalProperties' || (kw === undefined && named !== undefined);
    if (isUnknown) {
      // validate.ts points at the unknown key itself; raw ajv points at the parent object.
      let k = reachedAll && segs.length ? keyOf(node) : undefined;
      let keyPath = err.path;
      let key = segs[segs.length - 1];
      if ((!k || (named !== undefined && k.value !== named)) && node.type === 'object' && named !== undefined) {
        const prop = node.children?.find((p) => p.children?.[0]?.value === named);
        if (prop?.children?.[0]) {
          k = prop.children[0];
          keyPath = segmentsToPointer([...segs.slice(0, depth), named]);
          key = named;
        }
      }
      if (k) {
        out.push({
          range: lines.range(k.offset, k.length),
          message: err.message,
          severity: 'error',
          path: keyPath,
          kind: 'unknownKey',
          key,
        });
        return;
      }
    }
    if (kw === 'required' || requiredKey(err.message) !== undefined || !reachedAll) {
      const k = keyOf(node);
      const r = k ? lines.range(k.offset, k.length) : lines.range(node.offset, 1);
      out.push({ range: r, message: err.message, severity: 'error', path: err.path, kind: 'required' });
      return;
    }
    if ((kw === 'sweepPath' || kw === 'propertyNames' || kw === 'sweepNoEffect') && keyOf(node)) {
      // The key is what is wrong (a swept path that names no field, a parameter the loss type does not
      // take) or what the note is about (a swept path that cannot change what is trained), not its value.
      const k = keyOf(node)!;
      const note = kw === 'sweepNoEffect';
      out.push({
        range: lines.range(k.offset, k.length),
        message: err.message,
        severity: note ? 'information' : 'error',
        path: err.path,
        kind: note ? 'sweepNoEffect' : 'schema',
      });
      return;
    }
    if (kw === 'engineNote') {
      // What the chosen engine does differently with this field (src/config/engineChecks.ts): a warning.
      out.push({
        range: lines.range(node.offset, node.length),
        message: err.message,
        severity: 'warning',
        path: err.path,
        kind: 'engineNote',
      });
      return;
    }
    if (kw === 'outsideWorkspace') {
      // A note, not an error: the path was not checked (it lies outside the workspace folders).
      out.push({
        range: lines.range(node.offset, node.length),
        message: err.message,
        severity: 'warning',
        path: err.path,
        kind: 'outsideWorkspace',
      });
      return;
    }
    const kind: ConfigDiagnosticKind =
      kw === 'enum' || (kw === undefined && /must be equal to one of|allowed values|expected one of/i.test(err.message))
        ? 'enum'
        : kw === 'missingFile' || kw === 'dimTooLarge'
          ? kw
          : 'schema';
    out.push({ range: lines.range(node.offset, node.length), message: err.message, severity: 'error', path: err.path, kind });
  }
}

/** Validation errors → diagnostics, de-duplicated by place and message. */
export function configDiagnostics(text: string, errors: readonly ConfigError[]): ConfigDiagnostic[] {
  const seen = new Set<string>();
  const out: ConfigDiagnostic[] = [];
  // Syntax errors come from our own parse (with ranges); validate's path-less copies would say it twice.
  for (const d of locateErrors(
    text,
    errors.filter((e) => e.keyword !== 'syntax'),
  )) {
    const key = `${d.range.start.line}:${d.range.start.character}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/**
 * The diagnostics to publish for a config open in the editor, where VS Code's JSON language service
 * validates the same schema (contributes.jsonValidation). It reports JSON syntax errors as errors: those
 * go. Its schema messages it reports as *warnings* (its fixed severity for schema problems), so every
 * problem Start Run refuses stays ours, an error at the same place: the schema is written so that its
 * messages and ours say the same thing (schemas/run-config.schema.json, src/config/schemaErrors.ts).
 * Not for launch-time validation, and not for a file no editor shows (the language service validates open
 * documents only): there every error is ours to report.
 */
export function editorDiagnostics(diags: readonly ConfigDiagnostic[], schemaServiceValidates: boolean): ConfigDiagnostic[] {
  return schemaServiceValidates ? diags.filter((d) => d.kind !== 'syntax') : [...diags];
}

/** Whether two ranges overlap or touch (a code action request's range against a diagnostic's). */
export function rangesMeet(a: Range, b: Range): boolean {
  const before = (p: Position, q: Position) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}
