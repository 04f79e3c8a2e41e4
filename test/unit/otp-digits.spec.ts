import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { randomDigits } from '../../src/crypto/crypto.util.js';

/**
 * χ² critical value for 9 degrees of freedom at p = 0.0001: a uniform source exceeds it once in
 * 10,000 runs, so the test is not flaky, while a modulo-biased or stuck source exceeds it at once.
 */
const CRITICAL_9_DF = 33.72;

function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

function digitCounts(codes: string[], position?: number): number[] {
  const counts = Array<number>(10).fill(0);
  for (const code of codes) {
    const digits = position === undefined ? [...code] : [code[position]];
    for (const d of digits) counts[Number(d)] += 1;
  }
  return counts;
}

describe('OTP digits', () => {
  const codes = Array.from({ length: 20_000 }, () => randomDigits(6));

  it('are uniform over 120,000 digits (χ², 9 df, p = 0.0001)', () => {
    expect(chiSquare(digitCounts(codes))).toBeLessThan(CRITICAL_9_DF);
  });

  it('are uniform at every position of the code', () => {
    for (let position = 0; position < 6; position++)
      expect(chiSquare(digitCounts(codes, position))).toBeLessThan(CRITICAL_9_DF);
  });

  it('would catch a modulo-biased source (the test can fail)', () => {
    // A random hex nibble % 10 makes 0-5 twice as likely as 6-9: the classic modulo bias.
    const biased = Array.from({ length: 20_000 }, () =>
      Array.from({ length: 6 }, () => String(randomInt(0, 16) % 10)).join(''),
    );
    expect(chiSquare(digitCounts(biased))).toBeGreaterThan(CRITICAL_9_DF);
  });
});
