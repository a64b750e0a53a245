import { createHash } from 'node:crypto';

export const DEFAULT_SHARDS = 16;

/**
 * Layer shard of an entity code. A hash (not the alphabet) spreads codes evenly, and it depends only on
 * the code, so an entity stays in the same layer forever and unchanged shards keep their digests.
 */
export function shardOf(code: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > 256)
    throw new Error(`shards must be 1..256 (got ${shards})`);
  return createHash('sha256').update(code).digest().readUInt32BE(0) % shards;
}
