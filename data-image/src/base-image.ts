import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { BlobStore } from './blob-store.js';
import { parentDirs, type LayerEntry } from './tar-layer.js';

export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageLayer {
  digest: string;
  size: number;
  /** Digest of the uncompressed tar (equal to digest for uncompressed layers). */
  diffId: string;
  mediaType: string;
  createdBy: string;
}

export interface BaseImage {
  architecture: string;
  os: string;
  env: string[];
  labels: Record<string, string>;
  layers: ImageLayer[];
  description: string;
}

/** Node's process.arch → the OCI (Go) architecture name. */
export function ociArch(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return map[arch] ?? arch;
}

const ETC_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const ETC_GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/**
 * A busybox base layer from the distribution's static busybox (Debian busybox-static): the binary at
 * /bin/busybox plus one symlink per applet, the same shape as the official busybox image.
 */
export async function busyboxBase(busyboxPath: string, blobs: BlobStore): Promise<BaseImage> {
  if (!existsSync(busyboxPath) || !statSync(busyboxPath).isFile()) {
    throw new Error(
      `busybox binary not found at ${busyboxPath} (install busybox-static, or pass --base IMAGE.tar)`,
    );
  }
  const applets = execFileSync(busyboxPath, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s !== 'bin/busybox');
  const version = execFileSync(busyboxPath, [], { encoding: 'utf8' }).split('\n')[0].trim();
  const entries: LayerEntry[] = [
    { type: 'file', name: 'bin/busybox', mode: 0o755, source: { path: busyboxPath } },
    ...applets.map((name): LayerEntry => ({ type: 'symlink', name, target: '/bin/busybox' })),
    { type: 'file', name: 'etc/passwd', source: { content: Buffer.from(ETC_PASSWD) } },
    { type: 'file', name: 'etc/group', source: { content: Buffer.from(ETC_GROUP) } },
    { type: 'directory', name: 'tmp/', mode: 0o1777 },
    { type: 'directory', name: 'root/', mode: 0o700 },
    { type: 'directory', name: 'var/' },
  ];
  const explicit = new Set(entries.map((e) => e.name));
  entries.push(...parentDirs(entries.map((e) => e.name)).filter((d) => !explicit.has(d.name)));
  const blob = await blobs.putTar(entries);
  return {
    architecture: ociArch(),
    os: 'linux',
    env: [DEFAULT_PATH_ENV],
    labels: {},
    description: version,
    layers: [
      {
        ...blob,
        diffId: blob.digest,
        mediaType: OCI_LAYER_TAR,
        createdBy: `busybox-static base: ${version}`,
      },
    ],
  };
}

/** Every regular member of a tar archive, in memory by name (base images are a few MB). */
async function readArchive(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (h.type === 'file') files.set(h.name.replace(/^\.\//, ''), Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(createReadStream(path), extract);
  return files;
}

function member(files: Map<string, Buffer>, name: string, archive: string): Buffer {
  const b = files.get(name.replace(/^\.\//, ''));
  if (!b) throw new Error(`${archive}: member ${name} is missing`);
  return b;
}

function isGzip(b: Buffer): boolean {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

interface ImageConfigJson {
  architecture?: string;
  os?: string;
  config?: { Env?: string[]; Labels?: Record<string, string> | null };
  rootfs?: { diff_ids?: string[] };
  history?: { created_by?: string; empty_layer?: boolean }[];
}

/**
 * A base image from an archive made by `docker save`, `skopeo copy … docker-archive:` or
 * `skopeo copy … oci-archive:`. Layers are copied byte for byte, so they keep their upstream digests.
 */
export async function baseFromArchive(archive: string, blobs: BlobStore): Promise<BaseImage> {
  if (!existsSync(archive)) throw new Error(`base image archive ${archive} not found`);
  const files = await readArchive(archive);
  let configBytes: Buffer;
  let layerNames: string[];
  if (files.has('manifest.json')) {
    const manifest = JSON.parse(member(files, 'manifest.json', archive).toString('utf8')) as {
      Config: string;
      Layers: string[];
    }[];
    if (!Array.isArray(manifest) || manifest.length !== 1) {
      throw new Error(`${archive}: manifest.json must describe exactly one image`);
    }
    configBytes = member(files, manifest[0].Config, archive);
    layerNames = manifest[0].Layers;
  } else if (files.has('index.json')) {
    const index = JSON.parse(member(files, 'index.json', archive).toString('utf8')) as {
      manifests?: { digest: string }[];
    };
    if (index.manifests?.length !== 1)
      throw new Error(`${archive}: index.json must list exactly one manifest`);
    const blob = (d: string) => member(files, `blobs/${d.replace(':', '/')}`, archive);
    const m = JSON.parse(blob(index.manifests[0].digest).toString('utf8')) as {
      config?: { digest: string };
      layers?: { digest: string }[];
    };
    if (!m.config || !m.layers) {
      throw new Error(
        `${archive}: holds a multi-platform index; copy one platform first (skopeo copy --override-arch …)`,
      );
    }
    configBytes = blob(m.config.digest);
    layerNames = m.layers.map((l) => `blobs/${l.digest.replace(':', '/')}`);
  } else {
    throw new Error(`${archive}: neither a docker-archive (manifest.json) nor an OCI archive (index.json)`);
  }
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfigJson;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layerNames.length) {
    throw new Error(
      `${archive}: the config lists ${diffIds.length} diff_ids for ${layerNames.length} layers`,
    );
  }
  const history = (config.history ?? []).filter((h) => !h.empty_layer);
  const layers = layerNames.map((name, i): ImageLayer => {
    const bytes = member(files, name, archive);
    return {
      ...blobs.putBytes(bytes),
      diffId: diffIds[i],
      mediaType: isGzip(bytes) ? OCI_LAYER_TAR_GZIP : OCI_LAYER_TAR,
      createdBy: history[i]?.created_by ?? `base layer ${i}`,
    };
  });
  return {
    architecture: config.architecture ?? ociArch(),
    os: config.os ?? 'linux',
    env: config.config?.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    labels: config.config?.Labels ?? {},
    description: `base image from ${archive}`,
    layers,
  };
}
