/**
 * wasm/zscan.wasm is committed so the service needs no compiler at run time; this keeps it honest: the
 * committed binary must be exactly what `npm run build:wasm` makes from wasm/zscan.ts today.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import asc from 'assemblyscript/asc';

it('the committed zscan.wasm is the build of zscan.ts', async () => {
  const wasmDir = join(import.meta.dirname, '..', 'wasm');
  const out = mkdtempSync(join(tmpdir(), 'zscan-'));
  try {
    const outFile = join(out, 'zscan.wasm');
    const { error, stderr } = await asc.main(
      [join(wasmDir, 'zscan.ts'), '--config', join(wasmDir, 'asconfig.json'), '--outFile', outFile],
      {},
    );
    expect(error, stderr.toString()).toBeFalsy();
    expect(readFileSync(outFile).equals(readFileSync(join(wasmDir, 'zscan.wasm')))).toBe(true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);
