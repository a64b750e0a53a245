import { describe, expect, it } from 'vitest';
import { DATA_TAG_PATTERN, tagsToDelete } from '../src/retention.js';
import { rng } from './support/store-fixture.js';

/** The obvious twin: sort data tags newest first, keep the first `keep` + protected, and their digests. */
function naive(tags: Map<string, string>, keep: number, protect: string[]): string[] {
  const data = [...tags.keys()].filter((t) => DATA_TAG_PATTERN.test(t));
  const newestFirst = [...data].sort((a, b) => (a < b ? 1 : -1));
  const keptTags = newestFirst.slice(0, keep).concat(protect.filter((p) => tags.has(p)));
  const keptDigests = keptTags.map((t) => tags.get(t));
  const out: string[] = [];
  for (const t of data) if (!keptTags.includes(t) && !keptDigests.includes(tags.get(t))) out.push(t);
  return out.sort();
}

describe('data image retention', () => {
  it('keeps the newest N dated tags and deletes the rest', () => {
    const tags = new Map([
      ['2026-11-18-aaaaaaaaaaaa', 'sha256:1'],
      ['2026-11-19-bbbbbbbbbbbb', 'sha256:2'],
      ['2026-11-20-cccccccccccc', 'sha256:3'],
      ['latest', 'sha256:3'],
      ['dev-build', 'sha256:9'],
    ]);
    expect(tagsToDelete({ tags, keep: 2, protect: ['latest'] })).toEqual(['2026-11-18-aaaaaaaaaaaa']);
    expect(tagsToDelete({ tags, keep: 3, protect: [] })).toEqual([]);
  });

  it('never deletes a tag that shares its digest with a kept one (a manifest delete removes every tag on it)', () => {
    const tags = new Map([
      ['2026-11-17-old', 'sha256:same'],
      ['2026-11-20-new', 'sha256:same'],
      ['2026-11-16-older', 'sha256:x'],
    ]);
    expect(tagsToDelete({ tags, keep: 1, protect: [] })).toEqual(['2026-11-16-older']);
  });

  it('keeps a protected old tag (the deployed one) and refuses keep < 1', () => {
    const tags = new Map([
      ['2026-11-01-a', 'sha256:a'],
      ['2026-11-02-b', 'sha256:b'],
      ['2026-11-03-c', 'sha256:c'],
    ]);
    expect(tagsToDelete({ tags, keep: 1, protect: ['2026-11-01-a'] })).toEqual(['2026-11-02-b']);
    expect(() => tagsToDelete({ tags, keep: 0, protect: [] })).toThrow(/keep must be a positive integer/);
  });

  it('matches the naive twin on seeded random registries', () => {
    const random = rng(7);
    for (let round = 0; round < 300; round++) {
      const tags = new Map<string, string>();
      const n = Math.floor(random() * 30);
      for (let i = 0; i < n; i++) {
        const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
        const tag =
          random() < 0.85 ? `2026-10-${day}-${Math.floor(random() * 1e6).toString(16)}` : `misc${i}`;
        tags.set(tag, `sha256:${Math.floor(random() * n * 0.7)}`);
      }
      if (random() < 0.5) tags.set('latest', `sha256:${Math.floor(random() * n)}`);
      const keep = 1 + Math.floor(random() * 10);
      const protect = random() < 0.5 ? ['latest'] : ['latest', [...tags.keys()][0] ?? 'none'];
      expect(tagsToDelete({ tags, keep, protect }), `round ${round}`).toEqual(naive(tags, keep, protect));
    }
  });
});
