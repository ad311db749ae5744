/**
 * Gathers what planRun needs besides the snapshot and the store state: managed domains,
 * exceptions (R30, D8), additions (R31, D4), options (R3), deletion delay (R20), priority
 * (R51) and whether unanchored ldap users may be flagged (R18).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Address, RunSettings } from '../core/model.ts';
import type { ConnectionSettings } from '../core/connection.ts';

export interface ConnectionRow {
  id: string;
  tenantId: string;
  name: string;
  priority: number;
  settings: ConnectionSettings;
}

/**
 * R18: unanchored users are flagged only when every enabled connection of the tenant has
 * completed a run since sync was enabled — this run counting as complete for its own connection.
 * With sync never enabled, never.
 */
export async function resolveFlagUnanchored(db: Kysely<Database>, tenantId: string, connectionId: string): Promise<boolean> {
  const t = await db.selectFrom('tenants').select(['sync_enabled', 'sync_enabled_at']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  if (t.sync_enabled !== 1 || t.sync_enabled_at === null) return false;
  const since = t.sync_enabled_at;
  const conns = await db.selectFrom('connections').select(['id', 'last_complete_run_at']).where('tenant_id', '=', tenantId).where('enabled', '=', 1).execute();
  return conns.every((c) => c.id === connectionId || (c.last_complete_run_at !== null && c.last_complete_run_at >= since));
}

export async function loadRunSettings(db: Kysely<Database>, conn: ConnectionRow): Promise<RunSettings> {
  const domains = await db.selectFrom('domains').select('name').where('tenant_id', '=', conn.tenantId).orderBy('name').execute();
  const exceptions = await db.selectFrom('exceptions').select(['kind', 'anchor', 'address']).where('connection_id', '=', conn.id).execute();
  const additions = await db.selectFrom('additions').select('address').where('connection_id', '=', conn.id).orderBy('address').execute();
  const pick = (kind: string) => exceptions.filter((e) => e.kind === kind);
  // R51: every connection of the tenant (enabled or not: a paused connection keeps its rank).
  const ranks = await db.selectFrom('connections').select(['id', 'priority']).where('tenant_id', '=', conn.tenantId).orderBy('id').execute();
  return {
    tenantId: conn.tenantId,
    connectionId: conn.id,
    connectionPriority: conn.priority,
    connectionPriorities: Object.fromEntries(ranks.map((r) => [r.id, r.priority])),
    managedDomains: domains.map((d) => d.name.toLowerCase()),
    options: conn.settings.options,
    deletionDelayDays: conn.settings.deletionDelayDays,
    exceptions: {
      userAnchors: pick('user').flatMap((e) => (e.anchor === null ? [] : [e.anchor.toLowerCase()])).sort(),
      groupAnchors: pick('group').flatMap((e) => (e.anchor === null ? [] : [e.anchor.toLowerCase()])).sort(),
      aliases: pick('alias').flatMap((e) => (e.address === null ? [] : [e.address.toLowerCase() as Address])).sort(),
    },
    additions: additions.map((a) => a.address.toLowerCase() as Address),
    flagUnanchored: await resolveFlagUnanchored(db, conn.tenantId, conn.id),
  };
}
