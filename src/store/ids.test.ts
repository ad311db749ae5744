import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from './ids.ts';

test('newId makes lower-case UUIDv7 strings, strictly increasing and unique (fast bulk inserts)', () => {
  const ids = Array.from({ length: 20_000 }, () => newId());
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  const ms = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
  assert.ok(Math.abs(ms - Date.now()) < 60_000, 'the first 48 bits are the clock in ms');
});
