/**
 * Encryption of bind passwords at rest (R42): AES-256-GCM with a key kept outside the database.
 * Format: `v1:<keyId>:<iv b64>:<tag b64>:<ciphertext b64>`, keyId = first 8 hex of sha256(key),
 * so a secret encrypted with another key is recognised before decryption is even tried.
 * Errors never contain the plaintext nor the key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RosterError } from '../core/errors.ts';

/** First 8 hex digits of sha256(key): names a key without revealing it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new RosterError('config', 'the secret key must be 32 bytes');
}

/** Encrypts `plain` with a fresh 12-byte IV; two calls give different outputs. */
export function encryptSecret(plain: string, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', keyId(key), iv.toString('base64'), tag.toString('base64'), ct.toString('base64')].join(':');
}

/** The key id a stored secret was encrypted with, or null when the text is not a v1 secret. */
export function secretKeyId(stored: string): string | null {
  const parts = stored.split(':');
  return parts.length === 5 && parts[0] === 'v1' ? (parts[1] ?? null) : null;
}

/**
 * Decrypts a stored secret. Throws RosterError 'config' when it was encrypted with another key
 * (naming both key ids), is malformed, or fails authentication (tampered or wrong key).
 */
export function decryptSecret(stored: string, key: Buffer): string {
  checkKey(key);
  const parts = stored.split(':');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new RosterError('config', 'stored secret has an unknown format');
  const [, id, ivB64, tagB64, ctB64] = parts as [string, string, string, string, string];
  const mine = keyId(key);
  if (id !== mine) {
    throw new RosterError('config', `stored secret was encrypted with key ${id}, but the configured key is ${mine}`, {
      details: { storedKeyId: id, configuredKeyId: mine },
    });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivB64, 'base64'));
    decipher.setAuthTag(Buffer.from(tagB64, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ctB64, 'base64')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new RosterError('config', 'stored secret failed authentication (tampered, or wrong key)', { cause });
  }
}
