/**
 * Config validation in the editor: ajv through src/config/validate.ts (the same schema that
 * contributes.jsonValidation gives VS Code's JSON language service) plus the semantic checks of
 * src/config/diagnostics.ts, as diagnostics on exact ranges, on open / change (debounced) / save / launch.
 * Quick fixes through a CodeActionProvider.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ConfigDiagnostic, configDiagnostics, editorDiagnostics } from '../../config/diagnostics';
import { quickFixesFor } from '../../config/quickFixes';
import { validateText } from './validateAdapter';
import type { SweepRunRef, ValidationOutcome } from '../launch/launchTypes';

export const CONFIG_GLOB = '**/*.mrl.json';
const severity = (s: ConfigDiagnostic['severity']) =>
  s === 'error'
    ? vscode.DiagnosticSeverity.Error
    : s === 'warning'
      ? vscode.DiagnosticSeverity.Warning
      : vscode.DiagnosticSeverity.Information;
export const isConfigUri = (u: vscode.Uri) => /\.mrl\.json$/i.test(u.path);

export class ConfigValidation implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('matryoshkaLab');
  private details = new WeakMap<vscode.Diagnostic, ConfigDiagnostic>();
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private subs: vscode.Disposable[] = [];
  private schemaCache: Record<string, unknown> | undefined;

  constructor(private readonly extensionPath: string) {
    this.subs.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      vscode.workspace.onDidSaveTextDocument((d) => this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        // Keep diagnostics of closed files only if they were found on disk (launch validation).
        if (isConfigUri(d.uri)) this.collection.delete(d.uri);
      }),
      vscode.languages.registerCodeActionsProvider({ pattern: CONFIG_GLOB }, this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.check(d);
  }

  private schema(): Record<string, unknown> {
    if (!this.schemaCache) {
      try {
        this.schemaCache = JSON.parse(readFileSync(path.join(this.extensionPath, 'schemas', 'run-config.schema.json'), 'utf8'));
      } catch {
        this.schemaCache = {};
      }
    }
    return this.schemaCache!;
  }

  private schedule(doc: vscode.TextDocument): void {
    if (!isConfigUri(doc.uri)) return;
    const k = doc.uri.toString();
    const t = this.timers.get(k);
    if (t) clearTimeout(t);
    this.timers.set(
      k,
      setTimeout(() => {
        this.timers.delete(k);
        this.check(doc);
      }, 300),
    );
  }

  /**
   * Whether VS Code's JSON language service validates this document against our schema too: a `*.mrl.json`
   * (contributes.jsonValidation's fileMatch) open in an editor as JSON, with `json.validate.enable` on.
   * Then it reports the schema's errors itself, and so must not we (each problem once in Problems).
   */
  private schemaServiceValidates(uri: vscode.Uri): boolean {
    if (!isConfigUri(uri)) return false;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc || (doc.languageId !== 'json' && doc.languageId !== 'jsonc')) return false;
    return vscode.workspace.getConfiguration('json').get<boolean>('validate.enable', true) !== false;
  }

  /** Diagnostics for one text: all of them are returned (a launch checks everything) and published, but
   *  for JSON syntax errors in an open editor (the JSON language service reports those: editorDiagnostics). */
  diagnose(
    uri: vscode.Uri,
    text: string,
  ): { diags: ConfigDiagnostic[]; config?: Record<string, unknown>; raw?: unknown; sweepRuns?: SweepRunRef[] } {
    // Never read files a config names outside the workspace folders (no folder open: none are inside).
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const v = validateText(text, uri.fsPath, roots);
    const diags = configDiagnostics(text, v.errors);
    const shown = editorDiagnostics(diags, this.schemaServiceValidates(uri));
    const vs = shown.map((d) => {
      const r = new vscode.Range(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character);
      const diag = new vscode.Diagnostic(r, d.message, severity(d.severity));
      diag.source = 'Matryoshka Lab';
      diag.code = d.kind;
      this.details.set(diag, d);
      return diag;
    });
    this.collection.set(uri, vs);
    return { diags, config: v.config ?? (v.parsed as Record<string, unknown> | undefined), raw: v.parsed, sweepRuns: v.sweepRuns };
  }

  check(doc: vscode.TextDocument): void {
    if (!isConfigUri(doc.uri) || doc.uri.scheme === 'git') return;
    this.diagnose(doc.uri, doc.getText());
  }

  /** Before a launch: the editor's text if open (unsaved edits are what the user sees), else the file. */
  async validateForLaunch(uri: vscode.Uri): Promise<ValidationOutcome> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) await open.save();
    let text: string;
    try {
      text = open ? open.getText() : Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch (e) {
      return { ok: false, problems: [`cannot read ${uri.fsPath}: ${(e as Error).message}`] };
    }
    const { diags, config, raw, sweepRuns } = this.diagnose(uri, text);
    const errors = diags.filter((d) => d.severity === 'error');
    return {
      ok: errors.length === 0,
      config,
      raw,
      sweepRuns: errors.length === 0 ? sweepRuns : undefined,
      problems: errors.map((d) => `${d.path || '(root)'} ${d.message} (line ${d.range.start.line + 1})`),
    };
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    const text = doc.getText();
    const targets: { d: ConfigDiagnostic; diag: vscode.Diagnostic }[] = [];
    for (const diag of ctx.diagnostics) {
      const d = this.details.get(diag);
      if (d) targets.push({ d, diag });
    }
    for (const { d, diag } of targets) {
      for (const f of quickFixesFor(d, text, this.schema(), (r) => [
        doc.offsetAt(new vscode.Position(r.start.line, r.start.character)),
        doc.offsetAt(new vscode.Position(r.end.line, r.end.character)),
      ])) {
        const a = new vscode.CodeAction(f.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [diag];
        a.isPreferred = f.preferred;
        a.edit = new vscode.WorkspaceEdit();
        a.edit.replace(
          doc.uri,
          new vscode.Range(f.range.start.line, f.range.start.character, f.range.end.line, f.range.end.character),
          f.newText,
        );
        out.push(a);
      }
    }
    return out;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.subs.forEach((s) => s.dispose());
  }
}
