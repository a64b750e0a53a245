import type { RowInput } from '../../store/index.js';

/** One site's way of getting a stock's daily rows; everything site-specific comes from its config. */
export interface SourceAdapter {
  /** Rows dated `from` or later, as published (unvalidated); `pages` counts documents fetched. */
  fetchRows(code: string, from: string): Promise<{ rows: RowInput[]; pages: number }>;
  close(): Promise<void>;
}
