import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen } from './listen.ts';

test('R61 --listen: loopback host:port, [::1]:port and unix:/path are accepted', () => {
  assert.deepEqual(parseListen('127.0.0.1:10027', false), { kind: 'tcp', host: '127.0.0.1', port: 10027 });
  assert.deepEqual(parseListen('127.0.0.2:25', false), { kind: 'tcp', host: '127.0.0.2', port: 25 });
  assert.deepEqual(parseListen('[::1]:10027', false), { kind: 'tcp', host: '::1', port: 10027 });
  assert.deepEqual(parseListen('localhost:10027', false), { kind: 'tcp', host: 'localhost', port: 10027 });
  assert.deepEqual(parseListen('unix:/run/roster/socketmap.sock', false), { kind: 'unix', path: '/run/roster/socketmap.sock' });
});

test('R61 --listen: a non-loopback address is refused unless --allow-remote; malformed values are bad_input', () => {
  for (const v of ['0.0.0.0:10027', '192.0.2.10:10027', '[::]:10027', 'mail.example.com:10027']) {
    assert.throws(() => parseListen(v, false), (e: Error & { code?: string }) => e.code === 'bad_input' && /not a loopback address.*--allow-remote/.test(e.message), v);
  }
  assert.deepEqual(parseListen('0.0.0.0:10027', true), { kind: 'tcp', host: '0.0.0.0', port: 10027 });
  for (const v of ['10027', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:x', '[127.0.0.1]:1', 'unix:relative.sock', '::1:10027']) {
    assert.throws(() => parseListen(v, true), (e: Error & { code?: string }) => e.code === 'bad_input', v);
  }
});
