import { describe, expect, it } from 'vitest';
import { entityCodeSchema, entityFileName, isoDateSchema } from './store.js';

describe('entity codes', () => {
  it.each(['AAPL', 'BRK-B', '7203.T', 'a', 'X_1', 'A'.repeat(32)])('accepts %s', (code) => {
    expect(entityCodeSchema.safeParse(code).success).toBe(true);
  });
  it.each(['', '.hidden', '../etc', 'a/b', 'A'.repeat(33), '-x', 'トヨタ', 'a b'])('refuses %j', (code) => {
    expect(entityCodeSchema.safeParse(code).success).toBe(false);
    expect(() => entityFileName(code)).toThrow();
  });
});

describe('ISO dates', () => {
  it('accepts real calendar dates only', () => {
    expect(isoDateSchema.safeParse('2024-02-29').success).toBe(true);
    expect(isoDateSchema.safeParse('2023-02-29').success).toBe(false);
    expect(isoDateSchema.safeParse('2023-13-01').success).toBe(false);
    expect(isoDateSchema.safeParse('2023/01/01').success).toBe(false);
  });
});
