/**
 * The DTW kernels' shared constants are written once (wasm/dtw-params.ts): the WASM kernel imports
 * them, TypeScript builds DTW_STAGES / DTW_STAT from them, and native/dtwscan_params.h is their
 * generation, which native/dtwscan.c includes: the three languages cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtwParamsHeader } from '../scripts/params-header.js';
import * as P from '../wasm/dtw-params.js';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every enumerator of every `enum { ... }` in C source, implicit values counted as C counts them. */
function cEnums(src: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [, body] of src.matchAll(/enum\s*\{([^}]*)\}/g)) {
    let next = 0;
    for (const item of body!.split(',')) {
      const m = /^\s*([A-Z_][A-Z0-9_]*)\s*(?:=\s*(\d+))?\s*$/.exec(item.replace(/\/\/.*$/gm, ''));
      if (!m) continue;
      const value = m[2] !== undefined ? Number(m[2]) : next;
      out[m[1]!] = value;
      next = value + 1;
    }
  }
  return out;
}

describe('the DTW kernels’ constants, written once', () => {
  it('native/dtwscan_params.h is the generation of wasm/dtw-params.ts', () => {
    expect(read('native/dtwscan_params.h')).toBe(dtwParamsHeader());
    expect(cEnums(read('native/dtwscan_params.h'))).toEqual({ ...P });
  });

  it('the WASM kernel defines no flag or counter of its own and imports dtw-params', () => {
    const src = read('wasm/dtwscan.ts');
    expect(src).not.toMatch(/^const (F|ST)_\w+/m);
    expect(src).toMatch(/} from '\.\/dtw-params';/);
  });

  it('native/dtwscan.c includes the header and defines no flag or counter of its own', () => {
    const c = read('native/dtwscan.c');
    expect(c).toContain('#include "dtwscan_params.h"');
    expect(Object.keys(cEnums(c)).filter((k) => /^(F|ST)_/.test(k))).toEqual([]);
    // The picks mode's K sits in the flags from F_PICKS_SHIFT up.
    expect(c).toMatch(/flags >> F_PICKS_SHIFT\)/);
  });
});
