import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CATALOG_FILE, ENTITIES_DIR, RUNS_DIR } from '@resemble/contracts';
import { BlobStore, fsyncFile } from './blob-store.js';
import { baseFromArchive, busyboxBase, OCI_LAYER_TAR, type ImageLayer } from './base-image.js';
import { DEFAULT_SHARDS, shardOf } from './shard.js';
import { checkStore, sha256File, type CheckedStore } from './store-check.js';
import { writeTar, type LayerEntry } from './tar-layer.js';

export const PUBLISH_SCRIPT = resolve(import.meta.dirname, '../image/resemble-data-publish.sh');
export const PUBLISH_SCRIPT_IN_IMAGE = 'usr/local/bin/resemble-data-publish';
export const LABEL_PREFIX = 'io.resemble.data';
/** The publish script runs as nobody; it owns the volume mount point so a fresh named volume is writable. */
export const RUN_AS = { uid: 65534, gid: 65534 };
export const VOLUME_MOUNT = 'srv/market/';

export interface BuildOptions {
  dataDir: string;
  /** The docker-load-able archive to write (an OCI layout plus Docker's manifest.json, in one tar). */
  out: string;
  /** The OCI image layout directory; defaults to the archive path with `.tar` replaced by `.oci`. */
  layout?: string;
  /** Image tag; defaults to `<last date>-<data version prefix>`, which sorts by date for retention. */
  tag?: string;
  repository?: string;
  shards?: number;
  /** Base image archive (docker-archive or OCI archive); without it, the busybox-static binary is used. */
  base?: string;
  busybox?: string;
  /** RFC 3339 creation time; defaults to SOURCE_DATE_EPOCH, else the data's last date. */
  created?: string;
}

export interface BuildResult {
  archive: string;
  layout: string;
  tag: string;
  reference: string;
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; size: number; createdBy: string }[];
  labels: Record<string, string>;
  store: CheckedStore;
}

const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A data version as a path- and tag-safe token. */
export function imageVersion(store: Pick<CheckedStore, 'lastDate' | 'dataVersion'>): string {
  const v = store.dataVersion.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 12);
  return `${store.lastDate ?? 'empty'}-${v}`;
}

function createdTime(opts: BuildOptions, store: CheckedStore): string {
  if (opts.created) return new Date(opts.created).toISOString();
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return store.lastDate ? `${store.lastDate}T00:00:00.000Z` : new Date(0).toISOString();
}

function dataLayerEntries(files: { name: string; path: string }[], extra: LayerEntry[] = []): LayerEntry[] {
  const entries: LayerEntry[] = files.map((f) => ({ type: 'file', name: f.name, source: { path: f.path } }));
  entries.push(...extra);
  const names = new Set(entries.map((e) => e.name));
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  for (const d of dirs) if (!names.has(d)) entries.push({ type: 'directory', name: d });
  return entries;
}

