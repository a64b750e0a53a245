import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createI18n } from 'vue-i18n';
import { memoT, type Translate } from '../app/utils/memo-t';

const load = (file: string) =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../i18n/locales', file), 'utf8')) as Record<
    string,
    unknown
  >;
const messages = { ja: load('ja.json'), en: load('en.json') };

/** Every key of a locale's messages, dotted. */
function keysOf(v: unknown, prefix = ''): string[] {
  if (typeof v === 'string') return [prefix];
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => keysOf(x, prefix ? `${prefix}.${k}` : k));
  return [];
}

function setup() {
  // The locale files as JSON: their exact message type is vue-i18n's business, not this test's.
  const i18n = createI18n({ legacy: false, locale: 'ja', fallbackLocale: 'ja', messages: messages as never });
  // Typed loosely as the app calls it (vue-i18n's key types recurse too deep for plain JSON).
  const g = i18n.global as unknown as {
    t: (key: string, named?: Record<string, unknown>) => string;
    locale: { value: string };
  };
  let calls = 0;
  const t: Translate = (key, named) => {
    calls++;
    return named ? g.t(key, named) : g.t(key);
  };
  return { g, t, memo: memoT(t, () => g.locale.value), calls: () => calls };
}

describe('memoT', () => {
  it('answers every message of both locales as vue-i18n does, with and without named values, twice', () => {
    const { g, t, memo } = setup();
    const named = { n: 3, code: '7203', date: '2024年1月2日', shown: 5, min: 20, max: 250, tf: '日足' };
    for (const loc of ['ja', 'en'] as const) {
      g.locale.value = loc;
      const keys = keysOf(messages[loc]);
      expect(keys.length).toBeGreaterThan(400);
      for (let round = 0; round < 2; round++)
        for (const k of keys) {
          expect(memo(k), k).toBe(t(k));
          expect(memo(k, named), k).toBe(t(k, named));
        }
    }
  });

  it('translates a repeated key once per locale, and again after the language changes', () => {
    const { g, memo, calls } = setup();
    expect(memo('app.dragHint')).toBe(g.t('app.dragHint'));
    memo('app.dragHint');
    memo('app.dragHint');
    expect(calls()).toBe(1);
    g.locale.value = 'en';
    expect(memo('app.dragHint')).toBe(g.t('app.dragHint'));
    expect(calls()).toBe(2);
    const en = memo('app.dragHint');
    g.locale.value = 'ja';
    expect(memo('app.dragHint')).not.toBe(en);
    expect(memo('app.dragHint')).toBe(g.t('app.dragHint'));
    expect(calls()).toBe(3);
  });

  it('keys named values by their content and forgets everything past its bound', () => {
    const { g, t, calls } = setup();
    const memo = memoT(t, () => g.locale.value, 3);
    expect(memo('timeframe.span.D', { n: 5 })).toBe(g.t('timeframe.span.D', { n: 5 }));
    expect(memo('timeframe.span.D', { n: 20 })).toBe(g.t('timeframe.span.D', { n: 20 }));
    expect(memo('timeframe.span.D', { n: 5 })).not.toBe(memo('timeframe.span.D', { n: 20 }));
    expect(calls()).toBe(2);
    memo('app.window');
    memo('app.run'); // the fourth answer: the memory starts afresh
    memo('timeframe.span.D', { n: 5 });
    expect(calls()).toBe(5);
  });
});
