/**
 * The trainers' output files: `<runs folder>/.logs/<run id>.log`, the stdout and stderr of each trainer
 * the host spawns, copied to the output channel while it runs and removed by Delete Run (listRuns skips
 * dot-folders). `.logs` comes with the runs folder, so from a cloned repository too: through a link there
 * a launch would create and append to files outside the workspace, and Delete Run remove them. It is
 * used only when it is a folder of its own (or absent: then the launch creates it).
 */
import { lstatSync } from 'node:fs';
import * as path from 'node:path';

export const LOGS_DIR = '.logs';

export function outputLogFile(runsDir: string, runId: string): string {
  return path.join(runsDir, LOGS_DIR, `${runId}.log`);
}

/** Why `<runsDir>/.logs` is not to be used (a link, a file…), or undefined when it is a folder or absent. */
export function logsDirProblem(runsDir: string): string | undefined {
  const p = path.join(runsDir, LOGS_DIR);
  try {
    const st = lstatSync(p);
    if (st.isDirectory()) return undefined;
    return (
      `${p} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}: the trainers' output is written only into a folder of the ` +
      'runs folder’s own (a runs folder from elsewhere, such as a cloned repository?). Remove it to launch runs here'
    );
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : `cannot use ${p}: ${(e as Error).message}`;
  }
}
