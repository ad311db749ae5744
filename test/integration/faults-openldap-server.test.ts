/**
 * R5 fault suite, server side, against a real slapd (SQLite store): the server killed mid-read,
 * hard size / time / administrative limits on the bind account, an unchecked-candidates limit,
 * the server that stops answering (R57), a failed bind, a search base
 * that does not exist and one that is a referral. Every faulted run fails with a reason naming
 * the fault, changes nothing, leaves the cursor, and the next run after the fault clears works
 * (faults-harness.ts). Also R41/R5: a size limit that leaves only 3 entries unread (under the
 * mass-deletion threshold) still flags nobody — the hold is not what saves us.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { generateOpenLdapLdif, generateUser, ldifEntry, ldifModify, type GeneratorSpec } from '../fixtures/directory-generator.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { startFaultBed, openldapBedSettings, generatedRenamer, displayNameChange, type FaultBed } from './faults-harness.ts';

const BASE = 'dc=example,dc=test';
const spec: GeneratorSpec = { seed: 23, users: 300, baseDn: BASE, managedDomains: ['example.test', 'example.org'], unmanagedDomains: ['other.test'] };
const gen = generateOpenLdapLdif(spec);
const BULKY = 8;
/** inetOrgPerson entries under the base: the generated users and the bulky ones (read last). */
const TOTAL = spec.users + BULKY;
const SIZE_LIMIT = spec.users - 3;
const acct = (cn: string): string => `cn=${cn},${BASE}`;
const pw = (cn: string): string => `pw-${cn}-secret`;
const ACCOUNTS = ['limit-size', 'limit-time', 'limit-admin', 'limit-unchecked'];
// Bulky entries (unmanaged domain, so never users) make a page too big for the socket buffers:
// with the proxy pausing the stream, slapd blocks on writing and meets its time limit (R5).
const bulky = Array.from({ length: BULKY }, (_, i) => ldifEntry(`uid=bulky${i},ou=people,${BASE}`, {
  objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: `bulky${i}`, cn: `Bulky ${i}`, sn: 'Bulky',
  mail: `bulky${i}@other.test`, description: 'x'.repeat(600_000),
})).join('');
// A referral object under the base: every normal read meets it as a continuation reference
// (recorded, not followed: R5); a connection whose base is this object gets result 10.
const referral = ldifEntry(`ou=moved,${BASE}`, { objectClass: ['top', 'referral', 'extensibleObject'], ou: 'moved', ref: 'ldap://127.0.0.1:9/ou=people,dc=example,dc=test' });
const accounts = ACCOUNTS.map((cn) => ldifEntry(acct(cn), { objectClass: ['top', 'person'], cn, sn: cn, userPassword: pw(cn) })).join('');
const limits = [
  `limits dn.exact="${acct('limit-size')}" size=${SIZE_LIMIT}`,
  `limits dn.exact="${acct('limit-time')}" time=1`,
  // A page size over size.pr is refused with adminLimitExceeded (11); the connection pages by 50.
  `limits dn.exact="${acct('limit-admin')}" size=unlimited size.pr=40`,
  // More candidates than allowed: the man page says unwilling to perform (53); slapd 2.5 answers 11.
  `limits dn.exact="${acct('limit-unchecked')}" size=unlimited size.unchecked=100`,
].join('\n');

let slapd: Slapd;
let bed: FaultBed;
let picked = 0;

/** The n-th generated user that is eligible (enabled, managed primary address). */
function eligible(from: number): { index: number; dn: string; anchor: string } {
  for (let i = from; i < spec.users; i++) {
    const u = generateUser(spec, i);
    if (!u.disabled && u.managedPrimary && u.mails.length > 0) return { index: i, dn: u.dn, anchor: u.entryUUID };
  }
  throw new Error('no eligible user left');
}
/** Renames the next eligible user in the directory; the recovery run must bring the new name. */
function rename(tag: string) {
  const u = eligible(picked);
  picked = u.index + 1;
  return displayNameChange((name) => slapd.ldapModify(ldifModify(u.dn, [{ op: 'replace', attr: 'displayName', values: [name] }])), u.anchor, `Renamed ${tag}`);
}

before(async () => {
  slapd = await startSlapd({ ldif: gen.toString() + accounts + bulky + referral, extraConfig: limits });
  bed = await startFaultBed({
    domains: spec.managedDomains,
    target: { host: slapd.host, port: slapd.port },
    settings: openldapBedSettings(slapd, BASE),
    bindPassword: slapd.readerPassword,
  });
});

after(async () => {
  await bed?.close();
  await slapd?.stop();
});

