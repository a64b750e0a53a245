// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import {
  PREFS_BOOT_SCRIPT,
  candleColors,
  chartPalette,
  defaultCandles,
  effectiveCandles,
  isDark,
  parseCandles,
  parseTheme,
  toggledTheme,
  withAlpha,
} from '../app/utils/prefs';

describe('display preferences', () => {
  it('reads only known values from cookies', () => {
    expect(parseTheme('dark')).toBe('dark');
    expect(parseTheme('light')).toBe('light');
    expect(parseTheme('system')).toBe('system');
    for (const bad of [undefined, null, '', 'Dark', 'blue', 1]) expect(parseTheme(bad)).toBe('system');
    expect(parseCandles('red-up')).toBe('red-up');
    expect(parseCandles('green-up')).toBe('green-up');
    for (const bad of [undefined, null, '', 'red', 'RED-UP']) expect(parseCandles(bad)).toBeNull();
  });

  it('defaults the candle colours by language and keeps an explicit choice in any language', () => {
    expect(defaultCandles('ja')).toBe('red-up');
    expect(defaultCandles('en')).toBe('green-up');
    expect(effectiveCandles(null, 'ja')).toBe('red-up');
    expect(effectiveCandles('nonsense', 'en')).toBe('green-up');
    expect(effectiveCandles('green-up', 'ja')).toBe('green-up');
    expect(effectiveCandles('red-up', 'en')).toBe('red-up');
  });

  it('is dark when chosen, or when following a dark system; the toggle flips what is on screen', () => {
    expect(isDark('dark', false)).toBe(true);
    expect(isDark('light', true)).toBe(false);
    expect(isDark('system', true)).toBe(true);
    expect(isDark('system', false)).toBe(false);
    expect(toggledTheme('system', true)).toBe('light');
    expect(toggledTheme('system', false)).toBe('dark');
    expect(toggledTheme('dark', false)).toBe('light');
    expect(toggledTheme('light', true)).toBe('dark');
  });

  it('swaps rise and fall colours for the Japanese convention, in both themes', () => {
    for (const dark of [false, true]) {
      const us = candleColors('green-up', dark);
      const jp = candleColors('red-up', dark);
      expect(jp).toEqual({ up: us.down, down: us.up });
      // Red is red: more red than green in the rising colour of the Japanese style.
      const rgb = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
      const [r, g] = rgb(jp.up);
      expect(r!).toBeGreaterThan(g!);
    }
    expect(chartPalette(true).bg).not.toBe(chartPalette(false).bg);
    expect(withAlpha('#0f8a5f', 0.35)).toBe('rgba(15,138,95,0.35)');
  });
});

describe('the head script that applies the cookies before the first paint', () => {
  afterEach(() => {
    for (const c of document.cookie.split(';')) {
      const name = c.split('=')[0]!.trim();
      if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
    }
    document.documentElement.removeAttribute('data-theme');
    document.documentElement.removeAttribute('data-candles');
    document.documentElement.lang = '';
  });
  const boot = () => new Function(PREFS_BOOT_SCRIPT)();

  it('sets the chosen theme and candle colours', () => {
    document.cookie = 'theme=dark; path=/';
    document.cookie = 'candles=green-up; path=/';
    document.documentElement.lang = 'ja-JP';
    boot();
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(document.documentElement.dataset.candles).toBe('green-up');
  });

  it('leaves the theme to the system and picks candles by language when nothing was chosen', () => {
    document.cookie = 'theme=purple; path=/';
    document.documentElement.lang = 'en-US';
    boot();
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(document.documentElement.dataset.candles).toBe('green-up');
    document.documentElement.lang = 'ja-JP';
    boot();
    expect(document.documentElement.dataset.candles).toBe('red-up');
  });
});
