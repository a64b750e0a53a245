import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, REPO_ROOT } from './config.js';

describe('loadConfig', () => {
  it('defaults DATA_DIR to <repo>/data and LOG_LEVEL to info', () => {
    expect(loadConfig({})).toEqual({
      DATA_DIR: join(REPO_ROOT, 'data'),
      LOG_LEVEL: 'info',
      JQUANTS_PLAN: 'light',
      POLYGON_REQUESTS_PER_MINUTE: 5,
      SCRAPE_INITIAL_DAYS: 365,
    });
  });

  it('takes an empty key (compose passes ${KEY:-}) as no key, and refuses a bad plan or URL', () => {
    expect(loadConfig({ JQUANTS_API_KEY: '', POLYGON_API_KEY: '' }).JQUANTS_API_KEY).toBeUndefined();
    expect(loadConfig({ JQUANTS_API_KEY: 'k' }).JQUANTS_API_KEY).toBe('k');
    expect(() => loadConfig({ JQUANTS_PLAN: 'gold', JQUANTS_BASE_URL: 'nope' })).toThrow(
      /JQUANTS_PLAN: .*; JQUANTS_BASE_URL: /,
    );
    expect(() => loadConfig({ JPX_LISTINGS_URL: 'jpx' })).toThrow(/JPX_LISTINGS_URL: /);
    expect(loadConfig({ JPX_LISTINGS_URL: '' }).JPX_LISTINGS_URL).toBeUndefined();
  });

  it('resolves a relative DATA_DIR against the directory the command was typed in (INIT_CWD)', () => {
    expect(loadConfig({ DATA_DIR: 'store', INIT_CWD: '/srv/resemble' }).DATA_DIR).toBe('/srv/resemble/store');
    expect(loadConfig({ DATA_DIR: '/abs/data', INIT_CWD: '/srv' }).DATA_DIR).toBe('/abs/data');
  });

  it('fails listing every bad key', () => {
    expect(() => loadConfig({ DATA_DIR: '', LOG_LEVEL: 'loud' })).toThrow(/DATA_DIR: .*; LOG_LEVEL: /);
  });
});
