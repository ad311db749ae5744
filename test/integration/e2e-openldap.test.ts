/**
 * End to end through the CLI against a private slapd: one story over a generated directory of
 * 2,000 users (aliases, groups, nesting, a cycle, disabled users, unmanaged domains) plus hand-made
 * entries the story changes with ldapmodify. Every assertion reads STORED state back through the
 * CLI (users/conflicts/runs/archives --json) or the store itself. The steps run in order and share
 * one data dir; the clock (ROSTER_NOW, D5) moves forward step by step.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { ldapSearchEntries } from '../helpers/ldap-tools.ts';
import { scenario, addDays, type Scenario } from '../helpers/cli.ts';
import { generateOpenLdapLdif, generateUser, ldifEntry, ldifModify, ldifDelete, ldifModrdn, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { openStore } from '../../src/store/db.ts';
import { digestStore } from '../../src/store/digest.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 11, users: 2000, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'], withCycle: true };
const gen = generateOpenLdapLdif(spec);
const PEOPLE = `ou=people,${BASE}`;

/** Hand-made users: key → [mail values, entryUUID]. All eligible at load time. */
const HAND: Record<string, { mails: string[]; uuid: string; given: string }> = {};
const handDn = (key: string, ou = PEOPLE): string => `uid=${key},${ou}`;
let uuidSeq = 0;
for (const [key, mails, given] of [
  ['hand-alias', ['hank@example.test', 'hank@example.net'], 'Hank'],
  ['hand-move', ['mo@example.test'], 'Mo'],
  ['hand-primary', ['pat@example.test'], 'Pat'],
  ['hand-disable', ['dis@example.test'], 'Dis'],
  ['hand-delete', ['del@example.test'], 'Del'],
  ['hand-supp', ['sam@example.test', 'sam.alias@example.test'], 'Sam'],
  ['hand-ex1', ['ex1@example.test'], 'Exone'],
  ['hand-ex2', ['ex2@example.test'], 'Extwo'],
  ['hand-exuser', ['exu@example.test'], 'Exu'],
  ['hand-exalias', ['exa@example.test', 'exa.blocked@example.test'], 'Exa'],
  ['hand-c1', ['c1@example.test'], 'Cone'],
  ['hand-c2', ['c2@example.test'], 'Ctwo'],
  ['hand-c3', ['c3@example.test'], 'Cthree'],
  ['hand-man', ['mandel@example.test'], 'Mandel'],
] as const) {
  HAND[key] = { mails: [...mails], given, uuid: `0000aaaa-0000-4000-8000-${String(++uuidSeq).padStart(12, '0')}` };
}
const GROUP_UUID = { top: '0000bbbb-0000-4000-8000-000000000001', mid: '0000bbbb-0000-4000-8000-000000000002', bottom: '0000bbbb-0000-4000-8000-000000000003' };
const grpDn = (n: string): string => `cn=grp-${n},ou=groups,${BASE}`;

function handUserLdif(key: string, ou = PEOPLE, uuid?: string): string {
  const h = HAND[key]!;
  return ldifEntry(handDn(key, ou), {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: key, cn: `${h.given} Hand`, sn: 'Hand',
    givenName: h.given, mail: h.mails, o: 'Hand Corp', ou: 'Handmade', description: `hand user ${key}`,
    ...(uuid !== undefined ? { entryUUID: uuid } : {}),
  });
}

function handLdif(): string {
  let out = ldifEntry(`ou=staff,${BASE}`, { objectClass: ['top', 'organizationalUnit'], ou: 'staff' });
  for (const key of Object.keys(HAND)) out += handUserLdif(key, PEOPLE, HAND[key]!.uuid);
  // grp-top ⊃ grp-mid ⊃ grp-bottom ⊃ grp-top: nesting three deep and a cycle (R30).
  out += ldifEntry(grpDn('top'), { objectClass: ['top', 'groupOfNames'], cn: 'grp-top', member: [grpDn('mid')], entryUUID: GROUP_UUID.top });
  out += ldifEntry(grpDn('mid'), { objectClass: ['top', 'groupOfNames'], cn: 'grp-mid', member: [grpDn('bottom'), handDn('hand-ex1')], entryUUID: GROUP_UUID.mid });
  out += ldifEntry(grpDn('bottom'), { objectClass: ['top', 'groupOfNames'], cn: 'grp-bottom', member: [handDn('hand-ex2'), grpDn('top')], entryUUID: GROUP_UUID.bottom });
  return out;
}

