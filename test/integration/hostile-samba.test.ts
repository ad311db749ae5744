/**
 * R44 on a real Samba AD DC (with R1, R4, R6, R12, R13, D9): hostile directory data in an OU of
 * its own — 10,000 `proxyAddresses` values on one user (smtp: aliases in managed and unmanaged
 * domains, X500:/SIP: junk), an only `SMTP:` value that is no address, an `SMTP:` value in an
 * unmanaged domain, one address claimed by two users (as `mail` and as an `smtp:` alias), and
 * DNs with escaped characters — synced through the CLI (profile active-directory, LDAPS with the
 * test CA). Asserted from stored state only: `users show --json` and `runs show --json` items.
 * Anchors are the entries' real objectGUIDs, read back with ldapsearch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSamba, type SambaDc } from '../helpers/samba.ts';
import { ldapSearch } from '../helpers/ldap-tools.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { escapeDnValue, ldifAdd, ldifModify } from '../fixtures/ldif.ts';

const T0 = '2026-12-01T00:00:00.000Z';
const T1 = '2026-12-01T01:00:00.000Z';
const OU = 'OU=Hostile,DC=example,DC=test';
const MANY = 10_000;
/** The proxyAddresses of the big user: one SMTP: primary, then a mix in load order. */
const manyValues: string[] = ['SMTP:many@example.test'];
const qualifying: string[] = [];
for (let i = 1; manyValues.length < MANY; i++) {
  const n = String(i).padStart(5, '0');
  switch (i % 8) {
    case 0: manyValues.push(`X500:/o=Example/ou=Exchange Administrative Group/cn=Recipients/cn=many${n}`); break;
    case 1: manyValues.push(`SIP:many.${n}@example.test`); break;
    case 2: manyValues.push(`smtp:many.${n}@other.test`); break; // unmanaged domain: never qualifies (R13)
    case 3: { manyValues.push(`smtp:Many.${n}@Example.ORG`); qualifying.push(`many.${n}@example.org`); break; } // case differs (R4)
    default: { manyValues.push(`smtp:many.${n}@example.test`); qualifying.push(`many.${n}@example.test`); }
  }
}
qualifying.sort();

interface Person { key: string; cn: string; sam: string; mail?: string; proxy?: string[] }
const people: Person[] = [
  { key: 'ok', cn: 'Ok Normal', sam: 'h.ok', mail: 'ok@example.test', proxy: ['SMTP:ok@example.test', 'smtp:ok.alias@example.test'] },
  { key: 'many', cn: 'Many Aliases', sam: 'h.many', mail: 'many@example.test' },
  { key: 'notAddress', cn: 'Not Address', sam: 'h.notaddr', proxy: ['SMTP:not an address'] },
  { key: 'unmanaged', cn: 'Unmanaged Domain', sam: 'h.unmanaged', proxy: ['SMTP:someone@other.test'] },
  // The same address twice: dup@ as `mail` of one user, as an smtp: alias of another whose primary sorts after (R13).
  { key: 'dupMail', cn: 'Dup Mail', sam: 'h.dupmail', mail: 'dup@example.test' },
  { key: 'dupAlias', cn: 'Dup Alias', sam: 'h.dupalias', mail: 'zz.dup@example.test', proxy: ['SMTP:zz.dup@example.test', 'smtp:DUP@example.test', 'smtp:zz.other@example.test'] },
  // Odd DNs: an escaped comma and a '#', and a leading '#', quotes and non-ASCII.
  { key: 'comma', cn: 'Doe, Jane #1', sam: 'h.comma', mail: 'jane.doe@example.test' },
  { key: 'hash', cn: '#Hash "Q" Ünïcødé', sam: 'h.hash', mail: 'hash@example.test' },
];
const dnOf = (p: Person): string => `CN=${escapeDnValue(p.cn)},${OU}`;
const P = (key: string): Person => people.find((p) => p.key === key)!;

let dc: SambaDc;
let s: Scenario;
let first: any;
let second: any;
let items: any[];
let items2: any[];
/** sAMAccountName → { objectGUID as a lower-case GUID string, DN as Samba returns it }. */
const real = new Map<string, { guid: string; dn: string }>();

