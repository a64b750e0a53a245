/**
 * A/B of Lighthouse's default mobile profile in one interleaved run: a base build (a copy of an earlier
 * frontend/.output, e.g. `cp -r frontend/.output /tmp/base-output` before a change) against the current
 * frontend/.output, both served against one stack (ml-service, backend, 30 demo tickers). Each round
 * runs `/` and `/app` (signed in) on both builds, alternating which goes first, and the medians are
 * printed per page and build. On a shared machine the load moves more between two bench runs than many
 * changes move the score; interleaving puts both builds under the same load.
 *
 *   npm run build -w frontend && nice -n -15 npm run bench:ab -w frontend -- /tmp/base-output [rounds=3]
 *
 * Prints figures only (shared 2-core machine: indicative).
 */
import { loadavg } from 'node:os';
import lighthouse from 'lighthouse';
import { median, withAbStack } from './ab-stack.js';

interface Row {
  perf: number;
  fcp: number;
  lcp: number;
  tbt: number;
  si: number;
  bi: number;
}

async function main() {
  const baseDir = process.argv[2];
  if (!baseDir) throw new Error('usage: bench:ab <base .output directory> [rounds]');
  const rounds = Math.max(1, Number(process.argv[3] ?? 3) || 3);
  await withAbStack(baseDir, 'ab', async ({ builds, browser, signedIn }) => {
    const results = new Map<string, Row[]>();
    for (let round = 0; round < rounds; round++) {
      for (const path of ['/', '/app']) {
        for (const [name, url] of round % 2 ? [...builds].reverse() : builds) {
          const ctx = path === '/app' ? signedIn : await browser.createBrowserContext();
          const tab = await ctx.newPage();
          const result = await lighthouse(
            `${url}${path}`,
            { logLevel: 'error', output: 'json', onlyCategories: ['performance'] },
            undefined,
            tab,
          );
          await tab.close();
          if (ctx !== signedIn) await ctx.close();
          const lhr = result!.lhr;
          const v = (id: string) => lhr.audits[id]?.numericValue ?? NaN;
          const row: Row = {
            perf: Math.round((lhr.categories.performance?.score ?? NaN) * 100),
            fcp: v('first-contentful-paint'),
            lcp: v('largest-contentful-paint'),
            tbt: v('total-blocking-time'),
            si: v('speed-index'),
            bi: lhr.environment.benchmarkIndex,
          };
          const key = `${path.padEnd(5)} ${name}`;
          results.set(key, [...(results.get(key) ?? []), row]);
          console.log(
            `  round ${round + 1}  ${key.padEnd(13)} perf ${row.perf}  FCP ${row.fcp.toFixed(0)}  LCP ${row.lcp.toFixed(0)}  TBT ${row.tbt.toFixed(0)}  load ${loadavg()[0]!.toFixed(1)}  bench-index ${row.bi}`,
          );
        }
      }
    }
    console.log(`\nmedians of ${rounds} (Lighthouse mobile; ms)`);
    for (const [key, rows] of [...results].sort()) {
      const m = (f: (r: Row) => number) => median(rows.map(f)).toFixed(0);
      console.log(
        `  ${key.padEnd(13)} perf ${m((r) => r.perf)} (${rows.map((r) => r.perf).join(', ')})  FCP ${m((r) => r.fcp)}  LCP ${m((r) => r.lcp)}  TBT ${m((r) => r.tbt)}  SI ${m((r) => r.si)}  bench-index ${m((r) => r.bi)}`,
      );
    }
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
