/**
 * R63 duplicate findings in the store, on both dialects, through the real pipeline after the read
 * (claimRun → reconcile: loadStoreState → planRun → applyPlan with the findings in its
 * transaction) and the held-run approval (review-run.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { DirectorySnapshot, DirContact, DirGroup, DirUser } from '../core/model.ts';
import type { ConnectionSettings } from '../core/connection.ts';
import type { HoldThreshold } from '../core/guards.ts';
import { loginKey, nameKey } from '../core/duplicates.ts';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { seedTenant, TENANT, CONN, OTHER_CONN } from '../../test/fixtures/store-data.ts';
import { insertUserRow } from '../../test/helpers/admin-fixtures.ts';
import { dirContact, dirGroup, dirUser, details } from '../core/test-fixtures.ts';
import { claimRun } from '../sync/run-claim.ts';
import { reconcile } from '../sync/reconcile.ts';
import { loadRunSettings } from '../sync/load-run-settings.ts';
import { approveHeldRun } from '../sync/review-run.ts';
import { loginKeySql, nameKeySql } from './duplicates.ts';
import { countDuplicates, listDuplicates, personalListsActive, spoofingProtectedUsers, type FindingView } from './duplicate-views.ts';
import { addRule, listRules } from './admin/rules.ts';
import { showUser } from './admin/users.ts';
import { RosterError } from '../core/errors.ts';

const T1 = '2026-11-22T10:00:00.000Z';
const T2 = '2026-11-23T10:00:00.000Z';
const T3 = '2026-11-24T10:00:00.000Z';
const CTX = { actor: 'cli:test', now: T1 };
const CONN_SETTINGS = { options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: true }, deletionDelayDays: 30 };

async function setup(db: Kysely<Database>, tenantId = TENANT, suffix = ''): Promise<void> {
  await seedTenant(db, tenantId, suffix);
  // Settings as `connections add` would store them (approval re-reads them for the R41 fingerprint).
  await db.updateTable('connections').set({ settings: JSON.stringify(CONN_SETTINGS) }).where('tenant_id', '=', tenantId).execute();
}

interface SyncOpts { dryRun?: boolean; hold?: HoldThreshold; tenantId?: string }

/** One run of `conn` over `snapshot`, as runSync does after the read. */
async function sync(db: Kysely<Database>, conn: string, snapshot: DirectorySnapshot, now: string, o: SyncOpts = {}): Promise<{ runId: string; status: string }> {
  const tenantId = o.tenantId ?? TENANT;
  const row = await db.selectFrom('connections').select(['id', 'name', 'priority', 'settings']).where('id', '=', conn).executeTakeFirstOrThrow();
  const run = await claimRun(db, { tenantId, connectionId: conn, connectionName: row.name, trigger: 'cli', actor: 'cli:test', dryRun: o.dryRun === true, now, clockOverride: null });
  const settings = await loadRunSettings(db, { id: conn, tenantId, name: row.name, priority: row.priority, settings: JSON.parse(row.settings) as ConnectionSettings });
  const status = await reconcile(db, {
    runId: run.id, tenantId, connectionId: conn, dryRun: o.dryRun === true, actor: `sync:${row.name}`, now, started: performance.now(),
    serverUsed: null, snapshot: { current: snapshot }, settings, ...(o.hold === undefined ? {} : { holdThreshold: o.hold }),
  });
  return { runId: run.id, status };
}

function snap(users: DirUser[], groups: DirGroup[] = [], contacts: DirContact[] = []): DirectorySnapshot {
  return { complete: true, users, groups, contacts, exceptedGroupsOutOfScope: [], references: [] };
}

const person = (anchor: string, primary: string, displayName: string, over: Partial<DirUser> = {}): DirUser =>
  dirUser(anchor, primary, { details: details({ displayName }), ...over });

async function userId(db: Kysely<Database>, address: string): Promise<string> {
  const r = await db.selectFrom('addresses').select('user_id').where('address', '=', address).executeTakeFirstOrThrow();
  return r.user_id ?? '';
}