/** objectGUID bytes → GUID string (first three parts little-endian). */
function guidOf(b64: string): string {
  const hex = Buffer.from(b64, 'base64').toString('hex');
  const le = (h: string): string => h.match(/../g)!.reverse().join('');
  return `${le(hex.slice(0, 8))}-${le(hex.slice(8, 12))}-${le(hex.slice(12, 16))}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function runItems(id: string): Promise<any[]> {
  const all: any[] = [];
  for (;;) {
    const shown = await s.json(['runs', 'show', id, '--tenant', 'acme', '--limit', '1000', '--offset', String(all.length)]);
    all.push(...shown.items.items);
    if (shown.items.items.length === 0 || all.length >= shown.items.total) {
      assert.equal(all.length, shown.items.total, 'every item read');
      return all;
    }
  }
}

/** The items of one entry (by its real objectGUID) as "kind:code", sorted. */
function itemsOf(list: any[], key: string): string[] {
  const anchor = real.get(P(key).sam)!.guid;
  return list.filter((i) => i.anchor === anchor).map((i) => `${i.kind}:${i.code}`).sort();
}

before(async () => {
  dc = await startSamba();
  const adds = [ldifAdd(OU, { objectClass: ['top', 'organizationalUnit'], ou: 'Hostile' })];
  for (const p of people) {
    // No password and userAccountControl 544 (enabled, password not required): much faster to load.
    adds.push(ldifAdd(dnOf(p), { objectClass: ['top', 'person', 'organizationalPerson', 'user'], cn: p.cn, sAMAccountName: p.sam,
      displayName: p.cn, sn: 'Hostile', mail: p.mail, proxyAddresses: p.proxy, userAccountControl: '544' }));
  }
  await dc.ldapModify(adds.join(''));
  // 10,000 values in four modify batches on one entry.
  const batch = 2_500;
  for (let i = 0; i < MANY; i += batch) {
    await dc.ldapModify(ldifModify(dnOf(P('many')), [{ op: 'add', attr: 'proxyAddresses', values: manyValues.slice(i, i + batch) }]));
  }
  const stored = await ldapSearch(dc.admin, { base: dnOf(P('many')), scope: 'base', attrs: ['proxyAddresses'] });
  assert.equal(stored.stdout.split('\n').filter((l) => /^proxyAddresses[:;]/.test(l)).length, MANY, `the DC holds all ${MANY} values`);
  const r = await ldapSearch(dc.admin, { base: OU, filter: '(objectClass=user)', attrs: ['objectGUID', 'sAMAccountName'] });
  assert.equal(r.code, 0, r.stderr);
  for (const block of r.stdout.split(/\n\n+/)) {
    const sam = /^sAMAccountName: (.+)$/m.exec(block)?.[1];
    const guid = /^objectGUID:: (\S+)$/m.exec(block)?.[1];
    const dnLine = /^dn(::?) (.+)$/m.exec(block);
    if (sam === undefined || guid === undefined || dnLine === null) continue;
    real.set(sam, { guid: guidOf(guid), dn: dnLine[1] === '::' ? Buffer.from(dnLine[2]!, 'base64').toString('utf8') : dnLine[2]! });
  }
  assert.equal(real.size, people.length, 'every hostile entry created');
  s = await scenario({
    now: T0, domains: ['example.test', 'example.org'],
    connection: { profile: 'active-directory', server: `ldaps://${dc.host}:636`, caFile: dc.caFile, baseDn: OU,
      bindDn: `CN=Administrator,CN=Users,${dc.baseDn}`, bindPassword: dc.password, extra: ['--netbios-domain', dc.netbios] },
  });
  first = await s.sync();
  items = await runItems(first.id);
});

after(async () => {
  await dc?.stop();
  s?.cleanup();
});

const SYNCED = ['ok', 'many', 'dupMail', 'dupAlias', 'comma', 'hash'];

test('R44 R1 hostile AD data never aborts the run: it succeeds, reads every entry, the healthy users sync', async () => {
  assert.equal(first.status, 'succeeded', JSON.stringify(first));
  assert.equal(first.counts.read, people.length);
  assert.equal(first.counts.added, SYNCED.length);
  assert.equal(first.counts.skipped, people.length - SYNCED.length);
  const users = await s.users();
  assert.deepEqual([...users.keys()].sort(),
    ['dup@example.test', 'hash@example.test', 'jane.doe@example.test', 'many@example.test', 'ok@example.test', 'zz.dup@example.test']);
  for (const [address, u] of users) assert.deepEqual([u.source, u.state, u.access], ['ldap', 'active', true], address);
  const ok = await s.user('ok@example.test');
  assert.equal(ok.anchor, real.get('h.ok')!.guid);
  assert.deepEqual(ok.aliases, ['ok.alias@example.test']);
  assert.deepEqual(itemsOf(items, 'ok'), []);
});

