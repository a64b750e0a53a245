import { describe, expect, it } from 'vitest';
import { lastRunStatus } from '../app/utils/admin-view';

describe("operator page: the last run's status agrees with the data-sources table", () => {
  const sources = [
    { source: 'jquants', stale: true },
    { source: 'us-bulk', stale: false },
  ];
  it('a successful run of a stale source is stale, of a current one OK', () => {
    expect(lastRunStatus({ source: 'jquants', success: true }, sources)).toBe('stale');
    expect(lastRunStatus({ source: 'us-bulk', success: true }, sources)).toBe('ok');
  });
  it('a failed run is failed whatever the table says; a source the table does not list is OK', () => {
    expect(lastRunStatus({ source: 'us-bulk', success: false }, sources)).toBe('failed');
    expect(lastRunStatus({ source: 'jquants', success: false }, sources)).toBe('failed');
    expect(lastRunStatus({ source: 'import', success: true }, sources)).toBe('ok');
  });
});
