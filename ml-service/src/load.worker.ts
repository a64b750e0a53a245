/** Loads the store off the main thread so the service keeps answering while (re)loading. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadMarketData } from './market-data.js';

try {
  parentPort!.postMessage({ ok: true, data: loadMarketData((workerData as { dataDir: string }).dataDir) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
