import type { RejectedRow, RowInput } from '../store/index.js';

/** Above this many buffered rows of an ungrouped file, every buffered entity is flushed. */
const UNGROUPED_FLUSH_ROWS = 1_000_000;

/** Compact key of an already validated YYYY-MM-DD date (char-code arithmetic, no slicing). */
export function dayKey(iso: string): number {
  let k = 0;
  for (let i = 0; i < 10; i++) if (i !== 4 && i !== 7) k = k * 10 + (iso.charCodeAt(i) - 48);
  return k;
}

/**
 * Groups a stream of rows by ticker. Files grouped by ticker (the usual layout) are flushed one
 * ticker at a time, so only one ticker sits in memory; when a ticker shows up again, the rest of the
 * file is buffered per ticker and flushed in bulk. A date already flushed for a ticker earlier in the
 * file is a duplicate: `onDuplicate` reports it and the row is dropped.
 */
export class TickerGrouper {
  private grouped = true;
  private current = '';
  private rows: RowInput[] = [];
  private readonly buffered = new Map<string, RowInput[]>();
  private bufferedCount = 0;
  /** Dates flushed per ticker, as day keys (4 bytes a row instead of the row objects). */
  private readonly flushedDates = new Map<string, Int32Array>();

  constructor(
    private readonly onFlush: (ticker: string, rows: RowInput[]) => { rejected: RejectedRow[] },
    private readonly onDuplicate: (ticker: string, date: string) => void,
    private readonly onUngrouped: (ticker: string) => void = () => {},
  ) {}

  /** Makes `ticker` the ticker of the following rows. */
  switchTo(ticker: string): void {
    if (ticker === this.current) return;
    if (this.grouped) {
      this.flush(this.current, this.rows);
      if (this.flushedDates.has(ticker)) {
        this.grouped = false;
        this.onUngrouped(ticker);
      }
      this.rows = [];
    }
    this.current = ticker;
    if (!this.grouped) {
      let rows = this.buffered.get(ticker);
      if (!rows) this.buffered.set(ticker, (rows = []));
      this.rows = rows;
    }
  }

  push(row: RowInput): void {
    this.rows.push(row);
    if (!this.grouped && ++this.bufferedCount >= UNGROUPED_FLUSH_ROWS) {
      this.flushBuffered();
      this.rows = [];
      this.buffered.set(this.current, this.rows);
    }
  }

  finish(): void {
    if (this.grouped) this.flush(this.current, this.rows);
    else this.flushBuffered();
    this.rows = [];
  }

  private flushBuffered(): void {
    for (const [t, rows] of this.buffered) this.flush(t, rows);
    this.buffered.clear();
    this.bufferedCount = 0;
  }

  private flush(ticker: string, rows: RowInput[]): void {
    if (rows.length === 0) return;
    const previous = this.flushedDates.get(ticker);
    let toWrite = rows;
    if (previous) {
      const earlier = new Set(previous);
      toWrite = [];
      for (const r of rows) {
        if (earlier.has(dayKey(r.date))) this.onDuplicate(ticker, r.date);
        else toWrite.push(r);
      }
    }
    const { rejected } = this.onFlush(ticker, toWrite);
    // Dates of rows refused for their values are free for a later valid row; a duplicate's date is taken.
    const refused = new Set(rejected.filter((r) => r.reason !== 'duplicate_date').map((r) => r.date));
    const keys = new Int32Array((previous?.length ?? 0) + toWrite.length);
    if (previous) keys.set(previous);
    let k = previous?.length ?? 0;
    for (const r of toWrite) if (refused.size === 0 || !refused.has(r.date)) keys[k++] = dayKey(r.date);
    if (k === 0) return;
    this.flushedDates.set(ticker, keys.subarray(0, k));
  }
}
