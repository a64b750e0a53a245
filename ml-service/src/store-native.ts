/**
 * The native reader of entity files (native/store_read.c, built by node-gyp on `npm install` against
 * Debian's libsqlite3): closes and days straight into the shared arrays, with no text in between. Null
 * where the addon was not built; the loader then reads through better-sqlite3 alone.
 */
import { createRequire } from 'node:module';

export interface NativeStoreReader {
  /** Rows read into closes and days (one length), or -1 if anything was unexpected (nothing is trusted then). */
  readEntity(path: string, closes: Float64Array, days: Int32Array): number;
}

let loaded: NativeStoreReader | null | undefined;

export function nativeStoreReader(): NativeStoreReader | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('../build/Release/storeread.node') as NativeStoreReader;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
