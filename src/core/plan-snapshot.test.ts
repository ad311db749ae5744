import { test } from '../../test/helpers/unit.ts';
import { assert } from '../../test/helpers/unit.ts';
import { planRun } from './plan.ts';
import { NOW, addr, dirContact, dirGroup, dirUser, groupDn, opsOf, settings, snapshot, store, storeContact, storeGroup, userDn } from './test-fixtures.ts';

const contactDn = (a: string) => `cn=${a},ou=contacts,dc=example,dc=com`;

test('D7 new groups are upserted with their members resolved by DN (case and spaces ignored)', () => {
  const plan = planRun(
    snapshot({
      users: [dirUser('a', 'a@example.com'), dirUser('b', 'b@example.com', { disabled: true })],
      groups: [dirGroup('g1', ['UID=a, OU=People,DC=Example,DC=Com', userDn('b'), groupDn('g2')], { address: addr('team@example.com') }), dirGroup('g2', [])],
    }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'upsert_group'), [
    { op: 'upsert_group', anchor: 'g1', dn: groupDn('g1'), name: 'g1', address: 'team@example.com', groupId: null },
    { op: 'upsert_group', anchor: 'g2', dn: groupDn('g2'), name: 'g2', address: null, groupId: null },
  ]);
  // A disabled (skipped) user is still a member: the snapshot mirrors the read (R60).
  assert.deepEqual(opsOf(plan, 'set_members'), [{ op: 'set_members', groupAnchor: 'g1', add: ['a', 'b', 'g2'], remove: [] }]);
  assert.equal(plan.counts.groups, 2);
});

test('D7 unchanged groups and memberships emit nothing', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a', 'a@example.com')], groups: [dirGroup('g1', [userDn('a')])] }),
    store({ users: [], groups: [storeGroup('G1', 'g1', { memberAnchors: ['a'] })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'upsert_group'), []);
  assert.deepEqual(opsOf(plan, 'set_members'), []);
  assert.deepEqual(opsOf(plan, 'remove_group'), []);
});

test('D7 renamed group, membership changes and removed group', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a', 'a@example.com'), dirUser('c', 'c@example.com')], groups: [dirGroup('g1', [userDn('c')], { name: 'Sales EU', dn: 'cn=Sales EU,ou=groups,dc=example,dc=com' })] }),
    store({ groups: [storeGroup('G1', 'g1', { memberAnchors: ['a', 'b'] }), storeGroup('G2', 'g2')] }),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.ops.filter((o) => o.op.includes('group') || o.op === 'set_members'), [
    { op: 'remove_group', groupId: 'G2', anchor: 'g2' },
    { op: 'upsert_group', anchor: 'g1', dn: 'cn=Sales EU,ou=groups,dc=example,dc=com', name: 'Sales EU', address: null, groupId: 'G1' },
    { op: 'set_members', groupAnchor: 'g1', add: ['c'], remove: ['a', 'b'] },
  ]);
});

test('D7/D9 a member DN not in the read is reported unresolved_member and not stored', () => {
  const plan = planRun(snapshot({ groups: [dirGroup('g1', ['uid=ghost,ou=people,dc=example,dc=com'])] }), store(), settings(), NOW);
  assert.deepEqual(opsOf(plan, 'set_members'), []);
  assert.deepEqual(plan.issues, [{ anchor: 'g1', dn: groupDn('g1'), code: 'unresolved_member', value: 'uid=ghost,ou=people,dc=example,dc=com' }]);
});

test('D7 contacts are stored only when read, with sorted unique addresses; they never become users (R3)', () => {
  const contacts = [dirContact('c1', ['z@partner.net', 'a@partner.net', 'a@partner.net'])];
  const off = planRun(snapshot({ contacts }), store(), settings(), NOW);
  assert.deepEqual(off.ops, []);
  const on = planRun(snapshot({ contacts }), store(), settings({ options: { readContacts: true } }), NOW);
  assert.deepEqual(on.ops, [{ op: 'upsert_contact', anchor: 'c1', dn: contactDn('c1'), name: 'c1', addresses: ['a@partner.net', 'z@partner.net'], contactId: null }]);
  assert.equal(on.counts.contacts, 1);
  assert.equal(on.counts.added, 0);
});

