import { parseArgs } from 'node:util';
import { z } from 'zod';
import { buildDataImage } from './build.js';
import { StoreRejectedError } from './store-check.js';

const USAGE = `usage: npm run build -w data-image -- --data DIR --out FILE.tar [options]
  --data DIR        store directory (catalog.sqlite, entities/, runs/)
  --out FILE        docker-load-able archive to write (OCI layout + Docker manifest.json)
  --layout DIR      OCI image layout directory (default: FILE without .tar, plus .oci)
  --tag TAG         image tag (default: <last date>-<data version prefix>)
  --repository NAME repository name inside the archive (default: resemble-data)
  --shards N        number of entity layer shards, 1..256 (default: 16)
  --base FILE       busybox base image archive (docker-archive or OCI archive); default: /bin/busybox
  --busybox PATH    static busybox binary for the base layer (default: /bin/busybox)`;

const argsSchema = z.object({
  data: z.string({ error: '--data DIR is required' }).min(1),
  out: z.string({ error: '--out FILE is required' }).min(1),
  layout: z.string().optional(),
  tag: z.string().optional(),
  repository: z
    .string()
    .regex(
      /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
      'must be a lowercase image name (host[:port]/path)',
    )
    .optional(),
  shards: z.coerce.number().int().min(1).max(256).optional(),
  base: z.string().optional(),
  busybox: z.string().optional(),
});

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        layout: { type: 'string' },
        tag: { type: 'string' },
        repository: { type: 'string' },
        shards: { type: 'string' },
        base: { type: 'string' },
        busybox: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(
      `${parsed.error.issues.map((i) => `${i.path.join('.') ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('\n')}\n${USAGE}`,
    );
    return 2;
  }
  const started = performance.now();
  try {
    const r = await buildDataImage({ dataDir: parsed.data.data, ...parsed.data });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const bytes = r.layers.reduce((s, l) => s + l.size, 0);
    console.log(
      `data image ${r.reference} (${r.store.entities.length} entities, ${r.store.firstDate}..${r.store.lastDate})`,
    );
    console.log(`  manifest ${r.manifestDigest}`);
    console.log(`  ${r.layers.length} layers, ${(bytes / 1e6).toFixed(1)} MB, built in ${seconds} s`);
    for (const l of r.layers)
      console.log(`    ${l.digest.slice(7, 19)} ${(l.size / 1e6).toFixed(2).padStart(8)} MB  ${l.createdBy}`);
    console.log(`  archive ${r.archive}\n  layout  ${r.layout} (tag ${r.tag})`);
    if (r.store.skipped.length > 0) console.log(`  skipped writer temp files: ${r.store.skipped.join(', ')}`);
    return 0;
  } catch (err) {
    if (err instanceof StoreRejectedError) console.error(err.message);
    else console.error(`data image build failed: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
