/**
 * Loads one of ml-service's node-gyp addons (build/Release/<name>.node, built on `npm install`), once per
 * thread; null where it was not built or cannot load (a missing system library), so callers keep their
 * portable path. Why it could not load is kept (addonError) so start-up can say so in a warning: a
 * fallback that nobody hears of is how a service ends up 4x slower without anyone noticing.
 */
import { createRequire } from 'node:module';

const loaded = new Map<string, { addon: unknown; error: string | null }>();
const require = createRequire(import.meta.url);

function load(name: string): { addon: unknown; error: string | null } {
  let entry = loaded.get(name);
  if (!entry) {
    try {
      entry = { addon: require(`../../build/Release/${name}.node`), error: null };
    } catch (err) {
      entry = { addon: null, error: (err as Error).message.split('\n')[0]! };
    }
    loaded.set(name, entry);
  }
  return entry;
}

export function loadAddon<T>(name: string): T | null {
  return load(name).addon as T | null;
}

/** Why the addon could not be loaded in this thread (null: it loaded). */
export function addonError(name: string): string | null {
  return load(name).error;
}
