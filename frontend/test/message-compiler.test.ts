import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  compile,
  createMessageContext,
  type MessageCompiler,
  type MessageCompilerContext,
  type MessageProcessor,
} from '@intlify/core-base';
import { describe, expect, it } from 'vitest';
import { messageCompiler } from '../app/utils/message-compiler';

/** Every message of a locale file, flattened (nested blocks and arrays). */
function messagesOf(file: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(readFileSync(resolve(import.meta.dirname, '../i18n/locales', file), 'utf8')));
  return out;
}

const compileContext = (): MessageCompilerContext => ({
  onError: (err) => {
    throw err;
  },
  key: 'test',
  locale: 'ja',
});

/** vue-i18n's own compiler, as the same type as ours. */
const reference: MessageCompiler = (message, context) => compile(message, context);

/** Runs a compiled message as vue-i18n does: text output, or a `<i18n-t>`-style normalize into parts. */
function run(source: string, compiler: MessageCompiler, type: 'text' | 'vnode') {
  const fn = compiler(source, compileContext());
  const ctx = createMessageContext({
    named: { n: 3, name: 'Acme' },
    list: ['x'],
    messages: { other: () => 'linked text' },
    // text: vue-i18n's own normalize (joins the parts); vnode: keep the parts apart, as `<i18n-t>` does
    processor: (type === 'text'
      ? { type }
      : { type, normalize: (values: unknown[]) => ({ parts: values }) }) as MessageProcessor<string>,
  });
  return fn(ctx);
}

const edgeCases = [
  '',
  ' padded  ',
  'two\nlines',
  'チャートをドラッグして期間を選択。',
  'quote " and \\ backslash',
  'has {name}',
  "literal {'@'} at",
  '@:other',
  'one | many',
  '100%',
];

describe('messageCompiler: the plain-text fast path gives what vue-i18n compile gives', () => {
  for (const file of ['ja.json', 'en.json']) {
    it(`every message of ${file}`, () => {
      const messages = messagesOf(file);
      expect(messages.length).toBeGreaterThan(300);
      for (const m of messages)
        for (const type of ['text', 'vnode'] as const)
          expect(run(m, messageCompiler, type), `${type}: ${m}`).toEqual(run(m, reference, type));
    });
  }

  it('edge cases: empty, whitespace, newlines, quotes, and the syntax that needs the real compiler', () => {
    for (const m of edgeCases)
      for (const type of ['text', 'vnode'] as const)
        expect(run(m, messageCompiler, type), `${type}: ${JSON.stringify(m)}`).toEqual(
          run(m, reference, type),
        );
  });

  it('plain text skips vue-i18n compile; placeholders, linked and plural messages use it', () => {
    // compile caches what it compiled by source: a message it has not seen gives a new function each time,
    // a cached one gives the same function back. The fast path never touches that cache.
    const plain = `plain text ${Date.now()}`;
    expect(messageCompiler(plain, compileContext())).not.toBe(messageCompiler(plain, compileContext()));
    for (const m of [`has {name} ${Date.now()}`, `@:other ${Date.now()}`, `a | b ${Date.now()}`]) {
      const first = messageCompiler(m, compileContext());
      expect(messageCompiler(m, compileContext())).toBe(first);
    }
    expect(run('has {name}', messageCompiler, 'text')).toBe('has Acme');
  });
});
