import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, detail?: string): void;
  stop(): void;
}

/**
 * A cli-progress bar on a terminal; otherwise one plain line per 10 % on stderr, because a bar's carriage
 * returns only garble CI logs and redirected output.
 */
export function createProgressBar(label: string, total: number, unit: string): ProgressBar {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted} | {detail}`,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '' });
    return { update: (done, detail = '') => bar.update(done, { detail }), stop: () => bar.stop() };
  }
  let lastDecile = -1;
  const started = Date.now();
  return {
    update(done, detail = '') {
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      process.stderr.write(`${label}: ${done}/${total} ${unit} (${decile * 10} %, ${seconds} s) ${detail}\n`);
    },
    stop: () => {},
  };
}
