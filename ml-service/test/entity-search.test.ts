/**
 * Name search: tier order, kana and width folding, typo tolerance, and the tiers checked against a slow,
 * obviously correct twin on seeded names.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@resemble/contracts';
import {
  compactText,
  EntityIndex,
  foldText,
  transpositions,
  typoBudget,
  type SearchEntry,
} from '../src/entities/entity-search.js';

const entries: SearchEntry[] = [
  { code: '7203', names: ['トヨタ自動車', 'TOYOTA MOTOR CORPORATION'] },
  { code: '3116', names: ['トヨタ紡織', 'TOYOTA BOSHOKU CORPORATION'] },
  { code: '285A', names: ['キオクシアホールディングス', 'Kioxia Holdings Corporation'] },
  { code: 'AAPL', names: ['アップル', 'Apple Inc.'] },
  { code: 'AAP', names: [null, 'Advance Auto Parts Inc'] },
  { code: 'APA', names: [null, 'Apache Corporation'] },
  { code: '72030', names: ['テスト', 'Test Seventy Two'] },
  { code: '9999', names: ['ほげ商事', 'Hoge Trading'], order: 1 },
  { code: '9998', names: ['ホゲ商事', 'Hoge Trading'], order: 0 },
  { code: 'KO', names: ['コカ・コーラ', 'Coca-Cola Company'] },
  { code: 'MSFT', names: [] },
];
const index = new EntityIndex(entries);
const codes = (q: string, limit = 20) => index.search(q, limit).map((h) => entries[h.index]!.code);
const tiers = (q: string) =>
  Object.fromEntries(index.search(q, 20).map((h) => [entries[h.index]!.code, h.tier]));

describe('folding', () => {
  it('maps half-width katakana, full-width Latin and hiragana to one form', () => {
    expect(foldText('ｷｵｸｼｱ')).toBe('キオクシア');
    expect(foldText('とよた')).toBe('トヨタ');
    expect(foldText('ＡＰＰＬＥ')).toBe('apple');
    expect(foldText('７２０３')).toBe('7203');
    expect(foldText('ゔぁ')).toBe('ヴァ');
    expect(compactText(foldText('コカ・コーラ'))).toBe('コカコーラ');
    expect(compactText(foldText('Coca-Cola Co.'))).toBe('cocacolaco');
  });
  it('gives short and numeric words no typo budget', () => {
    expect(typoBudget('ibm')).toBe(0);
    expect(typoBudget('sony')).toBe(1);
    expect(typoBudget('appel')).toBe(1);
    expect(typoBudget('corporation')).toBe(2);
    expect(transpositions('appel')).toEqual(['papel', 'apepl', 'apple']);
    expect(transpositions('aab')).toEqual(['aba']);
    expect(typoBudget('72030')).toBe(0);
    expect(typoBudget('トヨタ')).toBe(0);
  });
});

describe('ranking', () => {
  it('puts the exact code before code prefixes before name matches', () => {
    expect(codes('7203')).toEqual(['7203', '72030']);
    expect(tiers('7203')).toEqual({ '7203': 'exactCode', '72030': 'codePrefix' });
    // "aap" is a code (AAP), a prefix of AAPL; APA matches nowhere.
    expect(codes('aap').slice(0, 2)).toEqual(['AAP', 'AAPL']);
  });
  it('puts name prefixes before substrings, the shorter name first', () => {
    const r = index.search('トヨタ', 20);
    expect(r.map((h) => entries[h.index]!.code)).toEqual(['3116', '7203']);
    expect(r.every((h) => h.tier === 'namePrefix')).toBe(true);
    expect(tiers('自動車')).toEqual({ '7203': 'nameSubstring' });
    expect(tiers('motor')).toEqual({ '7203': 'nameSubstring' });
  });
  it('matches Japanese and English names, across width and kana', () => {
    expect(codes('とよた')).toEqual(['3116', '7203']);
    expect(codes('ｷｵｸｼｱ')).toEqual(['285A']);
    expect(codes('kioxia')).toEqual(['285A']);
    expect(codes('アップル')).toEqual(['AAPL']);
    expect(codes('ＡＰＰＬＥ')[0]).toBe('AAPL');
    expect(codes('コカコーラ')).toEqual(['KO']);
    expect(codes('coca cola')).toEqual(['KO']);
  });
  it('breaks ties inside a tier by the entries order', () => {
    expect(codes('ほげ')).toEqual(['9998', '9999']);
  });
  it('tolerates a typo in a Latin name, after every exact kind of match', () => {
    expect(tiers('appel')).toEqual({ AAPL: 'typo' });
    expect(codes('Appel Inc')).toEqual(['AAPL']);
    expect(tiers('toyta')).toMatchObject({ '7203': 'typo', '3116': 'typo' });
    // A mistyped ticker finds the closest code (a wrong link's code gets suggestions).
    expect(tiers('MSTF')).toEqual({ MSFT: 'typo' });
    expect(tiers('NSFT')).toEqual({ MSFT: 'typo' });
    expect(codes('APPL')[0]).toBe('AAPL');
    // No typo budget for a Japanese query: a near miss finds nothing.
    expect(codes('トヨダ')).toEqual([]);
    expect(codes('zzzzzz')).toEqual([]);
  });
  it('honours the limit and lists entries in order for an empty query', () => {
    expect(codes('', 3)).toEqual(['7203', '3116', '285A']);
    expect(codes('トヨタ', 1)).toEqual(['3116']);
    expect(codes('a', 2)).toHaveLength(2);
  });
});

/** The tiers by brute force: every rule written out once, no shortcuts. */
function naiveTier(e: SearchEntry, q: string): number {
  const fold = (s: string) =>
    [...s.normalize('NFKC').toLowerCase()]
      .map((ch) => {
        const c = ch.codePointAt(0)!;
        return c >= 0x3041 && c <= 0x3096 ? String.fromCodePoint(c + 0x60) : ch;
      })
      .join('');
  const strip = (s: string) => s.replace(/[\s\p{P}\p{S}]/gu, '');
  const fq = fold(q.trim());
  const cq = strip(fq);
  const code = fold(e.code);
  if (code === fq || code === cq) return 0;
  if (code.startsWith(fq) || (cq && code.startsWith(cq))) return 1;
  const names = e.names.filter((n): n is string => !!n).map((n) => strip(fold(n)));
  if (cq && names.some((n) => n.startsWith(cq))) return 2;
  if (cq && names.some((n) => n.includes(cq))) return 3;
  return -1;
}