const byKind = (fs: FindingView[], kind: string): FindingView[] => fs.filter((f) => f.kind === kind);
const one = (fs: FindingView[], kind: string, key: string): FindingView => {
  const f = fs.find((x) => x.kind === kind && x.key === key);
  assert.ok(f, `a ${kind} finding for ${key}; have ${fs.map((x) => `${x.kind}:${x.key}`).join(', ')}`);
  return f;
};

/** Every kind of duplicate in one read of conn-1. */
function richSnapshot(): DirectorySnapshot {
  return snap(
    [
      person('alice', 'alice@example.com', 'Alice Smith', { aliases: ['a.smith@example.com' as never], kerberosName: 'alice@EXAMPLE.COM', ntlmName: 'EXAMPLE\\alice' }),
      person('alice2', 'alice2@example.com', ' alice   SMITH', { kerberosName: 'Alice@example.com' }),
      person('bob', 'bob@example.com', 'Bob Jones', { ntlmName: 'example\\ALICE' }),
      // Claims alice's alias: R13 address_claimed_by_other_entry / address_taken.
      person('thief', 'thief@example.com', 'Thief', { aliases: ['a.smith@example.com' as never] }),
      person('carol', 'carol@example.com', 'Carol White'),
    ],
    [dirGroup('g1', [], { name: 'Staff All' }), dirGroup('g2', [], { name: 'staff  all', dn: 'cn=g2,ou=teams,dc=example,dc=com' })],
    [
      dirContact('k1', ['bob@example.com'], { name: 'Bob Shadow' }), // shows an address a user holds
      dirContact('k2', ['partner@other.test'], { name: 'Partner' }),
      dirContact('k3', ['partner2@other.test'], { name: 'PARTNER' }),
    ],
  );
}

