/** Regenerates backend/openapi.json (npm run openapi -w backend); a test fails when it drifts. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApi } from './openapi.js';

const file = resolve(import.meta.dirname, '../../openapi.json');
writeFileSync(file, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log(`wrote ${file}`);
