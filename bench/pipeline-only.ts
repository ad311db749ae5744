/**
 * The sync pipeline AFTER the read, alone: loadStoreState + planRun + applyPlan + run record
 * (src/sync/reconcile.ts, exactly what `roster sync` runs), on SQLite and/or PostgreSQL, for a
 * 100k-user snapshot built in memory from the bench's generator (same spec and seed as
 * bench/run.ts, mapped the way the OpenLDAP profile maps it). Runs: a first sync into an empty
 * store, then no-change syncs. Prints each phase's wall time and the process's heap/RSS.
 *
 *   node --no-warnings [--cpu-prof --cpu-prof-dir DIR] bench/pipeline-only.ts [--users N] [--dialect sqlite|postgres|both] [--runs K]
 *
 * PostgreSQL: ROSTER_BENCH_PG_URL, else the bench's own private cluster (default durability).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateUser, deterministicUuid, type GeneratorSpec } from '../test/fixtures/directory-generator.ts';
import { normalizeAddress } from '../src/core/address.ts';
import type { Address, DirGroup, DirUser, DirectorySnapshot, RunSettings } from '../src/core/model.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { claimRun } from '../src/sync/run-claim.ts';
import { reconcile, type SyncPhase } from '../src/sync/reconcile.ts';
import { readRunRecord } from '../src/sync/run-record.ts';
import { startBenchPostgres } from './pg-server.ts';

const { values: argv } = parseArgs({
  options: { users: { type: 'string', default: '100000' }, dialect: { type: 'string', default: 'both' }, runs: { type: 'string', default: '2' } },
  strict: false,
});
const NOCHANGE_RUNS = Number(argv.runs);
const spec: GeneratorSpec = {
  seed: 20261122, users: Number(argv.users), baseDn: 'dc=example,dc=test', managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'],
};

/** The snapshot the OpenLDAP profile would map from the generated directory (users + a group tree). */
export function buildSnapshot(USERS = Number(argv.users)): DirectorySnapshot {
  const users: DirUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const g = generateUser(spec, i);
    const mails = g.mails.map((m) => normalizeAddress(m)).filter((m): m is Address => m !== null);
    const primary = mails[0] ?? null;
    const aliases = [...new Set(mails.slice(1))].filter((a) => a !== primary).sort();
    users.push({
      anchor: g.entryUUID, dn: g.dn, kind: 'user', disabled: g.disabled, primary, primaryInvalid: false, aliases,
      details: { givenName: g.givenName, surname: g.sn, displayName: g.displayName, homePhone: g.homePhone, mobile: g.mobile, company: g.o, department: g.ou, notes: g.description },
      kerberosName: null, ntlmName: null, issues: [],
    });
  }
  const groups: DirGroup[] = [];
  const nGroups = Math.max(3, Math.ceil(USERS / 100));
  for (let j = 0; j < nGroups; j++) {
    const memberDns: string[] = [];
    for (let k = 0; k < 120; k++) memberDns.push(users[(j * 100 + k) % USERS]!.dn);
    for (let c = 3 * (j + 1); c < nGroups && c < 3 * (j + 1) + 3; c++) if (c % 3 === 0) memberDns.push(`cn=group-${c + 1},ou=groups,${spec.baseDn}`);
    groups.push({ anchor: deterministicUuid(spec.seed, 2, j), dn: `cn=group-${j + 1},ou=groups,${spec.baseDn}`, name: `group-${j + 1}`, address: null, memberDns, issues: [] });
  }
  return { complete: true, users, groups, contacts: [], exceptedGroupsOutOfScope: [], references: [] };
}

const NOW = '2026-11-22T10:00:00.000Z';

/** Provider `prov`, tenant `tenant-1` (acme) with `domains`, connection `conn-1` (main): what every bench store starts from. */
export async function seedBenchTenant(db: Store['db'], domains: readonly string[]): Promise<void> {
  await db.insertInto('providers').values({ id: 'prov', name: 'default', created_at: NOW }).execute();
  await db.insertInto('tenants').values({ id: 'tenant-1', provider_id: 'prov', name: 'acme', sync_enabled: 1, sync_enabled_at: NOW, created_at: NOW }).execute();
  await db.insertInto('domains').values(domains.map((d, i) => ({ id: `d${i}`, tenant_id: 'tenant-1', name: d, created_at: NOW }))).execute();
  await db.insertInto('connections').values({
    id: 'conn-1', tenant_id: 'tenant-1', name: 'main', priority: 1, enabled: 1, profile: 'openldap', settings: '{}', scope_key: 'ldap://127.0.0.1/x',
    bind_secret: null, schedule: '6h', last_complete_run_at: null, created_at: NOW, updated_at: NOW,
  }).execute();
}

