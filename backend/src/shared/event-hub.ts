/**
 * Per-user fan-out of server-sent events (job progress, job done, alert fired) to the streams open on
 * this process. Alone it is the in-process EventBus; the Redis bus delivers through one per replica.
 */
import type { Response } from 'express';
import type { EventBus, UserEvent } from './shared-state.js';

export class EventHub implements EventBus {
  private readonly streams = new Map<string, Set<Response>>();

  subscribe(userId: string, res: Response): () => void {
    let set = this.streams.get(userId);
    if (!set) this.streams.set(userId, (set = new Set()));
    set.add(res);
    return () => {
      set.delete(res);
      if (set.size === 0) this.streams.delete(userId);
    };
  }

  publish(userId: string, event: UserEvent): void {
    const set = this.streams.get(userId);
    if (!set) return;
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    for (const res of set) res.write(frame);
  }

  closeAll(): void {
    for (const set of this.streams.values()) for (const res of set) res.end();
    this.streams.clear();
  }
}
