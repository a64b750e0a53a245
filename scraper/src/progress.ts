import cliProgress from 'cli-progress';
import type pino from 'pino';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar when stderr is a terminal, otherwise throttled JSON log lines: a bar's carriage
 * returns would only garble log files and CI output.
 */
export function createProgress(opts: {
  label: string;
  total: number;
  unit: string;
  logger: pino.Logger;
  tty?: boolean;
}): Progress {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${opts.unit} | {detail}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { detail: '' });
    return {
      update(done, payload) {
        // Totals of streamed spreadsheets are unknown up front: grow the bar instead of overflowing it.
        if (done > bar.getTotal()) bar.setTotal(done);
        bar.update(done, { detail: '', ...payload });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLog = 0;
  return {
    update(done, payload) {
      const now = Date.now();
      if (now - lastLog < 2000) return;
      lastLog = now;
      opts.logger.info(
        { progress: opts.label, done, total: opts.total, unit: opts.unit, ...payload },
        'progress',
      );
    },
    stop() {},
  };
}
