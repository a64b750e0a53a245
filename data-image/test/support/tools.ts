import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a Debian tool (skopeo, umoci, busybox) and returns stdout; a failure fails the test with stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface SkopeoInspect {
  Digest: string;
  Labels: Record<string, string>;
  Architecture: string;
  Os: string;
  Layers: string[];
}

export function skopeoInspect(ref: string): SkopeoInspect {
  return JSON.parse(run('skopeo', ['inspect', ref])) as SkopeoInspect;
}

export interface SkopeoConfig {
  config: { Cmd: string[]; User?: string; Volumes: Record<string, object>; Env: string[] };
  rootfs: { diff_ids: string[] };
}

export function skopeoConfig(ref: string): SkopeoConfig {
  return JSON.parse(run('skopeo', ['inspect', '--config', ref])) as SkopeoConfig;
}

/** A throwaway self-signed certificate for CN=resemble.test, as the proxy expects: privkey.pem and fullchain.pem in dir. */
export function writeSelfSignedCert(dir: string): void {
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=resemble.test',
    '-keyout',
    join(dir, 'privkey.pem'),
    '-out',
    join(dir, 'fullchain.pem'),
  ]);
}
