import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import {
  ENTITIES_DIR,
  ENTITY_CODE_PATTERN,
  entityMetaSchema,
  type CatalogEntry,
  type CompanyRow,
  type EntityMeta,
  type PriceRow,
} from '@resemble/contracts';
import { checkAdjustment, type Adjustment } from './adjust.js';
import {
  clearIntent,
  commitEntry,
  getCompany,
  getEntry,
  listCompanies,
  listEntries,
  logPublishIntents,
  commitEntries,
  openCatalog,
  pendingPublishes,
  readDataVersion,
} from './catalog.js';
import {
  buildEntityFile,
  fsyncPath,
  publishFiles,
  rawDigest,
  RAW_DIGEST_KEY,
  readEntityContent,
  readEntityMetaTable,
  sha256File,
  summarizeEntityFile,
  tempPathFor,
  TEMP_FILE_PATTERN,
  type EntityBuild,
} from './entity-file.js';
import { dateOf, diffRows, type StoredOrNew } from './diff.js';
import { acquireWriterLock, isPidAlive } from './writer-lock.js';
import { catalogPath, entityPath, assertEntityCode, StoreError } from './paths.js';
import { readEntity } from './read.js';
import { WriteBatch, type Staged } from './write-batch.js';
import {
  applyCompanies,
  type ApplyCompaniesOptions,
  type ApplyCompaniesResult,
  type CompanyPatch,
} from './companies.js';
import { validateRows, type RejectedRow, type RowInput } from './validate.js';

/** Meta for a write: fields left out keep the stored value (or a default for a new entity). */
export interface WriteMeta {
  code: string;
  name?: string;
  market?: string;
  currency?: string;
}

export interface WriteOptions {
  /** merge (default): upsert rows by date, keep the others. replace: the rows become the whole history. */
  mode?: 'merge' | 'replace';
  /** Corporate actions to add (or overwrite, by ex-date); `prices` is rebuilt from raw × factors. */
  adjustments?: Adjustment[];
  /** Clock for validation and timestamps (tests). */
  now?: Date;
}

export interface WriteResult {
  code: string;
  /** True when a new file was published (and the data version changed). */
  changed: boolean;
  rowsAdded: number;
  rowsUpdated: number;
  rowsRemoved: number;
  rowsUnchanged: number;
  rejected: RejectedRow[];
  rowCount: number;
  sha256: string | null;
}

export interface ReconcileResult {
  tempFilesRemoved: number;
  entriesRepaired: string[];
  entriesRemoved: string[];
}

const DEFAULT_MARKET = 'UNKNOWN';
const DEFAULT_CURRENCY = 'UNKNOWN';

/**
 * The per-stock store under one DATA_DIR. One writer process per DATA_DIR at a time (import and scrape
 * are one-shot jobs); any number of readers, which open files read-only.
 */
export class Store {
  readonly dataDir: string;
  readonly entitiesDir: string;
  private readonly catalog: Database.Database;
  private readonly readonly: boolean;
  private readonly releaseLock: () => void = () => {};

  constructor(dataDir: string, opts: { readonly?: boolean } = {}) {
    this.dataDir = dataDir;
    this.entitiesDir = join(dataDir, ENTITIES_DIR);
    this.readonly = opts.readonly ?? false;
    if (this.readonly) {
      this.catalog = openCatalog(catalogPath(dataDir), true);
    } else {
      mkdirSync(this.entitiesDir, { recursive: true });
      this.releaseLock = acquireWriterLock(dataDir);
      try {
        this.catalog = openCatalog(catalogPath(dataDir));
        this.reconcile();
      } catch (err) {
        this.releaseLock();
        throw err;
      }
    }
  }

  close(): void {
    this.catalog.close();
    this.releaseLock();
  }

  private assertWritable(): void {
    if (this.readonly) throw new StoreError('store was opened read-only', 'readonly');
  }

  listCatalog(): CatalogEntry[] {
    return listEntries(this.catalog);
  }

