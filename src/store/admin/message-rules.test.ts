import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { addr, dirContact, dirGroup, dirUser, groupDn, seedTenant, snapshot, syncSnapshot, userDn } from '../../../test/helpers/lookup-fixtures.ts';
import type { DirectorySnapshot } from '../../core/model.ts';
import type { Database } from '../schema.ts';
import { listAudit } from './audit.ts';
import { addMessageRule, deleteMessageRule, listMessageRules, matchMessageRules, showMessageRule } from './message-rules.ts';

const NOW = '2026-11-22T12:00:00.000Z';
const OPTIONS = { syncDisabledUsers: false, syncPublicFolders: false, readContacts: true };
const contactDn = (a: string) => `cn=${a},ou=contacts,dc=example,dc=com`;
const users = ['ann', 'bob', 'cat', 'dan'].map((a) => dirUser(a, `${a}@example.com`, a === 'ann' ? { aliases: [addr('annie@example.org')] } : {}));
const finance = dirGroup('g-fin', [userDn('ann'), groupDn('g-fin-eu')], { name: 'Finance', address: addr('finance@example.com') });
const financeEu = dirGroup('g-fin-eu', [userDn('bob'), contactDn('c-aud'), groupDn('g-fin')], { name: 'Finance EU' }); // a cycle back to Finance
const auditor = dirContact('c-aud', ['auditor@partner.test'], { name: 'Auditor' });

function directory(over: Partial<DirectorySnapshot> = {}): DirectorySnapshot {
  return snapshot({ users, groups: [finance, financeEu], contacts: [auditor], ...over });
}

async function seed(db: Kysely<Database>): Promise<void> {
  await seedTenant(db);
  await syncSnapshot(db, directory(), { settings: { options: OPTIONS } });
}

const add = (db: Kysely<Database>, name: string, senders: string[], recipients: string[], action = 'block') =>
  addMessageRule(db, { tenantId: 'tenant-1', name, action, senders, recipients, actor: 'cli:test', now: NOW });
const names = (r: Awaited<ReturnType<typeof matchMessageRules>>) => r.rules.map((x) => x.name);

