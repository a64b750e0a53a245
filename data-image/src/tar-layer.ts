import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/**
 * Fixed metadata for every entry: the same bytes in give the same layer digest whatever the build machine,
 * its clock, umask or user. mtime is a constant (not the data date) so an unchanged shard keeps its digest
 * from one daily build to the next.
 */
export const FIXED_MTIME = new Date(0);

export type LayerEntry =
  | { type: 'directory'; name: string; mode?: number; uid?: number; gid?: number }
  | { type: 'file'; name: string; mode?: number; source: { path: string } | { content: Buffer } }
  | { type: 'symlink'; name: string; target: string };

export interface WrittenBlob {
  digest: string;
  size: number;
}

/** Sha256 and size of everything that flows through, for writing a blob and naming it in one pass. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.push(chunk);
    done();
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

type PackHeader = Parameters<tar.Pack['entry']>[0];

function header(entry: LayerEntry): PackHeader {
  const common = { name: entry.name, mtime: FIXED_MTIME, uid: 0, gid: 0, uname: '', gname: '' };
  if (entry.type === 'directory') {
    return {
      ...common,
      type: 'directory',
      mode: entry.mode ?? 0o755,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
    };
  }
  if (entry.type === 'symlink') return { ...common, type: 'symlink', mode: 0o777, linkname: entry.target };
  const size = 'path' in entry.source ? statSync(entry.source.path).size : entry.source.content.length;
  return { ...common, type: 'file', mode: entry.mode ?? 0o644, size };
}

async function addEntry(pack: tar.Pack, entry: LayerEntry): Promise<void> {
  const h = header(entry);
  if (entry.type !== 'file') {
    await new Promise<void>((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
    return;
  }
  if ('content' in entry.source) {
    const content = entry.source.content;
    await new Promise<void>((resolve, reject) =>
      pack.entry(h, content, (err) => (err ? reject(err) : resolve())),
    );
    return;
  }
  const path = entry.source.path;
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
    pipeline(createReadStream(path), sink).catch(reject);
  });
}

/**
 * Writes an uncompressed tar of `entries` to `outPath`, sorted by name, and returns its digest. Parent
 * directories must be listed explicitly (they are part of the layer, with fixed metadata).
 */
export async function writeTar(entries: LayerEntry[], outPath: string): Promise<WrittenBlob> {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new Error(`duplicate tar entry ${sorted[i].name}`);
  }
  const pack = tar.pack();
  const digest = new DigestStream();
  const done = pipeline(pack, digest, createWriteStream(outPath));
  try {
    for (const entry of sorted) await addEntry(pack, entry);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  await done;
  return { digest: digest.digest(), size: digest.size };
}

/** `a/b/c` → directory entries `a/`, `a/b/` (the parents a layer needs for a file at that path). */
export function parentDirs(paths: string[]): LayerEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  return [...dirs].map((name) => ({ type: 'directory', name }));
}
