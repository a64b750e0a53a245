import ExcelJS from 'exceljs';
import { ImportError, type RecordBatch } from './sources.js';

/**
 * Rows of the first worksheet, streamed. Styles are cached so date-formatted cells arrive as Date
 * objects rather than bare serial numbers.
 */
export async function* xlsxBatches(path: string, onRows: (n: number) => void): AsyncGenerator<RecordBatch> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
  });
  let sheetSeen = false;
  try {
    for await (const sheet of reader) {
      if (sheetSeen) break;
      sheetSeen = true;
      let batch: unknown[][] = [];
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        const values = row.values as unknown[];
        const rec: unknown[] = [];
        for (let i = 1; i < values.length; i++) rec.push(values[i]);
        if (rec.every((v) => v === undefined || v === null || v === '')) continue;
        batch.push(rec);
        if (batch.length >= 5000) {
          onRows(batch.length);
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) {
        onRows(batch.length);
        yield batch;
      }
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`cannot read ${path} as XLSX: ${(err as Error).message}`);
  }
  if (!sheetSeen) throw new ImportError(`${path} has no worksheet`);
}
