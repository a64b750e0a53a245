/**
 * Loads one of ml-service's node-gyp addons (build/Release/<name>.node, built on `npm install`), once per
 * thread; null where it was not built or cannot load (a missing system library), so callers keep their
 * portable path.
 */
import { createRequire } from 'node:module';

const loaded = new Map<string, unknown>();
const require = createRequire(import.meta.url);

export function loadAddon<T>(name: string): T | null {
  if (!loaded.has(name)) {
    let addon: unknown = null;
    try {
      addon = require(`../build/Release/${name}.node`);
    } catch {
      addon = null;
    }
    loaded.set(name, addon);
  }
  return loaded.get(name) as T | null;
}
