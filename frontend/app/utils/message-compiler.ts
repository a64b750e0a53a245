import { compile, type MessageCompiler, type MessageContext, type MessageFunction } from '@intlify/core-base';

// Characters that give a message more than its own text: {placeholders}, @:linked messages, plural `|`.
// `%` is not syntax today; a message with one still goes to vue-i18n's compiler, to be safe.
const SYNTAX = /[{}@|%]/;

// `normalize` is on every message context, left out of the published type.
type NormalizingContext = MessageContext & { normalize(values: unknown[]): string };

/**
 * vue-i18n compiles each message the first time it is shown, and on EVERY `t()` it builds the compile
 * cache's key with JSON.stringify. On /app that was about 0.4 s of main-thread work on Lighthouse's 4×
 * slowed phone CPU (decision 138). Most messages are plain text: they become a function returning the
 * text as vue-i18n's own compiler would (its static-message path); anything else goes to that compiler.
 * Tested against it on every message in both locale files (test/message-compiler.test.ts).
 */
export const messageCompiler: MessageCompiler = (message, context) => {
  if (typeof message !== 'string' || SYNTAX.test(message)) return compile(message, context);
  const plain: MessageFunction<string> = (ctx: MessageContext) =>
    ctx.type === 'text' ? message : (ctx as NormalizingContext).normalize([message]);
  return plain;
};
