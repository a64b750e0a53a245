/**
 * `npm run bench:search -w ml-service`: latency of the stock picker's search (GET /v1/entities, the
 * searchEntities answer with its summaries) over a seeded master of 5,000 issues with Japanese and
 * English names (BENCH_SEARCH_ENTITIES, BENCH_SEARCH_QUERIES override). Target (issue 13): p95 <= 20 ms.
 * Prints figures per kind of query; asserts nothing. Timings on a shared 2-core machine are noisy.
 */
import { mulberry32, type CompanyRow } from '@resemble/contracts';
import { searchEntities } from '../src/entities/entities.service.js';
import { minimalCompany } from '@resemble/contracts/store-layout';
import { businessDates, marketFromEntities } from '../src/predictors/synthetic-market.js';

const ENTITIES = Number(process.env.BENCH_SEARCH_ENTITIES ?? 5000);
const QUERIES = Number(process.env.BENCH_SEARCH_QUERIES ?? 400);
const LIMIT = 20;

const JA_HEADS = [
  'トヨタ',
  'ソニー',
  'キオクシア',
  'みずほ',
  '三菱',
  '日立',
  '任天堂',
  'パナソニック',
  'ニトリ',
  'ユニ',
  'アサヒ',
  'キリン',
  '東京',
  '大阪',
  '日本',
  'セブン',
  'ファースト',
  'リクルート',
  'オリエンタル',
  'ヤマト',
];
const JA_TAILS = [
  '自動車',
  '電機',
  '銀行',
  '商事',
  '製作所',
  'ホールディングス',
  '化学',
  '不動産',
  '証券',
  '建設',
  '工業',
  'フィナンシャルグループ',
  '電力',
  '薬品',
  '食品',
  'システムズ',
];
const EN_HEADS = [
  'Toyota',
  'Sony',
  'Kioxia',
  'Mizuho',
  'Mitsubishi',
  'Hitachi',
  'Nintendo',
  'Apple',
  'Micro',
  'General',
  'American',
  'United',
  'First',
  'Global',
  'Pacific',
  'Northern',
  'Advanced',
  'Digital',
  'Royal',
  'Summit',
];
const EN_TAILS = [
  'Motor',
  'Electric',
  'Bank',
  'Trading',
  'Holdings',
  'Chemical',
  'Realty',
  'Securities',
  'Construction',
  'Industries',
  'Financial Group',
  'Power',
  'Pharmaceutical',
  'Foods',
  'Systems',
  'Networks',
];
const SECTORS = ['輸送用機器', '電気機器', '銀行業', '卸売業', '化学', '不動産業', '情報・通信業', '医薬品'];

function master(random: () => number): CompanyRow[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: ENTITIES }, (_, i) => {
    const jp = i < ENTITIES * 0.8;
    // TSE-like codes (with a letter in some, as since 2024), US-like tickers for the rest.
    const code = jp
      ? `${1300 + i}`.slice(0, 3) + (i % 25 === 0 ? 'A' : String(i % 10))
      : Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
          String.fromCharCode(65 + Math.floor(random() * 26)),
        ).join('') + i;
    const h = Math.floor(random() * JA_HEADS.length);
    const t = Math.floor(random() * JA_TAILS.length);
    return {
      ...minimalCompany({ code, name: code, market: jp ? 'JP' : 'US' }),
      name_ja: jp ? `${JA_HEADS[h]}${JA_TAILS[t]}` : null,
      name_en: `${EN_HEADS[h]} ${EN_TAILS[t]}${random() < 0.5 ? ' Corporation' : ' Inc.'}`,
      sector33_name: jp ? pick(SECTORS) : null,
      gics_sector: jp ? null : 'Information Technology',
      size_code: jp ? pick(['1', '2', '4', '6', '7', '-']) : null,
    };
  });
}

const toHalfWidth: Record<string, string> = {
  キ: 'ｷ',
  オ: 'ｵ',
  ク: 'ｸ',
  シ: 'ｼ',
  ア: 'ｱ',
  ソ: 'ｿ',
  ニ: 'ﾆ',
  ー: 'ｰ',
};
const toHiragana = (s: string) =>
  [...s].map((c) => (c >= 'ァ' && c <= 'ヶ' ? String.fromCharCode(c.charCodeAt(0) - 0x60) : c)).join('');

