/**
 * Reads a listing file into rows of cells with their line numbers: JPX's data_j.xls (a legacy Excel
 * 97-2003 BIFF8 workbook) or an .xlsx through SheetJS (decision 082), a CSV (UTF-8 or Shift_JIS, as
 * Japanese Excel saves it) through the importer's CSV reader.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import * as XLSX from '@e965/xlsx';
import { csvBatches, ImportError } from '../import/sources.js';

export interface TableRow {
  /** 1-based line (CSV record) or spreadsheet row number, for error reports. */
  line: number;
  cells: unknown[];
}

export type TableFormat = 'xls' | 'xlsx' | 'csv';

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export function detectTableFormat(head: Buffer): TableFormat {
  if (head.length >= 8 && head.subarray(0, 8).equals(OLE_MAGIC)) return 'xls';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)
    return 'xlsx';
  return 'csv';
}

/** Rows of the first worksheet of a workbook in memory (a downloaded file or one read from disk). */
export function workbookRows(buf: Buffer, label: string): TableRow[] {
  let wb: XLSX.WorkBook;
  try {
    // dense: rows as arrays (less memory); cellDates off: JPX's 日付 is a plain number like 20190930.
    wb = XLSX.read(buf, {
      type: 'buffer',
      dense: true,
      cellDates: false,
      cellHTML: false,
      cellStyles: false,
    });
  } catch (err) {
    throw new ImportError(`cannot read ${label} as an Excel workbook: ${(err as Error).message}`);
  }
  const name = wb.SheetNames[0];
  const sheet = name === undefined ? undefined : wb.Sheets[name];
  if (!sheet || !sheet['!ref']) throw new ImportError(`${label} has no worksheet with data`);
  const range = XLSX.utils.decode_range(sheet['!ref']);
  const rows = XLSX.utils.sheet_to_json<unknown[]>(sheet, {
    header: 1,
    raw: true,
    defval: null,
    blankrows: true,
  });
  const out: TableRow[] = [];
  rows.forEach((cells, i) => {
    if (cells.every((c) => c === null || c === '')) return;
    out.push({ line: range.s.r + i + 1, cells });
  });
  return out;
}

/** Every row of a listing file (small: a few thousand rows), the header first. */
export async function readListingTable(path: string): Promise<{ format: TableFormat; rows: TableRow[] }> {
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      head = Buffer.alloc(8);
      const n = readSync(fd, head, 0, 8, 0);
      head = head.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new ImportError(`cannot open ${path}: ${(err as Error).message}`);
  }
  if (head.length === 0) throw new ImportError(`file is empty: ${path}`);
  const format = detectTableFormat(head);
  if (format !== 'csv') return { format, rows: workbookRows(readFileSync(path), path) };
  const rows: TableRow[] = [];
  let line = 0;
  for await (const batch of csvBatches(path, false, () => {})) {
    for (const cells of batch) rows.push({ line: ++line, cells });
  }
  return { format, rows };
}