const T0 = '2026-12-01T00:00:00.000Z';
let now = T0;
/** Moves the story's clock forward (hours) and returns it. */
const tick = (hours = 1): string => (now = new Date(Date.parse(now) + hours * 3_600_000).toISOString());

let slapd: Slapd;
let s: Scenario;
const appliedRuns: string[] = [];

/** Generated users that the first run must add, and the split of the rest. */
const generated = Array.from({ length: spec.users }, (_, i) => generateUser(spec, i));
const eligibleGen = generated.filter((u) => u.managedPrimary && !u.disabled);
const sample = eligibleGen.find((u) => u.mails.length === 3 && u.homePhone !== null && u.mobile !== null && u.mails.every((m) => /@example\.(test|org)$/i.test(m)))!;
const HAND_COUNT = Object.keys(HAND).length;

async function sync(o: { dryRun?: boolean; expectCode?: number } = {}): Promise<any> {
  const r = await s.sync({ now: tick(), ...o });
  if (o.dryRun !== true && r?.status === 'succeeded') appliedRuns.push(r.id);
  return r;
}
const conflicts = async (): Promise<Map<string, any>> =>
  new Map(((await s.json(['conflicts', 'list', '--tenant', 'acme', '--limit', '10000'])).conflicts as any[]).map((c) => [c.address, c]));
const entryUuid = async (dn: string): Promise<string> =>
  (await ldapSearchEntries(slapd.admin, { base: dn, scope: 'base', attrs: ['entryUUID'] }))[0]!.attrs['entryUUID']![0]!.toLowerCase();
const storeDigest = async (): Promise<string> => {
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try { return await digestStore(st.db); } finally { await st.close(); }
};

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() + handLdif() });
  s = await scenario({
    now: T0, domains: ['example.test', 'example.org'],
    connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword, extra: ['--deletion-delay', '7', '--page-size', '500'] },
  });
  // R14: a manual user that the directory also has; R30: an alias excepted before any run.
  await s.json(['users', 'add', 'sam@example.test', '--tenant', 'acme', '--given-name', 'Old', '--notes', 'kept note', '--mobile', '+1 555 0000 0001']);
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--alias', 'exa.blocked@example.test']);
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

test('R19 a dry run stores the whole plan and changes nothing', async () => {
  const digest = await storeDigest();
  const r = await sync({ dryRun: true });
  assert.equal(r.status, 'previewed');
  assert.equal(r.dryRun, true);
  assert.equal(r.counts.added, eligibleGen.length + HAND_COUNT - 1, 'every eligible entry but the manual match');
  assert.equal(await storeDigest(), digest, 'a dry run changed the store');
  assert.equal((await s.users()).size, 1, 'only the manual user exists');
  const shown = await s.json(['runs', 'show', r.id, '--tenant', 'acme', '--plan']);
  assert.equal(shown.status, 'previewed');
  const ops = (shown.plan.ops as any[]).filter((o) => o.op === 'add_user');
  assert.equal(ops.length, r.counts.added, 'the stored plan holds every add');
});

