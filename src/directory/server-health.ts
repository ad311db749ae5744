/**
 * Per-server health (R55): a server that fails is skipped for the rest of the run and marked
 * unhealthy for UNHEALTHY_FOR_MS of REAL time (not the lifecycle clock: a clock override must not
 * keep a broken server "fresh"); later runs try healthy servers first, in the connection's order,
 * then unhealthy ones (soonest to recover first) as a last resort — an unhealthy server is never
 * dropped, since it may be the only one left.
 *
 * Pure: the clock is a parameter. Persistence lives in src/sync/server-health-store.ts.
 */
import type { ServerSpec } from '../core/connection.ts';

/** How long a failed server stays unhealthy. */
export const UNHEALTHY_FOR_MS = 5 * 60_000;

/** The key a server's health is kept under: scheme, host and port (`ldaps://h:636`, `ldap+starttls://h:389`). */
export function serverKey(s: Pick<ServerSpec, 'host' | 'port' | 'security'>): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  const scheme = s.security === 'ldaps' ? 'ldaps' : s.security === 'starttls' ? 'ldap+starttls' : 'ldap';
  return `${scheme}://${host.toLowerCase()}:${s.port}`;
}

export interface ServerHealth {
  server: string;
  /** ISO time (real clock) until which the server is skipped first; null = healthy. */
  unhealthyUntil: string | null;
  lastError: string | null;
  lastFailureAt: string | null;
  lastSuccessAt: string | null;
}

/** One connection attempt of a run, in order, as recorded in the run (R52, R55). */
export interface ServerAttempt {
  server: string;
  ok: boolean;
  /** Wall time of the attempt (connect, TLS, bind). */
  ms: number;
  /** Why it failed (no secrets). */
  error?: string;
  /** True when it was tried although marked unhealthy (every healthy one failed first). */
  wasUnhealthy?: boolean;
}

/** True when `h` marks its server unhealthy at real time `nowMs`. */
export function isUnhealthy(h: ServerHealth | undefined, nowMs: number): boolean {
  return h !== undefined && h.unhealthyUntil !== null && Date.parse(h.unhealthyUntil) > nowMs;
}

/**
 * Healthy servers first (stable, in the given order), then unhealthy ones by the end of their
 * unhealthy period. Returns each server with whether it is unhealthy now.
 */
export function orderByHealth(servers: readonly ServerSpec[], health: readonly ServerHealth[], nowMs: number): { server: ServerSpec; unhealthy: boolean }[] {
  const byKey = new Map(health.map((h) => [h.server, h]));
  const tagged = servers.map((server, i) => {
    const h = byKey.get(serverKey(server));
    const unhealthy = isUnhealthy(h, nowMs);
    return { server, unhealthy, until: unhealthy ? Date.parse(h!.unhealthyUntil!) : 0, i };
  });
  tagged.sort((a, b) => Number(a.unhealthy) - Number(b.unhealthy) || a.until - b.until || a.i - b.i);
  return tagged.map(({ server, unhealthy }) => ({ server, unhealthy }));
}