function queries(random: () => number, companies: CompanyRow[]): [string, string][] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const kinds: [string, () => string][] = [
    ['exact code', () => pick(companies).code],
    ['code prefix (1-2 chars)', () => pick(companies).code.slice(0, 1 + Math.floor(random() * 2))],
    ['Japanese name prefix (hiragana)', () => toHiragana(pick(JA_HEADS))],
    [
      'half-width katakana',
      () => [...pick(['キオクシア', 'ソニー'])].map((c) => toHalfWidth[c] ?? c).join(''),
    ],
    ['Japanese substring', () => pick(JA_TAILS)],
    [
      'English prefix',
      () =>
        pick(EN_HEADS)
          .slice(0, 3 + Math.floor(random() * 3))
          .toLowerCase(),
    ],
    [
      'English typo (two letters swapped)',
      () => {
        const w = pick(EN_HEADS);
        const k = 1 + Math.floor(random() * (w.length - 2));
        return w.slice(0, k) + w[k + 1] + w[k] + w.slice(k + 2);
      },
    ],
    ['no hit', () => `zqx${Math.floor(random() * 1000)}`],
    ['one letter', () => String.fromCharCode(97 + Math.floor(random() * 26))],
  ];
  return Array.from({ length: QUERIES }, (_, i) => {
    const [kind, make] = kinds[i % kinds.length]!;
    return [kind, make()];
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function main(): void {
  const random = mulberry32(20261207);
  const companies = master(random);
  // Every issue gets a short price history (the summaries read first and last dates).
  const dates = businessDates('2024-01-04', 30);
  const data = marketFromEntities(
    companies.map((c) => ({ code: c.code, dates, closes: dates.map((_, k) => 100 + k) })),
  );
  data.companies = new Map(companies.map((c) => [c.code, c]));
  console.log(
    `entity search bench: ${companies.length} issues, ${QUERIES} queries, limit ${LIMIT}; ${new Date().toISOString()}`,
  );

  let t = performance.now();
  searchEntities(data, 'warm', LIMIT);
  console.log(`  index build + first query                  ${(performance.now() - t).toFixed(1)} ms`);

  const qs = queries(random, companies);
  for (const [, q] of qs.slice(0, 50)) searchEntities(data, q, LIMIT);
  // Wall time, and this thread's CPU time: on a loaded machine the wall time is mostly waiting for a core.
  const byKind = new Map<string, { wall: number[]; cpu: number[] }>();
  const all = { wall: [] as number[], cpu: [] as number[] };
  let hits = 0;
  for (const [kind, q] of qs) {
    const c0 = process.cpuUsage();
    t = performance.now();
    hits += searchEntities(data, q, LIMIT).entities.length;
    const wall = performance.now() - t;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000;
    const k = byKind.get(kind) ?? { wall: [], cpu: [] };
    k.wall.push(wall);
    k.cpu.push(cpu);
    byKind.set(kind, k);
    all.wall.push(wall);
    all.cpu.push(cpu);
  }
  const line = (label: string, x: { wall: number[]; cpu: number[] }) =>
    `  ${label.padEnd(36)} wall p50 ${pct(x.wall, 0.5).toFixed(2).padStart(6)} p95 ${pct(x.wall, 0.95).toFixed(2).padStart(6)} ms   cpu p50 ${pct(x.cpu, 0.5).toFixed(2).padStart(6)} p95 ${pct(x.cpu, 0.95).toFixed(2).padStart(6)} ms   (n=${x.wall.length})`;
  for (const [kind, x] of byKind) console.log(line(kind, x));
  console.log(line('ALL', all));
  console.log(
    `  (target p95 <= 20 ms; ${(hits / qs.length).toFixed(1)} hits a query; max wall ${Math.max(...all.wall).toFixed(2)} ms)`,
  );
}

main();