test('R10 R6 R13 first run adds every eligible user; disabled and unmanaged ones are skipped with reasons', async () => {
  const r = await sync();
  assert.equal(r.status, 'succeeded');
  assert.equal(r.counts.read, spec.users + HAND_COUNT);
  assert.equal(r.counts.added, eligibleGen.length + HAND_COUNT - 1);
  assert.equal(r.counts.eligible, eligibleGen.length + HAND_COUNT);
  assert.equal(r.counts.flagged, 0);
  const disabled = generated.filter((u) => u.disabled).length;
  const unmanagedOnly = generated.filter((u) => !u.managedPrimary && !u.disabled).length;
  assert.equal(r.counts.skipped, spec.users - eligibleGen.length);
  const by = r.counts.skippedByReason;
  assert.equal((by.disabled ?? 0) + (by.unmanaged_domain ?? 0), spec.users - eligibleGen.length);
  assert.ok(by.disabled >= disabled - 1 && by.disabled <= disabled, `disabled ${by.disabled} vs ${disabled}`);
  assert.ok(by.unmanaged_domain >= unmanagedOnly, `unmanaged ${by.unmanaged_domain} vs ${unmanagedOnly}`);
  // R13: qualifying aliases of the new users (sam.alias goes to the manual user; exa.blocked is excepted).
  assert.equal(r.counts.aliasesAdded, gen.manifest.managedAliasValuesOfEligible + 1);

  const users = await s.users();
  assert.equal(users.size, eligibleGen.length + HAND_COUNT);
  const u = users.get(sample.mails[0]!.toLowerCase());
  assert.ok(u, 'sample user stored');
  assert.equal(u.source, 'ldap');
  assert.equal(u.state, 'active');
  assert.equal(u.access, true);
  assert.equal(u.anchor, sample.entryUUID.toLowerCase());
  assert.equal(u.connection, 'main');
  assert.equal(u.dn?.toLowerCase(), sample.dn.toLowerCase());
  assert.deepEqual(u.aliases, sample.mails.slice(1).map((m) => m.toLowerCase()).sort());
  assert.deepEqual(
    [u.details.givenName, u.details.surname, u.details.displayName, u.details.company, u.details.department, u.details.notes, u.details.homePhone, u.details.mobile],
    [sample.givenName, sample.sn, sample.displayName, sample.o, sample.ou, sample.description, sample.homePhone, sample.mobile],
  );
  for (const g of generated.filter((x) => !x.managedPrimary || x.disabled)) assert.equal(users.has(g.mails[0]!.toLowerCase()), false, `${g.uid} must be skipped`);
  const items = await s.json(['runs', 'show', r.id, '--tenant', 'acme', '--items', 'skipped', '--limit', '1000']);
  assert.equal(items.items.total, r.counts.skipped, 'R6: one skipped item per skipped entry');
  assert.ok(items.items.items.some((i: any) => i.code === 'unmanaged_domain' && typeof i.dn === 'string'), 'R6: unmanaged entries kept with their DN');
});

test('R14 a manual user matched by the directory gets details and aliases and keeps its source', async () => {
  const sam = await s.user('sam@example.test');
  assert.equal(sam.source, 'manual');
  assert.equal(sam.state, 'active');
  assert.equal(sam.details.givenName, 'Sam', 'details filled from the directory');
  assert.equal(sam.details.company, 'Hand Corp');
  assert.deepEqual(sam.aliases, ['sam.alias@example.test'], 'qualifying alias added');
  assert.equal(sam.details.mobile, '+1 555 0000 0001', 'D10: a value the directory lacks is kept');
});

test('R30 an excepted alias is never attached to its user', async () => {
  const exa = await s.user('exa@example.test');
  assert.equal(exa.source, 'ldap');
  assert.deepEqual(exa.aliases, []);
  assert.equal(await s.user('exa.blocked@example.test'), null, 'nobody holds the excepted alias');
});

test('R12 a changed detail updates the user; the next run writes nothing', async () => {
  const target = eligibleGen[5]!;
  await slapd.ldapModify(ldifModify(target.dn, [{ op: 'replace', attr: 'ou', values: ['Research'] }]));
  const r1 = await sync();
  const changedAt = now;
  assert.deepEqual([r1.counts.added, r1.counts.updated, r1.counts.flagged], [0, 1, 0]);
  const u1 = await s.user(target.mails[0]!);
  assert.equal(u1.details.department, 'Research');
  assert.equal(u1.updatedAt, changedAt);
  const digest = await storeDigest();
  const r2 = await sync();
  assert.deepEqual([r2.counts.added, r2.counts.updated, r2.counts.flagged, r2.counts.aliasesAdded, r2.counts.aliasesRemoved], [0, 0, 0, 0, 0]);
  assert.equal(await storeDigest(), digest, 'the second run wrote user data');
  assert.equal((await s.user(target.mails[0]!)).updatedAt, changedAt, 'updated_at unchanged');
});

test('R11 a rename and move (modrdn) keeps the user: same anchor, same id, new DN', async () => {
  const before = await s.user('mo@example.test');
  await slapd.ldapModify(ldifModrdn(handDn('hand-move'), 'uid=hand-moved', { newSuperior: `ou=staff,${BASE}` }));
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.flagged, r.counts.updated], [0, 0, 1]);
  const after = await s.user('mo@example.test');
  assert.equal(after.id, before.id);
  assert.equal(after.anchor, before.anchor);
  assert.equal(after.dn.toLowerCase(), `uid=hand-moved,ou=staff,${BASE}`);
});

