import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import {
  contextCopySources,
  isIgnored,
  lintDockerfile,
  parseDockerfile,
} from './support/dockerfile-rules.js';

const repo = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(resolve(repo, p), 'utf8');
const SERVICES = ['frontend', 'backend', 'ml-service', 'scraper'];
const service = { requireHealthcheck: true, requireMultiStage: true };

describe('service Dockerfiles', () => {
  it.each(SERVICES)(
    '%s/Dockerfile passes the rules (digest-pinned, non-root, HEALTHCHECK, no secrets)',
    (name) => {
      expect(lintDockerfile(read(`${name}/Dockerfile`), service)).toEqual([]);
    },
  );

  it.each(SERVICES)('%s/Dockerfile installs from the lockfile and runs what interfaces.md says', (name) => {
    const ins = parseDockerfile(read(`${name}/Dockerfile`));
    const runs = ins.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => new RegExp(`npm install .*-w @resemble/${name}\\b`).test(r))).toBe(true);
    expect(ins.some((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args))).toBe(true);
    const start = ins
      .filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')
      .map((i) => i.args)
      .join(' ');
    const expected: Record<string, RegExp> = {
      frontend: /\.output\/server\/index\.mjs/,
      // One process with tsx's loader: the tsx CLI's signal relay SIGKILLed a slow-to-answer server.
      backend: /"node", "--import", "tsx", "backend\/src\/server\.ts"/,
      'ml-service': /tsx\/dist\/cli\.mjs", "ml-service\/src\/server\.ts/,
      scraper: /tsx\/dist\/cli\.mjs", "scraper\/src\/scrape\.cli\.ts/,
    };
    expect(start).toMatch(expected[name]);
  });

  it('the scraper uses Debian chromium and never downloads a browser', () => {
    const text = read('scraper/Dockerfile');
    expect(text).toMatch(/apt-get install[^\n]*\bchromium\b/);
    expect(text).toMatch(/PUPPETEER_SKIP_DOWNLOAD=1/);
    expect(text).toMatch(/PUPPETEER_EXECUTABLE_PATH=\/usr\/bin\/chromium/);
  });

  it.each(SERVICES)(
    '%s/Dockerfile names a CA bundle only as a valueless build argument, never copied in',
    (name) => {
      const ins = parseDockerfile(read(`${name}/Dockerfile`));
      const caArgs = ins.filter((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_EXTRA_CA_CERTS'));
      expect(caArgs.length).toBeGreaterThan(0);
      for (const a of caArgs) expect(a.args).toBe('NODE_EXTRA_CA_CERTS');
      expect(
        ins.filter((i) => /ca-certificates\.crt|\.pem\b|host-ca/.test(i.args)).map((i) => i.args),
      ).toEqual([]);
      // The base is a build argument, so a local base can stand in for the pinned one.
      expect(ins.find((i) => i.keyword === 'FROM')?.args).toMatch(/^\$\{NODE_IMAGE\}/);
    },
  );

  it('every image pins the same node base digest', () => {
    const pins = SERVICES.map((s) => /ARG NODE_IMAGE=(\S+)/.exec(read(`${s}/Dockerfile`))?.[1]);
    expect(new Set(pins).size).toBe(1);
    expect(pins[0]).toMatch(/^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/);
  });
});

describe('.dockerignore (the build context of the service images)', () => {
  const ignore = read('.dockerignore');
  it('keeps secrets, data, git and installed modules out of every image', () => {
    for (const p of [
      '.env',
      '.env.production',
      '.git/config',
      'data/app.sqlite',
      'data/.jwt-secret',
      'node_modules/x',
      'backend/node_modules/x',
      'frontend/.output/server/index.mjs',
      'ml-service/test/http.test.ts',
      'scraper/demo/sandp500-5yr/prices.csv.gz',
    ]) {
      expect(isIgnored(p, ignore), p).toBe(true);
    }
    expect(isIgnored('.env.example', ignore)).toBe(false);
  });

  it.each(SERVICES)('lets through every file %s/Dockerfile copies, and each exists', (name) => {
    for (const src of contextCopySources(read(`${name}/Dockerfile`))) {
      const path = src.replace(/\/$/, '');
      expect(existsSync(resolve(repo, path)), `${src} exists`).toBe(true);
      expect(isIgnored(path, ignore), `${src} is not ignored`).toBe(false);
    }
  });

  it('the matcher handles negation and globs (so the checks above can fail)', () => {
    const rules = 'tests/*\n!tests/package.json\n**/bench\n*.log';
    expect(isIgnored('tests/e2e/a.ts', rules)).toBe(true);
    expect(isIgnored('tests/package.json', rules)).toBe(false);
    expect(isIgnored('backend/bench/run.ts', rules)).toBe(true);
    expect(isIgnored('a.log', rules)).toBe(true);
    expect(isIgnored('backend/src/a.ts', rules)).toBe(false);
  });
});

describe('data-image/Dockerfile', () => {
  it('is FROM a pinned busybox, copies data to /data, declares VOLUME /data, runs as nobody', () => {
    const text = read('data-image/Dockerfile');
    expect(lintDockerfile(text, { requireHealthcheck: false, requireMultiStage: false })).toEqual([]);
    const ins = parseDockerfile(text);
    expect(ins.find((i) => i.keyword === 'ARG' && i.args.startsWith('BUSYBOX_IMAGE='))?.args).toMatch(
      /^BUSYBOX_IMAGE=busybox:[\d.]+@sha256:[0-9a-f]{64}$/,
    );
    expect(ins.some((i) => i.keyword === 'COPY' && i.args === 'data /data')).toBe(true);
    expect(ins.some((i) => i.keyword === 'VOLUME' && i.args === '/data')).toBe(true);
    // Only the store goes in: its own ignore file must not let the accounts database through.
    const ignore = read('data-image/Dockerfile.dockerignore');
    const rules = ignore.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    expect(rules.filter((r) => r.startsWith('!data/'))).toEqual([
      '!data/catalog.sqlite',
      '!data/entities/*.sqlite',
      '!data/runs/*.json',
    ]);
  });
});

describe('the rule checker itself', () => {
  const bad = `FROM node:20
ARG NPM_TOKEN
ENV JWT_SECRET=abc PORT=1
RUN npm ci && npm install left-pad -w @resemble/x
ADD https://example.com/x.tgz /x
CMD ["node"]`;
  it('reports every broken rule', () => {
    const problems = lintDockerfile(bad, service);
    expect(problems).toEqual([
      'line 1: FROM node:20 is not pinned by digest (image@sha256:…)',
      'line 2: ARG NPM_TOKEN looks like a secret; pass it at run time',
      'line 3: ENV JWT_SECRET looks like a secret; pass it at run time',
      'line 4: npm ci fails with this lockfile; use npm install (lockfile-driven)',
      'line 4: npm install left-pad adds a package outside the lockfile',
      'line 5: ADD from a URL; download in a RUN with a checksum, or COPY',
      'the final stage runs as root (add USER <non-root>)',
      'the final stage has no HEALTHCHECK',
      'not a multi-stage build (build tools would ship in the runtime image)',
    ]);
  });
  it('follows ARG defaults and stage names in FROM, and a USER root after a non-root one', () => {
    const text = `ARG IMG=busybox@sha256:${'a'.repeat(64)}
FROM \${IMG} AS base
FROM base
USER app
USER root
HEALTHCHECK NONE
CMD ["sh"]`;
    expect(lintDockerfile(text, service)).toEqual([
      'the final stage runs as root (add USER <non-root>)',
      'the final stage has no HEALTHCHECK',
    ]);
  });
});
