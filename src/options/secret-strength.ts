import { dictionary } from '@zxcvbn-ts/language-common';

/** What a production secret must carry, by the estimate below: NIST SP 800-63B's floor for keys. */
export const MIN_SECRET_BITS = 128;

/** Dictionary entries shorter than this are left to the per-character costs. */
const MIN_WORD = 4;
const MAX_WORD = 24;
/** Cost of one dictionary word: log2 of the number of entries, rounded up. */
const WORD_BITS = 16;
/** Cost of a character that continues a run (`aaa`, `abc`, `987`). */
const RUN_BITS = 1;
/** Word separators in passphrases; in a random base64url secret they are rare, so the discount costs little. */
const SEPARATOR = /^[\s\-_.]$/u;
/** A substring of at least this length seen before costs a back-reference, not its characters. */
const MIN_REPEAT = 4;

let words: Set<string> | undefined;

function dictionaryWords(): Set<string> {
  words ??= new Set(
    Object.values(dictionary)
      .flat()
      .map((word) => String(word).toLowerCase())
      .filter((word) => word.length >= MIN_WORD && word.length <= MAX_WORD),
  );
  return words;
}

/** Empirical Shannon entropy of the character distribution, in bits per character. */
function shannonPerChar(chars: string[]): number {
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** The longest dictionary word starting at `i`, or 0. */
function wordAt(lower: string[], i: number): number {
  const dict = dictionaryWords();
  for (let length = Math.min(MAX_WORD, lower.length - i); length >= MIN_WORD; length--) {
    if (dict.has(lower.slice(i, i + length).join(''))) return length;
  }
  return 0;
}

/** Whether `chars[i]` repeats or steps by one from the two characters before it. */
function continuesRun(chars: string[], i: number): boolean {
  if (i < 1) return false;
  const step = chars[i].codePointAt(0)! - chars[i - 1].codePointAt(0)!;
  if (Math.abs(step) > 1) return false;
  return i === 1 || chars[i - 1].codePointAt(0)! - chars[i - 2].codePointAt(0)! === step || step === 0;
}

/** The length of the longest earlier occurrence of the substring starting at `i` (at least `MIN_REPEAT`), or 0. */
function repeatAt(text: string[], i: number): number {
  let best = 0;
  for (let length = MIN_REPEAT; i + length <= text.length; length++) {
    const piece = text.slice(i, i + length).join('');
    if (
      !text
        .slice(0, i + length - 1)
        .join('')
        .includes(piece)
    )
      break;
    best = length;
  }
  return best;
}

/**
 * A conservative estimate of how many bits of entropy a secret carries: the smaller of (a) its
 * length times the Shannon entropy of its characters and (b) a parse where each character costs
 * that entropy, except dictionary words (common passwords, diceware list) at 16 bits each, runs
 * (`aaaa`, `abcd`, `4321`) and word separators (space, `-`, `_`, `.`) at 1 bit a character, and
 * repeated substrings at one back-reference.
 * A 256-bit random secret (`npx arraf-auth secret`, `openssl rand -base64 32`) estimates at about
 * 175 bits or more; placeholders, sequences, repeated phrases and passphrases of common words fall
 * below 128. It cannot see that a long string of unusual words was chosen by a person.
 */
export function estimateSecretBits(secret: string): number {
  const chars = [...secret];
  if (chars.length === 0) return 0;
  const perChar = shannonPerChar(chars);
  const lower = chars.map((c) => c.toLowerCase());
  const backReference = Math.log2(chars.length) * 2;
  let parsed = 0;
  for (let i = 0; i < chars.length;) {
    const word = wordAt(lower, i);
    const repeat = repeatAt(lower, i);
    if (word > 0 && word >= repeat && WORD_BITS < word * perChar) {
      parsed += WORD_BITS;
      i += word;
    } else if (repeat > 0 && backReference < repeat * perChar) {
      parsed += backReference;
      i += repeat;
    } else {
      parsed += continuesRun(chars, i) || SEPARATOR.test(chars[i]) ? RUN_BITS : perChar;
      i += 1;
    }
  }
  return Math.min(chars.length * perChar, parsed);
}
