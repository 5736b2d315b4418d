// Pre-tokenizers of HF `tokenizer.json` files: split normalized text into the words that WordPiece
// then splits further. BERT's is whitespace (dropped) + punctuation (each mark its own word).

import { isBertPunctuation, isWhitespace } from './normalizer';

export type PreTokenizer = (text: string) => string[];

const RE_ASCII = /^[\x00-\x7f]*$/;

function splitWith(text: string, isSpace: (cp: number) => boolean, isIsolated: (cp: number) => boolean): string[] {
  const words: string[] = [];
  let start = -1;
  // UTF-16 index loop: code points above U+FFFF are handled by stepping two units.
  for (let i = 0; i < text.length; ) {
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

export const bertPreTokenize: PreTokenizer = (text) => splitWith(text, isWhitespace, isBertPunctuation);

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
    case 'WhitespaceSplit':
      return (s) => splitWith(s, isWhitespace, never);
    case 'Whitespace':
      // HF's regex \w+|[^\w\s]+ : runs of word characters, and runs of everything else but spaces.
      return (s) => s.match(RE_ASCII.test(s) ? /\w+|[^\w\s]+/g : RE_WORDS_UNICODE) ?? [];
    case 'Punctuation': {
      const behavior = o.behavior ?? 'Isolated';
      if (behavior !== 'Isolated') {
        throw new Error(`${where}.behavior: only "Isolated" is supported, got ${JSON.stringify(behavior)}`);
      }
      return (s) => splitWith(s, never, isBertPunctuation);
    }
    case 'Digits': {
      if (o.individual_digits !== true) return (s) => s.match(/\p{Nd}+|\P{Nd}+/gu) ?? [];
      return (s) => splitWith(s, never, isDigit);
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
