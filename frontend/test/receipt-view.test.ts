import { describe, expect, it } from 'vitest';
import { formatDateJst, formatPeriod, receiptLines } from '../app/utils/receipt-view';

describe('receipt view', () => {
  it('dates a receipt by the Japanese calendar day', () => {
    // 2026-12-07 20:30 UTC is already 8 December in Japan.
    expect(formatDateJst('2026-12-07T20:30:00.000Z', 'ja')).toBe('2026年12月8日');
    expect(formatDateJst('2026-12-07T14:59:59.000Z', 'ja')).toBe('2026年12月7日');
    expect(formatDateJst('2026-12-07T20:30:00.000Z', 'en')).toBe('December 8, 2026');
    expect(formatDateJst('nope', 'en')).toBe('nope');
  });
  it('splits a tax-inclusive amount into net and tax per rate', () => {
    expect(receiptLines({ amountJpy: 1480, taxJpy: 134, taxRatePercent: 10 })).toEqual([
      { ratePercent: 10, totalJpy: 1480, taxJpy: 134, netJpy: 1346 },
    ]);
  });
  it('names the billing month', () => {
    expect(formatPeriod('2026-12', 'ja')).toBe('2026年12月');
    expect(formatPeriod('2026-01', 'en')).toBe('January 2026');
    expect(formatPeriod(null, 'en')).toBeNull();
  });
});