test('R13a a primary address change keeps the user, its rules and its archive link', async () => {
  await s.json(['rules', 'add', 'pat@example.test', 'allow', 'partner@vendor.example', '--tenant', 'acme']);
  await s.json(['archives', 'add', 'pat@example.test', '--tenant', 'acme']);
  const before = await s.user('pat@example.test');
  assert.deepEqual(before.archives, ['pat@example.test']);
  await slapd.ldapModify(ldifModify(handDn('hand-primary'), [{ op: 'replace', attr: 'mail', values: ['pat.new@example.test'] }]));
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.flagged], [0, 0]);
  const after = await s.user('pat.new@example.test');
  assert.equal(after.id, before.id);
  assert.equal(after.address, 'pat.new@example.test');
  assert.equal(after.ruleCount, 1);
  assert.deepEqual(after.archives, ['pat@example.test']);
  assert.equal(await s.user('pat@example.test'), null, 'the old primary is released');
});

test('R13 R10 with the directory unchanged, managing a new domain brings in its users and the aliases that now qualify', async () => {
  assert.deepEqual((await s.user('hank@example.test')).aliases, []);
  await slapd.ldapAdd(ldifEntry(handDn('hand-net'), {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: 'hand-net', cn: 'Nina Net', sn: 'Net', mail: ['nina@example.net'],
  }));
  const skipped = await sync();
  assert.equal(skipped.counts.added, 0, 'a user whose primary is in an unmanaged domain is not added');
  assert.equal(await s.user('nina@example.net'), null);
  await s.json(['domains', 'add', 'example.net', '--tenant', 'acme']);
  const r = await sync(); // no directory change since the previous run
  assert.equal(r.counts.added, 1);
  assert.equal(r.counts.aliasesAdded, 1);
  assert.equal((await s.user('nina@example.net')).source, 'ldap');
  assert.deepEqual((await s.user('hank@example.test')).aliases, ['hank@example.net']);
});

test('R15 R16 disabling in the directory flags the user; re-enabling restores it', async () => {
  const before = await s.user('dis@example.test');
  await slapd.ldapModify(ldifModify(handDn('hand-disable'), [{ op: 'add', attr: 'pwdAccountLockedTime', values: ['000001010000Z'] }]));
  const r1 = await sync();
  const flaggedAt = now;
  assert.equal(r1.counts.flagged, 1);
  const u = await s.user('dis@example.test');
  assert.deepEqual([u.state, u.access, u.flagReason, u.flaggedAt, u.deleteAfter], ['pending_deletion', false, 'disabled', flaggedAt, addDays(flaggedAt, 7)]);
  assert.equal((await conflicts()).get('dis@example.test')?.reason, 'disabled');
  await slapd.ldapModify(ldifModify(handDn('hand-disable'), [{ op: 'delete', attr: 'pwdAccountLockedTime' }]));
  const r2 = await sync();
  assert.equal(r2.counts.restored, 1);
  const back = await s.user('dis@example.test');
  assert.deepEqual([back.id, back.state, back.access, back.flagReason, back.flaggedAt, back.deleteAfter], [before.id, 'active', true, null, null, null]);
  assert.equal((await conflicts()).has('dis@example.test'), false);
});

