/**
 * The picker's answers (names, sector, kind, no-prices issues), "as of" dates, and the similarity
 * filters on sector and kind, on a seeded in-memory market.
 */
import { describe, expect, it } from 'vitest';
import type { CompanyRow } from '@resemble/contracts';
import { minimalCompany } from '@resemble/contracts/store-layout';
import type { MarketData } from '../src/market/market-data.js';
import { asOfDate, entityFacets, readPrices, searchEntities } from '../src/entities/entities.service.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { marketFromEntities, randomWalkEntities } from '../src/predictors/synthetic-market.js';

const SECTORS = ['輸送用機器', '電気機器', 'Information Technology'];
const KINDS = ['stock', 'etf', 'reit'] as const;

/**
 * 11 priced walks S000..S010 with names, sectors and kinds by index (S007 delisted), and S011, a listed
 * issue of the master with no prices yet.
 */
function market(): MarketData {
  const data = marketFromEntities(randomWalkEntities(5, 11, 700));
  const company = (code: string, e: number): CompanyRow => ({
    ...minimalCompany({ code, name: code, market: 'US' }),
    name_ja: e === 0 ? 'トヨタ自動車' : e === 11 ? 'キオクシアホールディングス' : null,
    name_en: e === 0 ? 'Toyota Motor Corporation' : e === 3 ? 'Apple Inc.' : `Company ${code}`,
    sector33_code: e % 3 === 2 ? null : `S${e % 3}`,
    sector33_name: e % 3 === 2 ? null : SECTORS[e % 3]!,
    gics_sector: e % 3 === 2 ? SECTORS[2]! : null,
    kind: KINDS[e % 3]!,
    status: e === 7 ? 'delisted' : 'listed',
    delisted_since: e === 7 ? '2003-01-06' : null,
  });
  data.companies = new Map(
    ['S000', 'S001', 'S002', 'S003', 'S004', 'S005', 'S006', 'S007', 'S008', 'S009', 'S010', 'S011'].map(
      (c, e) => [c, company(c, e)],
    ),
  );
  return data;
}

const lastDay = (d: MarketData, e: number) => {
  const b = d.offsets[e + 1]!;
  return b > d.offsets[e]! ? new Date(d.days[b - 1]! * 86_400_000).toISOString().slice(0, 10) : null;
};

describe('entity answers', () => {
  const data = market();
  it('carry names, sector, kind and listing, and say when there are no prices yet', () => {
    const r = searchEntities(data, 'ｷｵｸｼｱ', 5);
    expect(r.entities).toHaveLength(1);
    expect(r.entities[0]).toMatchObject({
      code: 'S011',
      // A US listing: the display name is the English one.
      name: 'Company S011',
      nameJa: 'キオクシアホールディングス',
      nameEn: 'Company S011',
      sector: SECTORS[2],
      gicsSector: SECTORS[2],
      kind: 'reit',
      status: 'listed',
      currency: 'USD',
      hasPrices: false,
      firstDate: null,
      lastDate: null,
      rows: 0,
      match: 'namePrefix',
    });
    const toyota = searchEntities(data, 'とよた', 5).entities[0]!;
    expect(toyota).toMatchObject({
      code: 'S000',
      name: 'Toyota Motor Corporation',
      nameJa: 'トヨタ自動車',
      hasPrices: true,
      firstDate: expect.any(String),
    });
    expect(searchEntities(data, 'Appel', 5).entities.map((e) => [e.code, e.match])).toEqual([
      ['S003', 'typo'],
    ]);
  });
  it('answer an as-of date: the newest price of all entities', () => {
    const expected = data.codes
      .map((_, e) => lastDay(data, e))
      .filter((d) => d !== null)
      .sort()
      .at(-1);
    expect(searchEntities(data, 's0', 3).asOf).toBe(expected);
    expect(asOfDate(data)).toBe(expected);
    expect(asOfDate(data, [])).toBeNull();
    expect(asOfDate(data, [1])).toBe(lastDay(data, 1));
  });
  it('read no file for an issue without prices, and 404 an unknown code', () => {
    expect(readPrices(data, 'S011', undefined, undefined)).toEqual({
      code: 'S011',
      timeframe: 'D',
      rows: [],
      asOf: null,
    });
    expect(() => readPrices(data, 'NOPE', undefined, undefined)).toThrow(/unknown code NOPE/);
  });
  it('put a delisted company after listed ones in a tie, and keep it findable', () => {
    const r = searchEntities(data, 'company s00', 20).entities;
    expect(r.map((e) => e.code)).toEqual(['S001', 'S002', 'S004', 'S005', 'S006', 'S008', 'S009', 'S007']);
    expect(r.at(-1)).toMatchObject({ status: 'delisted', delistedSince: '2003-01-06' });
  });
  it('list the facets present', () => {
    expect(entityFacets(data)).toEqual({
      markets: ['US'],
      sectors: [...SECTORS].sort(),
      kinds: ['etf', 'reit', 'stock'],
    });
  });
});

describe('similarity filters on sector and kind', () => {
  const data = market();
  const e = 4;
  const dates = (k: number) =>
    new Date(data.days[data.offsets[e]! + k]! * 86_400_000).toISOString().slice(0, 10);
  const query = { code: data.codes[e]!, start: dates(100), end: dates(159) };
  const codesOf = (pred: (i: number) => boolean) => data.codes.filter((_, i) => pred(i));

  it('search only the entities of the sector (by name or code) or kind, as a codes filter would', () => {
    for (const [filters, pred] of [
      [{ sector: SECTORS[1]! }, (i: number) => i % 3 === 1],
      [{ sector: 'S1' }, (i: number) => i % 3 === 1],
      [{ kind: 'etf' as const }, (i: number) => i % 3 === 1],
      [{ sector: SECTORS[0]!, kind: 'stock' as const }, (i: number) => i % 3 === 0],
      [{ sector: SECTORS[0]!, kind: 'etf' as const }, () => false],
    ] as const) {
      const got = findSimilar(data, { query, topK: 30, filters });
      const codes = codesOf(pred);
      const want = codes.length
        ? findSimilar(data, { query, topK: 30, filters: { codes } })
        : { matches: [], candidates: 0 };
      expect(got.matches.map((m) => `${m.code}@${m.start}`)).toEqual(
        want.matches.map((m) => `${m.code}@${m.start}`),
      );
      expect(got.candidates).toBe(want.candidates);
      expect(got.matches.every((m) => pred(data.codeIndex.get(m.code)!))).toBe(true);
      expect(got.asOf).toBe(asOfDate(data, data.codes.map((_, i) => i).filter(pred)));
    }
  });
  it('names each match and dates the answer by the newest price searched', () => {
    const r = findSimilar(data, { query, topK: 5 });
    expect(r.asOf).toBe(asOfDate(data));
    for (const m of r.matches) {
      const i = data.codeIndex.get(m.code)!;
      expect(m.nameEn).toBe(data.companies.get(data.codes[i]!)!.name_en);
      expect(m.nameJa).toBe(data.companies.get(data.codes[i]!)!.name_ja);
    }
    const now = findSimilar(data, { query, topK: 5, mode: 'now' });
    expect(now.asOf).toBe(asOfDate(data));
    expect(now.asOf).not.toBeNull();
  });
});
