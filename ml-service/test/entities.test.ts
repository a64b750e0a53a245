/**
 * The picker's answers (names, sector, kind, no-prices issues), "as of" dates, and the similarity
 * filters on sector and kind, on a seeded in-memory market.
 */
import { describe, expect, it } from 'vitest';
import type { EntityInfo, MarketData } from '../src/market-data.js';
import { asOfDate, entityFacets, readPrices, searchEntities } from '../src/entities.service.js';
import { findSimilar } from '../src/similarity.service.js';
import { marketFromEntities, randomWalkEntities } from '../src/predictors/synthetic-market.js';

const SECTORS = ['輸送用機器', '電気機器', 'Information Technology'];
const KINDS = ['stock', 'etf', 'reit'] as const;

/** 12 walks; S000..S010 get names, sectors and kinds by index; S011 is listed with no prices yet. */
function market(): MarketData {
  const walks = randomWalkEntities(5, 11, 700);
  const data = marketFromEntities([...walks, { code: 'S011', dates: [], closes: [] }]);
  data.info = data.codes.map((code, e): EntityInfo => ({
    nameJa: e === 0 ? 'トヨタ自動車' : e === 11 ? 'キオクシアホールディングス' : null,
    nameEn: e === 0 ? 'Toyota Motor Corporation' : e === 3 ? 'Apple Inc.' : `Company ${code}`,
    sector: SECTORS[e % 3]!,
    sectorKeys: [SECTORS[e % 3]!, `S${e % 3}`],
    kind: KINDS[e % 3]!,
    listed: e !== 7,
  }));
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
      name: 'キオクシアホールディングス',
      nameJa: 'キオクシアホールディングス',
      nameEn: 'Company S011',
      sector: SECTORS[2],
      kind: 'reit',
      listed: true,
      hasPrices: false,
      firstDate: null,
      lastDate: null,
      rows: 0,
      match: 'namePrefix',
    });
    const toyota = searchEntities(data, 'とよた', 5).entities[0]!;
    expect(toyota).toMatchObject({
      code: 'S000',
      name: 'トヨタ自動車',
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
    expect(asOfDate(data, [11])).toBeNull();
    expect(asOfDate(data, [1, 11])).toBe(lastDay(data, 1));
  });
  it('read no file for an issue without prices', () => {
    expect(readPrices(data, 'S011', undefined, undefined)).toEqual({ code: 'S011', rows: [], asOf: null });
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
      const want = findSimilar(data, {
        query,
        topK: 30,
        filters: { codes: codesOf(pred).length ? codesOf(pred) : ['S011'] },
      });
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
      expect(m.nameEn).toBe(data.info[i]!.nameEn);
      expect(m.nameJa).toBe(data.info[i]!.nameJa);
    }
    const now = findSimilar(data, { query, topK: 5, mode: 'now' });
    expect(now.asOf).toBe(asOfDate(data));
    expect(now.asOf).not.toBeNull();
  });
});
