/**
 * R2/R44 through the CLI against a real slapd: bad custom filters are rejected before they are
 * saved, with a precise message and position; values with `* ( ) \`, a leading `#`, quotes,
 * escaped commas in multi-valued RDNs and non-ASCII are escaped on the way into filters and DNs,
 * so a custom filter with such values reads exactly the right entries, and a group exception (by
 * anchor, D8) whose members have such DNs excepts exactly those members (R30).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { testPki } from '../helpers/tls.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const person = ['top', 'person', 'organizationalPerson', 'inetOrgPerson'];
const GROUP_UUID = '0000eeee-0000-4000-8000-0000000000aa';
/** [DN, extra attributes, mail, in the custom filter?] */
const ENTRIES: Array<[string, Record<string, string>, string, boolean]> = [
  [`cn=a\\,b+uid=x,${PEOPLE}`, { cn: 'a,b', uid: 'x', sn: 'Comma' }, 'comma@example.test', true],
  [`cn=\\"quoted\\" name,${PEOPLE}`, { cn: '"quoted" name', sn: 'Quote' }, 'quote@example.test', true],
  [`cn=\\#hash,${PEOPLE}`, { cn: '#hash', sn: 'Hash' }, 'hash@example.test', true],
  [`cn=Jürgen Groß,${PEOPLE}`, { cn: 'Jürgen Groß', sn: 'Groß' }, 'juergen@example.test', true],
  [`uid=star,${PEOPLE}`, { uid: 'star', cn: 'Star', sn: 'Star', description: 'star*(paren) \\back' }, 'star@example.test', true],
  // Decoys: they match only if an escaped special were read as a wildcard or a different value.
  [`uid=decoy1,${PEOPLE}`, { uid: 'decoy1', cn: 'Decoy', sn: 'Decoy', description: 'starXX(paren) \\back' }, 'decoy1@example.test', false],
  [`uid=decoy2,${PEOPLE}`, { uid: 'decoy2', cn: 'a', sn: 'Grosz', description: 'star*(paren) back' }, 'decoy2@example.test', false],
  [`uid=decoy3,${PEOPLE}`, { uid: 'decoy3', cn: 'hash', sn: 'Gross' }, 'decoy3@example.test', false],
];
const FILTER = '(|(description=star\\2a\\28paren\\29 \\5cback)(cn=a,b)(cn="quoted" name)(cn=#hash)(sn=Groß))';

let slapd: Slapd;
let s: Scenario;

