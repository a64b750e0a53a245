import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { TextDecoder } from 'node:util';
import type { Readable } from 'node:stream';
import { parse as parseCsvSync } from 'csv-parse/sync';

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export type FileKind = 'csv' | 'csv.gz' | 'xlsx';

/** A batch of records; the first record of the first batch is the header row. */
export type RecordBatch = unknown[][];

/** Decides the format from the first bytes, not the extension: users rename files. */
export function detectKind(path: string): FileKind {
  if (!existsSync(path)) throw new ImportError(`file not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw new ImportError(`not a regular file: ${path}`);
  if (st.size === 0) throw new ImportError(`file is empty: ${path}`);
  const head = Buffer.alloc(8);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'csv.gz';
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'xlsx';
  return 'csv';
}

/**
 * CSV records in batches. Plain lines are split by hand because csv-parse alone tops out near 270 k
 * rows/s here; any line with a quote goes through csv-parse (joined with following lines while its
 * quotes are unbalanced, for fields with embedded newlines). UTF-8 (with or without BOM) or Shift_JIS,
 * as Japanese Excel saves CSV.
 */
export function csvBatches(path: string, gz: boolean, onBytes: (n: number) => void): AsyncGenerator<RecordBatch> {
  return csvLineBatches(path, gz, onBytes, false) as AsyncGenerator<RecordBatch>;
}

/**
 * Like csvBatches, but with `unsplit` a plain line (no quote) comes as the string itself, so a caller
 * that scans fields in place does not allocate a string per field; quoted records are still arrays.
 */
export async function* csvLineBatches(
  path: string,
  gz: boolean,
  onBytes: (n: number) => void,
  unsplit: boolean,
): AsyncGenerator<(unknown[] | string)[]> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  file.on('data', (c) => onBytes(c.length));
  const input: Readable = gz ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file;
  if (gz) file.on('error', (e) => input.destroy(e));
  let decoder: TextDecoder | null = null;
  let delimiter = ',';
  let rest = '';
  let pendingQuoted = '';
  let first = true;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (!decoder) {
        if (chunk.subarray(0, 4096).includes(0))
          throw new ImportError(`${path} is not a CSV or XLSX file (binary content)`);
        decoder = new TextDecoder('utf-8', { fatal: true });
        try {
          decoder.decode(chunk, { stream: true });
          decoder = new TextDecoder('utf-8');
        } catch {
          decoder = new TextDecoder('shift_jis');
        }
      }
      let text = rest + decoder.decode(chunk, { stream: true });
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        const nl = text.indexOf('\n');
        const headerLine = nl === -1 ? text : text.slice(0, nl);
        if (headerLine.includes('\t') && !headerLine.includes(',')) delimiter = '\t';
        first = false;
      }
      const lastNl = text.lastIndexOf('\n');
      if (lastNl === -1) {
        rest = text;
        continue;
      }
      rest = text.slice(lastNl + 1);
      const batch: (unknown[] | string)[] = [];
      const body = text.slice(0, lastNl);
      // One scan per chunk instead of one per line: chunks without any quote skip the per-line check.
      const quoted = pendingQuoted !== '' || body.includes('"');
      const lines = body.split('\n');
      for (let line of lines) {
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
        if (quoted && (pendingQuoted !== '' || line.includes('"'))) {
          pendingQuoted = pendingQuoted === '' ? line : `${pendingQuoted}\n${line}`;
          if (countQuotes(pendingQuoted) % 2 === 0) {
            batch.push(
              ...(parseCsvSync(pendingQuoted, { delimiter, relax_column_count: true }) as string[][]),
            );
            pendingQuoted = '';
          }
          continue;
        }
        if (line === '') continue;
        batch.push(unsplit && delimiter === ',' ? line : line.split(delimiter));
      }
      if (batch.length > 0) yield batch;
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const tail = (pendingQuoted === '' ? '' : `${pendingQuoted}\n`) + rest + (decoder ? decoder.decode() : '');
  if (tail.trim() !== '') {
    try {
      const recs = parseCsvSync(tail, {
        delimiter,
        relax_column_count: true,
        skip_empty_lines: true,
      }) as string[][];
      if (recs.length > 0) yield recs;
    } catch (err) {
      throw new ImportError(`cannot parse the end of ${path}: ${(err as Error).message}`);
    }
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}
