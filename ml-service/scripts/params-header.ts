/**
 * Writes the C headers of the kernels' shared constants from their one definition in AssemblyScript /
 * TypeScript: native/zscan_params.h from wasm/params.ts (the zned parameter block) and
 * native/dtwscan_params.h from wasm/dtw-params.ts (the DTW kernels' stage flags and counters). With
 * --print prints what it would write. Run by `npm run build:params -w ml-service` after changing either;
 * test/ed-prefilter.test.ts and test/kernel-params.test.ts compare the committed headers with this.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as dtwParams from '../wasm/dtw-params.js';
import * as params from '../wasm/params.js';

function header(defs: Record<string, number>, source: string, what: string, guard: string): string {
  // By name: a module namespace's key order differs between loaders (Node sorts, vite keeps source order).
  const lines = Object.entries(defs)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `  ${k} = ${v},`);
  return [
    `// Generated from ${source} by \`npm run build:params -w ml-service\`: do not edit.`,
    `// ${what}`,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    'enum {',
    ...lines,
    '};',
    '#endif',
    '',
  ].join('\n');
}

/** native/zscan_params.h. */
export function paramsHeader(): string {
  return header(
    params,
    'wasm/params.ts',
    'The zned parameter block: f64 slot indices (*_BYTE: byte offsets of i32 or f64 arrays).',
    'ZSCAN_PARAMS_H',
  );
}

/** native/dtwscan_params.h. */
export function dtwParamsHeader(): string {
  return header(
    dtwParams,
    'wasm/dtw-params.ts',
    "The DTW kernels' stage flags (F_*) and counters (ST_*).",
    'DTWSCAN_PARAMS_H',
  );
}

if (process.argv[1]?.endsWith('params-header.ts')) {
  const native = join(import.meta.dirname, '..', 'native');
  if (process.argv.includes('--print')) process.stdout.write(paramsHeader() + dtwParamsHeader());
  else {
    writeFileSync(join(native, 'zscan_params.h'), paramsHeader());
    writeFileSync(join(native, 'dtwscan_params.h'), dtwParamsHeader());
  }
}