test('R15 R20 R21 R10 a deleted entry is flagged missing, purged only after the delay, and re-added with its archive', async () => {
  const bad = await s.cli(['connections', 'edit', 'main', '--tenant', 'acme', '--deletion-delay', '3']);
  assert.equal(bad.code, 2, 'R20: a delay under 7 days is refused');
  await s.json(['rules', 'add', 'del@example.test', 'deny', 'spam@bad.example', '--tenant', 'acme']);
  await s.json(['archives', 'add', 'del@example.test', '--tenant', 'acme']);
  const before = await s.user('del@example.test');
  await slapd.ldapModify(ldifDelete(handDn('hand-delete')));
  const r = await sync();
  const flaggedAt = now;
  assert.equal(r.counts.flagged, 1);
  const u = await s.user('del@example.test');
  assert.deepEqual([u.state, u.access, u.flagReason, u.deleteAfter, u.ruleCount], ['pending_deletion', false, 'missing', addDays(flaggedAt, 7), 1]);

  const early = await s.json(['purge', '--tenant', 'acme'], { now: addDays(flaggedAt, 6) });
  assert.equal(early.count, 0, 'purged before the delay');
  assert.notEqual(await s.user('del@example.test'), null);
  const late = await s.json(['purge', '--tenant', 'acme'], { now: addDays(flaggedAt, 7.01) });
  assert.equal(late.count, 1);
  assert.deepEqual(late.addresses, ['del@example.test']);
  assert.equal(await s.user('del@example.test'), null);
  const unlinked = await s.json(['archives', 'list', '--tenant', 'acme', '--unlinked']);
  assert.ok(unlinked.some((a: any) => a.address === 'del@example.test' && a.user === null), 'R21: archive kept, unlinked');
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try {
    const rules = await st.db.selectFrom('rules').select('id').where('user_id', '=', before.id).execute();
    assert.equal(rules.length, 0, 'R21: rules purged with the user');
  } finally { await st.close(); }

  now = addDays(now, 8); // the story goes on after the purge
  await slapd.ldapAdd(handUserLdif('hand-delete'));
  const back = await sync();
  assert.equal(back.counts.added, 1);
  const again = await s.user('del@example.test');
  assert.notEqual(again.id, before.id);
  assert.deepEqual([again.state, again.source, again.ruleCount], ['active', 'ldap', 0]);
  assert.equal(again.anchor, await entryUuid(handDn('hand-delete')));
  assert.deepEqual(again.archives, ['del@example.test'], 'R10: archive restored');
});

test('R30 excepting a user flags it; excepting a group flags its members through nesting and a cycle', async () => {
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--user', HAND['hand-exuser']!.uuid, '--dn', handDn('hand-exuser')]);
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--group', GROUP_UUID.top, '--dn', grpDn('top')]);
  const r = await sync();
  assert.equal(r.counts.flagged, 3);
  const c = await conflicts();
  for (const a of ['exu@example.test', 'ex1@example.test', 'ex2@example.test']) {
    assert.equal(c.get(a)?.reason, 'excepted', `${a} flagged as excepted`);
    assert.equal((await s.user(a)).access, false);
  }
  assert.equal(c.size, 3, 'nobody else flagged');
});

test('R31 D4 additions: created at once, linked when the directory has them, flagged when removed from the list and absent', async () => {
  const add1 = await s.json(['additions', 'add', 'add1@example.test', '--tenant', 'acme', '--connection', 'main']);
  assert.equal(add1.address, 'add1@example.test');
  await s.json(['additions', 'add', 'add2@example.test', '--tenant', 'acme', '--connection', 'main']);
  const u1 = await s.user('add1@example.test');
  assert.deepEqual([u1.source, u1.state, u1.access, u1.anchor], ['addition', 'active', true, null]);
  const taken = await s.cli(['additions', 'add', 'pat.new@example.test', '--tenant', 'acme', '--connection', 'main', '--json']);
  assert.notEqual(taken.code, 0, 'D4: an address held by another user is refused');
  const unmanaged = await s.cli(['additions', 'add', 'someone@other.test', '--tenant', 'acme', '--connection', 'main', '--json']);
  assert.equal(unmanaged.code, 2, 'R31: an addition must be in a managed domain');
  assert.equal(await s.user('someone@other.test'), null);

  HAND['hand-add2'] = { mails: ['add2@example.test', 'add2.alias@example.test'], given: 'Addy', uuid: '' };
  await slapd.ldapAdd(handUserLdif('hand-add2'));
  const r1 = await sync();
  assert.deepEqual([r1.counts.added, r1.counts.flagged], [0, 0]);
  const linked = await s.user('add2@example.test');
  assert.equal(linked.source, 'addition');
  assert.equal(linked.anchor, await entryUuid(handDn('hand-add2')), 'linked to the directory entry');
  assert.equal(linked.details.givenName, 'Addy');
  assert.deepEqual(linked.aliases, ['add2.alias@example.test']);
  assert.equal((await s.user('add1@example.test')).state, 'active', 'stays while on the list though the directory lacks it');

  const removed = await s.json(['additions', 'remove', 'add1@example.test', '--tenant', 'acme', '--connection', 'main']);
  assert.equal(removed.user.source, 'ldap', 'D4: source ldap at once');
  await s.json(['additions', 'remove', 'add2@example.test', '--tenant', 'acme', '--connection', 'main']);
  const r2 = await sync();
  assert.equal(r2.counts.flagged, 1);
  const gone = await s.user('add1@example.test');
  assert.deepEqual([gone.state, gone.flagReason, gone.source], ['pending_deletion', 'removed_from_additions', 'ldap']);
  const kept = await s.user('add2@example.test');
  assert.deepEqual([kept.state, kept.source], ['active', 'ldap'], 'the directory has it: an ordinary directory user');
});

