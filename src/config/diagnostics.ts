/**
 * Config diagnostics without VS Code: validation errors (JSON pointer + message, from validate.ts) →
 * exact ranges in the *.mrl.json text, plus the checks a JSON Schema cannot express (a data file that
 * does not exist, a Matryoshka dim wider than the model). The host turns these into vscode.Diagnostic.
 */
// The ESM build: esbuild cannot follow the UMD build's `require('./impl/…')` calls, and a bundle that
// imports plain 'jsonc-parser' fails at run time with "Cannot find module './impl/format'".
import { type Node, parseTree, type ParseError, printParseErrorCode } from 'jsonc-parser/lib/esm/main.js';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** What validate.ts reports (structural, so this module needs no import of it). */
export interface ConfigError {
  /** JSON pointer ("/training/batchSize"; "" = the root). */
  path: string;
  message: string;
}

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export type ConfigDiagnosticKind = 'schema' | 'syntax' | 'unknownKey' | 'enum' | 'missingFile' | 'dimTooLarge' | 'required';

export interface ConfigDiagnostic {
  range: Range;
  message: string;
  severity: 'error' | 'warning';
  /** JSON pointer of the offending value (or of the unknown key). */
  path: string;
  kind: ConfigDiagnosticKind;
  /** For unknownKey: the key as written. */
  key?: string;
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
  const m = /(?:additional|unknown|unexpected|not allowed)[^'"`]*['"`]([^'"`]+)['"`]/i.exec(message);
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
    const segs = pointerToSegments(err.path);
    const { node, depth } = walk(root, segs);
    const reachedAll = depth === segs.length;
    const unknown = namedKey(err.message);
    const required = requiredKey(err.message);
    if (unknown !== undefined && node.type === 'object') {
      // ajv reports additionalProperties at the parent object; point at the key itself.
      const prop = node.children?.find((p) => p.children?.[0]?.value === unknown);
      const k = prop?.children?.[0];
      if (k) {
        out.push({ range: lines.range(k.offset, k.length), message: err.message, severity: 'error', path: segmentsToPointer([...segs.slice(0, depth), unknown]), kind: 'unknownKey', key: unknown });
        continue;
      }
    }
    if (reachedAll && segs.length && /additional propert|unknown key|not allowed/i.test(err.message) && unknown === undefined) {
      // The pointer names the unknown key itself.
      const k = keyOf(node);
      if (k) {
        out.push({ range: lines.range(k.offset, k.length), message: err.message, severity: 'error', path: err.path, kind: 'unknownKey', key: segs[segs.length - 1] });
        continue;
      }
    }
    if (required !== undefined || !reachedAll) {
      const k = keyOf(node);
      const r = k ? lines.range(k.offset, k.length) : lines.range(node.offset, 1);
      out.push({ range: r, message: err.message, severity: 'error', path: err.path, kind: 'required' });
      continue;
    }
    const isEnum = /must be equal to one of|allowed values/i.test(err.message);
    out.push({ range: lines.range(node.offset, node.length), message: err.message, severity: 'error', path: err.path, kind: isEnum ? 'enum' : 'schema' });
  }
  return out;
}

// ---------------------------------------------------------------- checks the schema cannot express

export interface SemanticCheckOptions {
  /** Folder of the config file: data paths are relative to it. */
  configDir: string;
  exists?: (absPath: string) => boolean;
  /** Hidden width of a pretrained model folder (its config.json `hidden_size`), or undefined. */
  pretrainedWidth?: (absPath: string) => number | undefined;
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function readHiddenSize(dir: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
    return typeof c.hidden_size === 'number' ? c.hidden_size : typeof c.dim === 'number' ? c.dim : undefined;
  } catch {
    return undefined;
  }
}

/** Every MatryoshkaLoss in the loss tree, with its pointer. */
function matryoshkaLosses(loss: unknown, path: (string | number)[]): { path: (string | number)[]; dims: unknown }[] {
  const out: { path: (string | number)[]; dims: unknown }[] = [];
  if (Array.isArray(loss)) loss.forEach((t, i) => isObj(t) && out.push(...matryoshkaLosses(t.loss, [...path, i, 'loss'])));
  else if (isObj(loss) && loss.type === 'MatryoshkaLoss') out.push({ path, dims: loss.matryoshkaDims });
  return out;
}

/** Errors (pointer + message) the schema cannot find. Works on a parsed config, valid or not. */
export function semanticChecks(config: unknown, opts: SemanticCheckOptions): ConfigError[] {
  const exists = opts.exists ?? existsSync;
  const width = opts.pretrainedWidth ?? readHiddenSize;
  const errs: ConfigError[] = [];
  if (!isObj(config)) return errs;
  const data = config.data;
  if (isObj(data)) {
    for (const split of ['train', 'eval'] as const) {
      const src = isObj(data[split]) ? (data[split] as Record<string, unknown>).source : undefined;
      if (typeof src !== 'string' || src === '' || src.startsWith('builtin:')) continue;
      const abs = isAbsolute(src) ? src : resolve(opts.configDir, src);
      if (!exists(abs)) errs.push({ path: `/data/${split}/source`, message: `Data file not found: ${abs}` });
    }
  }
  let modelWidth: number | undefined;
  let widthFrom = '';
  const model = config.model;
  if (isObj(model) && isObj(model.scratch) && typeof model.scratch.hiddenSize === 'number') {
    modelWidth = model.scratch.hiddenSize;
    widthFrom = 'model.scratch.hiddenSize';
  } else if (isObj(model) && isObj(model.pretrained) && typeof model.pretrained.path === 'string') {
    const p = model.pretrained.path;
    const abs = isAbsolute(p) ? p : resolve(opts.configDir, p);
    if (!exists(abs)) errs.push({ path: '/model/pretrained/path', message: `Model folder not found: ${abs}` });
    else {
      modelWidth = width(abs);
      widthFrom = `hidden_size of ${p}`;
    }
  }
  if (modelWidth !== undefined) {
    for (const m of matryoshkaLosses(config.loss, ['loss'])) {
      if (!Array.isArray(m.dims)) continue;
      m.dims.forEach((d, i) => {
        if (typeof d === 'number' && d > modelWidth!)
          errs.push({ path: segmentsToPointer([...m.path, 'matryoshkaDims', i]), message: `Matryoshka dim ${d} is larger than the model width ${modelWidth} (${widthFrom})` });
      });
    }
  }
  return errs;
}

/** Classify semantic errors for the host (missing files are the common case). */
export function semanticKind(e: ConfigError): ConfigDiagnosticKind {
  return /not found/i.test(e.message) ? 'missingFile' : /larger than the model width/.test(e.message) ? 'dimTooLarge' : 'schema';
}

/** Validation + semantic errors → diagnostics, de-duplicated (validate.ts may do some checks too). */
export function configDiagnostics(text: string, schemaErrors: readonly ConfigError[], semantic: readonly ConfigError[]): ConfigDiagnostic[] {
  const seen = new Set<string>();
  const out: ConfigDiagnostic[] = [];
  const schemaLoc = locateErrors(text, schemaErrors);
  const semLoc = locateErrors(text, semantic).filter((d) => d.kind !== 'syntax');
  semLoc.forEach((d) => (d.kind = semanticKind(d)));
  for (const d of [...semLoc, ...schemaLoc]) {
    const key = `${d.range.start.line}:${d.range.start.character}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
