import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOURCES_FILE, loadSources, pickSource, sourceUrl } from './source-config.js';

describe('sources config', () => {
  it('the committed sources.config.json is valid and names every adapter kind', () => {
    const file = loadSources(DEFAULT_SOURCES_FILE);
    expect(file.sources.map((s) => s.kind).sort()).toEqual([
      'csv-http',
      'html-table',
      'jpx-listings',
      'jquants',
      'polygon',
    ]);
    expect(pickSource(file).name).toBe(file.defaultSource);
    expect(() => pickSource(file, 'nope')).toThrow(/unknown source "nope"; configured: /);
  });

  it('lists every bad key of a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resemble-sources-'));
    try {
      const path = join(dir, 'sources.json');
      writeFileSync(
        path,
        JSON.stringify({
          defaultSource: 'x',
          userAgent: 'ua',
          sources: [
            {
              name: 'x',
              kind: 'csv-http',
              baseUrl: 'not a url',
              market: 'US',
              currency: 'USD',
              url: '/no-code.csv',
              columns: {},
            },
          ],
        }),
      );
      const err = (() => {
        try {
          loadSources(path);
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })();
      expect(err).toMatch(/sources\.0\.baseUrl/);
      expect(err).toMatch(/sources\.0\.url/);
      expect(err).toMatch(/sources\.0\.columns\.date/);
      writeFileSync(path, '{ not json');
      expect(() => loadSources(path)).toThrow(/cannot read sources file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fills URL templates with encoded values', () => {
    expect(
      sourceUrl('http://h:1/base/', '/csv/{code}.csv?from={from}', { code: 'BRK-B', from: '2017-01-01' }),
    ).toBe('http://h:1/csv/BRK-B.csv?from=2017-01-01');
    expect(sourceUrl('http://h', '/q/{code}', { code: 'a b&c' })).toBe('http://h/q/a%20b%26c');
  });
});
