import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, REPO_ROOT } from './config.js';

describe('loadConfig', () => {
  it('defaults DATA_DIR to <repo>/data and LOG_LEVEL to info', () => {
    expect(loadConfig({})).toEqual({ DATA_DIR: join(REPO_ROOT, 'data'), LOG_LEVEL: 'info' });
  });

  it('resolves a relative DATA_DIR against the directory the command was typed in (INIT_CWD)', () => {
    expect(loadConfig({ DATA_DIR: 'store', INIT_CWD: '/srv/resemble' }).DATA_DIR).toBe('/srv/resemble/store');
    expect(loadConfig({ DATA_DIR: '/abs/data', INIT_CWD: '/srv' }).DATA_DIR).toBe('/abs/data');
  });

  it('fails listing every bad key', () => {
    expect(() => loadConfig({ DATA_DIR: '', LOG_LEVEL: 'loud' })).toThrow(/DATA_DIR: .*; LOG_LEVEL: /);
  });
});
