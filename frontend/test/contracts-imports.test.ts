import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const appDir = resolve(import.meta.dirname, '..', 'app');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|vue)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

/** Every import statement of a file that names the package index '@resemble/contracts' itself. */
const indexImports = (src: string) =>
  [...src.matchAll(/^import\s+(type\s+)?\{[^}]*\}\s+from\s+'@resemble\/contracts';/gm)].map((m) => m[0]);

describe('the pages import no values from the contracts package index', () => {
  // The index re-exports every zod schema, so one value imported from it puts zod (35 KB gzip) and the
  // construction of every schema into the page's first load (decision 128). Values come from the
  // zod-free entries (@resemble/contracts/api-client, /store-layout); types may come from anywhere.
  it('imports only types from @resemble/contracts', () => {
    const offenders = files(appDir).flatMap((f) =>
      indexImports(readFileSync(f, 'utf8'))
        .filter((stmt) => !/^import\s+type\s/.test(stmt))
        .map((stmt) => `${f.slice(appDir.length + 1)}: ${stmt.replace(/\s+/g, ' ')}`),
    );
    expect(offenders).toEqual([]);
  });

  it('finds such an import when there is one', () => {
    const bad = "import {\n  entityKindSchema,\n  type Timeframe,\n} from '@resemble/contracts';\n";
    expect(indexImports(bad).filter((s) => !/^import\s+type\s/.test(s))).toHaveLength(1);
    expect(indexImports("import type { Timeframe } from '@resemble/contracts';\n")).toHaveLength(1);
  });
});
