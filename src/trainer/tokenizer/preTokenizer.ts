// Pre-tokenizers of HF `tokenizer.json` files: split normalized text into the words that WordPiece
// then splits further. BERT's is whitespace (dropped) + punctuation (each mark its own word).

import { isBertPunctuation, isWhitespace } from './normalizer';

export type PreTokenizer = (text: string) => string[];

const RE_ASCII = /^[\x00-\x7f]*$/;

const WORD = 0;
const SPACE = 1;
const ISOLATED = 2;

/** Classes of the 128 ASCII code points, so the common case costs no function calls. */
function asciiTable(isSpace: (cp: number) => boolean, isIsolated: (cp: number) => boolean): Uint8Array {
  const t = new Uint8Array(128);
  for (let cp = 0; cp < 128; cp++) t[cp] = isSpace(cp) ? SPACE : isIsolated(cp) ? ISOLATED : WORD;
  return t;
}

function splitWith(text: string, isSpace: (cp: number) => boolean, isIsolated: (cp: number) => boolean, table: Uint8Array): string[] {
  const words: string[] = [];
  let start = -1;
  // UTF-16 index loop: code points above U+FFFF are handled by stepping two units.
  for (let i = 0; i < text.length;) {
    const unit = text.charCodeAt(i);
    if (unit < 128) {
      const cls = table[unit];
      if (cls === WORD) {
        if (start < 0) start = i;
      } else {
        if (start >= 0) words.push(text.slice(start, i));
        if (cls === ISOLATED) words.push(text[i]);
        start = -1;
      }
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    if (isSpace(cp)) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (isIsolated(cp)) {
      if (start >= 0) words.push(text.slice(start, i));
      words.push(text.slice(i, i + w));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
    i += w;
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
}

// Rust regex's Unicode \w and \s, which HF's Whitespace pre-tokenizer uses.
const RE_WORDS_UNICODE =
  /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu;

const never = (): boolean => false;

const BERT_TABLE = asciiTable(isWhitespace, isBertPunctuation);
export const bertPreTokenize: PreTokenizer = (text) => splitWith(text, isWhitespace, isBertPunctuation, BERT_TABLE);

function isDigit(cp: number): boolean {
  return RE_DIGIT.test(String.fromCodePoint(cp));
}
const RE_DIGIT = /^\p{Nd}$/u;

export function preTokenizerFromJson(json: unknown, where: string): PreTokenizer {
  if (json === null || json === undefined) return (s) => (s.length ? [s] : []);
  if (typeof json !== 'object' || Array.isArray(json)) throw new Error(`${where}: expected an object or null`);
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'BertPreTokenizer':
      return bertPreTokenize;
    case 'WhitespaceSplit': {
      const table = asciiTable(isWhitespace, never);
      return (s) => splitWith(s, isWhitespace, never, table);
    }
    case 'Whitespace':
      // HF's regex \w+|[^\w\s]+ : runs of word characters, and runs of everything else but spaces.
      return (s) => s.match(RE_ASCII.test(s) ? /\w+|[^\w\s]+/g : RE_WORDS_UNICODE) ?? [];
    case 'Punctuation': {
      const behavior = o.behavior ?? 'Isolated';
      if (behavior !== 'Isolated') {
        throw new Error(`${where}.behavior: only "Isolated" is supported, got ${JSON.stringify(behavior)}`);
      }
      const table = asciiTable(never, isBertPunctuation);
      return (s) => splitWith(s, never, isBertPunctuation, table);
    }
    case 'Digits': {
      if (o.individual_digits !== true) return (s) => s.match(/\p{Nd}+|\P{Nd}+/gu) ?? [];
      const table = asciiTable(never, isDigit);
      return (s) => splitWith(s, never, isDigit, table);
    }
    case 'Sequence': {
      if (!Array.isArray(o.pretokenizers)) throw new Error(`${where}.pretokenizers: expected an array`);
      const parts = o.pretokenizers.map((p, i) => preTokenizerFromJson(p, `${where}.pretokenizers[${i}]`));
      return (s) => parts.reduce<string[]>((words, p) => words.flatMap((w) => p(w)), [s]);
    }
    default:
      throw new Error(
        `${where}.type: unsupported pre-tokenizer ${JSON.stringify(o.type)} ` +
          '(supported: BertPreTokenizer, WhitespaceSplit, Whitespace, Punctuation, Digits, Sequence)',
      );
  }
}
