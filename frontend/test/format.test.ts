import { describe, expect, it } from 'vitest';
import { formatCompact, formatDate, formatJpy, formatNumber, formatPercent } from '../app/utils/format';

describe('formatPercent', () => {
  it('formats fractions with one decimal in both locales', () => {
    expect(formatPercent(0.1234, 'en')).toBe('12.3%');
    expect(formatPercent(0.1234, 'ja')).toBe('12.3%');
  });
  it('signs changes when asked, leaves zero unsigned', () => {
    expect(formatPercent(0.05, 'en', { signed: true })).toBe('+5.0%');
    expect(formatPercent(-0.05, 'en', { signed: true })).toBe('-5.0%');
    expect(formatPercent(0, 'en', { signed: true })).toBe('0.0%');
  });
  it('shows a dash for missing values', () => {
    expect(formatPercent(null, 'ja')).toBe('—');
    expect(formatPercent(Number.NaN, 'en')).toBe('—');
  });
});

describe('formatJpy', () => {
  it('uses the yen sign in Japanese and the code in English, without decimals', () => {
    expect(formatJpy(1980, 'ja')).toMatch(/^[￥¥]1,980$/);
    expect(formatJpy(1980, 'en').replace(/\s/g, ' ')).toBe('JPY 1,980');
    expect(formatJpy(0, 'ja')).toMatch(/^[￥¥]0$/);
  });
});

describe('formatDate', () => {
  it('renders ISO dates in each locale without shifting the day', () => {
    expect(formatDate('2018-02-07', 'ja')).toBe('2018年2月7日');
    expect(formatDate('2018-02-07', 'en')).toBe('Feb 7, 2018');
    expect(formatDate('2018-01-01', 'en')).toBe('Jan 1, 2018');
  });
  it('passes through what it cannot parse', () => {
    expect(formatDate('not-a-date', 'en')).toBe('not-a-date');
  });
  it('gives what Intl.DateTimeFormat gives, every day from 1950 to 2060, both locales', () => {
    let days = 0;
    for (const [locale, tag] of [
      ['ja', 'ja-JP'],
      ['en', 'en-US'],
    ] as const) {
      const intl = new Intl.DateTimeFormat(tag, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        timeZone: 'UTC',
      });
      for (let t = Date.UTC(1950, 0, 1); t <= Date.UTC(2060, 11, 31); t += 86_400_000) {
        const iso = new Date(t).toISOString();
        expect(formatDate(iso.slice(0, 10), locale)).toBe(intl.format(new Date(t)));
        days++;
      }
      // a timestamp is cut to its date, as before
      expect(formatDate('2018-02-07T23:59:59Z', locale)).toBe(intl.format(new Date(Date.UTC(2018, 1, 7))));
    }
    expect(days).toBeGreaterThan(80_000);
  });
});

describe('numbers', () => {
  it('formats fixed decimals and compact volumes', () => {
    expect(formatNumber(1234.5, 'en')).toBe('1,234.50');
    expect(formatCompact(1_250_000, 'en')).toBe('1.3M');
    expect(formatCompact(1_250_000, 'ja')).toBe('125万');
  });
});
