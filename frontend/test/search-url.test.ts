import { describe, expect, it } from 'vitest';
import { parseSearchQuery, searchQuery, stateFromRequest, type SearchState } from '../app/utils/search-url';
import { DEFAULT_HORIZON } from '../app/utils/timeframe';

const parse = (q: Record<string, unknown>) => parseSearchQuery(q, DEFAULT_HORIZON);

describe('search URL', () => {
  it('round-trips every option', () => {
    const s: SearchState = {
      code: '7203',
      start: '2020-01-06',
      end: '2020-03-30',
      tf: 'W',
      metric: 'dtw',
      topK: 50,
      horizon: 13,
      model: 'baseline',
      mode: 'now',
      norm: 'mean',
      filters: { market: 'TSE Prime', sector: '輸送用機器', kind: 'stock' },
    };
    const q = searchQuery(s);
    expect(parse(q)).toEqual({ state: s, problems: [] });
  });

  it('leaves defaults out of the link and fills them back in', () => {
    const q = searchQuery({
      code: 'AAPL',
      start: '2024-01-02',
      end: '2024-03-28',
      tf: 'D',
      metric: 'zned',
      topK: 5,
      horizon: 20,
      model: 'analogue',
      mode: 'history',
      norm: 'z',
      filters: {},
    });
    expect(q).toEqual({ code: 'AAPL', start: '2024-01-02', end: '2024-03-28', horizon: '20' });
    expect(parse({ code: 'AAPL', tf: 'M' }).state).toMatchObject({
      tf: 'M',
      horizon: DEFAULT_HORIZON.M,
      topK: 5,
    });
  });

  it('names each bad parameter and what it may be', () => {
    const r = parse({
      code: 'AAPL',
      tf: 'Y',
      metric: 'cosine',
      topK: 'lots',
      horizon: '999',
      start: '2024-02-30',
      end: '2024-03-01',
      mode: 'later',
    });
    expect(r.problems).toEqual([
      { param: 'tf', reason: 'oneOf', allowed: 'D, W, M' },
      { param: 'start', reason: 'date' },
      { param: 'metric', reason: 'oneOf', allowed: 'zned, dtw' },
      { param: 'topK', reason: 'int' },
      { param: 'horizon', reason: 'range', allowed: '1–250' },
      { param: 'mode', reason: 'oneOf', allowed: 'history, now' },
    ]);
    expect(parse({ code: 'A', start: '2024-01-01' }).problems).toEqual([{ param: 'end', reason: 'pair' }]);
    expect(parse({ code: 'A', start: '2024-03-01', end: '2024-01-01' }).problems).toEqual([
      { param: 'end', reason: 'order' },
    ]);
    expect(parse({}).state).toBeNull();
  });

  it('turns a stored request into the same link', () => {
    const s = stateFromRequest({
      query: { code: 'MSFT', start: '2015-02-01', end: '2015-03-15' },
      topK: 10,
      horizon: 10,
      metric: 'zned',
      normalize: 'z',
      mode: 'history',
      timeframe: 'D',
      filters: { market: 'NASDAQ' },
    });
    expect(searchQuery(s!)).toEqual({
      code: 'MSFT',
      start: '2015-02-01',
      end: '2015-03-15',
      topK: '10',
      horizon: '10',
      market: 'NASDAQ',
    });
    expect(stateFromRequest({ query: { series: [1, 2] } as never })).toBeNull();
  });

  it("names a bad kind, and a market or sector that is not among the filters' choices", () => {
    const facets = { markets: ['JP', 'US'], sectors: ['Energy', '輸送用機器'], kinds: ['stock' as const] };
    const q = { code: 'AAPL', start: '2024-01-02', end: '2024-03-28' };
    const good = parseSearchQuery(
      { ...q, market: 'US', sector: '輸送用機器', kind: 'etf' },
      DEFAULT_HORIZON,
      facets,
    );
    expect(good.problems).toEqual([]);
    expect(good.state!.filters).toEqual({ market: 'US', sector: '輸送用機器', kind: 'etf' });
    const bad = parseSearchQuery(
      { ...q, market: 'XX', sector: 'Energie', kind: 'bond' },
      DEFAULT_HORIZON,
      facets,
    );
    expect(bad.problems).toEqual([
      { param: 'market', reason: 'filter', value: 'XX' },
      { param: 'sector', reason: 'filter', value: 'Energie' },
      { param: 'kind', reason: 'oneOf', allowed: 'stock, etf, reit, fund' },
    ]);
    // A bad value is dropped, never searched with: the state keeps only the filters that passed.
    expect(bad.state!.filters).toEqual({});
    // Without the choices (they failed to load), market and sector pass on to the search, which names them.
    expect(parse({ ...q, market: 'XX', kind: 'bond' })).toMatchObject({
      state: { filters: { market: 'XX' } },
      problems: [{ param: 'kind', reason: 'oneOf' }],
    });
  });
});
