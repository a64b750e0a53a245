import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

describe('deploy scripts', () => {
  it.each(['deploy/roll-data.sh', 'deploy/roll-app.sh', 'deploy/daily-on-host.sh'])(
    '%s parses with bash -n',
    (path) => {
      const r = spawnSync('bash', ['-n', resolve(repo, path)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    },
  );

  it('the publish script parses with busybox sh -n (the shell of the data image)', () => {
    const r = spawnSync(
      '/bin/busybox',
      ['sh', '-n', resolve(repo, 'data-image/image/resemble-data-publish.sh')],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
  });

  it('roll-data drops the old /data volume, recreates only data and waits for ml-service to report the new version', () => {
    const text = readFileSync(resolve(repo, 'deploy/roll-data.sh'), 'utf8');
    expect(text).toMatch(/"\$engine" rm -f -v "\$old"/);
    expect(text).toMatch(/"\$\{compose\[@\]\}" up -d --no-deps data/);
    expect(text).toMatch(/io\.resemble\.data\.version/);
    expect(text).toMatch(/--back-out/);
  });

  it('a syntax error is caught by bash -n (the check is real)', () => {
    expect(spawnSync('bash', ['-n', '-c', 'if then fi']).status).not.toBe(0);
  });
});
