import type { Response } from 'express';

/**
 * A search answer as JSON, without res.json's extras: no ETag (hashing every answer costs CPU on the
 * hottest path, and nobody revalidates a POST answer) and no freshness check.
 */
export function sendJson(res: Response, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
