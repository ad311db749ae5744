import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addr, details, dirContact, dirGroup, dirUser, seedTenant, snapshot, syncSnapshot } from '../../test/helpers/lookup-fixtures.ts';
import { addUser } from '../store/admin/users.ts';
import type { Database } from '../store/schema.ts';
import { resolveAddress } from './resolve-address.ts';

const OPTIONS = { syncDisabledUsers: false, syncPublicFolders: true, readContacts: true };
const ann = dirUser('u-ann', 'ann@example.com', { aliases: [addr('a.nn@example.org')], details: details({ displayName: 'Ann Example' }) });
const gone = dirUser('u-gone', 'gone@example.com');
const folder = dirUser('f-room', 'room@example.com', { kind: 'public_folder' });
const sales = dirGroup('g-sales', [], { name: 'Sales', address: addr('sales@example.com') });
const partner = dirContact('c-p', ['partner@partner.test', 'ann@example.com'], { name: 'Partner' });

async function seed(db: Kysely<Database>): Promise<void> {
  await seedTenant(db);
  const snap = snapshot({ users: [ann, gone, folder], groups: [sales], contacts: [partner] });
  await syncSnapshot(db, snap, { settings: { options: OPTIONS } });
  await syncSnapshot(db, { ...snap, users: [ann, folder] }, { settings: { options: OPTIONS } }); // gone: flagged (R15)
  await seedTenant(db, 'tenant-2', '-b');
  await syncSnapshot(db, snapshot({ contacts: [dirContact('c-q', ['partner@partner.test'], { name: 'Their partner' })] }), {
    tenantId: 'tenant-2', connectionId: 'conn-1-b', settings: { managedDomains: ['example-b.com'], options: OPTIONS },
  });
}

forEachDialect('resolveAddress (R61)', (open) => {
  test('R61 an active user primary and alias: holder, role, connection, verdict valid; a contact showing it is listed', async () => {
    const { db } = await open();
    await seed(db);
    const r = await resolveAddress(db, { address: ' ANN@Example.com ' });
    assert.equal(r.address, 'ann@example.com');
    assert.deepEqual(r.tenant, { id: 'tenant-1', name: 'acme' });
    assert.equal(r.holder?.kind, 'user');
    if (r.holder?.kind !== 'user') return;
    assert.deepEqual([r.holder.role, r.holder.state, r.holder.access, r.holder.source, r.holder.primary, r.holder.name],
      ['primary', 'active', true, 'ldap', 'ann@example.com', 'Ann Example']);
    assert.deepEqual(r.holder.connection, { id: 'conn-1', name: 'conn-1', priority: 1 });
    assert.deepEqual(r.contacts.map((c) => [c.name, c.connection.name]), [['Partner', 'conn-1']]);
    assert.deepEqual([r.verdict.valid, r.verdict.reason], [true, 'active_user']);
    const alias = await resolveAddress(db, { address: 'a.nn@example.org', tenantId: 'tenant-1' });
    assert.deepEqual([alias.holder?.kind, alias.holder?.kind === 'user' && alias.holder.role, alias.verdict.valid], ['user', 'alias', true]);
  });

  test('R61 verdicts: flagged user, public folder, group, contact only, unknown, unmanaged domain, another tenant', async () => {
    const { db } = await open();
    await seed(db);
    const flagged = await resolveAddress(db, { address: 'gone@example.com' });
    assert.deepEqual([flagged.verdict.valid, flagged.verdict.reason], [false, 'pending_deletion']);
    assert.equal(flagged.holder?.kind === 'user' && flagged.holder.flagReason, 'missing');
    assert.ok(flagged.holder?.kind === 'user' && flagged.holder.deleteAfter !== null);
    assert.deepEqual((await resolveAddress(db, { address: 'room@example.com' })).verdict.reason, 'active_public_folder');
    const group = await resolveAddress(db, { address: 'sales@example.com' });
    assert.deepEqual([group.holder?.kind, group.holder?.kind === 'group' && group.holder.name, group.verdict.valid], ['group', 'Sales', true]);
    const unknown = await resolveAddress(db, { address: 'nobody@example.com' });
    assert.deepEqual([unknown.holder, unknown.contacts, unknown.verdict.reason], [null, [], 'unknown']);
    const partnerAll = await resolveAddress(db, { address: 'partner@partner.test' });
    assert.deepEqual([partnerAll.tenant, partnerAll.verdict.reason], [null, 'unmanaged_domain']);
    assert.deepEqual(partnerAll.contacts.map((c) => c.tenant).sort(), ['acme', 'acme-b'], 'without a tenant: the contacts of every tenant');
    const partnerMine = await resolveAddress(db, { address: 'partner@partner.test', tenantId: 'tenant-1' });
    assert.deepEqual(partnerMine.contacts.map((c) => c.name), ['Partner']);
    // tenant-2 does not manage example.com: for it, ann's address is unmanaged and her user invisible.
    const foreign = await resolveAddress(db, { address: 'ann@example.com', tenantId: 'tenant-2' });
    assert.deepEqual([foreign.tenant, foreign.holder, foreign.contacts, foreign.verdict.reason], [null, null, [], 'unmanaged_domain']);
    await assert.rejects(resolveAddress(db, { address: 'not an address' }), { code: 'bad_input' });
  });

  test('R61 contact only in a managed domain is not a recipient; a manual user is', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ contacts: [dirContact('c-x', ['shown@example.com'])] }), { settings: { options: OPTIONS } });
    const r = await resolveAddress(db, { address: 'shown@example.com' });
    assert.deepEqual([r.holder, r.contacts.length, r.verdict.reason, r.verdict.valid], [null, 1, 'contact_only', false]);
    assert.match(r.verdict.explanation, /contacts are not recipients/);
    await addUser(db, 'tenant-1', { address: 'manual@example.com' }, 'manual', { actor: 'cli:test', now: '2026-11-22T10:00:00.000Z' });
    const m = await resolveAddress(db, { address: 'manual@example.com' });
    assert.deepEqual([m.holder?.kind === 'user' && m.holder.source, m.holder?.kind === 'user' && m.holder.connection, m.verdict.valid], ['manual', null, true]);
  });
});