async function seed(store: Store): Promise<RunSettings> {
  await seedBenchTenant(store.db, spec.managedDomains);
  return benchSettings();
}

/** A fresh store for a bench: a temp SQLite file, or a private PostgreSQL cluster (bench/pg-server.ts); `cleanup` removes it. */
export async function openBenchStore(dialect: 'sqlite' | 'postgres', prefix: string): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    return { url: `sqlite:${join(dir, 'roster.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const pg = await startBenchPostgres();
  return { url: pg.url, cleanup: () => pg.stop() };
}

/** The run settings of the bench connection (managed domains as the generator's spec). */
export function benchSettings(): RunSettings {
  return {
    tenantId: 'tenant-1', connectionId: 'conn-1', connectionPriority: 1, managedDomains: spec.managedDomains,
    options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: false }, deletionDelayDays: 30,
    exceptions: { userAnchors: [], groupAnchors: [], aliases: [] }, additions: [], flagUnanchored: true,
  };
}

/** This process's CPU time (user + system), ms: a busy shared machine stretches wall time. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const mb = (n: number) => (n / 1048576).toFixed(0);

async function oneRun(store: Store, snapshot: DirectorySnapshot, settings: RunSettings, label: string): Promise<Record<string, number>> {
  const t0 = performance.now();
  const c0 = cpuMs();
  const run = await claimRun(store.db, { tenantId: 'tenant-1', connectionId: 'conn-1', connectionName: 'main', trigger: 'cli', actor: 'bench', dryRun: false, now: NOW, clockOverride: null });
  const marks: [SyncPhase, number][] = [];
  await reconcile(store.db, {
    runId: run.id, tenantId: 'tenant-1', connectionId: 'conn-1', dryRun: false, actor: 'sync:main', now: NOW, started: t0, serverUsed: 'bench',
    snapshot: { current: snapshot }, settings, onProgress: (p) => { if (marks.at(-1)?.[0] !== p.phase) marks.push([p.phase, performance.now()]); },
  });
  const rec = await readRunRecord(store.db, run.id);
  const t1 = performance.now();
  const cpu = cpuMs() - c0;
  const at = (p: SyncPhase) => marks.find((m) => m[0] === p)?.[1] ?? NaN;
  const phases = { load: at('plan') - at('load'), plan: at('apply') - at('plan'), applyRecord: at('done') - at('apply'), total: t1 - t0 };
  const mem = process.memoryUsage();
  console.log(`${label}: total ${phases.total.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU (claim ${(at('load') - t0).toFixed(0)}, load ${phases.load.toFixed(0)}, plan ${phases.plan.toFixed(0)}, ` +
    `apply+record ${phases.applyRecord.toFixed(0)}, readRecord ${(t1 - at('done')).toFixed(0)}) status ${rec.status} added ${rec.counts?.added} ` +
    `unchanged ${rec.counts?.unchanged} items ${rec.items.skipped}+${rec.items.issues}; heap ${mb(mem.heapUsed)} MB, rss ${mb(mem.rss)} MB`);
  if (rec.status !== 'succeeded') throw new Error(`run ${label} ended ${rec.status}`);
  return phases;
}

async function bench(dialect: 'sqlite' | 'postgres', snapshot: DirectorySnapshot): Promise<void> {
  const { url, cleanup } = await openBenchStore(dialect, 'roster-pipeline-');
  try {
    const store = await openStore({ url });
    try {
      const settings = await seed(store);
      await oneRun(store, snapshot, settings, `${dialect} first`);
      for (let k = 1; k <= NOCHANGE_RUNS; k++) await oneRun(store, snapshot, settings, `${dialect} no-change ${k}`);
    } finally {
      await store.close();
    }
  } finally {
    await cleanup();
  }
}

if (import.meta.main) {
  let t = performance.now();
  const snapshot = buildSnapshot();
  console.log(`snapshot: ${snapshot.users.length} users, ${snapshot.groups.length} groups in ${(performance.now() - t).toFixed(0)} ms; rss ${mb(process.memoryUsage().rss)} MB`);
  t = performance.now();
  for (const d of argv.dialect === 'both' ? (['sqlite', 'postgres'] as const) : [argv.dialect as 'sqlite' | 'postgres']) await bench(d, snapshot);
  console.log(`peak rss ${mb(process.resourceUsage().maxRSS * 1024)} MB`);
}
