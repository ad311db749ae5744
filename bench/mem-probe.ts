/**
 * Diagnostic: retained heap of each stage of a no-change 100k sync (snapshot, StoreState, plan),
 * measured after a forced full GC. Needs --expose-gc.
 *
 *   node --no-warnings --expose-gc bench/mem-probe.ts [--users N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/db.ts';
import { claimRun } from '../src/sync/run-claim.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { loadStoreState } from '../src/store/load-state.ts';
import { planRun } from '../src/core/plan.ts';
import { buildSnapshot, benchSettings } from './pipeline-only.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const heap = (): number => { gc(); gc(); return process.memoryUsage().heapUsed / 1048576; };
const NOW = '2026-11-22T10:00:00.000Z';

const h0 = heap();
let snapshot: ReturnType<typeof buildSnapshot> | null = buildSnapshot();
const h1 = heap();
console.log(`snapshot ${(h1 - h0).toFixed(0)} MB`);
const dir = mkdtempSync(join(tmpdir(), 'roster-probe-'));
const store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
try {
  const db = store.db;
  await db.insertInto('providers').values({ id: 'prov', name: 'default', created_at: NOW }).execute();
  await db.insertInto('tenants').values({ id: 'tenant-1', provider_id: 'prov', name: 'acme', sync_enabled: 1, sync_enabled_at: NOW, created_at: NOW }).execute();
  await db.insertInto('domains').values(['example.test', 'example.org'].map((d, i) => ({ id: `d${i}`, tenant_id: 'tenant-1', name: d, created_at: NOW }))).execute();
  await db.insertInto('connections').values({
    id: 'conn-1', tenant_id: 'tenant-1', name: 'main', priority: 1, enabled: 1, profile: 'openldap', settings: '{}', scope_key: 'ldap://127.0.0.1/x',
    bind_secret: null, schedule: '6h', last_complete_run_at: null, created_at: NOW, updated_at: NOW,
  }).execute();
  const settings = benchSettings();
  const run = await claimRun(db, { tenantId: 'tenant-1', connectionId: 'conn-1', connectionName: 'main', trigger: 'cli', actor: 'bench', dryRun: false, now: NOW, clockOverride: null });
  await reconcile(db, { runId: run.id, tenantId: 'tenant-1', connectionId: 'conn-1', dryRun: false, actor: 'sync:main', now: NOW, started: 0, serverUsed: 'b', snapshot: { current: snapshot }, settings });
  const h2 = heap();
  let state: Awaited<ReturnType<typeof loadStoreState>> | null = await loadStoreState(db, 'tenant-1', 'conn-1');
  const h3 = heap();
  console.log(`store state ${(h3 - h2).toFixed(0)} MB (${state.users.length} users)`);
  let plan: ReturnType<typeof planRun> | null = planRun(snapshot, state, settings, NOW);
  const h4 = heap();
  console.log(`no-change plan ${(h4 - h3).toFixed(0)} MB (${plan.ops.length} ops, ${plan.skipped.length} skipped, ${plan.issues.length} issues)`);
  snapshot = null; state = null; plan = null;
  console.log(`after release ${(heap() - h0).toFixed(0)} MB above start`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
