import { assert, describe, test } from '../../test/helpers/unit.ts';
import type { PlanOp } from './model.ts';
import {
  addressClaimsOf, buildFindings, r51ClashesOf, consequenceOf, describeFinding, loginKey, nameKey, objectOrder,
  type DuplicateObject, type DuplicateRow,
} from './duplicates.ts';

const C = 'conn-c';
const D = 'conn-d';

function user(id: string, connectionId: string | null, name: string | null = null, address: string | null = `${id}@example.com`): DuplicateObject {
  return { kind: 'user', id, connectionId, connectionName: connectionId, anchor: connectionId === null ? null : `a-${id}`, dn: null, name, address };
}
function group(id: string, connectionId: string, name: string): DuplicateObject {
  return { kind: 'group', id, connectionId, connectionName: connectionId, anchor: `a-${id}`, dn: `cn=${name}`, name, address: null };
}
function contact(id: string, connectionId: string, address: string): DuplicateObject {
  return { kind: 'contact', id, connectionId, connectionName: connectionId, anchor: `a-${id}`, dn: `cn=${id}`, name: id, address };
}
function entry(anchor: string, address: string): DuplicateObject {
  return { kind: 'entry', id: null, connectionId: C, connectionName: C, anchor, dn: `cn=${anchor}`, name: null, address };
}
function keyOf(kind: DuplicateRow['kind'], value: string): string {
  if (kind === 'address') return value;
  return kind === 'kerberos_name' || kind === 'ntlm_name' ? loginKey(value) : nameKey(value);
}
const row = (kind: DuplicateRow['kind'], value: string, object: DuplicateObject): DuplicateRow => ({ kind, key: keyOf(kind, value), value, object });

describe('R63 normalization', () => {
  test('R63 nameKey: trim, whitespace runs (space, tab, CR, LF) collapse to one space, ASCII case folded', () => {
    assert.equal(nameKey('  Alice \t\n Smith  '), 'alice smith');
    assert.equal(nameKey('ALICE SMITH'), nameKey('alice   smith'));
    assert.equal(nameKey('Émile Zola'), 'Émile zola', 'non-ASCII letters compare exactly (documented: the SQL of both dialects folds ASCII only)');
    assert.equal(nameKey('   '), '');
    assert.equal(nameKey('a\u00a0b'), 'a\u00a0b', 'a no-break space is not collapsed');
  });

  test('R63 loginKey: trimmed, ASCII case folded, inner spaces kept', () => {
    assert.equal(loginKey(' Alice@Example.Test '), 'alice@example.test');
    assert.equal(loginKey('EXAMPLE\\Alice'), 'example\\alice');
    assert.equal(loginKey('a  b'), 'a  b');
  });

  test('R63 consequences: display names lose spoofing protection; addresses, Kerberos and NTLM names lose personal features; group and contact names none', () => {
    assert.equal(consequenceOf('display_name'), 'no_spoofing_protection');
    for (const k of ['address', 'kerberos_name', 'ntlm_name'] as const) assert.equal(consequenceOf(k), 'no_personal_features');
    assert.equal(consequenceOf('group_name'), null);
    assert.equal(consequenceOf('contact_name'), null);
  });
});

describe('R63 addressClaimsOf (R13 claims from the plan)', () => {
  test('R13 R63 takes address_taken / address_claimed_by_other_entry issues and address_taken skips, nothing else; dedup and sorted', () => {
    const claims = addressClaimsOf(
      [
        { code: 'address_taken', anchor: 'e2', dn: 'cn=e2', value: 'b@example.com' },
        { code: 'address_claimed_by_other_entry', anchor: 'e1', dn: 'cn=e1', value: 'a@example.com' },
        { code: 'address_taken', anchor: 'e2', dn: 'cn=e2', value: 'b@example.com' },
        { code: 'alias_unmanaged_domain', anchor: 'e3', dn: 'cn=e3', value: 'x@other.test' },
        { code: 'address_taken', anchor: null, dn: null, value: 'c@example.com' },
      ],
      [
        { reason: 'address_taken', anchor: 'e4', dn: 'cn=e4', value: 'a@example.com' },
        { reason: 'disabled', anchor: 'e5', dn: 'cn=e5', value: null },
      ],
    );
    assert.deepEqual(claims, [
      { anchor: 'e1', dn: 'cn=e1', address: 'a@example.com' },
      { anchor: 'e4', dn: 'cn=e4', address: 'a@example.com' },
      { anchor: 'e2', dn: 'cn=e2', address: 'b@example.com' },
    ]);
  });
});

