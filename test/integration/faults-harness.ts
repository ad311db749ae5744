/**
 * Shared bed of the R5 fault suite (faults-*.test.ts): a store (SQLite file or PostgreSQL) with
 * one tenant and one connection that reaches the real directory through a loopback fault proxy
 * (test/helpers/tcp-fault.ts), and `expectFaultChangesNothing`, which runs one faulted sync and
 * asserts the R5 contract: the run is recorded as failed with a reason naming the fault, no
 * user, alias, group or state changed (digestStore and the users' rows equal), the cursor
 * (last_complete_run_at) did not move, and — once the fault is cleared — the next run succeeds
 * and a directory change made before the faulted run lands.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';
import { addTenant, setTenantSync, type TenantInfo } from '../../src/store/admin/tenants.ts';
import { addDomain } from '../../src/store/admin/domains.ts';
import { addConnection, editConnection, type ConnectionInfo } from '../../src/store/admin/connections.ts';
import { encryptSecret } from '../../src/sync/secrets.ts';
import { runSync, type RunSyncOptions, type SyncProgress } from '../../src/sync/run-sync.ts';
import { readRunRecord, type RunRecord } from '../../src/sync/run-record.ts';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '../../src/core/connection.ts';
import { RosterError } from '../../src/core/errors.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/tcp-fault.ts';
import type { Slapd } from '../helpers/slapd.ts';
import { generateUser, ldifModify, type GeneratorSpec } from '../fixtures/directory-generator.ts';

export interface BedOptions {
  /** sqlite (a temp file) unless a PostgreSQL URL is given. */
  databaseUrl?: string;
  domains: string[];
  target: { host: string; port: number };
  settings: Omit<ConnectionSettings, 'servers'>;
  bindPassword: string;
}

export interface FaultCase {
  /** Connection settings for the faulted run only (bind account, timeouts…). */
  settings?: Partial<ConnectionSettings>;
  /** A different bind password for the faulted run only (R5: the bind fails). */
  bindPassword?: string;
  /** Injects the fault before the run (proxy fault, directory change…). */
  inject?: () => Promise<void> | void;
  /** Called with each progress event of the faulted run (kill the server mid-read…). */
  onProgress?: (p: SyncProgress) => void;
  /** Clears the fault after the run. */
  clear?: () => Promise<void> | void;
  /** The failed run's error must match (it names the fault). */
  error: RegExp;
  /** Accepted error codes; default read_incomplete. */
  codes?: string[];
  /** A directory change to make before the faulted run; returns what must show after recovery. */
  change: () => Promise<{ check: (store: Store) => Promise<void> }>;
  /** The faulted run must fail within this many ms (R57); default 60 s. */
  withinMs?: number;
}

export interface FaultBed {
  store: Store;
  tenant: TenantInfo;
  conn: ConnectionInfo;
  proxy: FaultProxy;
  settings: ConnectionSettings;
  key: Buffer;
  /** A fresh `now` per call (one hour later each time), so cursor moves are visible. */
  nextNow(): string;
  opts(o?: Partial<RunSyncOptions>): RunSyncOptions;
  /** Replaces the connection's settings (and optionally password) through editConnection. */
  edit(patch: Partial<ConnectionSettings>, password?: string): Promise<void>;
  cursor(): Promise<string | null>;
  /** Users with their states and addresses, sorted: what `users list` shows. */
  users(): Promise<string[]>;
  /** Runs one faulted sync and asserts the R5 contract; returns the failed run and the recovery run. */
  expectFaultChangesNothing(c: FaultCase): Promise<{ failed: RunRecord; recovered: RunRecord }>;
  close(): Promise<void>;
}

const ctx = { actor: 'cli:faults', now: '2026-11-22T10:00:00.000Z' };