  getCatalogEntry(code: string): CatalogEntry | undefined {
    return getEntry(this.catalog, code);
  }

  dataVersion(): string {
    return readDataVersion(this.catalog);
  }

  /** The company master, every row (listed, delisted, with or without prices), by code. */
  listCompanies(): CompanyRow[] {
    return listCompanies(this.catalog);
  }

  getCompany(code: string): CompanyRow | undefined {
    return getCompany(this.catalog, code);
  }

  /**
   * Updates the company master from a listing (names, sectors, segments, status) in one transaction,
   * without touching any price file; the data version changes only when some record's content does.
   */
  applyCompanies(patches: readonly CompanyPatch[], opts: ApplyCompaniesOptions): ApplyCompaniesResult {
    this.assertWritable();
    return applyCompanies(this.catalog, patches, opts);
  }

  /** Adjusted (default) or raw rows of one entity, optionally limited to [from, to]. */
  readEntity(code: string, opts: { from?: string; to?: string; raw?: boolean } = {}): PriceRow[] {
    return readEntity(this.dataDir, code, opts);
  }

  readAdjustments(code: string): Adjustment[] {
    const path = entityPath(this.dataDir, code);
    if (!existsSync(path)) throw new StoreError(`unknown entity ${code}`, 'unknown_entity');
    return readEntityContent(path).adjustments;
  }

  /**
   * Validates rows, and publishes a new entity file only when the stored content would change:
   * rebuilt from scratch in a temp file beside the old one, fsynced, renamed, then the catalog row and
   * data version are updated in one transaction.
   */
  writeEntity(meta: WriteMeta, rows: readonly RowInput[], opts: WriteOptions = {}): WriteResult {
    const batch = this.batch();
    try {
      const res = batch.add(meta, rows, opts);
      batch.commit();
      return res;
    } finally {
      batch.abort();
    }
  }

  /**
   * A batch of entity writes published together: one intent transaction, the renames, one directory
   * fsync and one catalog transaction for all of them (per-entity catalog commits cost ~10 fsyncs each).
   */
  batch(): WriteBatch {
    this.assertWritable();
    return new WriteBatch(this);
  }

