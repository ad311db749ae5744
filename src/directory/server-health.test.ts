import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnhealthy, orderByHealth, serverKey, UNHEALTHY_FOR_MS, type ServerHealth } from './server-health.ts';
import type { ServerSpec } from '../core/connection.ts';

const s = (host: string, port = 389): ServerSpec => ({ host, port, security: 'starttls' });
const now = Date.parse('2030-01-01T00:00:00Z');
const h = (server: string, untilMs: number | null): ServerHealth =>
  ({ server, unhealthyUntil: untilMs === null ? null : new Date(untilMs).toISOString(), lastError: 'x', lastFailureAt: null, lastSuccessAt: null });

test('R55 server keys name scheme, host (lower case) and port', () => {
  assert.equal(serverKey(s('DC1.Example.TEST')), 'ldap+starttls://dc1.example.test:389');
  assert.equal(serverKey({ host: '::1', port: 636, security: 'ldaps' }), 'ldaps://[::1]:636');
});

test('R55 healthy servers first in the given order; unhealthy ones last, soonest to recover first', () => {
  const servers = [s('a'), s('b'), s('c'), s('d')];
  const health = [h(serverKey(s('a')), now + 60_000), h(serverKey(s('c')), now + 30_000), h(serverKey(s('d')), now - 1)];
  const out = orderByHealth(servers, health, now);
  assert.deepEqual(out.map((o) => `${o.server.host}${o.unhealthy ? '!' : ''}`), ['b', 'd', 'c!', 'a!']);
});

test('R55 unhealthy only until its period ends (real clock)', () => {
  const x = h('k', now + UNHEALTHY_FOR_MS);
  assert.equal(isUnhealthy(x, now), true);
  assert.equal(isUnhealthy(x, now + UNHEALTHY_FOR_MS), false);
  assert.equal(isUnhealthy(undefined, now), false);
});