describe('R51 R63 clashes settled by connection priority', () => {
  const issue = (code: string, anchor: string, value: string) => ({ code, anchor, dn: `cn=${anchor}`, value });
  test('R51 R63 address_won_by_priority: the lower-priority user that yielded the alias (its remove_alias op)', () => {
    const ops: PlanOp[] = [
      { op: 'remove_alias', userId: 'u-low', address: 'sales@example.com' as never },
      { op: 'remove_alias', userId: 'u-own', address: 'old@example.com' as never },
    ];
    assert.deepEqual(r51ClashesOf({ issues: [issue('address_won_by_priority', 'a1', 'sales@example.com')], ops }),
      [{ address: 'sales@example.com', userId: 'u-low', entry: null }]);
    assert.deepEqual(addressClaimsOf([issue('address_won_by_priority', 'a1', 'sales@example.com')], []),
      [{ anchor: 'a1', dn: 'cn=a1', address: 'sales@example.com' }], 'the winning entry is a claim too');
  });

  test('R51 R63 user_taken_over from a lower-priority connection: the other connection\'s entry (before values); none when it was pending deletion there', () => {
    const takeOver = (userId: string): PlanOp => ({ op: 'update_user', userId, set: { connectionId: 'conn-1', anchor: 'a1' }, changes: [
      { field: 'connectionId', before: 'conn-2', after: 'conn-1' }, { field: 'anchor', before: 'old-anchor', after: 'a1' },
      { field: 'dn', before: 'uid=bob,ou=b', after: 'uid=bob,ou=a' }] });
    const issues = [issue('user_taken_over', 'a1', 'bob@example.com')];
    assert.deepEqual(r51ClashesOf({ issues, ops: [takeOver('u2')] }),
      [{ address: 'bob@example.com', userId: null, entry: { connectionId: 'conn-2', anchor: 'old-anchor', dn: 'uid=bob,ou=b' } }]);
    assert.deepEqual(r51ClashesOf({ issues, ops: [takeOver('u2'), { op: 'restore_user', userId: 'u2' }] }), []);
    assert.deepEqual(r51ClashesOf({ issues: [], ops: [takeOver('u2')] }), [], 'no issue, no clash');
  });
});

