import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, redactUrl } from './config.ts';
import { loadSecretKey } from './secret-key.ts';
import { RosterError } from '../core/errors.ts';

test('defaults: ./data, SQLite under it, key file under it, real clock', () => {
  const c = loadConfig({}, '/srv/r');
  assert.equal(c.dataDir, '/srv/r/data');
  assert.equal(c.databaseUrl, 'sqlite:/srv/r/data/roster.db');
  assert.equal(c.dialect, 'sqlite');
  assert.equal(c.secretKeyFile, '/srv/r/data/secret.key');
  assert.equal(c.clockOverride, null);
  assert.ok(Object.isFrozen(c));
});

test('env: data dir, postgres URL selects PostgreSQL, key file', () => {
  const c = loadConfig({ ROSTER_DATA_DIR: '/d', ROSTER_DATABASE_URL: 'postgres://u:pw@127.0.0.1:5/db', ROSTER_SECRET_KEY_FILE: 'k' }, '/w');
  assert.equal(c.dataDir, '/d');
  assert.equal(c.dialect, 'postgres');
  assert.equal(c.secretKeyFile, '/w/k');
  assert.equal(redactUrl(c.databaseUrl), 'postgres://u:***@127.0.0.1:5/db');
});

test('D5: ROSTER_NOW is validated and normalized to ISO UTC', () => {
  assert.equal(loadConfig({ ROSTER_NOW: '2026-11-22T10:00:00+01:00' }).clockOverride, '2026-11-22T09:00:00.000Z');
  assert.equal(loadConfig({ ROSTER_NOW: '' }).clockOverride, null);
  for (const bad of ['yesterday', '2026-13-45T00:00:00Z', '1700000000']) {
    assert.throws(() => loadConfig({ ROSTER_NOW: bad }), (e: unknown) => e instanceof RosterError && e.code === 'config' && /ROSTER_NOW/.test(e.message));
  }
});

test('bad database URL and bad base64 key are config errors; the key value is not echoed', () => {
  assert.throws(() => loadConfig({ ROSTER_DATABASE_URL: 'mysql://x' }), /ROSTER_DATABASE_URL/);
  assert.throws(() => loadConfig({ ROSTER_SECRET_KEY: 'c2hvcnQ=' }), (e: unknown) => e instanceof RosterError && !e.message.includes('c2hvcnQ='));
});

test('R42: the key file is created 0600 with 32 random bytes on first use, then reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-cfg-'));
  try {
    const c = loadConfig({ ROSTER_DATA_DIR: dir });
    assert.throws(() => loadSecretKey(c, false), /cannot read key file/);
    const k1 = loadSecretKey(c);
    assert.equal(k1.length, 32);
    assert.equal(statSync(c.secretKeyFile).mode & 0o777, 0o600);
    assert.ok(loadSecretKey(c).equals(k1));
    assert.equal(Buffer.from(readFileSync(c.secretKeyFile, 'utf8').trim(), 'base64').length, 32);
    writeFileSync(c.secretKeyFile, 'nope');
    assert.throws(() => loadSecretKey(c), /32-byte key/);
    const b64 = randomBytes(32).toString('base64');
    assert.ok(loadSecretKey(loadConfig({ ROSTER_DATA_DIR: dir, ROSTER_SECRET_KEY: b64 })).equals(Buffer.from(b64, 'base64')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