forEachDialect('R63 duplicates', (open) => {
  test('R63 SQL keys equal nameKey/loginKey (src/core) on this dialect: whitespace runs, tabs, case, non-ASCII left exact', async () => {
    const { db } = await open();
    const samples = ['  Alice \t\n Smith  ', 'ALICE SMITH', 'Émile ZOLA', 'a' + ' '.repeat(70) + 'b', 'x\r\ny', '   ', 'Ünïcode ß', 'O\'Brien  "Q"', 'tab\tonly', ' Single Spaced ', 'MiXeD Case'];
    for (const s of samples) {
      const r = await sql<{ n: string; l: string }>`select ${nameKeySql(db, sql`${s}`)} as n, ${loginKeySql(db, sql`${s}`)} as l`.execute(db);
      assert.deepEqual([r.rows[0]?.n, r.rows[0]?.l], [nameKey(s), loginKey(s)], JSON.stringify(s));
    }
  });

  test('R63 R13 after an applied read: display names, group and contact names, Kerberos, NTLM names and addresses become findings with their objects', async () => {
    const { db } = await open();
    await setup(db);
    const r = await sync(db, CONN, richSnapshot(), T1);
    assert.equal(r.status, 'succeeded');
    const fs = await listDuplicates(db, TENANT);
    assert.deepEqual(fs.map((f) => `${f.kind}:${f.key}`).sort(), [
      'address:a.smith@example.com', 'address:bob@example.com', 'contact_name:partner', 'display_name:alice smith',
      'group_name:staff all', 'kerberos_name:alice@example.com', 'ntlm_name:example\\alice',
    ]);
    for (const f of fs) {
      assert.deepEqual([f.connection, f.runId, f.firstSeenAt, f.lastSeenAt], [CONN, r.runId, T1, T1]);
    }
    const dn = one(fs, 'display_name', 'alice smith');
    assert.equal(dn.value, ' alice   SMITH', 'value: the smallest raw value');
    assert.deepEqual(dn.objects.map((o) => [o.kind, o.address, o.connectionName]), [['user', 'alice2@example.com', CONN], ['user', 'alice@example.com', CONN]]);
    const taken = one(fs, 'address', 'a.smith@example.com');
    assert.deepEqual(taken.objects.map((o) => [o.kind, o.address, o.anchor]), [['user', 'alice@example.com', 'alice'], ['user', 'thief@example.com', 'thief']],
      'the holder and the entry that claimed the alias (a user of the connection now)');
    const shadow = one(fs, 'address', 'bob@example.com');
    assert.deepEqual(shadow.objects.map((o) => [o.kind, o.name]), [['user', 'Bob Jones'], ['contact', 'Bob Shadow']]);
    assert.deepEqual(one(fs, 'group_name', 'staff all').objects.map((o) => o.anchor), ['g1', 'g2']);
    assert.equal(await countDuplicates(db, CONN), 7);
    assert.equal(await countDuplicates(db, OTHER_CONN), 0);
  });

  test('R63 consequences: duplicate display names lose spoofing protection; duplicate addresses, Kerberos and NTLM names lose personal features', async () => {
    const { db } = await open();
    await setup(db);
    await sync(db, CONN, richSnapshot(), T1);
    const [alice, alice2, bob, thief, carol] = await Promise.all(['alice', 'alice2', 'bob', 'thief', 'carol'].map((a) => userId(db, `${a}@example.com`)));
    const rows = await db.selectFrom('finding_users as fu').innerJoin('duplicate_findings as f', 'f.id', 'fu.finding_id')
      .select(['fu.user_id', 'fu.consequence', 'f.kind']).execute();
    const of = (u: string | undefined) => rows.filter((r) => r.user_id === u).map((r) => `${r.kind}:${r.consequence}`).sort();
    assert.deepEqual(of(alice), ['address:no_personal_features', 'display_name:no_spoofing_protection', 'kerberos_name:no_personal_features', 'ntlm_name:no_personal_features']);
    assert.deepEqual(of(alice2), ['display_name:no_spoofing_protection', 'kerberos_name:no_personal_features']);
    assert.deepEqual(of(bob), ['address:no_personal_features', 'ntlm_name:no_personal_features']);
    assert.deepEqual(of(thief), ['address:no_personal_features'], 'the entry that claimed the alias is a user involved too');
    assert.deepEqual(of(carol), []);
    assert.equal(await personalListsActive(db, alice!), false);
    assert.equal(await personalListsActive(db, carol!), true);
    const protectedIds = (await spoofingProtectedUsers(db, TENANT)).map((u) => u.userId);
    assert.ok(!protectedIds.includes(alice!) && !protectedIds.includes(alice2!), 'R63: duplicated display names excluded');
    assert.ok(protectedIds.includes(carol!) && protectedIds.includes(bob!));
    const view = await showUser(db, TENANT, 'alice@example.com');
    assert.deepEqual([view.spoofingProtection, view.personalLists, view.personalArchiveView], [false, false, false]);
    assert.match(view.personalArchiveViewReason, /duplicate.*a\.smith@example\.com/);
    assert.deepEqual(view.duplicates.map((d) => d.kind).sort(), ['address', 'display_name', 'kerberos_name', 'ntlm_name']);
    const cv = await showUser(db, TENANT, 'carol@example.com');
    assert.deepEqual([cv.spoofingProtection, cv.personalLists, cv.personalArchiveView, cv.duplicates], [true, true, false, []]);
    assert.equal(cv.personalArchiveViewReason, 'no personal archive view exists yet');
  });

  test('R63 a later run where a duplicate is gone lifts its finding and consequences; persisting findings keep id and first_seen_at', async () => {
    const { db } = await open();
    await setup(db);
    await sync(db, CONN, richSnapshot(), T1);
    const before = await listDuplicates(db, TENANT);
    const s2 = richSnapshot();
    s2.users[1] = person('alice2', 'alice2@example.com', 'Alice Second', { kerberosName: 'Alice@example.com' }); // display name fixed
    s2.contacts = s2.contacts.filter((c) => c.anchor !== 'k1'); // the shadow contact removed
    const r2 = await sync(db, CONN, s2, T2);
    const after = await listDuplicates(db, TENANT);
    assert.deepEqual(after.map((f) => `${f.kind}:${f.key}`).sort(), [
      'address:a.smith@example.com', 'contact_name:partner', 'group_name:staff all', 'kerberos_name:alice@example.com', 'ntlm_name:example\\alice',
    ]);
    for (const f of after) {
      const old = before.find((b) => b.kind === f.kind && b.key === f.key)!;
      assert.deepEqual([f.id, f.firstSeenAt, f.lastSeenAt, f.runId], [old.id, T1, T2, r2.runId], `${f.kind} ${f.key} persists`);
    }
    const alice = await showUser(db, TENANT, 'alice@example.com');
    assert.equal(alice.spoofingProtection, true, 'display name finding lifted');
    assert.equal(alice.personalLists, false, 'the alias duplicate still lasts');
    const bob = await userId(db, 'bob@example.com');
    const bobRows = await db.selectFrom('finding_users').select('consequence').where('user_id', '=', bob).execute();
    assert.equal(bobRows.length, 1, 'bob keeps only the NTLM consequence');
    // Everything fixed: nothing left.
    const s3 = snap([person('alice', 'alice@example.com', 'Alice Smith'), person('carol', 'carol@example.com', 'Carol White')]);
    await sync(db, CONN, s3, T3);
    assert.deepEqual(await listDuplicates(db, TENANT), []);
    assert.equal(Number((await db.selectFrom('finding_users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 0);
    assert.equal(await personalListsActive(db, await userId(db, 'alice@example.com')), true);
  });

  test('R63 R19 R41 dry runs and held runs leave findings alone; approving the held plan computes them', async () => {
    const { db } = await open();
    await setup(db);
    const base = [person('u1', 'u1@example.com', 'One'), person('u2', 'u2@example.com', 'Two'), person('u3', 'u3@example.com', 'Three')];
    await sync(db, CONN, snap(base), T1);
    assert.equal(await countDuplicates(db, CONN), 0);
    const dup = () => snap([base[0]!, person('u2', 'u2@example.com', 'ONE')]); // u3 gone (flag), u2 named like u1
    const dry = await sync(db, CONN, dup(), T2, { dryRun: true });
    assert.equal(dry.status, 'previewed');
    assert.equal(await countDuplicates(db, CONN), 0, 'R19: a dry run touches no finding');
    const held = await sync(db, CONN, dup(), T2, { hold: { count: 0, percent: 0, absolute: 0 } });
    assert.equal(held.status, 'held');
    assert.equal(await countDuplicates(db, CONN), 0, 'R41: a held run touches no finding');
    await approveHeldRun(db, { tenantId: TENANT, runId: held.runId, actor: 'cli:test', now: T3 });
    const fs = await listDuplicates(db, TENANT);
    assert.deepEqual(fs.map((f) => [f.kind, f.key, f.runId, f.firstSeenAt]), [['display_name', 'one', held.runId, T3]]);
  });

  test('R63 R51 findings across connections: stored for each connection that finds them; none for a connection not involved', async () => {
    const { db } = await open();
    await setup(db);
    await sync(db, CONN, snap([person('a', 'a@example.com', 'Same Name'), person('x', 'x@example.com', 'Manual Twin')]), T1);
    await sync(db, OTHER_CONN, snap(
      [person('b', 'b@example.org', 'same name')],
      [],
      [dirContact('k9', ['x@example.com'], { name: 'X Contact' })], // another connection's contact shows conn-1's user address
    ), T2);
    const fs = await listDuplicates(db, TENANT);
    assert.deepEqual(fs.map((f) => [f.connection, f.kind, f.key]), [[OTHER_CONN, 'display_name', 'same name'], [OTHER_CONN, 'address', 'x@example.com']],
      'conn-1 has not run since: only conn-2 found them');
    await sync(db, CONN, snap([person('a', 'a@example.com', 'Same Name'), person('x', 'x@example.com', 'Manual Twin')]), T3);
    const both = await listDuplicates(db, TENANT, { kind: 'display_name' });
    assert.deepEqual(both.map((f) => f.connection), [CONN, OTHER_CONN], 'per connection (R63)');
    assert.deepEqual((await listDuplicates(db, TENANT, { connectionId: CONN })).map((f) => f.kind), ['display_name', 'address'],
      'conn-1 finds the address its user holds and conn-2\'s contact shows');
    // A duplicate between conn-2's user and a manual user does not involve conn-1.
    await db.updateTable('users').set({ display_name: 'Lonely' }).where('anchor', '=', 'a').execute();
    await insertUserRow(db, TENANT, { address: 'manual@example.com', source: 'manual', connectionId: null, displayName: 'SAME NAME' });
    await sync(db, CONN, snap([person('a', 'a@example.com', 'Lonely'), person('x', 'x@example.com', 'Manual Twin')]), T3);
    assert.deepEqual((await listDuplicates(db, TENANT, { connectionId: CONN })).map((f) => f.kind), ['address']);
  });

  test('R51 R63 an alias won by priority and a user taken over from a lower-priority connection are duplicate findings of the winner', async () => {
    const { db } = await open();
    await setup(db); // conn-1 priority 1 wins over conn-2 priority 2
    await sync(db, OTHER_CONN, snap([person('low-ann', 'ann@example.org', 'Ann Low', { aliases: ['sales@example.com' as never] }), person('low-bob', 'bob@example.com', 'Bob Low')]), T1);
    const annLow = await userId(db, 'ann@example.org');
    await sync(db, CONN, snap([person('hi-carl', 'carl@example.com', 'Carl', { aliases: ['sales@example.com' as never] }), person('hi-bob', 'bob@example.com', 'Bob High')]), T2);
    const fs = await listDuplicates(db, TENANT, { connectionId: CONN });
    const sales = one(fs, 'address', 'sales@example.com');
    assert.deepEqual(sales.objects.map((o) => [o.kind, o.address, o.connectionName]), [['user', 'carl@example.com', CONN], ['user', 'ann@example.org', OTHER_CONN]]);
    assert.deepEqual(sales.users.map((u) => u.userId).sort(), [annLow, await userId(db, 'carl@example.com')].sort(), 'both lose personal features');
    const bob = one(fs, 'address', 'bob@example.com');
    assert.deepEqual(bob.objects.map((o) => [o.kind, o.connectionName, o.anchor]), [['user', CONN, 'hi-bob'], ['entry', OTHER_CONN, 'low-bob']],
      'the taken-over user and the lower-priority connection\'s entry that still shows the address');
    // The loser's connection finds it too when it runs again (its entries still claim the addresses).
    await sync(db, OTHER_CONN, snap([person('low-ann', 'ann@example.org', 'Ann Low', { aliases: ['sales@example.com' as never] }), person('low-bob', 'bob@example.com', 'Bob Low')]), T3);
    assert.deepEqual((await listDuplicates(db, TENANT, { connectionId: OTHER_CONN })).map((f) => f.key), ['bob@example.com', 'sales@example.com']);
  });

  test('R63 a tenant with thousands of repeated display names: every pair is a finding (the many-keys path)', async () => {
    const { db } = await open();
    await setup(db);
    // 5,200 pairs: more repeated keys than one statement binds, so the key query runs again as a subquery.
    const users: DirUser[] = [];
    for (let i = 0; i < 5_200; i++) {
      users.push(person(`p${i}a`, `p${i}a@example.com`, `Person ${i}`), person(`p${i}b`, `p${i}b@example.com`, `PERSON  ${i}`));
    }
    users.push(person('solo', 'solo@example.com', 'Only One'));
    assert.equal((await sync(db, CONN, snap(users), T1)).status, 'succeeded');
    const names = byKind(await listDuplicates(db, TENANT), 'display_name');
    assert.equal(names.length, 5_200);
    const f = one(names, 'display_name', 'person 4711');
    assert.deepEqual(f.objects.map((o) => o.address).sort(), ['p4711a@example.com', 'p4711b@example.com']);
    assert.equal(names.some((x) => x.key === 'only one'), false);
  });

  test('R63 tenant isolation: the same names in another tenant are no duplicates, and its findings stay its own', async () => {
    const { db } = await open();
    await setup(db);
    await setup(db, 'tenant-2', '-2');
    await sync(db, CONN, snap([person('a', 'a@example.com', 'Twin'), person('b', 'b@example.com', 'Solo')]), T1);
    await sync(db, 'conn-1-2', snap([person('a', 'a@example-2.com', 'Twin'), person('c', 'c@example-2.com', 'Solo'), person('d', 'd@example-2.com', 'solo')]), T1, { tenantId: 'tenant-2' });
    assert.deepEqual(await listDuplicates(db, TENANT), []);
    const other = await listDuplicates(db, 'tenant-2');
    assert.deepEqual(other.map((f) => [f.kind, f.key, f.objects.length]), [['display_name', 'solo', 2]]);
    assert.equal((await spoofingProtectedUsers(db, TENANT)).length, 2);
    await assert.rejects(listDuplicates(db, TENANT, { kind: 'nickname' }), (e) => e instanceof RosterError && e.code === 'bad_input');
  });

  test('R63 D2 a user with no_personal_features cannot get a new allow/deny rule (the error names the duplicate), its rules list as suspended; lifted, they apply again', async () => {
    const { db } = await open();
    await setup(db);
    await sync(db, CONN, snap([person('a', 'a@example.com', 'A', { kerberosName: 'a@EXAMPLE.COM' }), person('b', 'b@example.com', 'B', { kerberosName: 'A@example.com' })]), T1);
    const aId = await userId(db, 'a@example.com');
    await db.insertInto('rules').values({ id: 'r-old', user_id: aId, kind: 'allow', value: 'old@partner.test', created_at: T1 }).execute();
    await assert.rejects(addRule(db, TENANT, 'a@example.com', { kind: 'deny', value: 'spam@bad.test' }, CTX), (e: unknown) => {
      assert.ok(e instanceof RosterError);
      assert.equal(e.code, 'conflict');
      assert.match(e.message, /no personal allow\/deny rules while a duplicate lasts: duplicate Kerberos name "A@example.com" shared by user a@example.com \(conn-1\), user b@example.com \(conn-1\)/);
      return true;
    });
    const listed = await listRules(db, TENANT, 'a@example.com');
    assert.deepEqual(listed.map((r) => [r.value, r.suspended]), [['old@partner.test', true]]);
    assert.match(listed[0]!.suspendedBecause ?? '', /Kerberos name/);
    assert.equal((await db.selectFrom('rules').select('id').where('user_id', '=', aId).execute()).length, 1, 'refused: nothing added');
    await sync(db, CONN, snap([person('a', 'a@example.com', 'A', { kerberosName: 'a@EXAMPLE.COM' }), person('b', 'b@example.com', 'B', { kerberosName: 'b@example.com' })]), T2);
    const added = await addRule(db, TENANT, 'a@example.com', { kind: 'deny', value: 'spam@bad.test' }, CTX);
    assert.equal(added.kind, 'deny');
    assert.deepEqual((await listRules(db, TENANT, 'a@example.com')).map((r) => [r.value, r.suspended, r.suspendedBecause]),
      [['old@partner.test', false, null], ['spam@bad.test', false, null]]);
  });

  test('R63 findings go with their connection and consequences with their user (cascade)', async () => {
    const { db } = await open();
    await setup(db);
    await sync(db, CONN, richSnapshot(), T1);
    const bob = await userId(db, 'bob@example.com');
    await db.deleteFrom('addresses').where('user_id', '=', bob).execute();
    await db.deleteFrom('users').where('id', '=', bob).execute();
    assert.equal((await db.selectFrom('finding_users').select('user_id').where('user_id', '=', bob).execute()).length, 0);
    await db.deleteFrom('connections').where('id', '=', CONN).execute();
    assert.equal(await countDuplicates(db, CONN), 0);
    assert.equal((await db.selectFrom('finding_users').select('user_id').execute()).length, 0);
  });
});
