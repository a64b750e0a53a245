/**
 * A small static checker for the project's Dockerfiles (hadolint is not packaged for Debian): the rules
 * the delivery brief asks for, each returning a readable problem.
 */
export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments / parser directives dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (buf === '' && /^\s*(#|$)/.test(raw)) continue;
    if (buf !== '' && /^\s*#/.test(raw)) continue;
    if (buf === '') start = i + 1;
    const continued = /\\\s*$/.test(raw);
    buf += (buf ? ' ' : '') + raw.replace(/\\\s*$/, '').trim();
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(buf.trim());
      if (m) out.push({ line: start, keyword: m[1].toUpperCase(), args: m[2] });
      buf = '';
    }
  }
  return out;
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY|API_KEY|CREDENTIAL|ACCESS_KEY)/i;

export interface RuleOptions {
  /** Service images must probe their health; the one-shot data image may say HEALTHCHECK NONE. */
  requireHealthcheck: boolean;
  requireMultiStage: boolean;
}

function keyValues(args: string): string[] {
  // ENV A=1 B="two words" | ENV A 1  →  names
  if (!args.includes('=')) return [args.split(/\s+/)[0]];
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)].map((m) => m[1]);
}

export function lintDockerfile(text: string, opts: RuleOptions): string[] {
  const ins = parseDockerfile(text);
  const problems: string[] = [];
  const globalArgs = new Map<string, string>();
  const stages: string[] = [];
  let stageStart = -1;
  for (const [idx, i] of ins.entries()) {
    if (i.keyword === 'ARG' && stageStart === -1) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(i.args.trim());
      if (m) globalArgs.set(m[1], (m[2] ?? '').replace(/^"|"$/g, ''));
    }
    if (i.keyword === 'FROM') {
      stageStart = idx;
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = parts[0].replace(
        /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/,
        (_, name: string) => globalArgs.get(name) ?? `\${${name}}`,
      );
      if (!stages.includes(image) && !DIGEST.test(image)) {
        problems.push(`line ${i.line}: FROM ${parts[0]} is not pinned by digest (image@sha256:…)`);
      }
      if (parts[1]?.toUpperCase() === 'AS' && parts[2]) stages.push(parts[2]);
    }
    if (i.keyword === 'ENV' || i.keyword === 'ARG') {
      for (const name of keyValues(i.args)) {
        if (SECRET_NAME.test(name))
          problems.push(`line ${i.line}: ${i.keyword} ${name} looks like a secret; pass it at run time`);
      }
    }
    if (i.keyword === 'ADD' && /https?:\/\//.test(i.args)) {
      problems.push(`line ${i.line}: ADD from a URL; download in a RUN with a checksum, or COPY`);
    }
    if (i.keyword === 'RUN') {
      if (/\bnpm\s+ci\b/.test(i.args))
        problems.push(`line ${i.line}: npm ci fails with this lockfile; use npm install (lockfile-driven)`);
      for (const m of i.args.matchAll(/\bnpm\s+(?:install|i)\b([^&;|]*)/g)) {
        const tokens = m[1].trim().split(/\s+/).filter(Boolean);
        for (let t = 0; t < tokens.length; t++) {
          if (/^(-w|--workspace)$/.test(tokens[t])) t++;
          else if (!tokens[t].startsWith('-'))
            problems.push(`line ${i.line}: npm install ${tokens[t]} adds a package outside the lockfile`);
        }
      }
      if (/\bcurl\b[^|]*\|\s*(ba)?sh\b/.test(i.args))
        problems.push(`line ${i.line}: pipes a download into a shell`);
    }
  }
  if (stageStart === -1) return ['no FROM instruction'];
  const finalStage = ins.slice(stageStart);
  const users = finalStage.filter((i) => i.keyword === 'USER');
  const lastUser = users.at(-1)?.args.trim().split(':')[0];
  if (!lastUser || lastUser === 'root' || lastUser === '0')
    problems.push('the final stage runs as root (add USER <non-root>)');
  const health = finalStage.filter((i) => i.keyword === 'HEALTHCHECK');
  if (opts.requireHealthcheck && (health.length === 0 || /^NONE\b/i.test(health.at(-1)!.args))) {
    problems.push('the final stage has no HEALTHCHECK');
  }
  if (opts.requireMultiStage && ins.filter((i) => i.keyword === 'FROM').length < 2) {
    problems.push('not a multi-stage build (build tools would ship in the runtime image)');
  }
  if (!finalStage.some((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT'))
    problems.push('the final stage has no CMD/ENTRYPOINT');
  return problems;
}

/**
 * Whether a context path is excluded by .dockerignore lines, for the pattern forms this repository
 * uses: `name`, `dir/name`, `dir/*`, `**` prefixes, `*.ext` globs and `!` re-inclusions (last match wins).
 */
export function isIgnored(path: string, ignoreText: string): boolean {
  const rules = ignoreText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegex = (pattern: string) => {
    const body = pattern
      .split('**/')
      .map((part) =>
        part
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]'),
      )
      .join('(?:.*/)?');
    return new RegExp(`^${body}(?:/.*)?$`);
  };
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/^\//, '').replace(/\/$/, '');
    if (toRegex(pattern).test(path)) ignored = !negated;
  }
  return ignored;
}

/** Sources of COPY instructions that read the build context (not `--from` another stage). */
export function contextCopySources(text: string): string[] {
  return parseDockerfile(text)
    .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}
