import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@resemble/contracts';
import { ApiError } from '../app/utils/api-client';
import { errorKey } from '../app/utils/error-text';
import en from '../i18n/locales/en.json';
import ja from '../i18n/locales/ja.json';

const locales = { ja, en } as const;
const lookup = (messages: object, key: string): unknown =>
  key
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      messages,
    );
const hasJa = (key: string) => typeof lookup(ja, key) === 'string';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every error code backend (and ml-service, whose codes backend passes on) can put in a response. */
function emittedCodes(): Set<string> {
  const codes = new Set<string>();
  for (const dir of ['backend/src', 'ml-service/src']) {
    for (const file of sources(resolve(__dirname, '../..', dir))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/AppError\(\s*\d{3},\s*'([a-z_]+)'/g)) codes.add(m[1]!);
      for (const m of text.matchAll(/\bforbidden\(\s*'([a-z_]+)'/g)) codes.add(m[1]!);
    }
  }
  return codes;
}

describe('error messages', () => {
  it('has a Japanese and an English sentence for every code the services send', () => {
    const codes = emittedCodes();
    // The scan itself must find the codes it is meant to find, or this test would pass on nothing.
    for (const c of ['invalid_request', 'not_found', 'registration_failed', 'csrf_failed', 'quota_exceeded'])
      expect(codes).toContain(c);
    for (const [name, messages] of Object.entries(locales)) {
      const missing = [...codes].filter((c) => typeof lookup(messages, `errors.${c}`) !== 'string');
      expect(missing, name).toEqual([]);
    }
  });

  it('has a sentence for every code of the shared error-code list (contracts/src/errors.ts)', () => {
    for (const [name, messages] of Object.entries(locales)) {
      const missing = ERROR_CODES.filter((c) => typeof lookup(messages, `errors.${c}`) !== 'string');
      expect(missing, name).toEqual([]);
    }
    // The source scan above finds no code outside the list: services can only send listed codes.
    expect([...emittedCodes()].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('has the same error keys in both languages, none empty', () => {
    expect(Object.keys(ja.errors).sort()).toEqual(Object.keys(en.errors).sort());
    for (const messages of Object.values(locales))
      for (const v of Object.values(messages.errors)) expect(v.trim()).not.toBe('');
  });

  it('never shows backend English text: a bad reset token reads as a bad link in Japanese', () => {
    const e = new ApiError(400, 'invalid_request', 'body is invalid');
    expect(errorKey(e, hasJa)).toBe('errors.invalid_request');
    expect(errorKey(e, hasJa, { invalid_request: 'errors.invalid_token' })).toBe('errors.invalid_token');
    expect(lookup(ja, errorKey(e, hasJa))).not.toContain('invalid');
  });

  it('uses the sentence of a known code, for ApiError and for useFetch errors', () => {
    expect(errorKey(new ApiError(401, 'invalid_credentials', 'Wrong email or password'), hasJa)).toBe(
      'errors.invalid_credentials',
    );
    expect(
      errorKey({ statusCode: 429, data: { error: { code: 'quota_exceeded', message: 'x' } } }, hasJa),
    ).toBe('errors.quota_exceeded');
    expect(errorKey(new ApiError(0, 'network_error', 'network_error'), hasJa)).toBe('errors.network_error');
  });

  it('falls back by HTTP status for a code it does not know, then to a generic line', () => {
    const unknown = (status: number) => errorKey(new ApiError(status, 'brand_new_code', 'whatever'), hasJa);
    expect(unknown(400)).toBe('errors.invalid_request');
    expect(unknown(404)).toBe('errors.not_found');
    expect(unknown(409)).toBe('errors.conflict');
    expect(unknown(429)).toBe('errors.rate_limited');
    expect(unknown(503)).toBe('errors.server_unavailable');
    expect(errorKey({ statusCode: 502 }, hasJa)).toBe('errors.server_unavailable');
    expect(unknown(418)).toBe('errors.unexpected');
    expect(errorKey(new Error('boom'), hasJa)).toBe('errors.unexpected');
    expect(errorKey(undefined, hasJa)).toBe('errors.unexpected');
    for (const s of [400, 401, 403, 404, 409, 413, 429, 418, 500])
      expect(hasJa(unknown(s)), String(s)).toBe(true);
  });
});