  /** @internal Validates, diffs against the stored file and, when something changed, builds and hashes a temp file (fsynced at commit). */
  stageEntity(
    meta: WriteMeta,
    rows: readonly RowInput[],
    opts: WriteOptions = {},
  ): { result: WriteResult; staged: Staged | null } {
    this.assertWritable();
    assertEntityCode(meta.code);
    const now = opts.now ?? new Date();
    const mode = opts.mode ?? 'merge';
    for (const a of opts.adjustments ?? []) {
      const bad = checkAdjustment(a);
      if (bad) throw new StoreError(`${meta.code}: ${bad}`, 'invalid_adjustment');
    }
    const { good, rejected } = validateRows(rows, now);
    const path = entityPath(this.dataDir, meta.code);
    const exists = existsSync(path);
    if (exists && good.length > 0 && !opts.adjustments?.length) {
      const unchanged = this.unchangedByDigest(path, meta, good);
      if (unchanged) return { result: { ...unchanged, rowsUnchanged: good.length, rejected }, staged: null };
    }
    const old = exists ? readEntityContent(path) : null;

    const newMeta = {
      code: meta.code,
      name: meta.name ?? old?.meta.name ?? meta.code,
      market: meta.market ?? old?.meta.market ?? DEFAULT_MARKET,
      currency: meta.currency ?? old?.meta.currency ?? DEFAULT_CURRENCY,
    };
    const metaCheck = entityMetaSchema.safeParse(newMeta);
    if (!metaCheck.success) {
      throw new StoreError(
        `${meta.code}: invalid meta: ${metaCheck.error.issues.map((i) => i.message).join('; ')}`,
        'invalid_meta',
      );
    }

    const diff = old
      ? diffRows(old.raw, good, mode)
      : { added: good.length, updated: 0, unchanged: 0, removed: 0, rows: good as StoredOrNew[] };
    const { added: rowsAdded, updated: rowsUpdated, removed: rowsRemoved, unchanged: rowsUnchanged } = diff;
    const raw = diff.rows;

    const adjustments = mergeAdjustments(old?.adjustments ?? [], opts.adjustments ?? []);
    const adjustmentsChanged =
      !old ||
      adjustments.length !== old.adjustments.length ||
      adjustments.some(
        (a, i) =>
          a.exDate !== old.adjustments[i].exDate ||
          a.kind !== old.adjustments[i].kind ||
          a.factor !== old.adjustments[i].factor,
      );
    const metaChanged =
      !old ||
      old.meta.name !== newMeta.name ||
      old.meta.market !== newMeta.market ||
      old.meta.currency !== newMeta.currency;
    const rowsChanged = rowsAdded + rowsUpdated + rowsRemoved > 0;
    const entry = this.getCatalogEntry(meta.code);
    const result = (changed: boolean, sha: string | null): WriteResult => ({
      code: meta.code,
      changed,
      rowsAdded: changed ? rowsAdded : 0,
      rowsUpdated: changed ? rowsUpdated : 0,
      rowsRemoved: changed ? rowsRemoved : 0,
      rowsUnchanged,
      rejected,
      rowCount: changed ? raw.length : (old?.raw.length ?? 0),
      sha256: sha,
    });

    // An entity never has zero rows: a batch with nothing valid (or a replace with nothing) is refused.
    if (raw.length === 0) return { result: result(false, entry?.sha256 ?? null), staged: null };
    if (old && !rowsChanged && !adjustmentsChanged && !metaChanged && entry) {
      return { result: result(false, entry.sha256), staged: null };
    }

    const stamp = now.toISOString();
    const content: EntityBuild = {
      meta: { ...newMeta, updated_at: stamp },
      raw,
      adjustments,
    };
    const tmp = tempPathFor(path);
    let sha: string;
    try {
      buildEntityFile(tmp, content);
      sha = sha256File(tmp);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    const catalogEntry: CatalogEntry = {
      ...newMeta,
      first_date: dateOf(raw[0]),
      last_date: dateOf(raw[raw.length - 1]),
      row_count: raw.length,
      updated_at: stamp,
      sha256: sha,
    };
    return { result: result(true, sha), staged: { code: meta.code, tmp, path, entry: catalogEntry } };
  }

  /**
   * Fast no-op check: when the valid rows are exactly the stored raw rows (same digest) and the meta
   * would not change, the write changes nothing in either mode, and no row has to be read.
   */
  private unchangedByDigest(path: string, meta: WriteMeta, good: readonly RowInput[]): WriteResult | null {
    const stored = readEntityMetaTable(path);
    if (!stored[RAW_DIGEST_KEY]) return null;
    if (meta.name !== undefined && meta.name !== stored.name) return null;
    if (meta.market !== undefined && meta.market !== stored.market) return null;
    if (meta.currency !== undefined && meta.currency !== stored.currency) return null;
    const entry = this.getCatalogEntry(meta.code);
    if (!entry || entry.row_count !== good.length) return null;
    if (rawDigest(good) !== stored[RAW_DIGEST_KEY]) return null;
    return {
      code: meta.code,
      changed: false,
      rowsAdded: 0,
      rowsUpdated: 0,
      rowsRemoved: 0,
      rowsUnchanged: good.length,
      rejected: [],
      rowCount: entry.row_count,
      sha256: entry.sha256,
    };
  }

  /** @internal */
  publishStaged(staged: Staged[], opts: { synced?: boolean } = {}): void {
    if (staged.length === 0) return;
    // Each file must be on disk before its rename can be, or a power cut could publish a hole.
    if (!opts.synced) for (const s of staged) fsyncPath(s.tmp);
    const stamp = new Date().toISOString();
    logPublishIntents(
      this.catalog,
      staged.map((s) => ({ code: s.code, sha256: s.entry.sha256 })),
      stamp,
    );
    publishFiles(staged);
    commitEntries(
      this.catalog,
      staged.map((s) => ({ code: s.code, entry: s.entry })),
      stamp,
    );
  }

  /**
   * Brings the catalog in line with the files after a crash: removes temp files of dead writers,
   * rebuilds the catalog row of every entity with a pending publish, adds files the catalog lacks and
   * drops rows whose file is gone. `full` also re-hashes every file (slow on big stores).
   */
  reconcile(opts: { full?: boolean } = {}): ReconcileResult {
    this.assertWritable();
    const res: ReconcileResult = { tempFilesRemoved: 0, entriesRepaired: [], entriesRemoved: [] };
    const files = new Set<string>();
    for (const name of readdirSync(this.entitiesDir)) {
      const tmp = TEMP_FILE_PATTERN.exec(name);
      if (tmp) {
        if (!isPidAlive(Number(tmp[2]))) {
          rmSync(join(this.entitiesDir, name), { force: true });
          res.tempFilesRemoved++;
        }
        continue;
      }
      if (name.endsWith('.sqlite')) files.add(name.slice(0, -'.sqlite'.length));
    }
    const entries = new Map(this.listCatalog().map((e) => [e.code, e]));
    const suspects = new Set(pendingPublishes(this.catalog).map((p) => p.code));
    for (const code of files) if (!entries.has(code)) suspects.add(code);
    for (const code of entries.keys()) if (!files.has(code)) suspects.add(code);
    if (opts.full) for (const code of files) suspects.add(code);

    for (const code of [...suspects].sort()) {
      if (!ENTITY_CODE_PATTERN.test(code)) continue;
      const path = join(this.entitiesDir, `${code}.sqlite`);
      const stamp = new Date().toISOString();
      const current = entries.get(code);
      if (!files.has(code)) {
        commitEntry(this.catalog, code, null, stamp);
        if (current) res.entriesRemoved.push(code);
        continue;
      }
      const sha = sha256File(path);
      if (current && current.sha256 === sha) {
        clearIntent(this.catalog, code);
        continue;
      }
      const s = summarizeEntityFile(path);
      if (s.rowCount === 0 || !s.firstDate || !s.lastDate) {
        commitEntry(this.catalog, code, null, stamp);
        continue;
      }
      commitEntry(
        this.catalog,
        code,
        {
          code,
          name: s.meta.name ?? code,
          market: s.meta.market ?? DEFAULT_MARKET,
          currency: s.meta.currency ?? DEFAULT_CURRENCY,
          first_date: s.firstDate,
          last_date: s.lastDate,
          row_count: s.rowCount,
          updated_at: s.meta.updated_at ?? stamp,
          sha256: sha,
        },
        stamp,
      );
      res.entriesRepaired.push(code);
    }
    return res;
  }
}

function mergeAdjustments(old: readonly Adjustment[], added: readonly Adjustment[]): Adjustment[] {
  const byDate = new Map(old.map((a) => [a.exDate, a]));
  for (const a of added) byDate.set(a.exDate, { exDate: a.exDate, kind: a.kind, factor: a.factor });
  return [...byDate.values()].sort((a, b) => (a.exDate < b.exDate ? -1 : 1));
}

export function openStore(dataDir: string, opts: { readonly?: boolean } = {}): Store {
  return new Store(dataDir, opts);
}

/** One-shot write: opens the store, writes one entity, closes. */
export function upsertEntityRows(
  dataDir: string,
  meta: WriteMeta,
  rows: readonly RowInput[],
  opts: WriteOptions = {},
): WriteResult {
  const store = openStore(dataDir);
  try {
    return store.writeEntity(meta, rows, opts);
  } finally {
    store.close();
  }
}

export type { EntityMeta };
