/**
 * Import throughput on real data: huge-us-longhist (1.5 M rows, 164 stocks) into a fresh temp store,
 * end to end (gunzip, parse, validate, build + fsync + publish every entity file, catalog commits),
 * then the same file again (the no-op re-import path). Figures are printed, never asserted; the
 * machine is shared, so expect noise. Run: `npx tsx scraper/bench/import.bench.ts [file]`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importFile } from '../src/import/index.js';
import { createLogger } from '../src/logger.js';

const DEFAULT_FILE = resolve(import.meta.dirname, '../../../shared/data/huge-us-longhist/prices.csv.gz');
const TARGET_ROWS_PER_S = 300_000;

/** CPU seconds of this process's main thread (Linux /proc), NaN elsewhere. */
function mainThreadCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), i.e. 11 and 12 after the ")".
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

export async function runImportBench(file = DEFAULT_FILE): Promise<{ rowsPerSecond: number } | null> {
  if (!existsSync(file)) {
    console.log(`import bench skipped: ${file} is absent (the shared data folder is not available here)`);
    return null;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'resemble-import-bench-'));
  const logger = createLogger('warn', 'import-bench');
  try {
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuSeconds();
    const first = await importFile(file, { dataDir, market: 'US', currency: 'USD', logger, progress: false });
    const cpu = process.cpuUsage(cpu0);
    const mainCpu = mainThreadCpuSeconds() - main0;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const rowsPerSecond = Math.round(first.rowsRead / (first.durationMs / 1000));
    console.log(
      `import ${first.rowsRead} rows / ${first.entities} entities in ${(first.durationMs / 1000).toFixed(2)} s: ` +
        `${rowsPerSecond.toLocaleString('en-US')} rows/s (target >= ${TARGET_ROWS_PER_S.toLocaleString('en-US')}) ` +
        `${rowsPerSecond >= TARGET_ROWS_PER_S ? 'OK' : 'BELOW TARGET'}; rejected ${first.rowsRejected}`,
    );
    // CPU time is steadier than wall time when other jobs share the cores.
    console.log(
      `  process CPU ${cpuSeconds.toFixed(2)} s = ${Math.round(first.rowsRead / cpuSeconds).toLocaleString('en-US')} rows per CPU-second; ` +
        `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
    );
    if (!Number.isNaN(mainCpu)) {
      // The main thread (validate + SQLite) and the parser thread overlap, so on an otherwise idle
      // machine with 2+ cores the wall time is about the busier of the two.
      const other = cpuSeconds - mainCpu;
      const bound = Math.max(mainCpu, other);
      console.log(
        `  main thread CPU ${mainCpu.toFixed(2)} s, parser thread + runtime ${other.toFixed(2)} s: ` +
          `~${Math.round(first.rowsRead / bound).toLocaleString('en-US')} rows/s expected on an idle machine (estimate)`,
      );
    }
    const cpuAgain0 = process.cpuUsage();
    const again = await importFile(file, { dataDir, market: 'US', currency: 'USD', logger, progress: false });
    const cpuAgain = process.cpuUsage(cpuAgain0);
    console.log(
      `re-import (no-op) in ${(again.durationMs / 1000).toFixed(2)} s: ` +
        `${Math.round(again.rowsRead / (again.durationMs / 1000)).toLocaleString('en-US')} rows/s; ` +
        `entities changed ${again.entitiesChanged}, data version unchanged: ${again.dataVersionAfter === first.dataVersionAfter}; ` +
        `process CPU ${((cpuAgain.user + cpuAgain.system) / 1e6).toFixed(2)} s`,
    );
    return { rowsPerSecond };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runImportBench(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_FILE);
}
