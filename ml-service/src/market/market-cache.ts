/**
 * A binary snapshot of the closes and day numbers, so a restart on unchanged data reads one flat file
 * instead of 20 M SQLite rows. It is derived data: keyed by the catalog's data_version plus every entity
 * file's size and mtime (any rewrite of any file changes the key), written atomically after a successful
 * load from the store, and simply ignored when absent, stale or unreadable.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ENTITIES_DIR, entityFileName } from '@resemble/contracts/store-layout';
import type { Catalog, MarketArrays } from './market-data.js';

const PREFIX = 'market-';
const SUFFIX = '.bin';

export function cacheKey(dataDir: string, catalog: Catalog): string {
  const h = createHash('sha256');
  h.update(`v1\0${catalog.dataVersion}\0`);
  for (const r of catalog.rows) {
    const st = statSync(join(dataDir, ENTITIES_DIR, entityFileName(r.code)));
    h.update(`${r.code}\0${r.row_count}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return h.digest('hex').slice(0, 32);
}

export function cacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `${PREFIX}${key}${SUFFIX}`);
}

/** Layout: closes (Float64, all points) then days (Int32, all points); offsets come from the catalog. */
export function expectedSize(points: number): number {
  return points * 12;
}

export function cacheUsable(path: string, points: number): boolean {
  try {
    return statSync(path).size === expectedSize(points);
  } catch {
    return false;
  }
}

/** Reads rows [offsets[from], offsets[to]) of closes and days from the snapshot into the shared arrays. */
export function readCacheSlice(path: string, arrays: MarketArrays, from: number, to: number): void {
  const points = arrays.offsets[arrays.offsets.length - 1]!;
  const a = arrays.offsets[from]!;
  const b = arrays.offsets[to]!;
  const fd = openSync(path, 'r');
  try {
    readFully(fd, new Uint8Array(arrays.closes.buffer, arrays.closes.byteOffset + a * 8, (b - a) * 8), a * 8);
    readFully(
      fd,
      new Uint8Array(arrays.days.buffer, arrays.days.byteOffset + (b > a ? a * 4 : 0), (b - a) * 4),
      points * 8 + a * 4,
    );
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error('market cache file is truncated');
    done += n;
  }
}

/**
 * Writes the snapshot atomically (temp file, fsync, rename) without blocking the event loop, then removes
 * older snapshots.
 */
export async function writeCache(cacheDir: string, key: string, arrays: MarketArrays): Promise<void> {
  const points = arrays.offsets[arrays.offsets.length - 1]!;
  const path = cacheFile(cacheDir, key);
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(new Uint8Array(arrays.closes.buffer, arrays.closes.byteOffset, points * 8));
    await fh.writeFile(new Uint8Array(arrays.days.buffer, arrays.days.byteOffset, points * 4));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith(PREFIX) && name !== `${PREFIX}${key}${SUFFIX}` && !name.endsWith('.tmp')) {
      await unlink(join(cacheDir, name));
    }
  }
}
