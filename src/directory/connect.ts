/**
 * Connects and binds to the first usable server of a connection (R43, R55, R57). Servers are
 * tried in the order given; each failure is recorded with its reason, and when none works the
 * error names every server and why. TLS (LDAPS and StartTLS) always verifies the certificate and
 * the host name against settings.caFile or the system store; plain LDAP with a password needs
 * settings.allowPlainBind. The bind password never appears in a message or a log.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { ConnectionSettings, ServerSpec } from '../core/connection.ts';
import { RosterError } from '../core/errors.ts';
import { describeLdapError } from './ldap-errors.ts';
import { serverKey, type ServerAttempt } from './server-health.ts';

export interface DirectoryConnection extends AsyncDisposable {
  client: Client;
  /** The server in use, as `ldaps://host:port` or `ldap://host:port` (StartTLS shows ldap://). */
  server: string;
  /** R55: every server tried, in order, the last one being the one in use. */
  attempts: ServerAttempt[];
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** R55: keys (serverKey) of servers currently unhealthy; tried all the same, but marked so in attempts. */
  unhealthy?: ReadonlySet<string>;
  /** Called after each attempt (for run records and progress). */
  onAttempt?: (a: ServerAttempt) => void;
}

export function serverUrl(s: ServerSpec): string {
  const host = isIP(s.host) === 6 ? `[${s.host}]` : s.host;
  return `${s.security === 'ldaps' ? 'ldaps' : 'ldap'}://${host}:${s.port}`;
}

/** R43: a simple bind with a password over plain LDAP is refused unless explicitly allowed. */
export function checkPlainBind(settings: Pick<ConnectionSettings, 'servers' | 'allowPlainBind'>, bindPassword: string | null): void {
  if (!bindPassword || settings.allowPlainBind) return;
  const plain = settings.servers.filter((s) => s.security === 'plain');
  if (plain.length > 0) {
    throw new RosterError('bad_input',
      `a password bind over plain LDAP (${plain.map(serverUrl).join(', ')}) is not allowed for this connection (R43): ` +
      'use LDAPS or StartTLS, or allow plain binds explicitly');
  }
}

/**
 * `host` is the name verified against the certificate; `address`, when given, is where to
 * connect (an SRV target resolved by the connection's DNS server, R55).
 */
function tlsOptionsFor(settings: Pick<ConnectionSettings, 'caFile'>, host: string, address?: string): ConnectionOptions {
  let ca: Buffer | undefined;
  if (settings.caFile !== null) {
    try {
      ca = readFileSync(settings.caFile);
    } catch (e) {
      throw new RosterError('bad_input', `CA file ${settings.caFile} cannot be read: ${(e as Error).message}`);
    }
  }
  // rejectUnauthorized is Node's default; stated here so that nobody "fixes" it away.
  return { ca, rejectUnauthorized: true, minVersion: 'TLSv1.2', host: address ?? host, ...(isIP(host) ? {} : { servername: host }) };
}

/** Rejects after `ms`, running `onTimeout` first (it closes the half-open client). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

async function connectOne(settings: ConnectionSettings, server: ServerSpec, bindPassword: string | null): Promise<Client> {
  const tls = server.security === 'plain' ? undefined : tlsOptionsFor(settings, server.host, server.address);
  const client = new Client({
    url: serverUrl(server.address === undefined ? server : { ...server, host: server.address }),
    timeout: settings.operationTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    ...(server.security === 'ldaps' ? { tlsOptions: tls } : {}),
    // DNs come from the directory itself (members, bases); the server judges their syntax.
    strictDN: false,
  });
  const steps = async (): Promise<void> => {
    if (server.security === 'starttls') await client.startTLS({ ...tls });
    // No password: an anonymous session. Never send an "unauthenticated bind" (DN, empty password).
    if (bindPassword) await client.bind(settings.bindDn, bindPassword);
  };
  try {
    // Bounds the TLS handshake too, which ldapts does not time (R57).
    await withDeadline(steps(), settings.connectTimeoutMs + settings.operationTimeoutMs, 'connect and bind', () => {
      void client.unbind().catch(() => undefined);
    });
    return client;
  } catch (e) {
    await client.unbind().catch(() => undefined);
    throw e;
  }
}

/**
 * Connects and binds to the first server that works. Throws RosterError('bad_input') for R43
 * violations (before any connection) and RosterError('connect_failed') naming each server and its
 * failure when none works.
 */
export async function connectDirectory(settings: ConnectionSettings, bindPassword: string | null, signal?: AbortSignal, opts: ConnectOptions = {}): Promise<DirectoryConnection> {
  checkPlainBind(settings, bindPassword);
  if (settings.servers.length === 0) throw new RosterError('bad_input', 'the connection lists no server');
  const failures: { server: string; reason: string }[] = [];
  const attempts: ServerAttempt[] = [];
  const record = (a: ServerAttempt): void => {
    attempts.push(a);
    opts.onAttempt?.(a);
  };
  for (const server of settings.servers) {
    if (signal?.aborted) throw new RosterError('read_incomplete', 'read aborted while connecting');
    const url = `${serverUrl(server)}${server.security === 'starttls' ? ' (StartTLS)' : ''}`;
    const key = serverKey(server);
    const mark = opts.unhealthy?.has(key) === true ? { wasUnhealthy: true } : {};
    const t0 = performance.now();
    try {
      const client = await connectOne(settings, server, bindPassword);
      record({ server: key, ok: true, ms: Math.round(performance.now() - t0), ...mark });
      const close = async (): Promise<void> => {
        await client.unbind().catch(() => undefined);
      };
      return { client, server: serverUrl(server), attempts, close, [Symbol.asyncDispose]: close };
    } catch (e) {
      if (e instanceof RosterError) throw e;
      const reason = describeLdapError(e, { connectMs: settings.connectTimeoutMs, operationMs: settings.operationTimeoutMs });
      record({ server: key, ok: false, ms: Math.round(performance.now() - t0), error: reason, ...mark });
      failures.push({ server: url, reason });
    }
  }
  throw new RosterError('connect_failed',
    `no directory server could be used: ${failures.map((f) => `${f.server}: ${f.reason}`).join('; ')}`,
    { details: { servers: failures, attempts } });
}
