// Normalizers of Hugging Face `tokenizer.json` files, as far as BERT-family models use them.
// The reference is the Rust `tokenizers` crate (not Google's Python BERT): where the two differ
// (e.g. the CJK range 0x2B920.., per-character lowercasing without Greek final-sigma context) we
// follow the crate, because that is what produces the ids a checkpoint was trained with.

export type Normalizer = (text: string) => string;

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: follow `lowercase` (HF's rule). */
  stripAccents: boolean | null;
  lowercase: boolean;
}

const RE_OTHER = /^\p{C}$/u;
const RE_WHITE = /^\p{White_Space}$/u;
const RE_PUNCT = /^\p{P}$/u;
const RE_MN = /\p{Mn}/gu;
const RE_ASCII = /^[\x00-\x7f]*$/;
const RE_ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const RE_ASCII_SPACE = /[\t\n\r]/g;

/** Unicode category C* (Cc, Cf, Cs, Co, Cn) except tab / newline / carriage return, which BERT treats as whitespace. */
export function isControl(cp: number): boolean {
  if (cp === 9 || cp === 10 || cp === 13) return false;
  if (cp < 0x80) return cp < 32 || cp === 0x7f;
  return RE_OTHER.test(String.fromCodePoint(cp));
}

/** Unicode White_Space (Rust's char::is_whitespace), plus tab / newline / CR. */
export function isWhitespace(cp: number): boolean {
  if (cp < 0x80) return cp === 32 || (cp >= 9 && cp <= 13);
  return RE_WHITE.test(String.fromCodePoint(cp));
}

/** The CJK ideograph blocks that BERT spaces out so that each ideograph becomes its own word. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * BERT's punctuation: every ASCII non-alphanumeric printable character (this includes symbols such as
 * `$`, `+`, `^` that Unicode does not call punctuation) or any Unicode P* character.
 */
export function isBertPunctuation(cp: number): boolean {
  if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  return RE_PUNCT.test(String.fromCodePoint(cp));
}

// Per-character lowercase (Rust's char::to_lowercase): String.prototype.toLowerCase on the whole string
// would apply the Greek final-sigma rule, which HF does not.
const lowerCache = new Map<number, string>();
function lowerChar(cp: number): string {
  let s = lowerCache.get(cp);
  if (s === undefined) {
    s = String.fromCodePoint(cp).toLowerCase();
    if (lowerCache.size < 65536) lowerCache.set(cp, s);
  }
  return s;
}

export function lowercase(text: string): string {
  if (RE_ASCII.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += lowerChar(ch.codePointAt(0)!);
  return out;
}

export function stripAccents(text: string): string {
  if (RE_ASCII.test(text)) return text;
  return text.normalize('NFD').replace(RE_MN, '');
}

export function bertNormalizer(opts: BertNormalizerOptions): Normalizer {
  const strip = opts.stripAccents ?? opts.lowercase;
  return (text: string): string => {
    let s = text;
    if (RE_ASCII.test(s)) {
      // Fast path for the common case: no CJK, no accents; only ASCII controls and whitespace to fix.
      if (opts.cleanText) s = s.replace(RE_ASCII_CONTROL, '').replace(RE_ASCII_SPACE, ' ');
      return opts.lowercase ? s.toLowerCase() : s;
    }
    if (opts.cleanText || opts.handleChineseChars) {
      let out = '';
      let changed = false;
      for (const ch of s) {
        const cp = ch.codePointAt(0)!;
        if (opts.cleanText) {
          // Removal is checked before the whitespace mapping, as HF does: \v and \f are Cc, so they vanish.
          if (cp === 0 || cp === 0xfffd || isControl(cp)) {
            changed = true;
            continue;
          }
          if (cp !== 32 && isWhitespace(cp)) {
            out += ' ';
            changed = true;
            continue;
          }
        }
        if (opts.handleChineseChars && isChineseChar(cp)) {
          out += ' ' + ch + ' ';
          changed = true;
          continue;
        }
        out += ch;
      }
      if (changed) s = out;
    }
    if (strip) s = stripAccents(s);
    if (opts.lowercase) s = lowercase(s);
    return s;
  };
}

/** `path`: where in tokenizer.json this normalizer sits, for error messages. */
export function normalizerFromJson(json: unknown, where: string): { normalize: Normalizer; lowercase: boolean } {
  if (json === null || json === undefined) return { normalize: (s) => s, lowercase: false };
  if (typeof json !== 'object' || Array.isArray(json)) throw new Error(`${where}: expected an object or null`);
  const o = json as Record<string, unknown>;
  const flag = (key: string, dflt: boolean): boolean => {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new Error(`${where}.${key}: expected a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (o.type) {
    case 'BertNormalizer': {
      const sa = o.strip_accents;
      if (sa !== undefined && sa !== null && typeof sa !== 'boolean') {
        throw new Error(`${where}.strip_accents: expected a boolean or null, got ${JSON.stringify(sa)}`);
      }
      const lc = flag('lowercase', true);
      return {
        normalize: bertNormalizer({
          cleanText: flag('clean_text', true),
          handleChineseChars: flag('handle_chinese_chars', true),
          stripAccents: (sa as boolean | null | undefined) ?? null,
          lowercase: lc,
        }),
        lowercase: lc,
      };
    }
    case 'Lowercase':
      return { normalize: lowercase, lowercase: true };
    case 'StripAccents':
      return { normalize: (s) => (RE_ASCII.test(s) ? s : s.replace(RE_MN, '')), lowercase: false };
    case 'NFD':
    case 'NFC':
    case 'NFKD':
    case 'NFKC': {
      const form = o.type;
      return { normalize: (s) => (RE_ASCII.test(s) ? s : s.normalize(form)), lowercase: false };
    }
    case 'Strip': {
      const left = flag('strip_left', true);
      const right = flag('strip_right', true);
      return {
        normalize: (s) => {
          let r = s;
          if (left) r = r.replace(/^\p{White_Space}+/u, '');
          if (right) r = r.replace(/\p{White_Space}+$/u, '');
          return r;
        },
        lowercase: false,
      };
    }
    case 'Sequence': {
      if (!Array.isArray(o.normalizers)) throw new Error(`${where}.normalizers: expected an array`);
      const parts = o.normalizers.map((n, i) => normalizerFromJson(n, `${where}.normalizers[${i}]`));
      return {
        normalize: (s) => parts.reduce((acc, p) => p.normalize(acc), s),
        lowercase: parts.some((p) => p.lowercase),
      };
    }
    default:
      throw new Error(
        `${where}.type: unsupported normalizer ${JSON.stringify(o.type)} ` +
          '(supported: BertNormalizer, Lowercase, StripAccents, NFD, NFC, NFKD, NFKC, Strip, Sequence)',
      );
  }
}
