/**
 * Debian's nginx running a rendered copy of one of deploy/nginx's templates, for the proxy tests: the
 * template is filled in as the nginx image's entrypoint would, with its ports moved to free loopback ones
 * and its certificate read from a test folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** The edge template's variables and listen lines, as the image fills them, on loopback ports. */
export function renderEdge(template: string, certDir: string, ports: { http: number; https: number }) {
  return template
    .replaceAll('${SERVER_NAME}', 'resemble.test')
    .replaceAll('${NGINX_LOCAL_RESOLVERS}', '127.0.0.11')
    .replaceAll('/etc/nginx/certs/', `${certDir}/`)
    .replace('listen 80 default_server;', `listen 127.0.0.1:${ports.http} default_server;`)
    .replace(
      'listen 443 ssl http2 default_server;',
      `listen 127.0.0.1:${ports.https} ssl http2 default_server;`,
    );
}

export interface RunningNginx {
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground on `confs` (file name → server blocks, included in one http block) with
 * everything it writes kept in `dir`, and waits until `healthUrl` answers 200.
 */
export async function startNginx(
  dir: string,
  confs: Record<string, string>,
  healthUrl: string,
): Promise<RunningNginx> {
  for (const [name, text] of Object.entries(confs)) writeFileSync(join(dir, name), text);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/${t};`)
    .join('\n');
  const includes = Object.keys(confs)
    .map((name) => `  include ${dir}/${name};`)
    .join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n${temp}\n${includes}\n}\n`,
  );
  const nginx: ChildProcess = spawn(
    'nginx',
    [
      '-p',
      dir,
      '-e',
      join(dir, 'error.log'),
      '-c',
      join(dir, 'nginx.conf'),
      '-g',
      'daemon off; master_process off;',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (nginx.exitCode !== null || nginx.signalCode !== null) return;
    const exited = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      http
        .get(healthUrl, (r) => {
          r.resume();
          res(r.statusCode === 200);
        })
        .on('error', () => res(false));
    });
    if (up) return { stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
}
