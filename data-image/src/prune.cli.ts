/**
 * Retention for data images in a registry: keeps the newest N data tags (plus protected ones) and deletes
 * the rest with skopeo. Usage:
 *   npm run prune -w data-image -- --repository docker://registry/group/project/data --keep 20
 *     [--protect latest,2024-01-05-abc] [--dry-run]
 * Registry credentials come from skopeo's usual auth file (skopeo login / REGISTRY_AUTH_FILE).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { tagsToDelete } from './retention.js';

const argsSchema = z.object({
  repository: z.string().regex(/^docker:\/\/[^:@\s]+$/, '--repository must be docker://host/path (no tag)'),
  keep: z.coerce.number().int().min(1, '--keep must be at least 1'),
  protect: z.string().default('latest'),
  'dry-run': z.boolean().default(false),
});

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function main(): number {
  let parsed;
  try {
    const { values } = parseArgs({
      options: {
        repository: { type: 'string' },
        keep: { type: 'string' },
        protect: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      strict: true,
    });
    parsed = argsSchema.parse(values);
  } catch (err) {
    const message =
      err instanceof z.ZodError
        ? err.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')
        : (err as Error).message;
    console.error(
      `${message}\nusage: npm run prune -w data-image -- --repository docker://HOST/PATH --keep N [--protect a,b] [--dry-run]`,
    );
    return 2;
  }
  const { Tags } = JSON.parse(skopeo(['list-tags', parsed.repository])) as { Tags: string[] };
  const tags = new Map<string, string>();
  for (const tag of Tags) {
    tags.set(tag, skopeo(['inspect', '--format', '{{.Digest}}', `${parsed.repository}:${tag}`]).trim());
  }
  const doomed = tagsToDelete({
    tags,
    keep: parsed.keep,
    protect: parsed.protect.split(',').filter(Boolean),
  });
  console.log(`${Tags.length} tags, keeping ${Tags.length - doomed.length}, deleting ${doomed.length}`);
  for (const tag of doomed) {
    console.log(
      `${parsed['dry-run'] ? 'would delete' : 'deleting'} ${parsed.repository}:${tag} (${tags.get(tag)})`,
    );
    if (!parsed['dry-run']) skopeo(['delete', `${parsed.repository}:${tag}`]);
  }
  return 0;
}

process.exitCode = main();