test('D7 contacts: unchanged emit nothing, changed upsert, gone removed; option off removes all stored contacts', () => {
  const st = store({ contacts: [storeContact('C1', 'c1', ['a@partner.net']), storeContact('C2', 'c2', ['b@partner.net']), storeContact('C3', 'c3', [])] });
  const contacts = [dirContact('c1', ['a@partner.net']), dirContact('c2', ['b2@partner.net'])];
  const on = planRun(snapshot({ contacts }), st, settings({ options: { readContacts: true } }), NOW);
  assert.deepEqual(on.ops, [
    { op: 'remove_contact', contactId: 'C3', anchor: 'c3' },
    { op: 'upsert_contact', anchor: 'c2', dn: contactDn('c2'), name: 'c2', addresses: ['b2@partner.net'], contactId: 'C2' },
  ]);
  const off = planRun(snapshot({ contacts }), st, settings(), NOW);
  assert.deepEqual(off.ops.map((o) => o.op), ['remove_contact', 'remove_contact', 'remove_contact']);
});

test('R13/R60 a contact may show an address a user holds: no conflict', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a', 'ann@example.com')], contacts: [dirContact('c1', ['ann@example.com'])] }),
    store(),
    settings({ options: { readContacts: true } }),
    NOW,
  );
  assert.equal(opsOf(plan, 'add_user').length, 1);
  assert.equal(opsOf(plan, 'upsert_contact').length, 1);
  assert.deepEqual(plan.issues, []);
});

test('D7 a group may name a contact as member when contacts are read', () => {
  const plan = planRun(
    snapshot({ contacts: [dirContact('c1', ['x@partner.net'])], groups: [dirGroup('g1', [contactDn('c1')])] }),
    store(),
    settings({ options: { readContacts: true } }),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'set_members')[0]?.add, ['c1']);
});

test('D9 entry issues are carried with anchor and dn; continuation references are recorded (R5)', () => {
  const plan = planRun(
    snapshot({
      users: [
        dirUser('a', 'a@example.com', { issues: [{ code: 'several_smtp_primaries', value: 'b@example.com' }] }),
        dirUser('n', null, { primaryInvalid: true, issues: [{ code: 'invalid_address', value: 'x'.repeat(600) }] }),
      ],
      groups: [dirGroup('g', [], { issues: [{ code: 'value_too_large', value: 'member', detail: '2 MB' }] })],
      references: ['ldap://ForestDnsZones.example.com/DC=ForestDnsZones,DC=example,DC=com'],
    }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(plan.issues, [
    { anchor: null, dn: null, code: 'continuation_reference', value: 'ldap://ForestDnsZones.example.com/DC=ForestDnsZones,DC=example,DC=com' },
    { anchor: 'a', dn: userDn('a'), code: 'several_smtp_primaries', value: 'b@example.com' },
    { anchor: 'g', dn: groupDn('g'), code: 'value_too_large', value: 'member', detail: '2 MB' },
    { anchor: 'n', dn: userDn('n'), code: 'invalid_address', value: 'x'.repeat(512) },
  ]);
  assert.equal(plan.skipped[0]?.value, 'x'.repeat(512)); // skip values are truncated like issue values
});

test('R19 the plan is plain data: it survives a JSON round trip unchanged', () => {
  const plan = planRun(
    snapshot({ users: [dirUser('a', 'a@example.com', { aliases: [addr('x@example.com')] })], groups: [dirGroup('g', [userDn('a')])] }),
    store(),
    settings(),
    NOW,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
});

test('D7/R13 two groups exchange their addresses in one run (apply clears upserted groups first)', () => {
  const plan = planRun(
    snapshot({ groups: [dirGroup('g1', [], { address: addr('b@example.com') }), dirGroup('g2', [], { address: addr('a@example.com') })] }),
    store({ groups: [storeGroup('G1', 'g1', { address: addr('a@example.com') }), storeGroup('G2', 'g2', { address: addr('b@example.com') })] }),
    settings(),
    NOW,
  );
  assert.deepEqual(opsOf(plan, 'upsert_group').map((g) => [g.groupId, g.address]), [['G1', 'b@example.com'], ['G2', 'a@example.com']]);
  assert.deepEqual(plan.issues, []);
});