describe('the exact tiers against a brute-force twin (seeded names)', () => {
  it('agree on 300 queries over 400 entities', () => {
    const random = mulberry32(13);
    const kana = 'アイウエオカキクケコサシスセソタチツテトあいうえおかきくけこ';
    const latin = 'abcdefghij';
    const pick = (s: string, n: number) =>
      Array.from({ length: n }, () => s[Math.floor(random() * s.length)]).join('');
    const list: SearchEntry[] = Array.from({ length: 400 }, (_, i) => ({
      code: String(1000 + i),
      names: [pick(kana, 2 + Math.floor(random() * 5)), `${pick(latin, 3)} ${pick(latin, 4)}`],
    }));
    const idx = new EntityIndex(list);
    for (let k = 0; k < 300; k++) {
      const r = random();
      const q =
        r < 0.3
          ? String(1000 + Math.floor(random() * 450)).slice(0, 1 + Math.floor(random() * 4))
          : r < 0.65
            ? pick(kana, 1 + Math.floor(random() * 2))
            : pick(latin, 1 + Math.floor(random() * 2));
      const expected = list.map((e, i) => [naiveTier(e, q), i] as const).filter(([t]) => t >= 0);
      const got = idx.search(q, 10_000).filter((h) => h.tier !== 'typo');
      expect(new Set(got.map((h) => h.index))).toEqual(new Set(expected.map(([, i]) => i)));
      const tierOf = new Map(expected.map(([t, i]) => [i, t]));
      const order = ['exactCode', 'codePrefix', 'namePrefix', 'nameSubstring'];
      for (const h of got) expect(order.indexOf(h.tier)).toBe(tierOf.get(h.index));
      // Hits come tier by tier.
      const ts = got.map((h) => order.indexOf(h.tier));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
  });
});
