/**
 * Stand-in data for BENCH_SCENARIO=overhead, so backend's own cost can be measured in seconds without
 * importing the demo data or starting ml-service: a trading calendar, stock codes, and a /similar answer
 * shaped and sized like ml-service's (10 matches with full-precision windows and forward paths).
 */
import { mulberry32 } from '@resemble/contracts';

export function syntheticCalendar(): { codes: string[]; dates: string[] } {
  const dates: string[] = [];
  for (let t = Date.UTC(2013, 1, 8); t < Date.UTC(2018, 1, 8); t += 86_400_000) {
    const day = new Date(t).getUTCDay();
    if (day !== 0 && day !== 6) dates.push(new Date(t).toISOString().slice(0, 10));
  }
  const codes = Array.from({ length: 470 }, (_, i) => `S${String(i).padStart(3, '0')}`);
  return { codes, dates };
}

export function syntheticSimilar(dates: string[], codes: string[], L = 70, topK = 10, horizon = 20): unknown {
  const rand = mulberry32(7);
  // Float32 closes widened to double, as ml-service's Array.from(Float32Array) produces.
  const price = () => Math.fround(20 + rand() * 200);
  const quant = () => ({
    p10: 0.9 + rand() / 10,
    p25: 0.95 + rand() / 10,
    p50: 1 + rand() / 10,
    p75: 1.05 + rand() / 10,
    p90: 1.1 + rand() / 10,
  });
  const matches = Array.from({ length: topK }, (_, i) => {
    const s = Math.floor(rand() * (dates.length - L - horizon));
    return {
      code: codes[i % codes.length],
      start: dates[s],
      end: dates[s + L - 1],
      distance: rand() * 3,
      forwardReturn: rand() / 5 - 0.1,
      forwardPath: Array.from({ length: horizon }, () => 0.9 + rand() / 5),
      window: Array.from({ length: L }, price),
    };
  });
  return {
    query: {
      code: codes[0],
      start: dates[0],
      end: dates[L - 1],
      length: L,
      series: Array.from({ length: L }, price),
    },
    metric: 'zned',
    normalize: 'z',
    mode: 'history',
    horizon,
    matches,
    forecast: {
      n: topK,
      horizon,
      mean: rand() / 10,
      median: rand() / 10,
      quantiles: quant(),
      fan: Array.from({ length: horizon }, quant),
      pUp: 0.55,
      baseRateUp: 0.52,
      basis: { kind: 'analogues' as const, n: topK, trainedTo: null },
      effectiveN: topK / 2,
      pUpInterval: { lo: 0.4, hi: 0.69, level: 0.9 as const },
      verdict: 'no-difference' as const,
      pUpCalibrated: null,
      calibratorId: null,
      calibrated: false,
      bands: 'empirical' as const,
    },
    candidates: 512_345,
    dataVersion: 'synthetic',
    tookMs: 2.5,
  };
}
