import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const gcl = resolve(repo, 'node_modules/.bin/gitlab-ci-local');
const ciText = readFileSync(resolve(repo, '.gitlab-ci.yml'), 'utf8');
interface Job {
  stage?: string;
  script?: (string | string[])[];
  image?: string | { name: string };
  services?: unknown[];
}
const ci = parse(ciText) as Record<string, Job> & { stages: string[]; variables: Record<string, string> };

let dir: string;

/** gitlab-ci-local needs a git work tree and writes state beside the file, so it runs on a temp copy. */
function list(
  args: string[],
  file = '.gitlab-ci.yml',
  vars: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  // Simulating a pipeline source means setting predefined variables, which gitlab-ci-local warns about.
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--variable', `${k}=${v}`]);
  if (varArgs.length > 0) varArgs.push('--ignore-predefined-vars', Object.keys(vars).join(','));
  return spawnSync(gcl, ['--file', file, ...args, ...varArgs], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
}

interface Listed {
  name: string;
  stage: string;
  when: string;
}
const names = (json: string) =>
  (JSON.parse(json) as Listed[]).filter((j) => j.when !== 'never').map((j) => j.name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gitlab-ci-'));
  copyFileSync(resolve(repo, '.gitlab-ci.yml'), join(dir, '.gitlab-ci.yml'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', 'https://gitlab.example.com/resemble/resemble.git');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'ci');
  git('update-ref', 'refs/remotes/origin/main', 'HEAD');
  git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.gitlab-ci.yml', () => {
  it('parses and validates with gitlab-ci-local --list (GitLab schema + its own rules)', () => {
    const r = list(['--list']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/json schema validated/);
    expect(r.stdout).toMatch(/^test\s+test\s+on_success/m);
  });

  it('rejects a broken file, so the check above is real', () => {
    writeFileSync(join(dir, 'broken.yml'), 'stages: [test]\nbroken:\n  stage: test\n  image: alpine\n');
    const r = list(['--list'], 'broken.yml');
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/broken/);
  });

  it('never puts a job-level `when` beside `rules` (GitLab rejects it; gitlab-ci-local does not)', () => {
    const offenders = Object.entries(ci as Record<string, unknown>)
      .filter(
        ([, job]) =>
          typeof job === 'object' && job !== null && 'when' in job && ('rules' in job || 'extends' in job),
      )
      .map(([name]) => name);
    expect(offenders).toEqual([]);
  });

  it('has the stages test → build → publish → deploy', () => {
    expect(ci.stages).toEqual(['test', 'build', 'publish', 'deploy']);
  });

  it("runs exactly the README's test command in the test job", () => {
    const readme = readFileSync(resolve(repo, 'README.md'), 'utf8');
    const command = /^(\.\/run\.sh test)\b/m.exec(readme)?.[1];
    expect(command).toBe('./run.sh test');
    expect(ci.test.script).toEqual([command]);
    expect(ci.test.stage).toBe('test');
  });

  it('on a branch push lists test and the four kaniko builds; on the default branch also publish and deploy', () => {
    const push = list(['--list-json'], undefined, {
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_BRANCH: 'feature',
    });
    expect(push.status, push.stderr).toBe(0);
    expect(names(push.stdout)).toEqual([
      'test',
      ...['frontend', 'backend', 'ml-service', 'scraper'].map((s) => `build-image: [${s}]`),
    ]);
    const main = list(['--list-json'], undefined, {
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_BRANCH: 'main',
      CI_DEFAULT_BRANCH: 'main',
    });
    expect(names(main.stdout)).toEqual(expect.arrayContaining(['test', 'publish-image', 'deploy-app']));
    expect(names(main.stdout).filter((n) => n.startsWith('data-'))).toEqual([]);
  });

  it('the weekday schedule runs only the data jobs: build, publish, roll, retention', () => {
    const r = list(['--list-json'], undefined, {
      CI_PIPELINE_SOURCE: 'schedule',
      RESEMBLE_TASK: 'daily-data',
    });
    expect(r.status, r.stderr).toBe(0);
    const jobs = JSON.parse(r.stdout) as Listed[];
    expect(jobs.filter((j) => j.when !== 'never').map((j) => [j.name, j.stage])).toEqual([
      ['data-build', 'build'],
      ['data-publish', 'publish'],
      ['data-roll', 'deploy'],
      ['data-retention', 'deploy'],
    ]);
  });

  it('builds images with kaniko tagged with the commit SHA, without Docker-in-Docker', () => {
    expect(ciText).not.toMatch(/docker:dind|docker build|DOCKER_HOST/);
    expect(Object.values(ci).some((j) => typeof j === 'object' && j !== null && 'services' in j)).toBe(false);
    const build = ci['build-image'];
    expect((build.image as { name: string }).name).toBe('$KANIKO_IMAGE');
    expect(build.script!.join(' ')).toMatch(/--destination "\$CI_REGISTRY_IMAGE\/\$SERVICE:\$CI_COMMIT_SHA"/);
    for (const name of ['NODE_IMAGE', 'KANIKO_IMAGE', 'SKOPEO_IMAGE'])
      expect(ci.variables[name], name).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('the data job scrapes, checks the report, builds with the daemonless builder; publish pushes with skopeo', () => {
    const script = ci['data-build'].script!.flat().join('\n');
    const order = ['npm run scrape', 'npm run check-report -w data-image', 'npm run build -w data-image'].map(
      (s) => script.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(ci['data-publish'].script!.flat().join('\n')).toMatch(
      /skopeo copy .*"oci:out\/data\.oci:\$DATA_TAG" "docker:\/\/\$DATA_IMAGE:\$DATA_TAG"/,
    );
    expect(ci['data-roll'].script!.flat().join('\n')).toMatch(/roll-data\.sh \$DATA_TAG/);
    expect(ci['data-retention'].script!.flat().join('\n')).toMatch(
      /npm run prune -w data-image -- .*--keep .*--protect "latest,\$DATA_TAG"/,
    );
    // DATA_TAG is data-build's dotenv: every job using it must need data-build.
    for (const job of ['data-publish', 'data-roll', 'data-retention']) {
      expect((ci[job] as { needs?: string[] }).needs, job).toContain('data-build');
    }
  });

  it("the data job's tag extraction reads the tag the builder wrote into index.json", () => {
    const line = ci['data-build']
      .script!.flat()
      .find((s) => typeof s === 'string' && s.includes('out/data.env'))!;
    const work = join(dir, 'tagcheck');
    mkdirSync(join(work, 'out', 'data.oci'), { recursive: true });
    // The exact index.json shape build.ts writes (see build.test.ts for the real file read by skopeo).
    writeFileSync(
      join(work, 'out', 'data.oci', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            digest: 'sha256:x',
            annotations: {
              'io.containerd.image.name': 'r:2026-11-20-abc',
              'org.opencontainers.image.ref.name': '2026-11-20-abc',
            },
          },
        ],
      }),
    );
    execFileSync('bash', ['-c', line], { cwd: work });
    expect(readFileSync(join(work, 'out', 'data.env'), 'utf8').trimEnd()).toBe('DATA_TAG=2026-11-20-abc');
  });
});
