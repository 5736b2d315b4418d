/**
 * Reads a `*.mrl.json` run config (JSONC: comments and trailing commas allowed) and validates it.
 * No vscode, no tfjs: the trainer CLI and the extension host both use it.
 */
// The ESM build of jsonc-parser: esbuild cannot follow the UMD build's dynamic requires.
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { readFileSync } from 'node:fs';
import type { RunConfig } from '../protocol/runConfig';
import type { ResolvedRunConfig } from './resolve';
import type { SweepRun } from './sweepValidation';
import { validateRunConfig, type ConfigError, type ValidateOptions } from './validate';

export interface LoadedConfig {
  file: string;
  /** The file's text (absent when it could not be read). */
  text?: string;
  config?: RunConfig;
  /** Present exactly when `config` is: the config resolved (validate.ts). */
  resolved?: ResolvedRunConfig;
  /** A sweep config: the runs it expands to (validate.ts). */
  sweepRuns?: SweepRun[];
  errors: ConfigError[];
  /** What the chosen engine does differently (validate.ts `warnings`). */
  warnings: ConfigError[];
}

/** Line and column (1-based) of an offset, for syntax errors. */
function lineCol(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `${line}:${offset - last}`;
}

/** Parses JSONC text; syntax errors come back with path "" and their line:column in the message. */
export function parseConfigText(text: string): { json?: unknown; errors: ConfigError[] } {
  const errs: ParseError[] = [];
  const json: unknown = parse(text, errs, { allowTrailingComma: true, disallowComments: false });
  if (errs.length) {
    return {
      errors: errs.map((e) => ({
        path: '',
        keyword: 'syntax',
        message: `syntax error at ${lineCol(text, e.offset)}: ${printParseErrorCode(e.error)}`,
      })),
    };
  }
  return { json, errors: [] };
}

export function loadRunConfig(file: string, opts: ValidateOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return {
      file,
      errors: [
        {
          path: '',
          keyword: 'missingFile',
          message: `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        },
      ],
      warnings: [],
    };
  }
  const parsed = parseConfigText(text);
  if (parsed.errors.length) return { file, text, errors: parsed.errors, warnings: [] };
  const r = validateRunConfig(parsed.json, file, opts);
  return { file, text, config: r.config, resolved: r.resolved, sweepRuns: r.sweepRuns, errors: r.errors, warnings: r.warnings };
}
