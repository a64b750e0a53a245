/** Fills a slice of the market's shared arrays from the entity files, off the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { fillEntities, type MarketArrays } from './market-data.js';

export interface LoadTask {
  dataDir: string;
  codes: string[];
  arrays: MarketArrays;
  from: number;
  to: number;
}

const task = workerData as LoadTask;
try {
  parentPort!.postMessage({
    ok: true,
    runs: fillEntities(task.dataDir, task.codes, task.arrays, task.from, task.to),
  });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