test(`R44 R13 R1 ${MANY} proxyAddresses on one user: exactly the ${qualifying.length} qualifying smtp: aliases, X500/SIP and unmanaged ignored`, async () => {
  const many = await s.user('many@example.test');
  assert.equal(many.anchor, real.get('h.many')!.guid);
  assert.equal(many.aliases.length, qualifying.length);
  assert.deepEqual([...many.aliases].sort(), qualifying);
  assert.ok(!many.aliases.some((a: string) => a.endsWith('@other.test')), 'no unmanaged alias');
  assert.ok(!many.aliases.includes('many@example.test'), 'the primary is no alias of itself');
  // Not skipped; each unmanaged smtp: alias is reported (D9) with its value, nothing else (X500/SIP are no addresses to report).
  const mine = items.filter((i) => i.anchor === real.get('h.many')!.guid);
  const unmanaged = manyValues.filter((v) => v.endsWith('@other.test')).map((v) => v.slice(5)).sort();
  assert.deepEqual([...new Set(mine.map((i) => `${i.kind}:${i.code}`))], ['issue:alias_unmanaged_domain']);
  assert.deepEqual(mine.map((i) => i.value).sort(), unmanaged);
  // Every qualifying alias of the run: the big user's, ok.alias@ and zz.other@.
  assert.equal(first.counts.aliasesAdded, qualifying.length + 2);
});

test('R44 R4 R6 an only SMTP: value that is no address is skipped with its reason and raw value', async () => {
  assert.deepEqual(itemsOf(items, 'notAddress'), ['issue:invalid_address', 'skipped:invalid_address']);
  assert.ok(![...(await s.users()).values()].some((u) => u.anchor === real.get('h.notaddr')!.guid), 'no user for it');
  const skipped = items.find((i) => i.anchor === real.get('h.notaddr')!.guid && i.kind === 'skipped');
  assert.equal(skipped.value, 'SMTP:not an address', 'the raw proxyAddresses value');
  const issue = items.find((i) => i.anchor === real.get('h.notaddr')!.guid && i.kind === 'issue');
  assert.match(issue.value, /not an address$/);
});

test("R44 R6 an SMTP: value in an unmanaged domain is skipped 'unmanaged_domain' with the address", async () => {
  assert.deepEqual(itemsOf(items, 'unmanaged'), ['skipped:unmanaged_domain']);
  assert.equal(items.find((i) => i.anchor === real.get('h.unmanaged')!.guid).value, 'someone@other.test');
  assert.equal(await s.user('someone@other.test'), null);
});

test('R13 D9 the same address as mail and as an smtp: alias: one user holds it, the other syncs without it and reports it', async () => {
  const holder = await s.user('dup@example.test');
  assert.equal(holder.anchor, real.get('h.dupmail')!.guid);
  assert.deepEqual(holder.aliases, []);
  assert.deepEqual(itemsOf(items, 'dupMail'), []);
  const other = await s.user('zz.dup@example.test');
  assert.equal(other.anchor, real.get('h.dupalias')!.guid);
  assert.deepEqual(other.aliases, ['zz.other@example.test'], 'keeps its other aliases, not the duplicate');
  // Both entries claimed a free address in one read: the entry whose primary sorts first (dup@ < zz.dup@) gets it.
  const mine = items.filter((i) => i.anchor === real.get('h.dupalias')!.guid);
  assert.deepEqual(mine.map((i) => [i.kind, i.code, i.value]), [['issue', 'address_claimed_by_other_entry', 'dup@example.test']]);
});

test('R44 R12 R1 odd DNs (escaped comma, leading #, quotes, non-ASCII) sync; a second run keeps anchors, writes nothing', async () => {
  for (const key of ['comma', 'hash']) {
    const p = P(key);
    const u = await s.user(p.mail!);
    assert.equal(u.anchor, real.get(p.sam)!.guid, key);
    assert.equal(u.dn, real.get(p.sam)!.dn, `${key}: the DN as the server gives it`);
    assert.equal(u.details.displayName, p.cn);
    assert.deepEqual(itemsOf(items, key), [], key);
  }
  const snapshot = async (): Promise<string> => JSON.stringify([...(await s.users({ now: T1 })).values()]
    .map((u) => [u.id, u.address, u.anchor, u.dn, u.aliases.length, u.state, u.details]).sort());
  const before = await snapshot();
  second = await s.sync({ now: T1 });
  assert.equal(second.status, 'succeeded', JSON.stringify(second));
  assert.deepEqual([second.counts.added, second.counts.updated, second.counts.flagged, second.counts.aliasesAdded, second.counts.aliasesRemoved],
    [0, 0, 0, 0, 0]);
  assert.equal(second.counts.skipped, first.counts.skipped);
  assert.equal(await snapshot(), before);
  for (const key of ['comma', 'hash']) assert.equal((await s.user(P(key).mail!)).anchor, real.get(P(key).sam)!.guid, key);
  items2 = await runItems(second.id);
  const view = (list: any[]): string[] => list.map((i) => `${i.anchor} ${i.kind}:${i.code} ${i.value}`).sort();
  assert.deepEqual(view(items2), view(items), 'the same skipped entries and issues, reported again');
});
