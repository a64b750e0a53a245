/**
 * Worker thread side of the parallel CSV path: reads, decodes and splits the file and converts the
 * fields to numbers, so the main thread only validates and writes SQLite. Rows travel as columns: one
 * Float64Array (transferred, not copied) for the numbers and plain arrays for dates and tickers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeColumns, mapColumns, type ColumnIndex } from './columns.js';
import { csvLineBatches, ImportError } from './sources.js';
import { parseDate, parseNumber, parsePlainDecimal } from './values.js';
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
  /** Field boundaries of the current plain line: field f is line.slice(starts[f], ends[f]). */
  let starts = new Int32Array(0);
  let ends = new Int32Array(0);
  let want = 0;
  for await (const records of csvLineBatches(path, gz, (n) => (bytes += n), true)) {
    let start = 0;
    if (!index) {
      const head = records[0];
      const mapped = mapColumns(typeof head === 'string' ? head.split(',') : head);
      if ('missing' in mapped) {
        throw new ImportError(
          `${path}: missing required column(s) ${mapped.missing.join(', ')} in the header row; expected columns ${describeColumns()} (case-insensitive)`,
        );
      }
      index = mapped.index;
      start = 1;
      const ix = index;
      want = Math.max(ix.ticker, ix.date, ix.open, ix.high, ix.low, ix.close, ix.volume, ix.name) + 1;
      starts = new Int32Array(want);
      ends = new Int32Array(want);
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
      const item = records[start + i];
      const o = i * 5;
      if (typeof item === 'string') {
        // A plain comma-separated line: fields are read in place, the same values as split(',') gives
        // (a field past the end of the line is undefined), without a string per numeric field.
        const line = item;
        let nf = 0;
        let pos = 0;
        while (nf < want) {
          starts[nf] = pos;
          const comma = line.indexOf(',', pos);
          if (comma === -1) {
            ends[nf++] = line.length;
            break;
          }
          ends[nf++] = comma;
          pos = comma + 1;
        }
        let same = false;
        if (last !== null && ti < nf) {
          const s = starts[ti];
          same = ends[ti] - s === last.length && line.startsWith(last, s);
        }
        if (!same) {
          const ticker = ti < nf ? line.slice(starts[ti], ends[ti]) : '';
          if (ticker !== last) {
            batch.tickers.push(ticker);
            batch.counts.push(0);
            batch.names.push(ni >= 0 && ni < nf ? line.slice(starts[ni], ends[ni]).trim() : '');
            last = ticker;
          }
        }
        batch.counts[batch.counts.length - 1]++;
        batch.dates[i] = parseDate(di < nf ? line.slice(starts[di], ends[di]) : undefined);
        batch.nums[o] = fieldNumber(line, oi, nf);
        batch.nums[o + 1] = fieldNumber(line, hi, nf);
        batch.nums[o + 2] = fieldNumber(line, li, nf);
        batch.nums[o + 3] = fieldNumber(line, ci, nf);
        batch.nums[o + 4] = fieldNumber(line, vi, nf);
        continue;
      }
      const rec = item as string[];
      const ticker = rec[ti] ?? '';
      if (ticker !== last) {
        batch.tickers.push(ticker);
        batch.counts.push(0);
        batch.names.push(ni >= 0 ? (rec[ni] ?? '').trim() : '');
        last = ticker;
      }
      batch.counts[batch.counts.length - 1]++;
      batch.dates[i] = parseDate(rec[di]);
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

  /** Field f of a plain line as parseNumber would convert it; plain decimals without a substring. */
  function fieldNumber(line: string, f: number, nf: number): number {
    if (f >= nf) return parseNumber(undefined);
    const v = parsePlainDecimal(line, starts[f], ends[f]);
    return v === v ? v : parseNumber(line.slice(starts[f], ends[f]));
  }
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
