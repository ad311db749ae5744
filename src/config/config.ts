/**
 * Process configuration (DESIGN: zod, defaults → env, validated once, frozen).
 *
 * Sources, in order: built-in defaults, then `ROSTER_*` environment variables. The secret key
 * itself is not read here (see secret-key.ts): loading the config must never create files.
 */
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { RosterError } from '../core/errors.ts';

export interface RosterConfig {
  /** Absolute directory for the embedded store and the default key file. */
  readonly dataDir: string;
  /** `sqlite:/abs/path` or `postgres://…`. Never printed whole: it may hold a password. */
  readonly databaseUrl: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the 32-byte secret key lives (R42), unless `secretKeyBase64` is given. */
  readonly secretKeyFile: string;
  /** ROSTER_SECRET_KEY (base64 of 32 bytes), or null. Takes precedence over the file. */
  readonly secretKeyBase64: string | null;
  /** D5: ROSTER_NOW normalized to ISO-8601 UTC, or null for the real clock. */
  readonly clockOverride: string | null;
  /** ROSTER_DEBUG=1: print stacks of internal errors. */
  readonly debug: boolean;
}

const isoTime = z
  .string()
  .trim()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO-8601 time such as 2026-11-22T10:00:00Z',
  })
  .transform((s) => new Date(s).toISOString());

const base64Key = z
  .string()
  .trim()
  .refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32, {
    message: 'must be the base64 form of exactly 32 bytes',
  });

const databaseUrl = z
  .string()
  .trim()
  .refine((s) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(s), {
    message: 'must start with sqlite: or postgres:// (or postgresql://)',
  });

const envSchema = z.object({
  ROSTER_DATA_DIR: z.string().trim().min(1).optional(),
  ROSTER_DATABASE_URL: databaseUrl.optional(),
  ROSTER_SECRET_KEY_FILE: z.string().trim().min(1).optional(),
  ROSTER_SECRET_KEY: base64Key.optional(),
  ROSTER_NOW: isoTime.optional(),
  ROSTER_DEBUG: z.string().optional(),
});

/** Empty strings count as unset, so `ROSTER_NOW= roster …` means the real clock. */
function pickEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v;
  }
  return out;
}

/**
 * Reads and validates the configuration once. Throws RosterError 'config' naming the variable
 * and what is wrong with it (never echoing ROSTER_SECRET_KEY's value).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): RosterConfig {
  const parsed = envSchema.safeParse(pickEnv(env));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const name = String(first?.path[0] ?? 'environment');
    throw new RosterError('config', `${name} ${first?.message ?? 'is invalid'}`, { details: { variable: name } });
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.ROSTER_DATA_DIR ?? './data');
  let url = e.ROSTER_DATABASE_URL ?? `sqlite:${join(dataDir, 'roster.db')}`;
  // A relative SQLite path is taken relative to the working directory, like ROSTER_DATA_DIR.
  if (url.startsWith('sqlite:') && url !== 'sqlite::memory:') url = `sqlite:${resolve(cwd, url.slice('sqlite:'.length))}`;
  const config: RosterConfig = {
    dataDir,
    databaseUrl: url,
    dialect: url.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    secretKeyFile: resolve(cwd, e.ROSTER_SECRET_KEY_FILE ?? join(dataDir, 'secret.key')),
    secretKeyBase64: e.ROSTER_SECRET_KEY ?? null,
    clockOverride: e.ROSTER_NOW ?? null,
    debug: e.ROSTER_DEBUG === '1',
  };
  return Object.freeze(config);
}

/** The database URL with any password replaced, for display (`roster config`-style output). */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
