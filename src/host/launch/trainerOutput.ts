/**
 * Trainer output → the output channel. A launched trainer writes to a file (never a pipe, so it outlives a
 * window reload): `.logs/<runId>.log` beside the run folders (outputLog.ts). Its new lines are copied to the
 * channel — appended bytes only — for our launches and, after a reload, for any live run whose file exists.
 */
import type * as vscode from 'vscode';
import { fileSize, TextTail } from '../../runs/tail';
import { logsDirProblem, outputLogFile } from './outputLog';

export class TrainerOutput {
  /** Output files being copied, by run id. */
  private tails = new Map<string, TextTail>();

  constructor(private readonly channel: vscode.OutputChannel) {}

  /** A launch: its output file, copied from its current end (an earlier attempt's lines are not repeated). */
  follow(runId: string, logFile: string): void {
    if (!this.tails.has(runId)) this.tails.set(runId, new TextTail(logFile, fileSize(logFile) ?? 0));
  }

  /**
   * Copies the new lines of the runs followed and of `live` runs (first seen after a reload: from the end,
   * the past is in log.txt); a run `done` says has ended is no longer followed.
   */
  copy(runsDir: string | undefined, live: readonly string[], done: (runId: string) => boolean): void {
    if (!runsDir || logsDirProblem(runsDir)) return;
    for (const id of new Set([...this.tails.keys(), ...live])) {
      let tail = this.tails.get(id);
      if (!tail) {
        tail = TextTail.atEnd(outputLogFile(runsDir, id));
        if (!tail) continue;
        this.tails.set(id, tail);
      }
      for (const line of tail.read()) this.channel.appendLine(`[${id}] ${line}`);
      if (done(id)) this.tails.delete(id);
    }
  }
}
