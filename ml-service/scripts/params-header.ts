/**
 * Writes native/zscan_params.h from wasm/params.ts (the one definition of the zned parameter block), or
 * with --print prints what it would write (test/ed-prefilter.test.ts compares that with the committed
 * header). Run by `npm run build:params -w ml-service` after changing wasm/params.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as params from '../wasm/params.js';

export function paramsHeader(): string {
  // By name: a module namespace's key order differs between loaders (Node sorts, vite keeps source order).
  const lines = Object.entries(params)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `  ${k} = ${v},`);
  return [
    '// Generated from wasm/params.ts by `npm run build:params -w ml-service`: do not edit.',
    '// The zned parameter block: f64 slot indices (*_BYTE: byte offsets of i32 or f64 arrays).',
    '#ifndef ZSCAN_PARAMS_H',
    '#define ZSCAN_PARAMS_H',
    'enum {',
    ...lines,
    '};',
    '#endif',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('params-header.ts')) {
  const out = join(import.meta.dirname, '..', 'native', 'zscan_params.h');
  if (process.argv.includes('--print')) process.stdout.write(paramsHeader());
  else writeFileSync(out, paramsHeader());
}
