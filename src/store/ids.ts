/** Ids of store rows: random UUIDs made by the application (TEXT on both dialects). */
import { randomUUID } from 'node:crypto';

/** A new random id (UUID v4, lower-case). Never derived from data, never reused. */
export function newId(): string {
  return randomUUID();
}
