import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataImage, type BuildResult } from '../src/build.js';
import { shardOf } from '../src/shard.js';
import { appendDay, codesFor, makeStore } from './support/store-fixture.js';
import { run, sha256, skopeoConfig, skopeoInspect } from './support/tools.js';

const CODES = codesFor(40);
let root: string;
let data: string;
let first: BuildResult;
let second: BuildResult;
let next: BuildResult;
const CHANGED = CODES[7];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'data-image-'));
  data = join(root, 'data');
  makeStore(data, CODES);
  first = await buildDataImage({ dataDir: data, out: join(root, 'a', 'img.tar'), tag: 'test' });
  second = await buildDataImage({ dataDir: data, out: join(root, 'b', 'img.tar'), tag: 'test' });
  const data2 = join(root, 'data2');
  makeStore(data2, CODES);
  appendDay(data2, CHANGED);
  next = await buildDataImage({ dataDir: data2, out: join(root, 'c', 'img.tar'), tag: 'test' });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('data image builder', () => {
  it('writes an OCI layout that skopeo reads, with the data labels and the /data volume', () => {
    const info = skopeoInspect(`oci:${first.layout}:test`);
    expect(info.Digest).toBe(first.manifestDigest);
    expect(info.Os).toBe('linux');
    expect(info.Labels['io.resemble.data.entity-count']).toBe(String(CODES.length));
    expect(info.Labels['io.resemble.data.first-date']).toBe('2020-01-01');
    expect(info.Labels['io.resemble.data.last-date']).toBe(first.store.lastDate);
    expect(info.Labels['io.resemble.data.version']).toBe(first.store.dataVersion);
    expect(info.Layers).toEqual(first.layers.map((l) => l.digest));
    const config = skopeoConfig(`oci:${first.layout}:test`);
    expect(Object.keys(config.config.Volumes)).toEqual(['/data']);
    expect(config.config.Cmd).toEqual(['/usr/local/bin/resemble-data-publish']);
    expect(config.config.User).toBe('65534:65534');
  });

  it('writes one archive that skopeo reads both as docker-archive (docker load) and as OCI archive', () => {
    const asDocker = skopeoInspect(`docker-archive:${first.archive}`);
    expect(asDocker.Layers).toEqual(first.layers.map((l) => l.digest));
    expect(asDocker.Labels['io.resemble.data.entity-count']).toBe(String(CODES.length));
    expect(skopeoInspect(`oci-archive:${first.archive}:test`).Digest).toBe(first.manifestDigest);
    const copied = join(root, 'copied.tar');
    run('skopeo', [
      'copy',
      '--quiet',
      `oci:${first.layout}:test`,
      `docker-archive:${copied}:resemble-data:test`,
    ]);
    expect(skopeoInspect(`docker-archive:${copied}`).Layers).toEqual(first.layers.map((l) => l.digest));
  });

  it('unpacks with umoci into a rootfs with busybox and the store byte for byte under /data', () => {
    const bundle = join(root, 'bundle');
    run('umoci', ['unpack', '--rootless', '--image', `${first.layout}:test`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    for (const name of [
      'catalog.sqlite',
      ...CODES.map((c) => `entities/${c}.sqlite`),
      'runs/2024-01-02T00-00-00Z.json',
    ]) {
      expect(sha256(join(rootfs, 'data', name)), name).toBe(sha256(join(data, name)));
    }
    expect(readdirSync(join(rootfs, 'data', 'entities')).sort()).toEqual(
      CODES.map((c) => `${c}.sqlite`).sort(),
    );
    expect(sha256(join(rootfs, 'bin', 'busybox'))).toBe(sha256('/bin/busybox'));
    expect(run(join(rootfs, 'bin', 'busybox'), ['echo', 'alive']).trim()).toBe('alive');
    expect(lstatSync(join(rootfs, 'bin', 'sh')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(rootfs, 'bin', 'sh'))).toBe('/bin/busybox');
    expect(lstatSync(join(rootfs, 'usr/local/bin/resemble-data-publish')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(rootfs, 'etc/resemble-data/catalog.sha256'), 'utf8').trim()).toBe(
      sha256(join(data, 'catalog.sqlite')),
    );
  });

  it('is reproducible: the same input gives the same digests and a byte-identical archive', () => {
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.layers).toEqual(first.layers);
    expect(sha256(second.archive)).toBe(sha256(first.archive));
  });

  it('puts every entity in the layer of its shard and keeps unchanged shards when one entity changes', () => {
    const shardLayer = (r: BuildResult, s: number) =>
      r.layers.find((l) => l.createdBy.includes(`entity shard ${s}/16 `));
    const shard = shardOf(CHANGED, 16);
    for (let s = 0; s < 16; s++) {
      const before = shardLayer(first, s);
      const after = shardLayer(next, s);
      if (s === shard) expect(after?.digest).not.toBe(before?.digest);
      else expect(after?.digest, `shard ${s}`).toBe(before?.digest);
    }
    const catalogLayer = (r: BuildResult) => r.layers.at(-1)?.digest;
    expect(catalogLayer(next)).not.toBe(catalogLayer(first));
    expect(next.layers[0].digest).toBe(first.layers[0].digest);
    expect(next.labels['io.resemble.data.last-date']).not.toBe(first.labels['io.resemble.data.last-date']);
    expect(next.manifestDigest).not.toBe(first.manifestDigest);
  });

  it('takes the busybox base from an image archive, keeping its layer digest', async () => {
    // Any single-platform image archive works as the base; here skopeo turns a built image into a docker-archive.
    const baseOnly = await buildDataImage({
      dataDir: data,
      out: join(root, 'base', 'full.tar'),
      tag: 'full',
    });
    const baseArchive = join(root, 'base', 'busybox.tar');
    run('skopeo', [
      'copy',
      '--quiet',
      `oci:${baseOnly.layout}:full`,
      `docker-archive:${baseArchive}:busybox:test`,
    ]);
    const withBase = await buildDataImage({
      dataDir: data,
      out: join(root, 'd', 'img.tar'),
      tag: 'test',
      base: baseArchive,
    });
    // Every layer of the archive becomes a base layer, then the tools, shards and catalog follow.
    expect(withBase.layers.slice(0, baseOnly.layers.length).map((l) => l.digest)).toEqual(
      baseOnly.layers.map((l) => l.digest),
    );
    expect(skopeoInspect(`oci:${withBase.layout}:test`).Layers.length).toBe(withBase.layers.length);
  });

  it('leaves no temp files beside the outputs', () => {
    expect(readdirSync(join(root, 'a')).sort()).toEqual(['img.oci', 'img.tar']);
    expect(existsSync(join(first.layout, 'blobs', 'sha256'))).toBe(true);
    expect(readdirSync(join(first.layout, 'blobs', 'sha256')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('publish script rolls a version in, backs out to the previous one, keeps N versions, refuses stale /data', () => {
    const unpack = (r: BuildResult, name: string) => {
      const bundle = join(root, name);
      run('umoci', ['unpack', '--rootless', '--image', `${r.layout}:test`, bundle]);
      return join(bundle, 'rootfs');
    };
    const v1 = unpack(first, 'pub-v1');
    const v2 = unpack(next, 'pub-v2');
    const volume = join(root, 'market');
    const publish = (rootfs: string, meta = rootfs, keep = '3') =>
      spawnSync('/bin/busybox', ['sh', join(rootfs, 'usr/local/bin/resemble-data-publish')], {
        encoding: 'utf8',
        env: {
          PATH: ['bin', 'usr/bin', 'sbin', 'usr/sbin'].map((d) => join(rootfs, d)).join(':'),
          DATA_SRC: join(rootfs, 'data'),
          DATA_META: join(meta, 'etc/resemble-data'),
          DATA_VOLUME: volume,
          KEEP_VERSIONS: keep,
        },
      });
    const currentCatalog = () => sha256(join(volume, 'current', 'catalog.sqlite'));
    const version = (rootfs: string) =>
      readFileSync(join(rootfs, 'etc/resemble-data/version'), 'utf8').trim();

    expect(publish(v1).status).toBe(0);
    expect(readlinkSync(join(volume, 'current'))).toBe(`versions/${version(v1)}`);
    expect(currentCatalog()).toBe(sha256(join(data, 'catalog.sqlite')));

    const rolled = publish(v2);
    expect(rolled.status, rolled.stderr).toBe(0);
    expect(readlinkSync(join(volume, 'current'))).toBe(`versions/${version(v2)}`);
    expect(sha256(join(volume, 'current', 'entities', `${CHANGED}.sqlite`))).toBe(
      sha256(join(root, 'data2', 'entities', `${CHANGED}.sqlite`)),
    );
    expect(readdirSync(join(volume, 'versions')).sort()).toEqual([version(v1), version(v2)].sort());

    // Back-out: the older image points current back at its still-present copy.
    expect(publish(v1).status).toBe(0);
    expect(readlinkSync(join(volume, 'current'))).toBe(`versions/${version(v1)}`);
    expect(currentCatalog()).toBe(sha256(join(data, 'catalog.sqlite')));

    // A container that inherited an old anonymous /data volume: old data under the new image's metadata.
    const stale = publish(v1, v2);
    expect(stale.status).not.toBe(0);
    expect(stale.stderr).toMatch(/stale.*renew-anon-volumes/);
    expect(readlinkSync(join(volume, 'current'))).toBe(`versions/${version(v1)}`);

    expect(publish(v2, v2, '1').status).toBe(0);
    expect(readdirSync(join(volume, 'versions'))).toEqual([version(v2)]);
  });
});
