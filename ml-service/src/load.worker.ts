/** Fills a slice of the market's shared arrays from the entity files (or the snapshot), off the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { readCacheSlice } from './market-cache.js';
import { deriveSlice, fillEntities, type MarketArrays } from './market-data.js';

export interface LoadTask {
  dataDir: string;
  codes: string[];
  arrays: MarketArrays;
  from: number;
  to: number;
  /** A valid snapshot to read instead of the entity files (market-cache.ts). */
  cache: string | null;
}

const task = workerData as LoadTask;
try {
  let runs: number[][];
  if (task.cache) {
    readCacheSlice(task.cache, task.arrays, task.from, task.to);
    runs = deriveSlice(task.arrays, task.from, task.to);
  } else {
    runs = fillEntities(task.dataDir, task.codes, task.arrays, task.from, task.to);
  }
  parentPort!.postMessage({ ok: true, runs });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
