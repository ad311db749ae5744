/**
 * Store tests of lookups (R61, R62): a directory "sync" without LDAP — loadStoreState → planRun →
 * applyPlan, exactly the steps of a real run after the read — so the rows lookups read are the
 * rows a run writes (search terms, addresses, groups, memberships, contacts).
 */
import type { Kysely } from 'kysely';
import { planRun } from '../../src/core/plan.ts';
import type { DirectorySnapshot, RunSettings } from '../../src/core/model.ts';
import { applyPlan } from '../../src/store/apply-plan.ts';
import { loadStoreState } from '../../src/store/load-state.ts';
import type { Database } from '../../src/store/schema.ts';
import { settings as runSettings } from '../../src/core/test-fixtures.ts';

export { addr, dirContact, dirGroup, dirUser, details, groupDn, snapshot, userDn } from '../../src/core/test-fixtures.ts';
export { seedTenant, NOW, TENANT, CONN, OTHER_CONN } from '../fixtures/store-data.ts';

let runs = 0;

/**
 * Plans and applies one complete read of `connectionId` (default conn-1 of tenant-1, domains
 * example.com / example.org, contacts read). Returns the plan's op counts.
 */
export async function syncSnapshot(
  db: Kysely<Database>,
  snap: DirectorySnapshot,
  opts: { tenantId?: string; connectionId?: string; now?: string; settings?: Partial<RunSettings> } = {},
): Promise<Record<string, number>> {
  const tenantId = opts.tenantId ?? 'tenant-1';
  const connectionId = opts.connectionId ?? 'conn-1';
  const now = opts.now ?? '2026-11-22T10:00:00.000Z';
  const settings: RunSettings = {
    ...runSettings({ tenantId, connectionId, options: { readContacts: true } }),
    ...opts.settings,
  };
  const state = await loadStoreState(db, tenantId, connectionId);
  const plan = planRun(snap, state, settings, now);
  const r = await applyPlan(db, plan, { runId: `run-${++runs}`, actor: `sync:${connectionId}`, now, tenantId });
  return r.byKind;
}

/** The search_terms rows as sorted `kind:id:term` strings. */
export async function termsOf(db: Kysely<Database>, tenantId = 'tenant-1'): Promise<string[]> {
  const rows = await db.selectFrom('search_terms').selectAll().where('tenant_id', '=', tenantId).execute();
  return rows
    .map((r) => (r.user_id !== null ? `user:${r.user_id}:${r.term}` : r.group_id !== null ? `group:${r.group_id}:${r.term}` : `contact:${r.contact_id}:${r.term}`))
    .sort();
}
