// Makes `require('vscode')` resolve to the fake (hostFakeVscode.ts) for every module loaded after the
// call: the host modules are CommonJS under tsx, so tests require() them once this is installed.
import Module from 'node:module';
import { join } from 'node:path';

type Resolver = (req: string, ...a: unknown[]) => string;
const M = Module as unknown as { _resolveFilename: Resolver };

/** Installs the hook; returns a function that removes it. */
export function useFakeVscode(): () => void {
  const fake = join(__dirname, 'hostFakeVscode.ts');
  const orig = M._resolveFilename;
  M._resolveFilename = function (this: unknown, req: string, ...a: unknown[]) {
    return req === 'vscode' ? fake : orig.call(this, req, ...a);
  };
  return () => {
    M._resolveFilename = orig;
  };
}
