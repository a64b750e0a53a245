/**
 * Ending Redis connections on shutdown. A graceful quit waits for Redis to answer; with Redis gone first
 * (a stack taken down all at once, a Redis failover) ioredis keeps the command in its offline queue and
 * BullMQ waits on it for ever, so shutdown hung until the supervisor's SIGKILL. A connection that is not
 * ready is dropped at once, and a graceful close that does not finish in time is dropped too.
 */
import type { Redis } from 'ioredis';

/** True when `p` settles (either way) within `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((ok) => {
    timer = setTimeout(() => ok(false), ms);
  });
  const settled = p.then(
    () => true,
    () => true,
  );
  const outcome = await Promise.race([settled, late]);
  clearTimeout(timer);
  return outcome;
}

/**
 * Waits for `graceful` up to `ms`; if it has not settled by then, runs `drop`, which is not waited for
 * long either (1 s): a connection between retries may never report its end.
 */
export async function closeWithin(
  graceful: Promise<unknown>,
  ms: number,
  drop: () => unknown,
): Promise<void> {
  if (await settledWithin(graceful, ms)) return;
  await settledWithin(Promise.resolve().then(drop), 1_000);
}

/** quit() when Redis is there to answer it, else (or if it does not answer in `ms`) disconnect(). */
export async function endRedis(client: Redis, ms = 2_000): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await closeWithin(client.quit(), ms, () => client.disconnect());
}