describe('R63 buildFindings', () => {
  test('R63 display names: grouped by key, value = smallest raw value, every user involved loses spoofing protection', () => {
    const f = buildFindings(C, [
      row('display_name', 'alice smith', user('u2', D, 'alice smith')),
      row('display_name', 'Alice  Smith', user('u1', C, 'Alice  Smith')),
      row('display_name', 'Manual Person', user('u9', null, 'Manual Person')),
    ]);
    assert.equal(f.length, 1, 'a key seen once is no duplicate');
    assert.deepEqual([f[0]!.kind, f[0]!.key, f[0]!.value], ['display_name', 'alice smith', 'Alice  Smith']);
    assert.deepEqual(f[0]!.objects.map((o) => o.id), ['u1', 'u2']);
    assert.deepEqual(f[0]!.users, [{ userId: 'u1', consequence: 'no_spoofing_protection' }, { userId: 'u2', consequence: 'no_spoofing_protection' }]);
  });

  test('R63 per connection: a duplicate that involves no object of the connection is not its finding', () => {
    const rows = [row('display_name', 'Bob', user('u1', D, 'Bob')), row('display_name', 'bob', user('u2', null, 'bob'))];
    assert.deepEqual(buildFindings(C, rows), []);
    assert.equal(buildFindings(D, rows).length, 1);
  });

  test('R63 group and contact names: findings without consequences', () => {
    const f = buildFindings(C, [
      row('group_name', 'Staff', group('g1', C, 'Staff')), row('group_name', 'STAFF', group('g2', D, 'STAFF')),
      row('contact_name', 'Partner', contact('k1', C, 'p@x.test')), row('contact_name', 'partner', contact('k2', C, 'q@x.test')),
    ]);
    assert.deepEqual(f.map((x) => [x.kind, x.value, x.objects.length, x.users.length]), [['group_name', 'STAFF', 2, 0], ['contact_name', 'Partner', 2, 0]]);
  });

  test('R63 addresses: one finding per address merging plan entries, holders and contacts; the same object found twice counts once', () => {
    const holder = user('u1', C, 'Alice', 'alice@example.com');
    const f = buildFindings(C, [
      row('address', 'a.smith@example.com', entry('e-new', 'a.smith@example.com')),
      row('address', 'a.smith@example.com', holder),
      row('address', 'a.smith@example.com', contact('k1', D, 'a.smith@example.com')),
      row('address', 'a.smith@example.com', holder),
      row('address', 'lonely@example.com', user('u5', C)),
    ]);
    assert.equal(f.length, 1);
    assert.deepEqual(f[0]!.objects.map((o) => o.kind), ['user', 'contact', 'entry'], 'sorted: users, public folders, groups, contacts, entries');
    assert.deepEqual(f[0]!.users, [{ userId: 'u1', consequence: 'no_personal_features' }], 'the holder loses personal features; an entry is no user');
    assert.equal(f[0]!.value, 'a.smith@example.com');
  });

  test('R63 Kerberos and NTLM names: no_personal_features for each user; public folders count as users', () => {
    const pf: DuplicateObject = { ...user('p1', C, 'Folder'), kind: 'public_folder' };
    const f = buildFindings(C, [
      row('kerberos_name', 'alice@EXAMPLE.TEST', user('u1', C)), row('kerberos_name', 'Alice@example.test', user('u2', D)),
      row('ntlm_name', 'EX\\x', pf), row('ntlm_name', 'ex\\X', user('u3', D)),
    ]);
    assert.deepEqual(f.map((x) => [x.kind, x.key]), [['kerberos_name', 'alice@example.test'], ['ntlm_name', 'ex\\x']]);
    assert.deepEqual(f[1]!.users.map((u) => u.userId), ['p1', 'u3']);
    assert.ok(f.every((x) => x.users.every((u) => u.consequence === 'no_personal_features')));
  });

  test('R63 deterministic: any row order gives the same findings (kinds in a fixed order, keys sorted)', () => {
    const rows = [
      row('address', 'x@example.com', user('u1', C)), row('address', 'x@example.com', contact('k1', C, 'x@example.com')),
      row('display_name', 'Z', user('u1', C, 'Z')), row('display_name', 'z', user('u2', C, 'z')),
      row('display_name', 'A', user('u3', C, 'A')), row('display_name', 'a', user('u4', C, 'a')),
      row('group_name', 'G', group('g1', C, 'G')), row('group_name', 'g', group('g2', C, 'g')),
    ];
    const a = buildFindings(C, rows);
    const b = buildFindings(C, [...rows].reverse());
    assert.deepEqual(a, b);
    assert.deepEqual(a.map((x) => `${x.kind}:${x.key}`), ['display_name:a', 'display_name:z', 'group_name:g', 'address:x@example.com']);
  });

  test('R63 empty keys never make findings', () => {
    assert.deepEqual(buildFindings(C, [row('display_name', ' ', user('u1', C, ' ')), row('display_name', '', user('u2', C, ''))]), []);
  });

  test('R63 objectOrder and describeFinding name each object for an administrator', () => {
    const objs = [entry('e', 'x@example.com'), contact('k', D, 'x@example.com'), user('u', C)].sort(objectOrder);
    assert.deepEqual(objs.map((o) => o.kind), ['user', 'contact', 'entry']);
    assert.equal(describeFinding({ kind: 'address', value: 'x@example.com', objects: objs }),
      'address "x@example.com" shared by user u@example.com (conn-c), contact "k" (conn-d), entry cn=e (conn-c)');
  });
});
