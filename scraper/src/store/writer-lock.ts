import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const WRITER_LOCK_FILE = '.writer.lock';

/** Stores of this process holding each lock file (several Store objects may share a DATA_DIR). */
const holders = new Map<string, number>();

export function isPidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class WriterLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `${dataDir} is being written by another process (pid ${pid}); run one import or scrape at a time per DATA_DIR`,
    );
    this.name = 'WriterLockedError';
  }
}

/**
 * One writer process per DATA_DIR: two processes merging into the same entity would each publish a
 * file built from the old one, and the last rename would silently drop the other's rows. The lock is a
 * file holding the owner's pid, created exclusively; a lock whose process is gone (killed) is taken over.
 * Returns the release function.
 */
export function acquireWriterLock(dataDir: string): () => void {
  const path = join(dataDir, WRITER_LOCK_FILE);
  const held = holders.get(path) ?? 0;
  if (held === 0) {
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        let owner = Number.NaN;
        try {
          owner = Number(readFileSync(path, 'utf8').trim());
        } catch {
          // Removed in between: retry the create.
        }
        if (Number.isInteger(owner) && owner > 0 && isPidAlive(owner) && owner !== process.pid) {
          throw new WriterLockedError(dataDir, owner);
        }
        rmSync(path, { force: true });
      }
    }
  }
  holders.set(path, held + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (holders.get(path) ?? 1) - 1;
    if (left > 0) {
      holders.set(path, left);
      return;
    }
    holders.delete(path);
    rmSync(path, { force: true });
  };
}
