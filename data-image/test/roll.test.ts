/**
 * The roll-in the deployment guide promises, end to end with the real pieces: two data images built by
 * the builder, unpacked by umoci, published into a "volume" by their own publish script (busybox sh),
 * and the real ml-service reading DATA_DIR=<volume>/current. While the data rolls forward and back,
 * ml-service keeps answering every request.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataImage, type BuildResult } from '../src/build.js';
import { appendDay, codesFor, makeStore } from './support/store-fixture.js';
import { run } from './support/tools.js';

const repo = resolve(import.meta.dirname, '../..');
const CODES = codesFor(24);
let root: string;
let volume: string;
const images: { result: BuildResult; rootfs: string }[] = [];
let ml: ChildProcess | undefined;
let baseUrl = '';

function publish(rootfs: string): void {
  const r = spawnSync('/bin/busybox', ['sh', join(rootfs, 'usr/local/bin/resemble-data-publish')], {
    encoding: 'utf8',
    env: {
      PATH: ['bin', 'usr/bin', 'sbin', 'usr/sbin'].map((d) => join(rootfs, d)).join(':'),
      DATA_SRC: join(rootfs, 'data'),
      DATA_META: join(rootfs, 'etc/resemble-data'),
      DATA_VOLUME: volume,
    },
  });
  expect(r.status, r.stderr).toBe(0);
}

interface Health {
  status: string;
  dataVersion: string | null;
  entities: number;
}
async function health(): Promise<Health> {
  return (await (await fetch(`${baseUrl}/health`)).json()) as Health;
}
async function waitFor(version: string, timeoutMs = 60_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await health().catch(() => null);
    if (h?.status === 'ready' && h.dataVersion === version) return h;
    if (Date.now() > deadline) throw new Error(`ml-service did not reach ${version}: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'data-roll-'));
  volume = join(root, 'market');
  const data = join(root, 'data');
  makeStore(data, CODES, 120);
  for (const [i, change] of [[], [CODES[0], CODES[5]]].entries()) {
    for (const code of change) appendDay(data, code);
    const result = await buildDataImage({
      dataDir: data,
      out: join(root, `img${i}`, 'img.tar'),
      tag: 'roll',
    });
    const bundle = join(root, `bundle${i}`);
    run('umoci', ['unpack', '--rootless', '--image', `${result.layout}:roll`, bundle]);
    images.push({ result, rootfs: join(bundle, 'rootfs') });
  }
  publish(images[0].rootfs);
  const models = join(root, 'models');
  mkdirSync(models);
  ml = spawn(resolve(repo, 'node_modules/.bin/tsx'), [resolve(repo, 'ml-service/src/server.ts')], {
    env: {
      ...process.env,
      ML_HOST: '127.0.0.1',
      ML_PORT: '0',
      DATA_DIR: join(volume, 'current'),
      MODELS_DIR: models,
      ML_RELOAD_INTERVAL_MS: '200',
      ML_SEARCH_WORKERS: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  baseUrl = await new Promise<string>((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ml-service did not start: ${out}`)), 60_000);
    ml!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)[^\n]*ml-service listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(`http://127.0.0.1:${m[1]}`);
      }
    });
    ml!.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    ml!.on('exit', (code) => reject(new Error(`ml-service exited ${code}: ${out}`)));
  });
});

afterAll(async () => {
  if (ml && ml.exitCode === null) {
    const exited = new Promise((r) => ml!.once('exit', r));
    ml.kill('SIGTERM');
    await exited;
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('rolling a data image into a running ml-service', () => {
  it('serves the first image, rolls forward and backs out without a failed request', async () => {
    const [v1, v2] = images.map((i) => i.result.labels['io.resemble.data.version']);
    expect(v1).not.toBe(v2);
    const first = await waitFor(v1);
    expect(first.entities).toBe(CODES.length);

    // Traffic throughout both swaps: every answer must be a 200 with the entity list.
    let failures = 0;
    let requests = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        const r = await fetch(`${baseUrl}/v1/entities?q=T&limit=50`).catch(() => null);
        requests++;
        if (!r || r.status !== 200) failures++;
        else await r.arrayBuffer();
      }
    })();

    const lastDate = async (code: string) => {
      const r = await fetch(`${baseUrl}/v1/entities/${code}/prices?from=2020-01-01&to=2030-01-01`);
      const body = (await r.json()) as { rows: { date: string }[] };
      return body.rows.at(-1)?.date;
    };
    const before = await lastDate(CODES[5]);
    publish(images[1].rootfs);
    await waitFor(v2);
    expect(await lastDate(CODES[5])).not.toBe(before);
    expect(await lastDate(CODES[5])).toBe(images[1].result.store.lastDate);

    publish(images[0].rootfs);
    await waitFor(v1);
    expect(await lastDate(CODES[5])).toBe(before);

    stop = true;
    await traffic;
    expect(requests).toBeGreaterThan(10);
    expect(failures).toBe(0);
    expect(readFileSync(join(volume, 'history'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 240_000);
});