test('R22 conflict actions: export, delete, ignore, deactivate', async () => {
  await slapd.ldapModify(['hand-c1', 'hand-c2', 'hand-c3'].map((k) => ldifDelete(handDn(k))).join(''));
  const r = await sync();
  const flaggedAt = now;
  assert.equal(r.counts.flagged, 3);
  const csvFile = join(s.dataDir, 'conflicts.csv');
  const exp = await s.json(['conflicts', 'export', '--tenant', 'acme', '--out', csvFile]);
  const lines = readFileSync(csvFile, 'utf8').trim().split(/\r?\n/);
  const total = (await conflicts()).size;
  assert.equal(exp.rows, total);
  assert.equal(lines.length, total + 1, 'header plus one line per conflict');
  assert.match(lines[0]!, /address.*reason.*flagged at.*delete after/);
  for (const a of ['c1@example.test', 'c2@example.test', 'c3@example.test']) {
    const line = lines.find((l) => l.startsWith(a));
    assert.ok(line, `${a} exported`);
    assert.ok(line.includes(',missing,') && line.includes(flaggedAt) && line.includes(addDays(flaggedAt, 7)), line);
  }
  assert.ok(lines.some((l) => l.startsWith('add1@example.test') && l.includes('removed_from_additions')));

  await s.json(['conflicts', 'delete', 'c1@example.test', '--tenant', 'acme']);
  assert.equal(await s.user('c1@example.test'), null);
  const ign = await s.json(['conflicts', 'ignore', 'c2@example.test', '--tenant', 'acme']);
  assert.deepEqual([ign.source, ign.state, ign.access, ign.deleteAfter], ['manual', 'active', true, null]);
  const dea = await s.json(['conflicts', 'deactivate', 'c3@example.test', '--tenant', 'acme']);
  assert.deepEqual([dea.source, dea.state, dea.access, dea.deleteAfter, dea.flagReason], ['manual', 'deactivated', false, null, null]);
  const r2 = await sync();
  assert.equal(r2.counts.flagged, 0);
  assert.deepEqual([(await s.user('c2@example.test')).state, (await s.user('c3@example.test')).state], ['active', 'deactivated'], 'never flagged again');
  assert.equal(await s.user('c1@example.test'), null, 'deleted stays deleted (the directory lacks it)');
});

test('R23 a synced user deleted by hand comes back at the next run', async () => {
  const before = await s.user('mandel@example.test');
  const del = await s.json(['users', 'delete', 'mandel@example.test', '--tenant', 'acme']);
  assert.equal(del.source, 'ldap');
  assert.equal(await s.user('mandel@example.test'), null);
  const r = await sync();
  assert.equal(r.counts.added, 1);
  const back = await s.user('mandel@example.test');
  assert.deepEqual([back.source, back.state, back.anchor], ['ldap', 'active', before.anchor]);
});

test('R14 a manual user is never flagged when its directory entry goes away', async () => {
  await slapd.ldapModify(ldifDelete(handDn('hand-supp')));
  const r = await sync();
  assert.equal(r.counts.flagged, 0);
  const sam = await s.user('sam@example.test');
  assert.deepEqual([sam.source, sam.state, sam.access], ['manual', 'active', true]);
  assert.deepEqual(sam.aliases, ['sam.alias@example.test'], 'R14: aliases are never removed from a manual user');
  assert.equal((await conflicts()).has('sam@example.test'), false);
});

