/**
 * Worker thread side of the parallel CSV path: reads, decodes and splits the file and converts the
 * fields to numbers, so the main thread only validates and writes SQLite. Rows travel as columns: one
 * Float64Array (transferred, not copied) for the numbers and plain arrays for dates and tickers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeColumns, mapColumns, type ColumnIndex } from './columns.js';
import { csvBatches, ImportError } from './sources.js';
import { parseDate, parseNumber } from './values.js';
import type { ColumnarBatch, WorkerMessage } from './parallel.js';

/** Batches the main thread has not acknowledged yet; bounds memory when writing is the slower side. */
const MAX_IN_FLIGHT = 4;

const { path, gz } = workerData as { path: string; gz: boolean };
const port = parentPort!;
let credits = MAX_IN_FLIGHT;
let wake: (() => void) | null = null;
port.on('message', (m: unknown) => {
  if (m === 'ack') {
    credits++;
    wake?.();
    wake = null;
  }
});

function send(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

async function run(): Promise<void> {
  let bytes = 0;
  let index: ColumnIndex | null = null;
  for await (const records of csvBatches(path, gz, (n) => (bytes += n))) {
    let start = 0;
    if (!index) {
      const mapped = mapColumns(records[0]);
      if ('missing' in mapped) {
        throw new ImportError(
          `${path}: missing required column(s) ${mapped.missing.join(', ')} in the header row; expected columns ${describeColumns()} (case-insensitive)`,
        );
      }
      index = mapped.index;
      start = 1;
    }
    const { ticker: ti, date: di, open: oi, high: hi, low: li, close: ci, volume: vi, name: ni } = index;
    const n = records.length - start;
    const batch: ColumnarBatch = {
      tickers: [],
      counts: [],
      names: [],
      dates: new Array<string>(n),
      nums: new Float64Array(n * 5),
      bytes: 0,
    };
    let last: string | null = null;
    for (let i = 0; i < n; i++) {
      const rec = records[start + i] as string[];
      const ticker = rec[ti] ?? '';
      if (ticker !== last) {
        batch.tickers.push(ticker);
        batch.counts.push(0);
        batch.names.push(ni >= 0 ? (rec[ni] ?? '').trim() : '');
        last = ticker;
      }
      batch.counts[batch.counts.length - 1]++;
      batch.dates[i] = parseDate(rec[di]);
      const o = i * 5;
      batch.nums[o] = parseNumber(rec[oi]);
      batch.nums[o + 1] = parseNumber(rec[hi]);
      batch.nums[o + 2] = parseNumber(rec[li]);
      batch.nums[o + 3] = parseNumber(rec[ci]);
      batch.nums[o + 4] = parseNumber(rec[vi]);
    }
    batch.bytes = bytes;
    bytes = 0;
    if (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    send({ type: 'rows', batch }, [batch.nums.buffer as ArrayBuffer]);
  }
  if (!index) throw new ImportError(`${path}: no header row found (the file has no records)`);
  send({ type: 'end', bytes });
}

run().then(
  () => port.close(),
  (err: unknown) => {
    send({
      type: 'error',
      message: err instanceof ImportError ? err.message : `cannot read ${path}: ${(err as Error).message}`,
    });
    port.close();
  },
);