forEachDialect('message rules (R62)', (open) => {
  test('R62 targets resolve at creation: user (primary or alias), group (by address or group:name), plain address; audited (R25)', async () => {
    const { db } = await open();
    await seed(db);
    const rule = await add(db, 'Finance inbound', ['user:ANNIE@example.org', 'partner@elsewhere.test'], ['finance@example.com', 'group:Finance EU', 'dan@example.com'], 'quarantine');
    assert.deepEqual(rule.senders.map((t) => [t.kind, t.label]), [['user', 'annie@example.org'], ['address', 'partner@elsewhere.test']]);
    assert.equal(rule.senders[0]!.user?.primary, 'ann@example.com');
    assert.deepEqual(rule.recipients.map((t) => [t.kind, t.label]), [['group', 'Finance'], ['group', 'Finance EU'], ['user', 'dan@example.com']]);
    assert.deepEqual(rule.recipients[0]!.group, { connection: 'conn-1', anchor: 'g-fin', present: true, name: 'Finance', members: 4, users: 2 });
    const audit = await listAudit(db, { objectId: rule.id });
    assert.deepEqual(audit.map((a) => [a.action, a.actor, a.at]), [['message_rule.add', 'cli:test', NOW]]);
    assert.deepEqual((await listMessageRules(db, 'tenant-1')).map((r) => [r.name, r.action]), [['Finance inbound', 'quarantine']]);
  });

  test('R62 bad input: unknown group, unknown user, not an address, no target, bad action, taken name', async () => {
    const { db } = await open();
    await seed(db);
    for (const [senders, recipients, re] of [
      [['group:Nope'], [], /no group "Nope"/], [['user:nobody@example.com'], [], /no user of this tenant holds nobody@example.com/],
      [['not an address'], [], /not a valid mail address/], [[], [], /at least one sender or recipient/],
    ] as const) {
      await assert.rejects(add(db, 'r', [...senders], [...recipients]), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'bad_input');
        assert.match(e.message, re);
        return true;
      });
    }
    await assert.rejects(add(db, 'r', ['ann@example.com'], [], 'explode'), /unknown action "explode"/);
    await add(db, 'r', ['ann@example.com'], []);
    await assert.rejects(add(db, ' r ', ['bob@example.com'], []), { code: 'conflict' });
    assert.equal((await listMessageRules(db, 'tenant-1')).length, 1);
  });

  test('R62 matching: user by any of its addresses, group by current transitive members (nested, cycle, contact, own address), address exactly', async () => {
    const { db } = await open();
    await seed(db);
    await add(db, 'from finance', ['group:Finance'], []);
    await add(db, 'to ann', [], ['ann@example.com']);
    await add(db, 'partner to dan', ['partner@elsewhere.test'], ['dan@example.com']);
    const m = (sender: string, ...recipients: string[]) => matchMessageRules(db, { tenantId: 'tenant-1', sender, recipients });
    assert.deepEqual(names(await m('bob@example.com', 'cat@example.com')), ['from finance'], 'bob is in Finance EU, nested in Finance');
    assert.deepEqual(names(await m('auditor@partner.test', 'cat@example.com')), ['from finance'], 'a contact member');
    assert.deepEqual(names(await m('finance@example.com', 'cat@example.com')), ['from finance'], "the group's own address");
    assert.deepEqual(names(await m('cat@example.com', 'ANNIE@example.org')), ['to ann'], 'an alias of the user');
    assert.deepEqual(names(await m('partner@elsewhere.test', 'cat@example.com', 'dan@example.com')), ['partner to dan']);
    assert.deepEqual(names(await m('partner@elsewhere.test', 'cat@example.com')), [], 'both conditions must hold');
    const full = await m('ann@example.com', 'ann@example.com', 'dan@example.com');
    assert.deepEqual(names(full), ['from finance', 'to ann']);
    assert.deepEqual(full.rules[1]!.recipients, [{ recipient: 'ann@example.com', targets: ['ann@example.com'] }]);
    await assert.rejects(m('not an address', 'ann@example.com'), { code: 'bad_input' });
  });

  test('R62 a group target follows the directory: a member added and synced matches, one removed stops matching, the rule untouched', async () => {
    const { db } = await open();
    await seed(db);
    await add(db, 'finance out', ['group:Finance'], []);
    const m = (sender: string) => matchMessageRules(db, { tenantId: 'tenant-1', sender, recipients: ['x@elsewhere.test'] });
    assert.deepEqual(names(await m('cat@example.com')), []);
    // The directory adds cat to Finance EU and removes bob; a sync applies it.
    await syncSnapshot(db, directory({ groups: [finance, { ...financeEu, memberDns: [userDn('cat'), contactDn('c-aud'), groupDn('g-fin')] }] }), { settings: { options: OPTIONS } });
    assert.deepEqual(names(await m('cat@example.com')), ['finance out']);
    assert.deepEqual(names(await m('bob@example.com')), []);
    assert.equal((await showMessageRule(db, 'tenant-1', 'finance out')).senders[0]!.group?.users, 2);
    // The group leaves the directory: the rule shows it, and matches nobody.
    await syncSnapshot(db, directory({ groups: [financeEu] }), { settings: { options: OPTIONS } });
    const shown = await showMessageRule(db, 'tenant-1', 'finance out');
    assert.deepEqual(shown.senders[0]!.group, { connection: 'conn-1', anchor: 'g-fin', present: false, name: null, members: null, users: null });
    assert.deepEqual(names(await m('ann@example.com')), []);
  });

  test('R62 delete: gone with its targets, audited; unknown name not_found; rules are per tenant', async () => {
    const { db } = await open();
    await seed(db);
    const r = await add(db, 'r1', ['ann@example.com'], ['group:Finance']);
    await seedTenant(db, 'tenant-2', '-b');
    assert.deepEqual(await listMessageRules(db, 'tenant-2'), []);
    await assert.rejects(showMessageRule(db, 'tenant-2', 'r1'), { code: 'not_found' });
    assert.deepEqual(names(await matchMessageRules(db, { tenantId: 'tenant-2', sender: 'ann@example.com', recipients: ['finance@example.com'] })), []);
    const gone = await deleteMessageRule(db, 'tenant-1', 'r1', { actor: 'cli:test', now: NOW });
    assert.equal(gone.id, r.id);
    assert.equal((await db.selectFrom('message_rule_targets').select('id').execute()).length, 0);
    assert.deepEqual((await listAudit(db, { objectId: r.id })).map((a) => a.action), ['message_rule.delete', 'message_rule.add']);
    await assert.rejects(deleteMessageRule(db, 'tenant-1', 'r1', { actor: 'cli:test', now: NOW }), { code: 'not_found' });
  });
});
