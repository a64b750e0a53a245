import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CatalogEntry } from '@resemble/contracts';
import type { Store, WriteMeta, WriteOptions, WriteResult } from './store.js';
import type { RowInput } from './validate.js';

/** @internal An entity file built and hashed, waiting to be published. */
export interface Staged {
  code: string;
  tmp: string;
  path: string;
  entry: CatalogEntry;
}

/**
 * Collects staged entity files and publishes them together on commit(). The same code twice in one
 * batch first publishes what is staged, so the second write sees the first.
 */
export class WriteBatch {
  private staged: Staged[] = [];
  constructor(private readonly store: Store) {}

  get size(): number {
    return this.staged.length;
  }

  add(meta: WriteMeta, rows: readonly RowInput[], opts: WriteOptions = {}): WriteResult {
    if (this.staged.some((s) => s.code === meta.code)) this.commit();
    const { result, staged } = this.store.stageEntity(meta, rows, opts);
    if (staged) this.staged.push(staged);
    return result;
  }

  commit(): void {
    const staged = this.staged;
    this.staged = [];
    try {
      this.store.publishStaged(staged);
    } catch (err) {
      for (const s of staged) rmSync(s.tmp, { force: true });
      throw err;
    }
  }

  /**
   * commit() with the temp files fsynced concurrently on libuv's thread pool: the device can then
   * flush many files at once instead of one fsync round trip after another.
   */
  async commitAsync(): Promise<void> {
    const staged = this.staged;
    this.staged = [];
    try {
      await Promise.all(staged.map((s) => fsyncFileAsync(s.tmp)));
      this.store.publishStaged(staged, { synced: true });
    } catch (err) {
      for (const s of staged) rmSync(s.tmp, { force: true });
      throw err;
    }
  }

  /** Drops staged files that were not committed (safe to call after commit). */
  abort(): void {
    for (const s of this.staged) rmSync(s.tmp, { force: true });
    this.staged = [];
  }
}

async function fsyncFileAsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