test('R24 with sync disabled, users stay and flagged users are still purged when their delay expires', async () => {
  const flagged = [...(await conflicts()).values()];
  assert.ok(flagged.length >= 4, 'exception and addition conflicts are pending');
  const total = (await s.users()).size;
  await s.json(['tenants', 'disable-sync', 'acme']);
  const refused = await s.cli(['sync', 'acme', 'main', '--json'], { now: tick() });
  assert.equal(refused.code, 4, 'a real run is refused while sync is off');
  assert.equal((await s.users()).size, total, 'users stay');
  const latest = flagged.map((c) => c.deleteAfter as string).sort().at(-1)!;
  const p = await s.json(['purge', '--tenant', 'acme'], { now: addDays(latest, 0.01) });
  assert.equal(p.count, flagged.length);
  assert.deepEqual([...p.addresses].sort(), flagged.map((c) => c.address).sort());
  assert.equal((await conflicts()).size, 0);
  now = addDays(latest, 0.02);
  await s.json(['tenants', 'enable-sync', 'acme']);
});

test('R17 removing a primary domain removes its users at once (count shown first); removing an alias domain removes aliases', async () => {
  const users = await s.users();
  const inOrg = [...users.values()].filter((u) => u.address.endsWith('@example.org'));
  const orgAliases = [...users.values()].filter((u) => !u.address.endsWith('@example.org')).flatMap((u) => u.aliases.filter((a: string) => a.endsWith('@example.org')));
  assert.ok(inOrg.length > 10 && orgAliases.length > 0, 'the generator puts users and aliases in example.org');
  const victim = inOrg[0]!;
  await s.json(['rules', 'add', victim.address, 'allow', 'x@y.example', '--tenant', 'acme']);
  await s.json(['archives', 'add', victim.address, '--tenant', 'acme']);
  const conflictsBefore = (await conflicts()).size;

  const preview = await s.cli(['domains', 'remove', 'example.org', '--tenant', 'acme', '--json'], { now: tick() });
  assert.equal(preview.code, 2, 'nothing removed without --yes');
  assert.deepEqual([preview.json.users, preview.json.aliases, preview.json.removed], [inOrg.length, orgAliases.length, false]);
  assert.equal((await s.users()).size, users.size);
  const done = await s.json(['domains', 'remove', 'example.org', '--tenant', 'acme', '--yes']);
  assert.deepEqual([done.users, done.removed], [inOrg.length, true]);
  const left = await s.users();
  assert.equal(left.size, users.size - inOrg.length);
  assert.ok(![...left.values()].some((u) => u.address.endsWith('@example.org') || u.aliases.some((a: string) => a.endsWith('@example.org'))));
  assert.equal((await conflicts()).size, conflictsBefore, 'removed, not flagged');
  const arch = await s.json(['archives', 'list', '--tenant', 'acme', '--unlinked']);
  assert.ok(arch.some((a: any) => a.address === victim.address), 'archive stays, unlinked');

  await s.json(['domains', 'remove', 'example.net', '--tenant', 'acme', '--yes']);
  const hank = await s.user('hank@example.test');
  assert.deepEqual([hank.state, hank.aliases], ['active', []]);
  const r = await sync();
  assert.deepEqual([r.counts.added, r.counts.flagged, r.counts.removed], [0, 0, 0], 'the next run neither re-adds nor flags them');
});

test('R25 every applied run and every admin action is audited', async () => {
  const st = await openStore({ url: `sqlite:${join(s.dataDir, 'roster.db')}` });
  try {
    const rows = await st.db.selectFrom('audit').selectAll().orderBy('id').execute();
    const runRows = rows.filter((r) => r.action === 'run.apply');
    assert.deepEqual(runRows.map((r) => r.object_id).sort(), [...appliedRuns].sort(), 'one run.apply row per applied run, none for dry runs');
    const actions = new Set(rows.map((r) => r.action));
    for (const a of ['user.add', 'user.delete', 'rule.add', 'archive.add', 'exception.add', 'addition.add', 'addition.remove', 'conflict.delete',
      'conflict.ignore', 'conflict.deactivate', 'user.purge', 'domain.add', 'domain.remove', 'tenant.add', 'connection.add']) {
      assert.ok(actions.has(a), `audit has ${a}`);
    }
    for (const r of rows.filter((x) => x.action.startsWith('conflict.'))) {
      assert.match(r.actor, /^cli:/);
      assert.ok(r.before !== null, `${r.action} keeps the before image`);
      assert.ok(r.at >= T0);
    }
    const ignore = rows.find((r) => r.action === 'conflict.ignore')!;
    assert.equal(JSON.parse(ignore.after!).source, 'manual');
  } finally { await st.close(); }
});
