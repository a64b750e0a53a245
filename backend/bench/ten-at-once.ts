/**
 * BENCH_SCENARIO=fairness (and the end of the full bench): the audit's test of issue 14, over HTTP
 * through backend and the real ml-service on the demo data. One Pro user sends 10 DTW searches at once
 * (L ~ 250, top 100) while another user runs ordinary searches one after another; prints the other
 * user's p50 idle and during, and how the 10 ended (status counts). Asserts nothing.
 */
import { ApiError } from '@resemble/contracts';
import { proSession, type Session } from './http.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
}

export async function tenAtOnce(base: string, codes: string[], dates: string[], queries = 20): Promise<void> {
  const heavyUser = await proSession(base, `heavy-${Date.now()}@example.com`);
  const other = await proSession(base, `other-${Date.now()}@example.com`);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const window = (L: number) => {
    const start = Math.floor(rand() * (dates.length - L - 30));
    return { code: codes[Math.floor(rand() * codes.length)], start: dates[start], end: dates[start + L - 1] };
  };
  const ordinary = async (s: Session, n: number) => {
    const ms: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const status = await s.api
        .similar({ body: { query: window(20 + Math.floor(rand() * 100)), topK: 10, horizon: 20 } })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof ApiError ? e.status : 0));
      statuses.push(status);
      if (status === 200) ms.push(performance.now() - t0);
    }
    return { ms, failed: statuses.filter((x) => x !== 200).length };
  };
  await ordinary(other, 5); // warm-up
  const idle = await ordinary(other, queries);
  const t0 = performance.now();
  const ten = Array.from({ length: 10 }, () => {
    const body = { query: window(250), metric: 'dtw' as const, topK: 100, horizon: 20 };
    const started = performance.now();
    return heavyUser.api.similar({ body }).then(
      () => ({ status: 200, code: undefined as string | undefined, ms: performance.now() - started }),
      (e: unknown) => ({
        status: e instanceof ApiError ? e.status : 0,
        code: e instanceof ApiError ? e.code : 'network_error',
        ms: performance.now() - started,
      }),
    );
  });
  const during = await ordinary(other, queries);
  const heavy = await Promise.all(ten);
  const allMs = performance.now() - t0;
  const counts = new Map<string, number>();
  for (const h of heavy)
    counts.set(
      `${h.status}${h.code ? ` ${h.code}` : ''}`,
      (counts.get(`${h.status}${h.code ? ` ${h.code}` : ''}`) ?? 0) + 1,
    );
  console.log('\nten at once (one Pro user: 10 DTW L=250 top-100 at once; another user: ordinary searches)');
  console.log(
    `  other user idle    p50 ${pct(idle.ms, 0.5).toFixed(1)} ms  p95 ${pct(idle.ms, 0.95).toFixed(1)} ms  failed ${idle.failed}/${queries}`,
  );
  console.log(
    `  other user during  p50 ${pct(during.ms, 0.5).toFixed(1)} ms  p95 ${pct(during.ms, 0.95).toFixed(1)} ms  failed ${during.failed}/${queries}`,
  );
  console.log(
    `  the 10 DTW searches: ${[...counts].map(([k, v]) => `${v} x ${k}`).join(', ')}; p50 ${pct(
      heavy.map((h) => h.ms),
      0.5,
    ).toFixed(0)} ms, all done after ${(allMs / 1000).toFixed(1)} s`,
  );
}
