/**
 * The native reader of entity files (native/store_read.c, linked against Debian's libsqlite3): closes and
 * days straight into the shared arrays, with no text in between. Null where the addon was not built; the
 * loader then reads through better-sqlite3 alone.
 */
import { loadAddon } from '../kernels/native-addon.js';

export interface NativeStoreReader {
  /** Rows read into closes and days (one length), or -1 if anything was unexpected (nothing is trusted then). */
  readEntity(path: string, closes: Float64Array, days: Int32Array): number;
}

export const nativeStoreReader = (): NativeStoreReader | null => loadAddon<NativeStoreReader>('storeread');
