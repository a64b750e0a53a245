import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeFileSync,
  existsSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeTar, type LayerEntry, type WrittenBlob } from './tar-layer.js';

export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Content-addressed blobs of an OCI image layout (`blobs/sha256/<hex>`); each is written, fsynced, renamed. */
export class BlobStore {
  readonly dir: string;
  constructor(layoutDir: string) {
    this.dir = join(layoutDir, 'blobs', 'sha256');
    mkdirSync(this.dir, { recursive: true });
  }

  path(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex)) throw new Error(`unsupported digest ${digest}`);
    return join(this.dir, hex);
  }

  private tempPath(): string {
    return join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  private commit(tmp: string, blob: WrittenBlob): WrittenBlob {
    fsyncFile(tmp);
    const final = this.path(blob.digest);
    if (existsSync(final)) rmSync(tmp);
    else renameSync(tmp, final);
    return blob;
  }

  async putTar(entries: LayerEntry[]): Promise<WrittenBlob> {
    const tmp = this.tempPath();
    try {
      return this.commit(tmp, await writeTar(entries, tmp));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  putBytes(bytes: Buffer): WrittenBlob {
    const tmp = this.tempPath();
    writeFileSync(tmp, bytes);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return this.commit(tmp, { digest, size: bytes.length });
  }
}
