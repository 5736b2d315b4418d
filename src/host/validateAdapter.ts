/**
 * The one place the host calls the config validator (src/config/validate.ts, owned by the runs/trainer
 * side). Until it lands this parses only; the JSON language service still validates while typing.
 */
import { parse, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import type { ConfigError } from '../config/diagnostics';

export interface TextValidation {
  /** The text as parsed (may be invalid). */
  parsed?: unknown;
  /** The resolved config when valid. */
  config?: Record<string, unknown>;
  errors: ConfigError[];
}

export function validateText(text: string, _file: string): TextValidation {
  const perr: ParseError[] = [];
  const parsed = parse(text, perr, { allowTrailingComma: true });
  if (perr.length) return { errors: [] };
  return { parsed, config: parsed, errors: [] };
}
