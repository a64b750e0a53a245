/**
 * Fills a slice of the market's shared arrays from the entity files (or the snapshot), off the main thread.
 * A bad entity file is recorded (with why) and the rest are read; the caller decides what that means.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCacheSlice } from './market-cache.js';
import { deriveSlice, fillEntities, type BadEntity, type MarketArrays } from './market-data.js';

export interface LoadTask {
  dataDir: string;
  codes: string[];
  arrays: MarketArrays;
  from: number;
  to: number;
  /** A valid snapshot to read instead of the entity files (market-cache.ts). */
  cache: string | null;
  /** The catalog's sha256 per entity (index as codes), each file is checked against. */
  sha256: string[];
}

export type LoadReply = { ok: true; runs: number[][]; bad: BadEntity[] } | { ok: false; message: string };

const task = workerData as LoadTask;
try {
  let runs: number[][];
  const bad: BadEntity[] = [];
  if (task.cache) {
    readCacheSlice(task.cache, task.arrays, task.from, task.to);
    runs = deriveSlice(task.arrays, task.from, task.to);
  } else {
    runs = fillEntities(task.dataDir, task.codes, task.arrays, task.from, task.to, undefined, {
      sha256: task.sha256,
      bad,
    });
  }
  parentPort!.postMessage({ ok: true, runs, bad } satisfies LoadReply);
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message } satisfies LoadReply);
}
