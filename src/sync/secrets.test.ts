import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encryptSecret, decryptSecret, keyId, secretKeyId } from './secrets.ts';
import { RosterError } from '../core/errors.ts';

const key = randomBytes(32);

test('R42: round trip, format v1:<keyId>:iv:tag:ct, never the plaintext', () => {
  const plain = 'S3cret pässwörd!';
  const enc = encryptSecret(plain, key);
  assert.match(enc, /^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.equal(secretKeyId(enc), keyId(key));
  assert.ok(!enc.includes(plain));
  assert.equal(decryptSecret(enc, key), plain);
  assert.notEqual(encryptSecret(plain, key), enc, 'fresh IV each time');
});

test('R42: a wrong key fails with a config error naming key ids, not the secret', () => {
  const enc = encryptSecret('hunter2', key);
  const other = randomBytes(32);
  assert.throws(() => decryptSecret(enc, other), (e: unknown) => {
    assert.ok(e instanceof RosterError);
    assert.equal(e.code, 'config');
    assert.match(e.message, new RegExp(keyId(key)));
    assert.ok(!e.message.includes('hunter2'));
    return true;
  });
});

test('R42: a tampered ciphertext fails authentication', () => {
  const enc = encryptSecret('hunter2', key);
  const parts = enc.split(':');
  const ct = Buffer.from(parts[4]!, 'base64');
  ct[0] = ct[0]! ^ 1;
  parts[4] = ct.toString('base64');
  assert.throws(() => decryptSecret(parts.join(':'), key), /authentication/);
  assert.throws(() => decryptSecret('garbage', key), /unknown format/);
});

test('R42: rotation is decrypt with the old key, encrypt with the new', () => {
  const newKey = randomBytes(32);
  const enc = encryptSecret('pw', key);
  const rotated = encryptSecret(decryptSecret(enc, key), newKey);
  assert.equal(secretKeyId(rotated), keyId(newKey));
  assert.equal(decryptSecret(rotated, newKey), 'pw');
  assert.throws(() => decryptSecret(rotated, key));
});
