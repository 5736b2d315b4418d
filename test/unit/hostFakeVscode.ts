// A minimal stand-in for the `vscode` module: just what RunsModel and MetricsPanel touch, recording
// what they do (posted messages, created panels). Used by fast unit tests only; the real thing is
// exercised end to end in test/vscode/.
import * as path from 'node:path';

type Listener<T> = (e: T) => unknown;
export class EventEmitter<T> {
  private ls: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.ls.push(l);
    return { dispose: () => (this.ls = this.ls.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of [...this.ls]) l(e);
  }
  dispose() {
    this.ls = [];
  }
}

export class Uri {
  constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  get path() {
    return this.fsPath;
  }
  static file(p: string) {
    return new Uri('file', p);
  }
  static joinPath(u: Uri, ...parts: string[]) {
    return new Uri(u.scheme, path.join(u.fsPath, ...parts));
  }
  toString() {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}

export const ViewColumn = { Active: -1, Beside: -2, One: 1 } as const;

export const state = {
  settings: {} as Record<string, unknown>,
  workspaceFolders: [] as { uri: Uri }[],
  panels: [] as FakePanel[],
  serializers: new Map<string, unknown>(),
  trusted: true,
  messages: [] as { level: string; text: string }[],
  progress: [] as { title: string; reports: string[]; cancel: () => void; done: boolean; cancellable?: boolean }[],
  /** Answers for the next quick picks / modal messages (FIFO); none left: dismissed (undefined). */
  pickAnswers: [] as ((items: any[]) => unknown)[],
  modalAnswers: [] as (string | undefined)[],
  /** Answers for the next input boxes (FIFO; none left: dismissed), and what each box was opened with. */
  inputAnswers: [] as ((opts: any) => string | undefined)[],
  inputs: [] as { title?: string; value?: string; prompt?: string }[],
  picks: [] as { title?: string; labels: string[] }[],
  executed: [] as { command: string; args: unknown[] }[],
  /** Answers for the next save dialogs (FIFO; none left: dismissed), and what each dialog was opened with. */
  saveAnswers: [] as ((opts: any) => Uri | undefined)[],
  saveDialogs: [] as { defaultUri?: Uri; title?: string; filters?: Record<string, string[]> }[],
  /** Answers (the action chosen) for the next non-modal information messages (FIFO; none left: none),
   *  and the actions each one offered. */
  infoAnswers: [] as (string | undefined)[],
  infoActions: [] as { text: string; actions: string[] }[],
};

export const QuickPickItemKind = { Separator: -1, Default: 0 } as const;

export const ProgressLocation = { Notification: 15 } as const;

export class FakePanel {
  posted: any[] = [];
  visible = true;
  private recv = new EventEmitter<unknown>();
  private disposeEm = new EventEmitter<void>();
  private viewState = new EventEmitter<void>();
  iconPath: unknown;
  webview = {
    html: '',
    options: {},
    cspSource: 'vscode-webview://fake',
    asWebviewUri: (u: Uri) => `https://fake${u.fsPath}`,
    postMessage: async (m: unknown) => {
      this.posted.push(JSON.parse(JSON.stringify(m)));
      return true;
    },
    onDidReceiveMessage: this.recv.event,
  };
  constructor(readonly viewType: string) {}
  onDidDispose = this.disposeEm.event;
  onDidChangeViewState = this.viewState.event;
  reveal() {}
  dispose() {
    this.disposeEm.fire();
  }
  /** The webview sends a message to the host. */
  send(m: unknown) {
    this.recv.fire(m);
  }
}

const noop = () => ({ dispose() {} });
export const window = {
  createWebviewPanel: (viewType: string) => {
    const p = new FakePanel(viewType);
    state.panels.push(p);
    return p;
  },
  registerWebviewPanelSerializer: (t: string, s: unknown) => {
    state.serializers.set(t, s);
    return { dispose() {} };
  },
  showSaveDialog: async (opts: { defaultUri?: Uri; title?: string; filters?: Record<string, string[]> } = {}) => {
    state.saveDialogs.push({ defaultUri: opts.defaultUri, title: opts.title, filters: opts.filters });
    const answer = state.saveAnswers.shift();
    return answer ? answer(opts) : undefined;
  },
  showInformationMessage: async (text: string, ...actions: string[]) => {
    state.messages.push({ level: 'info', text });
    state.infoActions.push({ text, actions });
    return state.infoAnswers.shift();
  },
  showWarningMessage: async (text: string, ...rest: unknown[]) => {
    state.messages.push({ level: 'warning', text });
    const o = rest[0] as { modal?: boolean } | undefined;
    return o && typeof o === 'object' && o.modal ? state.modalAnswers.shift() : undefined;
  },
  showQuickPick: async (items: any[], opts?: { title?: string }) => {
    state.picks.push({ title: opts?.title, labels: items.map((i) => i.label) });
    const answer = state.pickAnswers.shift();
    return answer ? answer(items) : undefined;
  },
  showInputBox: async (opts: { title?: string; value?: string; prompt?: string } = {}) => {
    state.inputs.push({ title: opts.title, value: opts.value, prompt: opts.prompt });
    const answer = state.inputAnswers.shift();
    return answer ? answer(opts) : undefined;
  },
  activeTextEditor: undefined as unknown,
  showErrorMessage: async (text: string) => void state.messages.push({ level: 'error', text }),
  withProgress: async (opts: { title: string; cancellable?: boolean }, task: (p: unknown, t: unknown) => Promise<unknown>) => {
    const cancel = new EventEmitter<void>();
    const rec = { title: opts.title, reports: [] as string[], cancel: () => cancel.fire(), done: false, cancellable: !!opts.cancellable };
    state.progress.push(rec);
    const r = await task(
      { report: (v: { message?: string }) => v.message && rec.reports.push(v.message) },
      { onCancellationRequested: cancel.event, isCancellationRequested: false },
    );
    rec.done = true;
    return r;
  },
};

export const commands = {
  executeCommand: async (command: string, ...args: unknown[]) => {
    state.executed.push({ command, args });
    return undefined;
  },
};

/** `onDidChangeConfiguration` listeners, fired by changeSettings. */
const configChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

/** The user changes settings while the extension runs: `state.settings` updated, then the change event
 *  (affectsConfiguration("matryoshkaLab.<key>") true for each key in `patch`, and for "matryoshkaLab"). */
export function changeSettings(patch: Record<string, unknown>): void {
  state.settings = { ...state.settings, ...patch };
  const keys = Object.keys(patch).map((k) => `matryoshkaLab.${k}`);
  configChanged.fire({ affectsConfiguration: (section) => keys.some((k) => k === section || k.startsWith(section + '.')) });
}

export const workspace = {
  get isTrusted() {
    return state.trusted;
  },
  get workspaceFolders() {
    return state.workspaceFolders;
  },
  getConfiguration: () => ({ get: (k: string, d: unknown) => (k in state.settings ? state.settings[k] : d) }),
  onDidChangeConfiguration: configChanged.event,
  onDidChangeWorkspaceFolders: noop,
  createFileSystemWatcher: () => ({ onDidChange: noop, onDidCreate: noop, onDidDelete: noop, dispose() {} }),
  fs: {
    writeFile: async (_u: Uri, _data: Uint8Array): Promise<void> => undefined,
    readFile: async (u: Uri) => new TextEncoder().encode(`{"name": "${u.fsPath}"}`),
  },
};

// Tree view types (the runs tree provider, its tests and the workspace bench).
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;
export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: number = TreeItemCollapsibleState.None,
  ) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
export class MarkdownString {
  isTrusted = false;
  supportHtml = false;
  supportThemeIcons = false;
  constructor(public value = '') {}
}
