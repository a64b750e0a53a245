/**
 * Heavy searches (DTW) per user: at most `perUser` of one user's run at once, the rest wait in that
 * user's own queue, in order. One user sending many long searches at once then occupies at most
 * `perUser` of ml-service's heavy lane, and only that user waits for them (issue 14: a queue position is
 * fine, a 503 for everyone is not). A user with `maxWaiting` already queued gets 429 for the next.
 */
import { AppError } from '../platform/errors.js';

interface Lane {
  running: number;
  waiting: { start: () => void; fail: (err: Error) => void }[];
}

export class UserLanes {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    readonly perUser: number,
    readonly maxWaiting: number,
  ) {}

  /**
   * Resolves with a release function once one of the user's slots is free. Rejects with 429 when the
   * user's queue is full, with 504 when `deadline` (Date.now() ms) passes first, and with 499 when
   * `signal` aborts (the client left) while waiting.
   */
  acquire(user: string, deadline: number | null, signal?: AbortSignal): Promise<() => void> {
    const lane = this.lanes.get(user) ?? { running: 0, waiting: [] };
    this.lanes.set(user, lane);
    const release = () => {
      lane.running--;
      const next = lane.waiting.shift();
      if (next) next.start();
      else if (lane.running === 0) this.lanes.delete(user);
    };
    if (lane.running < this.perUser) {
      lane.running++;
      return Promise.resolve(once(release));
    }
    if (lane.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new AppError(
          429,
          'too_many_searches',
          `you already have ${lane.running} long searches running and ${lane.waiting.length} waiting; wait for some to finish`,
          { running: lane.running, waiting: lane.waiting.length },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (err: Error) => {
        const i = lane.waiting.indexOf(entry);
        if (i >= 0) lane.waiting.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = () => leave(new AppError(499, 'client_closed', 'the client closed the request'));
      const entry = {
        start: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          lane.running++;
          resolve(once(release));
        },
        fail: leave,
      };
      lane.waiting.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== null) {
        timer = setTimeout(
          () =>
            leave(
              new AppError(
                504,
                'search_timeout',
                'the search waited behind your other long searches past its time budget',
              ),
            ),
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  /** Searches of the user running and waiting now (tests, operator view). */
  load(user: string): { running: number; waiting: number } {
    const lane = this.lanes.get(user);
    return { running: lane?.running ?? 0, waiting: lane?.waiting.length ?? 0 };
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