async function dataLayers(
  store: CheckedStore,
  shards: number,
  blobs: BlobStore,
  version: string,
): Promise<ImageLayer[]> {
  const layers: ImageLayer[] = [];
  const groups = Array.from({ length: shards }, () => [] as { name: string; path: string }[]);
  for (const e of store.entities) {
    groups[shardOf(e.code, shards)].push({ name: `data/${ENTITIES_DIR}/${e.code}.sqlite`, path: e.path });
  }
  for (const [i, files] of groups.entries()) {
    // An empty shard adds no layer: a tar of bare directories would repeat the same digest.
    if (files.length === 0) continue;
    const blob = await blobs.putTar(dataLayerEntries(files));
    layers.push({
      ...blob,
      diffId: blob.digest,
      mediaType: OCI_LAYER_TAR,
      createdBy: `resemble-data: entity shard ${i}/${shards} (${files.length} files)`,
    });
  }
  const catalogPath = join(store.dataDir, CATALOG_FILE);
  const catalogSha = await sha256File(catalogPath);
  const files = [
    { name: `data/${CATALOG_FILE}`, path: catalogPath },
    ...store.runs.map((r) => ({ name: `data/${RUNS_DIR}/${r}`, path: join(store.dataDir, RUNS_DIR, r) })),
  ];
  const meta: LayerEntry[] = [
    { type: 'file', name: 'etc/resemble-data/version', source: { content: Buffer.from(`${version}\n`) } },
    {
      type: 'file',
      name: 'etc/resemble-data/catalog.sha256',
      source: { content: Buffer.from(`${catalogSha}\n`) },
    },
    { type: 'directory', name: `data/${ENTITIES_DIR}/` },
  ];
  const blob = await blobs.putTar(dataLayerEntries(files, meta));
  layers.push({
    ...blob,
    diffId: blob.digest,
    mediaType: OCI_LAYER_TAR,
    createdBy: 'resemble-data: catalog and run reports',
  });
  return layers;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The archive: every file of the layout, plus Docker's manifest.json so older `docker load` accepts it. */
async function writeArchive(layout: string, dockerManifest: Buffer, out: string): Promise<void> {
  const blobNames = readdirSync(join(layout, 'blobs', 'sha256')).filter((n) => !n.startsWith('.'));
  const entries: LayerEntry[] = [
    { type: 'file', name: 'oci-layout', source: { path: join(layout, 'oci-layout') } },
    { type: 'file', name: 'index.json', source: { path: join(layout, 'index.json') } },
    { type: 'file', name: 'manifest.json', source: { content: dockerManifest } },
    { type: 'directory', name: 'blobs/' },
    { type: 'directory', name: 'blobs/sha256/' },
    ...blobNames.map((n): LayerEntry => ({
      type: 'file',
      name: `blobs/sha256/${n}`,
      source: { path: join(layout, 'blobs', 'sha256', n) },
    })),
  ];
  await writeTar(entries, out);
  fsyncFile(out);
}

/** Replaces a directory with a finished one; the old one is moved aside first and removed after. */
function swapDirectory(tmp: string, final: string): void {
  if (!existsSync(final)) {
    renameSync(tmp, final);
    return;
  }
  const old = `${final}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

export async function buildDataImage(opts: BuildOptions): Promise<BuildResult> {
  const shards = opts.shards ?? DEFAULT_SHARDS;
  const repository = opts.repository ?? 'resemble-data';
  const archive = resolve(opts.out);
  const layout = resolve(opts.layout ?? archive.replace(/\.tar$/, '') + '.oci');
  if (layout === archive) throw new Error('--layout must differ from --out');

  const store = await checkStore(resolve(opts.dataDir));
  const version = imageVersion(store);
  const tag = opts.tag ?? version;
  if (!TAG_PATTERN.test(tag)) throw new Error(`tag "${tag}" is not a valid image tag (${TAG_PATTERN})`);

  mkdirSync(dirname(archive), { recursive: true });
  mkdirSync(dirname(layout), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpLayout = join(dirname(layout), `.${basename(layout)}.tmp-${suffix}`);
  const tmpArchive = join(dirname(archive), `.${basename(archive)}.tmp-${suffix}`);
  try {
    const blobs = new BlobStore(tmpLayout);
    const base = opts.base
      ? await baseFromArchive(opts.base, blobs)
      : await busyboxBase(opts.busybox ?? '/bin/busybox', blobs);
    const toolsBlob = await blobs.putTar([
      { type: 'directory', name: 'usr/' },
      { type: 'directory', name: 'usr/local/' },
      { type: 'directory', name: 'usr/local/bin/' },
      { type: 'file', name: PUBLISH_SCRIPT_IN_IMAGE, mode: 0o755, source: { path: PUBLISH_SCRIPT } },
      { type: 'directory', name: 'srv/' },
      { type: 'directory', name: VOLUME_MOUNT, uid: RUN_AS.uid, gid: RUN_AS.gid },
    ]);
    const tools: ImageLayer = {
      ...toolsBlob,
      diffId: toolsBlob.digest,
      mediaType: OCI_LAYER_TAR,
      createdBy: 'resemble-data: publish script',
    };
    const layers = [...base.layers, tools, ...(await dataLayers(store, shards, blobs, version))];

    const created = createdTime(opts, store);
    const labels: Record<string, string> = {
      ...base.labels,
      'org.opencontainers.image.title': 'resemble-data',
      'org.opencontainers.image.description':
        'Resemble market data store (catalog + one SQLite file per stock) at /data',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.created': created,
      [`${LABEL_PREFIX}.version`]: store.dataVersion,
      [`${LABEL_PREFIX}.schema-version`]: String(store.schemaVersion),
      [`${LABEL_PREFIX}.first-date`]: store.firstDate ?? '',
      [`${LABEL_PREFIX}.last-date`]: store.lastDate ?? '',
      [`${LABEL_PREFIX}.entity-count`]: String(store.entities.length),
      [`${LABEL_PREFIX}.shards`]: String(shards),
    };
    const config = json({
      created,
      architecture: base.architecture,
      os: base.os,
      config: {
        Env: base.env,
        Cmd: [`/${PUBLISH_SCRIPT_IN_IMAGE}`],
        User: `${RUN_AS.uid}:${RUN_AS.gid}`,
        WorkingDir: '/',
        Volumes: { '/data': {} },
        Labels: labels,
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((l) => ({ created, created_by: l.createdBy })),
    });
    const configBlob = blobs.putBytes(config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configBlob.digest,
        size: configBlob.size,
      },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    });
    const manifestBlob = blobs.putBytes(manifest);
    const reference = `${repository}:${tag}`;
    writeFileSync(join(tmpLayout, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(tmpLayout, 'index.json'),
      json({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manifestBlob.digest,
            size: manifestBlob.size,
            annotations: { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    const blobPath = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
    const dockerManifest = json([
      {
        Config: blobPath(configBlob.digest),
        RepoTags: [reference],
        Layers: layers.map((l) => blobPath(l.digest)),
      },
    ]);
    await writeArchive(tmpLayout, dockerManifest, tmpArchive);
    renameSync(tmpArchive, archive);
    swapDirectory(tmpLayout, layout);
    return {
      archive,
      layout,
      tag,
      reference,
      manifestDigest: manifestBlob.digest,
      configDigest: configBlob.digest,
      layers: layers.map((l) => ({ digest: l.digest, size: l.size, createdBy: l.createdBy })),
      labels,
      store,
    };
  } finally {
    rmSync(tmpLayout, { recursive: true, force: true });
    rmSync(tmpArchive, { force: true });
  }
}