test('R5: slapd killed mid-read (between pages, after 100 entries) — failed run, nothing changed, next run works', async () => {
  let killed = false;
  const { failed } = await bed.expectFaultChangesNothing({
    change: rename('kill'),
    onProgress: (p) => {
      if (!killed && p.phase === 'read' && (p.entries ?? 0) >= 100) { killed = true; slapd.kill(); }
    },
    clear: () => slapd.start(),
    error: /closed|reset|lost/i,
  });
  assert.ok(killed, 'the server was killed during the read');
  assert.match(failed.error ?? '', /after \d+ entries/, 'the reason says how far the read got');
});

test('R5: a hard size limit on the bind account (entries, then sizeLimitExceeded) fails the run', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('size'),
    settings: { bindDn: acct('limit-size') }, bindPassword: pw('limit-size'),
    error: /size limit exceeded/i,
  });
});

test('R5/R41: a size limit leaving only 3 entries unread flags none of them (the mass-deletion hold is not what saves us)', async () => {
  // The entries slapd does not return are the last ones: generated users SIZE_LIMIT… and the bulky ones.
  const unread = Array.from({ length: spec.users - SIZE_LIMIT }, (_, k) => generateUser(spec, SIZE_LIMIT + k))
    .filter((u) => !u.disabled && u.managedPrimary && u.mails.length > 0);
  assert.ok(unread.length >= 1 && unread.length <= 3, `a naive reader would flag ${unread.length} users, under the R41 threshold`);
  const states = async () => {
    const rows = await bed.store.db.selectFrom('users').select(['anchor', 'state']).execute();
    return unread.map((u) => rows.find((r) => r.anchor?.toLowerCase() === u.entryUUID.toLowerCase())?.state);
  };
  assert.deepEqual(await states(), unread.map(() => 'active'));
  const { failed } = await bed.expectFaultChangesNothing({
    change: rename('size-3'),
    settings: { bindDn: acct('limit-size') }, bindPassword: pw('limit-size'),
    error: /size limit exceeded/i,
  });
  assert.equal(failed.status, 'failed', 'failed, not held: R5 comes before R41');
  assert.deepEqual(await states(), unread.map(() => 'active'), 'the unread users are not flagged');
  assert.equal(TOTAL - SIZE_LIMIT, 3 + BULKY);
});

test('R5: a time limit on the bind account (slapd blocked on a slow client, then timeLimitExceeded) fails the run', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('time'),
    settings: { bindDn: acct('limit-time'), pageSize: 1000, operationTimeoutMs: 20_000 }, bindPassword: pw('limit-time'),
    inject: () => bed.proxy.setFault({ kind: 'pause', atByte: 5000, ms: 3000 }),
    clear: () => bed.proxy.setFault({ kind: 'none' }),
    error: /time limit exceeded/i,
  });
});

test('R5: an administrative limit (page size over size.pr: adminLimitExceeded) fails the run', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('admin'),
    settings: { bindDn: acct('limit-admin') }, bindPassword: pw('limit-admin'),
    error: /administrative limit exceeded/i,
  });
});

test('R5: too many candidates for the account (size.unchecked: slapd 2.5 answers adminLimitExceeded) fails the run', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('unchecked'),
    settings: { bindDn: acct('limit-unchecked') }, bindPassword: pw('limit-unchecked'),
    error: /administrative limit exceeded|unwilling to perform/i,
  });
});

test('R5/R57: the server stops answering mid-read (accepts bytes, never replies): the run times out and fails', async () => {
  const { failed } = await bed.expectFaultChangesNothing({
    change: rename('stall'),
    settings: { operationTimeoutMs: 1500 },
    inject: () => bed.proxy.setFault({ kind: 'stall', atByte: 8000 }),
    clear: () => bed.proxy.setFault({ kind: 'none' }),
    error: /timed out/i,
    withinMs: 15_000,
  });
  assert.ok(bed.proxy.fired.includes('stall@8000'));
  assert.ok((failed.durationMs ?? 0) >= 1400, `the run waited for the operation timeout (${failed.durationMs} ms)`);
});

test('R5: the bind fails (wrong password) — connect_failed, nothing changed', async () => {
  const { failed } = await bed.expectFaultChangesNothing({
    change: rename('bind'),
    bindPassword: 'not-the-password',
    error: /invalid credentials/i,
    codes: ['connect_failed'],
  });
  assert.ok(!(failed.error ?? '').includes('not-the-password'));
});

test('R5: the search base does not exist (noSuchObject) — failed run, nothing flagged', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('nosuch'),
    settings: { baseDn: `ou=gone,${BASE}` },
    error: /no such object/i,
  });
});

test('R5: the search base is a referral (result 10, ManageDsaIT not sent) — failed run, nothing flagged', async () => {
  await bed.expectFaultChangesNothing({
    change: rename('referral'),
    settings: { baseDn: `ou=moved,${BASE}` },
    error: /referral/i,
  });
});

test('R5: a continuation reference inside the result (the referral object under the base) does not fail the run', async () => {
  const r = await runSync(bed.store, bed.opts());
  assert.equal(r.status, 'succeeded');
  assert.equal(r.counts?.flagged, 0);
});
