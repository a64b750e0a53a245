import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Forecast } from '@resemble/contracts';
import { basisText, explainForecast, explainParams, shownPUp, verdictTone } from '../app/utils/forecast-text';

const locales = Object.fromEntries(
  ['en', 'ja'].map((l) => [
    l,
    JSON.parse(readFileSync(join(import.meta.dirname, '../i18n/locales', `${l}.json`), 'utf8')),
  ]),
) as Record<'en' | 'ja', Record<string, unknown>>;

/** vue-i18n's named interpolation, enough for these messages: `{name}` replaced, a missing key fails. */
function t(locale: 'en' | 'ja', key: string, params: Record<string, string | number> = {}): string {
  const message = key
    .split('.')
    .reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], locales[locale]);
  if (typeof message !== 'string') throw new Error(`${locale}: no message ${key}`);
  return message.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`${locale} ${key}: no value for {${name}}`);
    return String(params[name]);
  });
}

function forecast(over: Partial<Forecast>): Forecast {
  return {
    n: 30,
    horizon: 20,
    mean: 0.01,
    median: 0.012,
    quantiles: { p10: -0.08, p25: -0.03, p50: 0.012, p75: 0.05, p90: 0.1 },
    fan: [],
    pUp: 0.58,
    baseRateUp: 0.55,
    basis: { kind: 'analogues', n: 30, trainedTo: null },
    effectiveN: 14.2,
    pUpInterval: { lo: 0.37, hi: 0.77, level: 0.9 },
    verdict: 'no-difference',
    pUpCalibrated: null,
    calibratorId: null,
    calibrated: false,
    bands: 'empirical',
    ...over,
  };
}

const sentence = (locale: 'en' | 'ja', f: Forecast) =>
  t(locale, `results.${explainForecast(f)}`, explainParams(f, locale));

describe('forecast wording from the verdict', () => {
  it("the issue's case: a 3-point gap on overlapping matches is no difference, in both languages, uncoloured", () => {
    const f = forecast({});
    expect(verdictTone(f)).toBe('');
    const en = sentence('en', f);
    expect(en).toBe(
      '58% of the cases rose over 20 days (90% range 37%–77%), and the usual rate of 55% lies inside that range: no difference from normal can be seen.',
    );
    expect(en).not.toMatch(/above|below|only/);
    const ja = sentence('ja', f);
    expect(ja).toBe(
      '20日後に上昇したのは58%（90%の範囲 37%〜77%）で、平常時の55%はこの範囲に入っています。平常時との差は見られません。',
    );
    expect(ja).not.toMatch(/上回|下回/);
  });

  it('says higher or lower only when the verdict does, and only then colours it', () => {
    const up = forecast({ pUp: 0.8, verdict: 'higher', pUpInterval: { lo: 0.62, hi: 0.9, level: 0.9 } });
    expect(verdictTone(up)).toBe('up');
    expect(sentence('en', up)).toBe(
      '80% of the cases rose over 20 days; even the low end of the 90% range (62%) is above the usual 55%.',
    );
    expect(sentence('ja', up)).toBe(
      '20日後に上昇したのは80%で、90%の範囲の下端（62%）でも平常時の55%を上回ります。',
    );
    const down = forecast({ pUp: 0.3, verdict: 'lower', pUpInterval: { lo: 0.18, hi: 0.45, level: 0.9 } });
    expect(verdictTone(down)).toBe('down');
    expect(sentence('en', down)).toContain('even the high end of the 90% range (45%) is below the usual 55%');
    expect(sentence('ja', down)).toContain('上端（45%）でも平常時の55%を下回ります');
    // A big raw gap with a "no-difference" verdict is still worded and coloured as no difference.
    const wide = forecast({
      pUp: 0.9,
      verdict: 'no-difference',
      pUpInterval: { lo: 0.52, hi: 0.97, level: 0.9 },
    });
    expect(verdictTone(wide)).toBe('');
    expect(explainForecast(wide)).toBe('explainNoDifference');
  });

  it('calls clustered cases too few, with their effective number', () => {
    const f = forecast({
      pUp: 0.9,
      verdict: 'too-few',
      effectiveN: 3.4,
      pUpInterval: { lo: 0.55, hi: 0.99, level: 0.9 },
    });
    expect(verdictTone(f)).toBe('');
    expect(sentence('en', f)).toBe(
      'These 30 cases overlap so much in time that they count as only about 3 independent ones — too few to say whether a rise is more or less likely than the usual 55%.',
    );
    expect(sentence('ja', f)).toBe(
      'この30件は時期が大きく重なっており、実質的には約3件分にすぎません。上昇しやすいか、平常時の55%と比べて判断するには少なすぎます。',
    );
  });

  it('prefers the calibrated probability when the setting has one', () => {
    const f = forecast({ pUpCalibrated: 0.56, calibrated: true, calibratorId: 'analogue-L60-h20' });
    expect(shownPUp(f)).toBe(0.56);
    expect(sentence('en', f)).toMatch(/^56% of the cases/);
  });

  it('has nothing to say without cases', () => {
    const f = forecast({ n: 0, pUp: null, effectiveN: 0, pUpInterval: null, verdict: 'too-few' });
    expect(sentence('en', f)).toBe(t('en', 'results.explainNone'));
  });

  it('labels each model by what it is, in both languages', () => {
    const label = (locale: 'en' | 'ja', f: Forecast) => {
      const b = basisText(f, locale);
      return t(locale, b.key, b.params);
    };
    const analogue = forecast({});
    const baseline = forecast({ n: 1239, basis: { kind: 'own-history', n: 1239, trainedTo: null } });
    const net = forecast({
      n: 60000,
      basis: { kind: 'neural-net', n: 60000, trainedTo: '1996-10-29' },
      effectiveN: null,
      pUpInterval: null,
    });
    expect(label('en', analogue)).toBe('30 similar past stretches');
    expect(label('ja', analogue)).toBe('過去の似た局面30件');
    expect(label('en', baseline)).toBe("this stock's own history, 1,239 windows");
    expect(label('ja', baseline)).toBe('この銘柄自身の過去、1,239期間');
    expect(label('en', net)).toMatch(/^a neural net trained on 60,000 windows up to .*1996/);
    expect(label('ja', net)).toBe('1996年10月29日までの60,000期間で学習したニューラルネット');
    expect(explainForecast(net)).toBe('explainNet');
    expect(sentence('en', net)).toContain('no edge over the base rate');
    // No model is described as "similar patterns" unless it is the analogue.
    for (const f of [baseline, net])
      for (const l of ['en', 'ja'] as const) expect(label(l, f)).not.toMatch(/similar|似た/);
  });
});
