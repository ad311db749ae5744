/**
 * Which servers a run tries, in which order (R55): the connection's listed servers, or those
 * its SRV records name (RFC 2782 order), then healthy before unhealthy (server-health.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { ConnectionSettings, ServerSpec } from '../core/connection.ts';
import type { ConnectOptions } from '../directory/connect.ts';
import { discoverServers, type RandomSource } from '../directory/srv.ts';
import { orderByHealth, serverKey, type ServerAttempt } from '../directory/server-health.ts';
import { loadServerHealth } from './server-health-store.ts';

export interface ServerSelection {
  /** The settings with `servers` replaced by the ordered list to try. */
  settings: ConnectionSettings;
  /** Pass to readDirectory/connectDirectory: marks unhealthy servers and collects attempts. */
  connect: ConnectOptions;
  /** Filled as the connect goes (in order). */
  attempts: ServerAttempt[];
}

/** The servers of a connection, discovered by SRV when it names a domain (R55). */
export async function resolveServers(settings: ConnectionSettings, random?: RandomSource): Promise<ServerSpec[]> {
  if (settings.srv === undefined || settings.srv === null) return settings.servers;
  // DNS is part of connecting: bounded by the connect timeout (R57), at most 5 s per query.
  return discoverServers(settings.srv, { timeoutMs: Math.min(settings.connectTimeoutMs, 5000), ...(random ? { random } : {}) });
}

/**
 * Resolves and orders the servers of a connection for one run. Throws what discovery throws
 * (RosterError 'connect_failed' when SRV yields nothing). `nowMs` is the REAL clock.
 */
export async function selectServers(db: Kysely<Database>, connectionId: string, settings: ConnectionSettings, nowMs: number, random?: RandomSource): Promise<ServerSelection> {
  const servers = await resolveServers(settings, random);
  const ordered = orderByHealth(servers, await loadServerHealth(db, connectionId), nowMs);
  const attempts: ServerAttempt[] = [];
  return {
    settings: { ...settings, servers: ordered.map((o) => o.server) },
    connect: {
      unhealthy: new Set(ordered.filter((o) => o.unhealthy).map((o) => serverKey(o.server))),
      onAttempt: (a) => attempts.push(a),
    },
    attempts,
  };
}