before(async () => {
  let ldif = ldifEntry(BASE, { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' });
  ldif += ldifEntry(PEOPLE, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  ENTRIES.forEach(([dn, attrs, mail], i) => {
    ldif += ldifEntry(dn, { objectClass: person, ...attrs, mail, entryUUID: `0000eeee-0000-4000-8000-00000000000${i}` });
  });
  // A group outside the custom filter whose members are the odd DNs (written differently cased).
  ldif += ldifEntry(`cn=odd \\+ group,${BASE}`, { objectClass: ['top', 'groupOfNames'], cn: 'odd + group', entryUUID: GROUP_UUID,
    member: [`CN=a\\,b+UID=x,${PEOPLE}`, `cn=\\22quoted\\22 name,${PEOPLE}`, `cn=\\#hash,${PEOPLE}`] });
  slapd = await startSlapd({ ldif });
  s = await scenario({
    now: '2026-12-01T00:00:00.000Z', domains: ['example.test'],
    connection: { profile: 'openldap', server: slapd.ldapsUrl, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword,
      caFile: testPki().caFile },
  });
});

after(async () => {
  await slapd?.stop();
  s?.cleanup();
});

const NESTED = `${'(&'.repeat(100)}(cn=a)${')'.repeat(100)}`;
/** Bad filter → the position and the words the message must hold. */
const BAD: Array<[string, number, RegExp]> = [
  ['(cn=a', 0, /unbalanced parenthesis/],
  ['(cn=a))', 6, /unbalanced parenthesis/],
  ['(&)', 1, /empty AND/],
  ['(|)', 1, /empty OR/],
  ['(cn=a\\zz)', 5, /invalid escape/],
  ['(cn=a\\4)', 5, /invalid escape/],
  ['(cn=a(b)', 5, /unescaped "\("/],
  ['(=a)', 1, /missing attribute name/],
  ['(c n=a)', 1, /invalid attribute name/],
  ['(cn=a**b)', 5, /empty substring/],
  ['(!(a=1)(b=2))', 7, /NOT takes exactly one filter/],
  ['(cn~a)', 1, /missing "="/],
  ['(&(cn=a)x)', 8, /expected "\(" or "\)"/],
  ['(cn=*\\ff)', 5, /./], // a non-UTF-8 byte outside an equality match cannot be sent (see filter-compile.ts)
  ['(sn>=\\c3)', 5, /./],
  [NESTED, 130, /nested deeper than 64/], // the 65th "(&" opens at 2 × 65
  [`(cn=${'a'.repeat(20_000)})`, 16_384, /longer than 16384/],
];

for (const [f, position, words] of BAD) {
  test(`R2 R44 the bad filter ${JSON.stringify(f.length > 40 ? `${f.slice(0, 37)}…` : f)} is refused before saving, at position ${position}`, async () => {
    const add = await s.cli(['connections', 'add', 'bad', '--tenant', 'acme', '--profile', 'openldap', '--server', slapd.ldapsUrl,
      '--base-dn', PEOPLE, '--filter', f]);
    // A wrongly accepted filter must not spoil the next cases: remove what it saved.
    if (add.code === 0) await s.cli(['connections', 'delete', 'bad', '--tenant', 'acme', '--yes']);
    assert.equal(add.code, 2, `exit 2 (bad_input): ${add.stderr}`);
    assert.match(add.stderr, new RegExp(`invalid filter at position ${position}\\b`), add.stderr);
    assert.match(add.stderr, words);
  });
}

test('R2 R44 editing a connection to a bad filter is refused and saves nothing', async () => {
  for (const f of ['(cn=a', '(cn=a\\zz)', NESTED]) {
    const edit = await s.cli(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', f]);
    if (edit.code === 0) await s.cli(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', '']);
    assert.equal(edit.code, 2, edit.stderr);
    assert.match(edit.stderr, /invalid filter at position \d+/);
  }
  const list = await s.json(['connections', 'list', '--tenant', 'acme']);
  assert.deepEqual(list.map((c: any) => [c.name, c.settings.customFilter]), [['main', null]], 'nothing was saved');
});

test('R2 R44 a custom filter with escaped * ( ) \\, a leading #, quotes, a comma and non-ASCII reads exactly the right entries', async () => {
  await s.json(['connections', 'edit', 'main', '--tenant', 'acme', '--filter', FILTER]);
  const shown = await s.json(['connections', 'show', 'main', '--tenant', 'acme']);
  assert.equal(shown.settings.customFilter, FILTER.replace('\\2a', '\\2a'), 'saved as given (already normal)');
  const run = await s.sync();
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  const users = await s.users();
  const want = ENTRIES.filter((e) => e[3]).map((e) => e[2]).sort();
  assert.deepEqual([...users.keys()].sort(), want);
  assert.equal(users.get('juergen@example.test')?.details?.surname ?? 'Groß', 'Groß');
});

test('R30 D8 R44 a group exception by anchor excepts exactly its members whose DNs hold escapes, quotes and a leading #', async () => {
  await s.json(['exceptions', 'add', '--tenant', 'acme', '--connection', 'main', '--group', GROUP_UUID]);
  const run = await s.sync({ now: '2026-12-02T00:00:00.000Z' });
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  const users = await s.users({ now: '2026-12-02T00:00:00.000Z' });
  const state = (a: string): string => `${users.get(a)?.state}`;
  // slapd serves the entries' DNs in its own escaping (cn=a\2Cb+uid=x, cn=\23hash) while the member
  // values keep the writer's (CN=a\,b+UID=x, cn=\#hash): RFC 4514 makes them the same DN.
  const got = Object.fromEntries(['comma', 'quote', 'hash', 'juergen', 'star'].map((u) => [u, state(`${u}@example.test`)]));
  assert.deepEqual(got, { comma: 'pending_deletion', quote: 'pending_deletion', hash: 'pending_deletion', juergen: 'active', star: 'active' });
  const reason = JSON.stringify(users.get('quote@example.test'));
  assert.match(reason, /except/i, `flagged as excepted: ${reason}`);
});
