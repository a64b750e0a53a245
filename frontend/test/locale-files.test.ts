import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * JSON.parse keeps the last of two equal keys without a word, so a message written twice in one
 * block silently replaces the first (it happened to errors.search_timeout). Walk the raw text.
 */
function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  const stack: { keys: Set<string>; path: string }[] = [];
  let pendingKey: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      while (/\s/.test(text[i]!)) i++;
      if (text[i] === ':') {
        const top = stack[stack.length - 1]!;
        if (top.keys.has(str)) found.push(`${top.path}${str}`);
        top.keys.add(str);
        pendingKey = str;
      }
      continue;
    }
    if (c === '{') {
      const parent = stack[stack.length - 1];
      stack.push({ keys: new Set(), path: parent ? `${parent.path}${pendingKey ?? ''}.` : '' });
    } else if (c === '}') stack.pop();
    i++;
  }
  return found;
}

describe('locale files', () => {
  it('finds a key written twice (the check itself)', () => {
    expect(duplicateKeys('{"a":{"x":"1","y":"2","x":"3"},"b":"\\"x\\""}')).toEqual(['a.x']);
    expect(duplicateKeys('{"a":{"x":"1"},"b":{"x":"1"}}')).toEqual([]);
  });

  for (const lang of ['ja', 'en']) {
    it(`${lang}.json defines every key once`, () => {
      const text = readFileSync(resolve(__dirname, `../i18n/locales/${lang}.json`), 'utf8');
      expect(duplicateKeys(text)).toEqual([]);
    });
  }
});
