// A status-bar item while a run is live: step, loss, samples/s. Click → the metrics panel.
import * as vscode from 'vscode';
import type { RunsModel } from '../runsModel';
import { liveText } from './treeModel';

export class LiveStatusBar implements vscode.Disposable {
  private item = vscode.window.createStatusBarItem('matryoshkaLab.live', vscode.StatusBarAlignment.Left, 50);
  private sub: vscode.Disposable;
  constructor(private readonly model: RunsModel) {
    this.item.name = 'Matryoshka Lab: live run';
    this.sub = model.onDidChange(() => this.update());
    this.update();
  }
  update(): void {
    const live = this.model.live();
    if (!live.length) {
      this.item.hide();
      return;
    }
    const r = live[0];
    const text = liveText(r.summary, r.info.step, r.info.totalSteps, r.info) || 'starting…';
    this.item.text = `$(sync~spin) ${r.info.name}: ${text}${live.length > 1 ? ` (+${live.length - 1})` : ''}`;
    this.item.tooltip = `Matryoshka Lab — ${live.map((x) => x.info.name).join(', ')} running. Click to open the metrics panel.`;
    this.item.command = { command: 'matryoshkaLab.openPanel', title: 'Open Metrics Panel', arguments: [{ kind: 'run', id: r.id }] };
    this.item.show();
  }
  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
