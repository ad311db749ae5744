/**
 * R61 R62 end to end through the CLI against a private slapd: accented names, nested groups with a
 * cycle (Finance ⊃ Finance EU ⊃ Auditors ⊃ Finance). Sync, then autocomplete, resolve, expand, a
 * message rule naming the group; the directory changes the membership, a second sync, and the rule
 * follows without being touched. The steps run in order and share one data dir.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { generateOpenLdapLdif, ldifEntry, ldifModify, type GeneratorSpec } from '../fixtures/directory-generator.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 61, users: 30, baseDn: BASE, managedDomains: ['example.test'], unmanagedDomains: ['other.test'] };
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
const person = (uid: string) => `uid=${uid},${PEOPLE}`;
const group = (cn: string) => `cn=${cn},${GROUPS}`;

function handLdif(): string {
  const users: [uid: string, given: string, sn: string, mails: string[]][] = [
    ['jmuller', 'José', 'Müller', ['jose.muller@example.test']],
    ['zangstrom', 'Zoë', 'Ångström', ['zoe@example.test', 'zoe.a@example.test']],
    ['aledger', 'Ann', 'Ledger', ['ann.ledger@example.test']],
    ['bek', 'Björn', 'Ek', ['bjorn.ek@example.test']],
  ];
  let out = '';
  for (const [uid, given, sn, mails] of users) {
    out += ldifEntry(person(uid), { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: `${given} ${sn}`, sn, givenName: given, displayName: `${given} ${sn}`, mail: mails });
  }
  out += ldifEntry(group('Finance'), { objectClass: ['top', 'groupOfNames', 'extensibleObject'], cn: 'Finance', mail: 'finance@example.test', member: [person('aledger'), group('Finance EU')] });
  out += ldifEntry(group('Finance EU'), { objectClass: ['top', 'groupOfNames'], cn: 'Finance EU', member: [person('jmuller'), group('Auditors')] });
  out += ldifEntry(group('Auditors'), { objectClass: ['top', 'groupOfNames'], cn: 'Auditors', member: [person('zangstrom'), group('Finance')] });
  return out;
}

const T0 = '2026-12-01T00:00:00.000Z';
let slapd: Slapd;
let s: Scenario;

before(async () => {
  slapd = await startSlapd({ ldif: generateOpenLdapLdif(spec).toString() + handLdif() });
  s = await scenario({
    now: T0, domains: ['example.test'],
    connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword },
  });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R61 first sync of the directory with accented names and nested groups', async () => {
  const r = await s.sync();
  assert.equal(r.status, 'succeeded');
  assert.ok(r.counts.added >= 4);
});

test('R61 autocomplete through the CLI: accent- and case-insensitive, multi-word, groups; human output', async () => {
  const mull = await s.json(['lookup', 'autocomplete', 'acme', 'müll', '--limit', '100']);
  assert.ok(mull.results.some((h: any) => h.name === 'José Müller'), 'the surname prefix, with its accent');
  assert.ok(mull.results.every((h: any) => /M[uü]ller/.test(h.name)));
  for (const q of ['jose', 'JOSÉ', 'josé müll', 'MULLER JOSE']) {
    const r = await s.json(['lookup', 'autocomplete', 'acme', q]);
    assert.equal(r.results[0]?.name, 'José Müller', q);
    assert.equal(r.results[0]?.address, 'jose.muller@example.test');
    assert.equal(r.results[0]?.connection, 'main');
  }
  const zoe = await s.json(['lookup', 'autocomplete', 'acme', 'zoe ang']);
  assert.deepEqual(zoe.results.map((h: any) => [h.kind, h.name]), [['user', 'Zoë Ångström']]);
  const fin = await s.json(['lookup', 'autocomplete', 'acme', 'fin', '--kind', 'group']);
  assert.deepEqual(fin.results.map((h: any) => h.name), ['Finance', 'Finance EU']);
  const exact = await s.json(['lookup', 'autocomplete', 'acme', 'Finance', '--kind', 'group', '--limit', '1']);
  assert.deepEqual(exact.results.map((h: any) => [h.name, h.match]), [['Finance', 'exact_name']]);
  const human = await s.cli(['lookup', 'autocomplete', 'acme', 'ångs']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /user\s+Zoë Ångström\s+zoe@example\.test\s+active\s+main\s+name_first_word|user\s+Zoë Ångström\s+zoe@example\.test\s+active\s+main\s+name_word/);
  const bad = await s.cli(['lookup', 'autocomplete', 'acme', '   ']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /query is empty/);
});

test('R61 resolve through the CLI: user alias, group, unknown, unmanaged; the verdict', async () => {
  const alias = await s.json(['lookup', 'resolve', 'Zoe.A@example.test']);
  assert.deepEqual([alias.holder.kind, alias.holder.role, alias.holder.primary, alias.holder.connection.name, alias.verdict.valid], ['user', 'alias', 'zoe@example.test', 'main', true]);
  const g = await s.json(['lookup', 'resolve', 'finance@example.test', '--tenant', 'acme']);
  assert.deepEqual([g.holder.kind, g.holder.name, g.verdict.reason], ['group', 'Finance', 'group']);
  assert.equal((await s.json(['lookup', 'resolve', 'nobody@example.test'])).verdict.reason, 'unknown');
  assert.equal((await s.json(['lookup', 'resolve', 'x@other.test'])).verdict.reason, 'unmanaged_domain');
  const human = await s.cli(['lookup', 'resolve', 'jose.muller@example.test']);
  assert.match(human.stdout, /verdict:\s+valid: an active user holds it/);
  assert.equal((await s.cli(['lookup', 'resolve', 'not-an-address'])).code, 2);
});

test('R61 expand through the CLI: transitive members, the cycle reported, depth limit', async () => {
  const x = await s.json(['lookup', 'expand', 'acme', 'finance']);
  assert.deepEqual(x.members.map((m: any) => `${m.depth}:${m.kind}:${m.name}`).sort(),
    ['1:group:Finance EU', '1:user:Ann Ledger', '2:group:Auditors', '2:user:José Müller', '3:user:Zoë Ångström']);
  assert.deepEqual(x.cycles.map((c: any) => `${c.from.name}>${c.to.name}`).sort(), ['Auditors>Finance', 'Finance EU>Auditors', 'Finance>Finance EU']);
  const cut = await s.json(['lookup', 'expand', 'acme', 'finance@example.test', '--max-depth', '1']);
  assert.deepEqual([cut.truncated, cut.notExpanded.map((g: any) => g.name)], [true, ['Finance EU']]);
  const human = await s.cli(['lookup', 'expand', 'acme', 'Finance']);
  assert.match(human.stdout, /cycle: Auditors → Finance/);
  assert.match(human.stdout, /3\s+user\s+Zoë Ångström\s+zoe@example\.test\s+active\s+Auditors/);
});

test('R62 a message rule naming the group matches a nested member; the directory changes membership, a sync, and the rule follows', async () => {
  const rule = await s.json(['message-rules', 'add', 'acme', 'finance-out', '--action', 'quarantine', '--sender', 'group:Finance', '--recipient', 'x@other.test']);
  assert.deepEqual(rule.senders.map((t: any) => [t.kind, t.label, t.group.users]), [['group', 'Finance', 3]]);
  const match = (sender: string) => s.json(['message-rules', 'match', 'acme', '--sender', sender, '--recipient', 'x@other.test']);
  assert.deepEqual((await match('jose.muller@example.test')).rules.map((r: any) => r.name), ['finance-out']);
  assert.deepEqual((await match('zoe.a@example.test')).rules.map((r: any) => r.name), ['finance-out'], 'through the nested Auditors group, by an alias');
  assert.deepEqual((await match('bjorn.ek@example.test')).rules, []);

  // The directory: Björn joins Auditors, José leaves Finance EU.
  await slapd.ldapModify(ldifModify(group('Auditors'), [{ op: 'add', attr: 'member', values: [person('bek')] }]));
  await slapd.ldapModify(ldifModify(group('Finance EU'), [{ op: 'delete', attr: 'member', values: [person('jmuller')] }]));
  assert.deepEqual((await match('bjorn.ek@example.test')).rules, [], 'not before the sync: lookups answer from the store');
  assert.equal((await s.sync({ now: '2026-12-01T01:00:00.000Z' })).status, 'succeeded');

  assert.deepEqual((await match('bjorn.ek@example.test')).rules.map((r: any) => r.name), ['finance-out']);
  assert.deepEqual((await match('jose.muller@example.test')).rules, []);
  const shown = await s.json(['message-rules', 'show', 'acme', 'finance-out']);
  assert.equal(shown.updatedAt, rule.updatedAt, 'the rule itself was not touched');
  assert.equal(shown.senders[0].group.users, 3);
  const human = await s.cli(['message-rules', 'match', 'acme', '--sender', 'bjorn.ek@example.test', '--recipient', 'x@other.test']);
  assert.match(human.stdout, /finance-out: quarantine \(sender matches Finance; x@other\.test matches x@other\.test\)/);
  const list = await s.cli(['message-rules', 'list', 'acme']);
  assert.match(list.stdout, /group Finance \(main:[0-9a-f-]+\) — 5 members now, 3 users/);
  assert.equal((await s.cli(['message-rules', 'add', 'acme', 'bad', '--action', 'block', '--sender', 'group:Nope'])).code, 2);
  await s.json(['message-rules', 'delete', 'acme', 'finance-out']);
  assert.deepEqual(await s.json(['message-rules', 'list', 'acme']), []);
});
