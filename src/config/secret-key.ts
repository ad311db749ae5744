/**
 * The key that encrypts bind passwords at rest (R42). It lives outside the database: in
 * ROSTER_SECRET_KEY (base64) or in a file (default <data dir>/secret.key) that is created
 * with mode 0600 and 32 random bytes on first use.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { RosterError } from '../core/errors.ts';
import type { RosterConfig } from './config.ts';

export const KEY_BYTES = 32;

/** Parses key material: raw 32 bytes, or base64 of 32 bytes (with optional whitespace). */
export function parseKey(material: Buffer, where: string): Buffer {
  if (material.length === KEY_BYTES) return material;
  const text = material.toString('utf8').trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new RosterError('config', `${where} does not hold a 32-byte key (raw or base64)`);
}

/** Reads a key file; throws 'config' when it is missing or malformed. */
export function readKeyFile(path: string): Buffer {
  let material: Buffer;
  try {
    material = readFileSync(path);
  } catch (cause) {
    throw new RosterError('config', `cannot read key file ${path}`, { cause });
  }
  return parseKey(material, `key file ${path}`);
}

/** Writes a new random key file (base64 text, mode 0600) atomically; returns the key. */
export function createKeyFile(path: string): Buffer {
  const key = randomBytes(KEY_BYTES);
  writeKeyFile(path, key);
  return key;
}

/** Writes `key` to `path` (base64, 0600) through a temporary file and a rename. */
export function writeKeyFile(path: string, key: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, key.toString('base64') + '\n', { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * The configured key: ROSTER_SECRET_KEY when set, else the key file, created on first use
 * only when `create` is true (commands that store a secret create it; readers do not).
 */
export function loadSecretKey(config: RosterConfig, create = true): Buffer {
  if (config.secretKeyBase64 !== null) return parseKey(Buffer.from(config.secretKeyBase64, 'utf8'), 'ROSTER_SECRET_KEY');
  try {
    return readKeyFile(config.secretKeyFile);
  } catch (e) {
    const missing = e instanceof RosterError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (missing && create) return createKeyFile(config.secretKeyFile);
    throw e;
  }
}
