import { describe, expect, it } from 'vitest';
import { asOfText, entityName, otherName } from '../app/utils/entity-text';
import en from '../i18n/locales/en.json';
import ja from '../i18n/locales/ja.json';

describe('as-of wording', () => {
  it('dates the data in each language, without shifting the day', () => {
    expect(asOfText('2018-02-07', 'ja')).toBe('データ: 2018年2月7日時点');
    expect(asOfText('2018-02-07', 'en')).toBe('Data as of Feb 7, 2018');
    expect(asOfText('2026-12-31', 'ja')).toBe('データ: 2026年12月31日時点');
    expect(asOfText('2026-01-01', 'en')).toBe('Data as of Jan 1, 2026');
  });
  it('says nothing when there is no price date', () => {
    expect(asOfText(null, 'ja')).toBeNull();
    expect(asOfText(undefined, 'en')).toBeNull();
  });
});

describe('entity names', () => {
  const toyota = { code: '7203', nameJa: 'トヨタ自動車', nameEn: 'Toyota Motor Corporation' };
  it('shows the reader’s language first, the other one beside it', () => {
    expect(entityName(toyota, 'ja')).toBe('トヨタ自動車');
    expect(otherName(toyota, 'ja')).toBe('Toyota Motor Corporation');
    expect(entityName(toyota, 'en')).toBe('Toyota Motor Corporation');
    expect(otherName(toyota, 'en')).toBe('トヨタ自動車');
  });
  it('falls back to the other language, then to the code', () => {
    expect(entityName({ code: 'AAPL', nameJa: null, nameEn: 'Apple Inc.' }, 'ja')).toBe('Apple Inc.');
    expect(otherName({ code: 'AAPL', nameJa: null, nameEn: 'Apple Inc.' }, 'ja')).toBeNull();
    expect(entityName({ code: '285A', nameJa: 'キオクシアホールディングス', nameEn: null }, 'en')).toBe(
      'キオクシアホールディングス',
    );
    expect(entityName({ code: 'XYZ' }, 'en')).toBe('XYZ');
  });
});

describe('finder wording in both locales', () => {
  // Every key the finder uses exists in both locales and names its placeholders the same way.
  const keys = [
    'app.unknownCode',
    'app.didYouMean',
    'app.noSuggestions',
    'app.noPricesYet',
    'app.delisted',
    'app.filters',
    'app.market',
    'app.sector',
    'app.kind',
    'app.any',
    'kinds.stock',
    'kinds.etf',
    'kinds.reit',
    'kinds.fund',
    'patterns.alertAsOf',
  ];
  const get = (m: unknown, k: string) =>
    k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], m);
  const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((x) => x[1]).sort();
  it.each(keys)('%s', (k) => {
    const j = get(ja, k);
    const e = get(en, k);
    expect(typeof j).toBe('string');
    expect(typeof e).toBe('string');
    expect(holes(j as string)).toEqual(holes(e as string));
  });
  it('says a code does not exist rather than showing another stock', () => {
    expect((get(ja, 'app.unknownCode') as string).replace('{code}', 'APPL')).toBe(
      '銘柄コード「APPL」は見つかりませんでした。',
    );
    expect((get(en, 'app.unknownCode') as string).replace('{code}', 'APPL')).toBe(
      'There is no stock with the code “APPL”.',
    );
  });
});
