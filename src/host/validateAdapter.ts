/**
 * The one place the host calls the config validator (src/config/validate.ts: ajv with the schema, then
 * the checks a schema cannot express — the trainer runs the same function before it starts).
 */
import { parse, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import type { ConfigError } from '../config/diagnostics';
import { validateRunConfig } from '../config/validate';

export interface TextValidation {
  /** The text as parsed (may be invalid). */
  parsed?: unknown;
  /** The resolved config (defaults filled in) when valid. */
  config?: Record<string, unknown>;
  errors: ConfigError[];
}

export function validateText(text: string, file: string): TextValidation {
  const perr: ParseError[] = [];
  const parsed: unknown = parse(text, perr, { allowTrailingComma: true, disallowComments: false });
  // Syntax errors are placed by configDiagnostics' own parse; validating half-parsed JSON adds noise.
  if (perr.length) return { errors: [] };
  const r = validateRunConfig(parsed, file);
  return { parsed, config: r.config as unknown as Record<string, unknown> | undefined, errors: r.errors };
}
