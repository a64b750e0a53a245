/**
 * Reads a listing file into rows of cells with their line numbers: JPX's data_j.xls (a legacy Excel
 * 97-2003 BIFF8 workbook) or an .xlsx through SheetJS (decision 082), a CSV (UTF-8 or Shift_JIS, as
 * Japanese Excel saves it) through the importer's CSV reader.
 */
import { readFileSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import * as XLSX from '@e965/xlsx';
import { parse as parseCsv } from 'csv-parse/sync';
import { ImportError } from '../import/sources.js';

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

/**
 * Rows of a CSV listing in memory: UTF-8 (with or without BOM) or Shift_JIS (as Japanese Excel saves it),
 * comma- or tab-separated. Each row carries the line it starts on in the file, counting blank lines and
 * the line breaks inside quoted fields, so a refused row is reported where an editor shows it.
 */
export function csvTableRows(buf: Buffer, label: string): TableRow[] {
  if (buf.subarray(0, 4096).includes(0))
    throw new ImportError(`${label} is not a CSV or Excel file (binary content)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    text = new TextDecoder('shift_jis').decode(buf);
  }
  text = text.replace(/^\uFEFF/, '');
  const header = text.slice(0, text.search(/\r|\n|$/));
  const delimiter = header.includes('\t') && !header.includes(',') ? '\t' : ',';
  let records: { raw: string; record: string[] }[];
  try {
    // Empty lines are kept here (and dropped below) so that every line of the file is counted.
    records = parseCsv(text, {
      delimiter,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: false,
    }) as unknown as { raw: string; record: string[] }[];
  } catch (err) {
    throw new ImportError(`cannot read ${label} as CSV: ${(err as Error).message}`);
  }
  const out: TableRow[] = [];
  let line = 1;
  for (const { raw, record } of records) {
    if (record.some((c) => c.trim() !== '')) out.push({ line, cells: record });
    line += (raw.match(/\r\n|\r|\n/g) ?? []).length;
  }
  return out;
}

/** Every row of a listing file (small: a few thousand rows), the header first. */
export async function readListingTable(path: string): Promise<{ format: TableFormat; rows: TableRow[] }> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new ImportError(`cannot open ${path}: ${(err as Error).message}`);
  }
  if (buf.length === 0) throw new ImportError(`file is empty: ${path}`);
  const format = detectTableFormat(buf.subarray(0, 8));
  return { format, rows: format === 'csv' ? csvTableRows(buf, path) : workbookRows(buf, path) };
}
