/**
 * Answers of /v1/similar already computed, as the JSON text sent, keyed by the data version and the
 * parsed request: a search is a pure function of the two, so a repeat (a reload of the page, a shared
 * link, another user on the same stretch) is answered without a scan. A reload of the data changes the
 * version, so no answer outlives the data it came from. Bounded in bytes; least recently used go first.
 */
import { LRUCache } from 'lru-cache';

export class ResultCache {
  private readonly lru: LRUCache<string, string>;

  constructor(maxBytes: number) {
    // JSON answers are ASCII: one byte a character, as V8 holds them.
    this.lru = new LRUCache<string, string>({
      maxSize: maxBytes,
      sizeCalculation: (v, k) => v.length + k.length,
    });
  }

  /** The key of a parsed request (defaults filled in, keys in schema order) on one data version. */
  static key(dataVersion: string, request: unknown): string {
    return `${dataVersion}\n${JSON.stringify(request)}`;
  }

  get(key: string): string | undefined {
    return this.lru.get(key);
  }

  /** Keeps an answer (one larger than the whole cache is not kept). */
  set(key: string, json: string): void {
    this.lru.set(key, json);
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
