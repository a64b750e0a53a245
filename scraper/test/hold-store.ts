/** Child process for the writer-lock test: opens a store for writing and holds it until killed. */
import { openStore } from '../src/store/index.js';

openStore(process.argv[2]);
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
