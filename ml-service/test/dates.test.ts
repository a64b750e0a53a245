import { describe, expect, it } from 'vitest';
import { dayToIso, isoToDay } from '../src/market/dates.js';

describe('isoToDay (the loader’s allocation-free date parser)', () => {
  it('agrees with Date.parse on every day from 1899 to 2101', () => {
    const viaDate = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
    for (let day = viaDate('1899-01-01'); day <= viaDate('2101-12-31'); day++) {
      const iso = dayToIso(day);
      if (isoToDay(iso) !== day) expect(isoToDay(iso), iso).toBe(day);
    }
  });

  it.each([
    '2023-02-29',
    '2024-02-30',
    '2023-13-01',
    '2023-00-10',
    '2023-04-31',
    '2023-1-01',
    '2023/01/01',
    '20a3-01-01',
    '2023-01-0x',
    '',
    '2023-01-011',
  ])('refuses %j', (s) => {
    expect(isoToDay(s)).toBeNaN();
  });

  it('accepts leap days that exist', () => {
    expect(isoToDay('2024-02-29')).toBe(Date.parse('2024-02-29T00:00:00Z') / 86_400_000);
    expect(isoToDay('2000-02-29')).toBe(Date.parse('2000-02-29T00:00:00Z') / 86_400_000);
    expect(isoToDay('1900-02-29')).toBeNaN();
  });
});
