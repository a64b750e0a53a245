/**
 * Writes src/api-routes.ts (the zod-free route table of the API client) from the route contract.
 * Run after changing api-contract.ts: `npm run gen:routes -w contracts`.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { api } from '../src/api-contract.js';
import { renderApiRoutes } from '../src/client-route.js';

const out = resolve(import.meta.dirname, '..', 'src', 'api-routes.ts');
writeFileSync(out, renderApiRoutes(api));
console.log(`wrote ${out}`);
