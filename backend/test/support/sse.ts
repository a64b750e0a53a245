/** A test's SSE client: opens /api/v1/events with a session cookie and collects every event it gets. */
export interface SseEvent {
  type: string;
  data: { id?: string; status?: string; progress?: number; error?: string };
}

export interface EventStream {
  /** The stream's response headers (behind a proxy: which replica holds it). */
  headers: Headers;
  events: SseEvent[];
  /** The first event (seen already or to come) that matches, or a rejection after `timeoutMs`. */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export async function openEvents(baseUrl: string, cookie: string): Promise<EventStream> {
  const ac = new AbortController();
  const res = await fetch(`${baseUrl}/api/v1/events`, { headers: { cookie }, signal: ac.signal });
  if (res.status !== 200) throw new Error(`events stream answered ${res.status}`);
  const events: SseEvent[] = [];
  let waiters: (() => void)[] = [];
  void (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (type && data) {
            events.push({ type, data: JSON.parse(data) });
            for (const w of waiters.splice(0)) w();
          }
        }
      }
    } catch {
      // Closed by the test (abort) or by the server going away.
    }
  })();
  return {
    headers: res.headers,
    events,
    async waitFor(match, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(match);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    close() {
      waiters = [];
      ac.abort();
    },
  };
}