/** Opens the store, creates tenant, domains and the connection (through the proxy), and runs a first sync. */
export async function startFaultBed(o: BedOptions): Promise<FaultBed> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-faults-'));
  const store = await openStore({ url: o.databaseUrl ?? `sqlite:${join(dir, 'roster.db')}` });
  // The first 200 kB of each connection are kept, to locate messages for byte-exact faults.
  const proxy = await startFaultProxy({ target: o.target, captureBytes: 200_000 });
  const key = randomBytes(32);
  let tenant = await addTenant(store.db, { name: 'acme' }, ctx);
  for (const d of o.domains) await addDomain(store.db, tenant, d, ctx);
  tenant = await setTenantSync(store.db, tenant, true, ctx);
  const settings: ConnectionSettings = { ...DEFAULT_CONNECTION_SETTINGS, ...o.settings, servers: [{ host: proxy.host, port: proxy.port, security: 'plain' }] };
  let conn = await addConnection(store.db, tenant, { name: 'main', priority: 1, enabled: true, schedule: '30m', settings }, encryptSecret(o.bindPassword, key), ctx);
  let hour = 0;
  const nextNow = (): string => new Date(Date.parse(ctx.now) + ++hour * 3_600_000).toISOString();
  const opts = (x: Partial<RunSyncOptions> = {}): RunSyncOptions => ({
    tenantId: tenant.id, connectionId: conn.id, dryRun: false, trigger: 'cli', actor: ctx.actor, now: nextNow(), clockOverride: null, secretKey: key, ...x,
  });
  const edit = async (patch: Partial<ConnectionSettings>, password?: string): Promise<void> => {
    conn = await editConnection(store.db, tenant, 'main', { name: 'main', priority: 1, enabled: true, schedule: '30m', settings: { ...settings, ...patch } },
      password === undefined ? undefined : encryptSecret(password, key), ctx);
  };
  const cursor = async (): Promise<string | null> =>
    (await store.db.selectFrom('connections').select('last_complete_run_at').where('id', '=', conn.id).executeTakeFirstOrThrow()).last_complete_run_at;
  const users = async (): Promise<string[]> => {
    const rows = await store.db.selectFrom('users as u').leftJoin('addresses as a', 'a.user_id', 'u.id')
      .select(['u.anchor', 'u.state', 'u.flag_reason', 'u.display_name', 'u.updated_at', 'a.address', 'a.role']).execute();
    return rows.map((r) => JSON.stringify(r)).sort();
  };

  const first = await runSync(store, opts());
  assert.equal(first.status, 'succeeded', `the first sync must succeed: ${first.error}`);
  assert.ok((first.counts?.added ?? 0) > 0, 'the first sync added users');

  const expectFaultChangesNothing = async (c: FaultCase): Promise<{ failed: RunRecord; recovered: RunRecord }> => {
    const change = await c.change();
    const digest = await digestStore(store.db);
    const list = await users();
    const cur = await cursor();
    if (c.settings !== undefined || c.bindPassword !== undefined) await edit(c.settings ?? {}, c.bindPassword);
    let failed: RunRecord;
    try {
      await c.inject?.();
      const t0 = performance.now();
      let runId: string | undefined;
      let succeeded: RunRecord | undefined;
      try {
        succeeded = await runSync(store, opts(c.onProgress ? { onProgress: c.onProgress } : {}));
      } catch (e) {
        assert.ok(e instanceof RosterError, `a RosterError, got ${String(e)}`);
        runId = e.details?.['runId'] as string | undefined;
      }
      if (succeeded !== undefined) {
        assert.fail(`the faulted run must fail (R5), but it ended '${succeeded.status}': read ${succeeded.counts?.read}, ` +
          `flagged ${succeeded.counts?.flagged}, updated ${succeeded.counts?.updated}`);
      }
      const ms = performance.now() - t0;
      assert.ok(ms < (c.withinMs ?? 60_000), `the faulted run took ${Math.round(ms)} ms (R57)`);
      assert.equal(typeof runId, 'string', 'the error names the run');
      failed = await readRunRecord(store.db, runId!);
    } finally {
      await c.clear?.();
      if (c.settings !== undefined || c.bindPassword !== undefined) await edit({}, c.bindPassword === undefined ? undefined : o.bindPassword);
    }
    assert.equal(failed.status, 'failed', 'the run is recorded as failed (R5)');
    assert.ok((c.codes ?? ['read_incomplete']).includes(failed.errorCode ?? ''), `error code ${failed.errorCode}: ${failed.error}`);
    assert.match(failed.error ?? '', c.error, 'the run record names the fault');
    assert.ok(!(failed.error ?? '').includes(o.bindPassword), 'no password in the run record (R42)');
    assert.equal(await digestStore(store.db), digest, 'a failed run changed the store (R5)');
    assert.deepEqual(await users(), list, 'a failed run changed a user (R5)');
    assert.equal(await cursor(), cur, 'the cursor did not move (R5)');

    const now = nextNow();
    const recovered = await runSync(store, opts({ now }));
    assert.equal(recovered.status, 'succeeded', `the run after the fault cleared: ${recovered.error}`);
    assert.equal(recovered.counts?.flagged, 0, 'the recovery run flags nobody');
    assert.equal(await cursor(), now, 'the cursor moves with a complete run');
    await change.check(store);
    return { failed, recovered };
  };

  return {
    store, tenant, get conn() { return conn; }, proxy, settings, key, nextNow, opts, edit, cursor, users, expectFaultChangesNothing,
    close: async () => {
      await proxy.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A change whose landing is visible: a display name, checked on the user with that anchor
 * (case-insensitive) or, given `{ address }`, with that primary address.
 */
export function displayNameChange(apply: (name: string) => Promise<void>, who: string | { address: string }, name: string): FaultCase['change'] {
  return async () => {
    await apply(name);
    return {
      check: async (store) => {
        const rows = await store.db.selectFrom('users as u').innerJoin('addresses as a', 'a.user_id', 'u.id').where('a.role', '=', 'primary')
          .select(['u.anchor', 'u.display_name', 'u.state', 'a.address']).execute();
        const u = typeof who === 'string'
          ? rows.find((r) => r.anchor?.toLowerCase() === who.toLowerCase())
          : rows.find((r) => r.address === who.address.toLowerCase());
        assert.ok(u, `user ${JSON.stringify(who)} exists`);
        assert.equal(u.display_name, name, 'the change made meanwhile landed after the fault cleared');
        assert.equal(u.state, 'active');
      },
    };
  };
}

/** Connection settings of an OpenLDAP bed: the harness's reader over plain LDAP, small pages, short timeouts. */
export function openldapBedSettings(slapd: Slapd, baseDn: string, pageSize = 50): Omit<ConnectionSettings, 'servers'> {
  return {
    ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', allowPlainBind: true, bindDn: slapd.readerDn, baseDn,
    pageSize, connectTimeoutMs: 3000, operationTimeoutMs: 5000,
  };
}

/**
 * A directory change for the "next run works" half of each case: renames the next eligible
 * generated user (enabled, primary in a managed domain) each time it is called.
 */
export function generatedRenamer(spec: GeneratorSpec, slapd: Slapd): (tag: string) => FaultCase['change'] {
  let picked = 0;
  return (tag) => {
    for (let i = picked; i < spec.users; i++) {
      const u = generateUser(spec, i);
      if (u.disabled || !u.managedPrimary || u.mails.length === 0) continue;
      picked = i + 1;
      return displayNameChange((name) => slapd.ldapModify(ldifModify(u.dn, [{ op: 'replace', attr: 'displayName', values: [name] }])), u.entryUUID, `Renamed ${tag}`);
    }
    throw new Error('no eligible user left');
  };
}
