/**
 * Shared set-up of the R41 hold tests (hold-*.test.ts): a directory of small subtrees, one per
 * scenario, so that scenarios change their own part of one real slapd and never each other's;
 * a fresh SQLite store per scenario, synced once before the change; and readers of the stored
 * state the assertions compare (digest, pending users, the held run's plan).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Slapd } from '../helpers/slapd.ts';
import { ldifEntry } from '../fixtures/ldif.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';
import { addTenant, setTenantSync, type TenantInfo } from '../../src/store/admin/tenants.ts';
import { addDomain } from '../../src/store/admin/domains.ts';
import { addConnection, editConnection, type ConnectionInfo, type ConnectionInput } from '../../src/store/admin/connections.ts';
import { encryptSecret } from '../../src/sync/secrets.ts';
import { runSync, type RunSyncOptions } from '../../src/sync/run-sync.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../../src/core/connection.ts';
import type { HoldThreshold } from '../../src/core/guards.ts';
import type { Plan } from '../../src/core/model.ts';
import type { RunRecord } from '../../src/sync/run-record.ts';

export const SUFFIX = 'dc=example,dc=test';
export const DOMAIN = 'example.test';
export const ctx = { actor: 'cli:hold-test', now: '2026-11-22T10:00:00.000Z' };

/** `o=<name>,SUFFIX` holding ou=eng (`eng` users), ou=sales (`sales` users) and an empty ou=empty. */
export function subtreeLdif(name: string, eng: number, sales: number): string {
  const base = `o=${name},${SUFFIX}`;
  let out = ldifEntry(base, { objectClass: ['top', 'organization'], o: name });
  for (const ou of ['eng', 'sales', 'empty']) out += ldifEntry(`ou=${ou},${base}`, { objectClass: ['top', 'organizationalUnit'], ou });
  const people = (ou: string, n: number): void => {
    for (let i = 0; i < n; i++) {
      const uid = `${ou}-${i}`;
      out += ldifEntry(userDnOf(name, ou, i), {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid, cn: `${ou} person ${i}`, sn: `person ${i}`, givenName: ou, mail: `${uid}.${name}@${DOMAIN}`,
      });
    }
  };
  people('eng', eng);
  people('sales', sales);
  return out;
}

export const baseOf = (name: string): string => `o=${name},${SUFFIX}`;
export const userDnOf = (name: string, ou: string, i: number): string => `uid=${ou}-${i},ou=${ou},o=${name},${SUFFIX}`;

export interface HoldCase {
  store: Store;
  tenant: TenantInfo;
  conn: ConnectionInfo;
  opts(o?: Partial<RunSyncOptions>): RunSyncOptions;
  /** Replaces some settings of the connection (validated like `connections edit`). */
  edit(s: Partial<ConnectionSettings>): Promise<void>;
  digest(): Promise<string>;
  /** Ids of the users of the tenant that are pending deletion, sorted. */
  pending(): Promise<string[]>;
  /** The stored plan of a run (held runs keep the whole plan). */
  plan(runId: string): Promise<Plan>;
  close(): Promise<void>;
}

/** Fresh store, tenant with sync enabled, one connection over `base`; first sync applied and checked. */
export async function syncedCase(slapd: Slapd, base: string, expectUsers: number, threshold?: HoldThreshold): Promise<HoldCase> {
  const key = randomBytes(32);
  const dir = mkdtempSync(join(tmpdir(), 'roster-hold-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  let tenant = await addTenant(store.db, { name: 'acme' }, ctx);
  await addDomain(store.db, tenant, DOMAIN, ctx);
  tenant = await setTenantSync(store.db, tenant, true, ctx);
  const settings: ConnectionSettings = {
    ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host: '127.0.0.1', port: slapd.port, security: 'plain' }],
    allowPlainBind: true, bindDn: slapd.readerDn, baseDn: base, pageSize: 100,
    ...(threshold === undefined ? {} : { holdThreshold: threshold }),
  };
  let conn = await addConnection(store.db, tenant, { name: 'main', priority: 1, enabled: true, schedule: '30m', settings }, encryptSecret(slapd.readerPassword, key), ctx);
  const c: HoldCase = {
    store, tenant, conn,
    opts: (o = {}) => ({ tenantId: tenant.id, connectionId: conn.id, dryRun: false, trigger: 'cli', actor: ctx.actor, now: ctx.now, clockOverride: null, secretKey: key, ...o }),
    async edit(s) {
      const input: ConnectionInput = { name: conn.name, priority: conn.priority, enabled: conn.enabled, schedule: conn.schedule, settings: { ...conn.settings, ...s } };
      conn = await editConnection(store.db, tenant, conn.name, input, undefined, ctx);
      c.conn = conn;
    },
    digest: () => digestStore(store.db),
    async pending() {
      const rows = await store.db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('state', '=', 'pending_deletion').execute();
      return rows.map((r) => r.id).sort();
    },
    async plan(runId) {
      const row = await store.db.selectFrom('runs').select('plan').where('id', '=', runId).executeTakeFirstOrThrow();
      assert.notEqual(row.plan, null, `run ${runId} has no stored plan`);
      return JSON.parse(row.plan!) as Plan;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const first = await runSync(store, c.opts());
    assert.equal(first.status, 'succeeded', `first sync of ${base}: ${first.status} ${first.error ?? ''}`);
    assert.equal(first.counts?.added, expectUsers, `first sync of ${base} adds every user`);
  } catch (e) {
    await c.close();
    throw e;
  }
  return c;
}

/** The user ids a plan flags, sorted. */
export function flagsOf(plan: Plan): string[] {
  return plan.ops.flatMap((o) => (o.op === 'flag_user' ? [o.userId] : [])).sort();
}

/** R41: held, with the held error code, the store unchanged, and the whole plan kept. Returns the plan. */
export async function assertHeld(c: HoldCase, r: RunRecord, before: string, flagged: number): Promise<Plan> {
  assert.equal(r.status, 'held', `run not held: ${r.status} ${r.error ?? ''}`);
  assert.equal(r.errorCode, 'held');
  assert.match(r.error ?? '', /held for approval/);
  assert.equal(r.counts?.flagged, flagged);
  assert.equal(await c.digest(), before, 'a held run changed the store');
  const plan = await c.plan(r.id);
  assert.equal(flagsOf(plan).length, flagged, 'the whole plan is stored with the held run');
  return plan;
}
