/**
 * Runs the fixture site on its own, for trying the scraper by hand and for benchmarks:
 *   npx tsx scraper/test-site/server.ts [--port 8123] [--synthetic 500] [--as-of 2017-12-29]
 */
import { parseArgs } from 'node:util';
import { startTestSite } from './site.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8123' },
    synthetic: { type: 'string' },
    'as-of': { type: 'string' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer 0-65535, got ${values.port}`);
  process.exit(2);
}
const site = await startTestSite({
  port,
  synthetic: values.synthetic ? Number(values.synthetic) : undefined,
  asOf: values['as-of'],
});
console.log(JSON.stringify({ url: site.url, stocks: site.codes.length }));
const stop = () => void site.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
