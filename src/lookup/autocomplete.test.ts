import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { addr, details, dirContact, dirGroup, dirUser, seedTenant, snapshot, syncSnapshot } from '../../test/helpers/lookup-fixtures.ts';
import type { Database } from '../store/schema.ts';
import { autocomplete } from './autocomplete.ts';

const person = (anchor: string, primary: string, given: string, surname: string, over: Parameters<typeof dirUser>[2] = {}) =>
  dirUser(anchor, primary, { details: details({ displayName: `${given} ${surname}`, givenName: given, surname }), ...over });

const OPTIONS = { syncDisabledUsers: false, syncPublicFolders: true, readContacts: true };
const USERS = [
  person('u-jose', 'jose.alvarez@example.com', 'José', 'Álvarez'),
  person('u-joseph', 'joseph@example.com', 'Joseph', 'Smith'),
  person('u-anna', 'anna.jones@example.com', 'Anna', 'Jones', { aliases: [addr('aj@example.org')] }),
  person('u-joan', 'joan@example.com', 'Joan', 'Flagged'),
  person('u-zed', 'jordan@example.com', 'Zed', 'Zulu'),
  person('u-jp', 'jp@example.com', 'Jp', 'Kaye'),
  person('u-jn', 'jn@example.com', 'Jnr', 'Kaye'),
  dirUser('f-jour', 'room@example.com', { kind: 'public_folder', details: details({ displayName: 'Jour Fixe Room' }) }),
];
const GROUPS = [dirGroup('g-jo', [], { name: 'JO' }), dirGroup('g-jobs', [], { name: 'Jobs Board', address: addr('jobs@example.com') })];
const CONTACTS = [dirContact('c-jonas', ['jonas@partner.test', 'a@partner.test'], { name: 'Jonas Partner' })];

async function seedDirectory(db: Kysely<Database>): Promise<void> {
  await seedTenant(db);
  await syncSnapshot(db, snapshot({ users: USERS, groups: GROUPS, contacts: CONTACTS }), { settings: { options: OPTIONS } });
  // Joan leaves the directory: flagged (R15), still in the store.
  await syncSnapshot(db, snapshot({ users: USERS.filter((u) => u.anchor !== 'u-joan'), groups: GROUPS, contacts: CONTACTS }), { settings: { options: OPTIONS } });
  // Another tenant with a matching name and address: never returned to tenant-1.
  await seedTenant(db, 'tenant-2', '-b');
  await syncSnapshot(db, snapshot({ users: [person('u-other', 'joanna@example-b.com', 'Joanna', 'Other')], contacts: [dirContact('c-other', ['jo@partner.test'], { name: 'Jo Other' })] }), {
    tenantId: 'tenant-2', connectionId: 'conn-1-b', settings: { managedDomains: ['example-b.com'], options: OPTIONS },
  });
}

const brief = (r: Awaited<ReturnType<typeof autocomplete>>) => r.results.map((h) => `${h.kind}:${h.name}:${h.match}`);

forEachDialect('autocomplete (R61)', (open) => {
  test('R61 ranking: exact name, first word (active users, public folders, groups, contacts, then inactive users), other word, address', async () => {
    const { db } = await open();
    await seedDirectory(db);
    const r = await autocomplete(db, { tenantId: 'tenant-1', query: 'jo' });
    assert.deepEqual(brief(r), [
      'group:JO:exact_name',
      'user:José Álvarez:name_first_word',
      'user:Joseph Smith:name_first_word',
      'public_folder:Jour Fixe Room:name_first_word',
      'group:Jobs Board:name_first_word',
      'contact:Jonas Partner:name_first_word',
      'user:Joan Flagged:name_first_word',
      'user:Anna Jones:name_word',
      'user:Zed Zulu:address',
    ]);
    const joan = r.results.find((h) => h.name === 'Joan Flagged')!;
    assert.equal(joan.state, 'pending_deletion');
    const jose = r.results[1]!;
    assert.deepEqual([jose.address, jose.state, jose.connection, jose.matched], ['jose.alvarez@example.com', 'active', 'conn-1', 'jose']);
    assert.equal(r.results.find((h) => h.kind === 'contact')!.address, 'a@partner.test', 'a contact shows its first address');
    assert.equal(r.results.find((h) => h.name === 'Jobs Board')!.address, 'jobs@example.com');
    assert.equal(r.results.at(-1)!.matched, 'jordan@example.com');
  });

  test('R61 folding: José, JOSE, jose and "  josé " find the same user first; accents in the middle of a word too', async () => {
    const { db } = await open();
    await seedDirectory(db);
    for (const query of ['José', 'JOSE', 'jose', '  josé ', 'JOSÉ']) {
      const r = await autocomplete(db, { tenantId: 'tenant-1', query });
      assert.equal(r.results[0]?.name, 'José Álvarez', query);
      assert.deepEqual(r.tokens, ['jose']);
    }
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'ÁLV' })), ['user:José Álvarez:name_word']);
  });

  test('R61 prefix boundaries: a word just past or before the range is not returned (jp, jn)', async () => {
    const { db } = await open();
    await seedDirectory(db);
    const names = (await autocomplete(db, { tenantId: 'tenant-1', query: 'jo', limit: 100 })).results.map((h) => h.name);
    assert.ok(!names.includes('Jp Kaye') && !names.includes('Jnr Kaye'), names.join(', '));
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jp' })), ['user:Jp Kaye:name_first_word']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jp kaye' })), ['user:Jp Kaye:exact_name']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'josep' })), ['user:Joseph Smith:name_first_word']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'josephs' })), []);
  });

  test('R61 multi-word: every token prefixes a word; word order free; exact whole name ranks first', async () => {
    const { db } = await open();
    await seedDirectory(db);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'smith jo' })), ['user:Joseph Smith:name_first_word']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'Joseph Smith' })), ['user:Joseph Smith:exact_name']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jo kaye' })), []);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'kaye j' })).sort(), ['user:Jnr Kaye:name_first_word', 'user:Jp Kaye:name_first_word']);
  });

  test('R61 multi-word: the rarest word drives the scan (its word is `matched`), a tie goes to the longest; more than four words too', async () => {
    const { db } = await open();
    await seedDirectory(db);
    // A five-word name: up to four words the driving word is chosen inside the one statement,
    // beyond four by a statement of its own first; both give the same answer.
    const cruz = person('u-cruz', 'maria.cruz@example.com', 'Maria', 'de la Cruz Ortega');
    await syncSnapshot(db, snapshot({ users: [...USERS.filter((u) => u.anchor !== 'u-joan'), cruz], groups: GROUPS, contacts: CONTACTS }), { settings: { options: OPTIONS } });
    const one = async (query: string, kinds?: Parameters<typeof autocomplete>[1]['kinds']) => {
      const r = await autocomplete(db, { tenantId: 'tenant-1', query, ...(kinds === undefined ? {} : { kinds }) });
      return r.results.map((h) => `${h.name}:${h.match}:${h.matched}`);
    };
    assert.deepEqual(await one('smith jo'), ['Joseph Smith:name_first_word:smith'], 'smith (1 word) is rarer than jo (many)');
    assert.deepEqual(await one('jo smith'), ['Joseph Smith:name_first_word:smith']);
    assert.deepEqual(await one('smith joseph'), ['Joseph Smith:name_first_word:joseph'], 'a tie (1 and 1): the longer word drives');
    assert.deepEqual(await one('kaye jp'), ['Jp Kaye:name_first_word:jp'], 'jp (1) is rarer than kaye (2)');
    assert.deepEqual(await one('jo board', ['group']), ['Jobs Board:name_first_word:board']);
    assert.deepEqual(await one('jo board', ['user', 'contact']), []);
    assert.deepEqual(await one('de la cruz ortega'), ['Maria de la Cruz Ortega:name_word:ortega'], 'four words: a tie, the longest drives');
    assert.deepEqual(await one('maria de la cruz o'), ['Maria de la Cruz Ortega:name_first_word:maria'], 'five words: a tie, the longest drives');
    assert.deepEqual(await one('o cruz la de maria'), ['Maria de la Cruz Ortega:name_first_word:maria']);
    assert.deepEqual(await one('Maria de la Cruz Ortega'), ['Maria de la Cruz Ortega:exact_name:ortega']);
    assert.deepEqual(await one('maria de la cruz x'), []);
    assert.deepEqual(await one('maria de la cruz ortega jo'), []);
  });

  test('R61 address-only matches rank below names: when names fill the limit only an exact address joins them', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ users: [
      person('u-1', 'ann.one@example.com', 'Anna', 'Examples Comer'),
      person('u-2', 'ann.two@example.com', 'Annie', 'Example Comte'),
      person('u-3', 'ann@example.com', 'Zed', 'Zulu'),
    ] }), { settings: { options: OPTIONS } });
    const names = async (query: string, limit: number) => brief(await autocomplete(db, { tenantId: 'tenant-1', query, limit }));
    assert.deepEqual(await names('ann@example.co', 3), ['user:Anna Examples Comer:name_first_word', 'user:Annie Example Comte:name_first_word', 'user:Zed Zulu:address']);
    assert.deepEqual(await names('ann@example.co', 2), ['user:Anna Examples Comer:name_first_word', 'user:Annie Example Comte:name_first_word']);
    assert.deepEqual(await names('ann@example.com', 2), ['user:Zed Zulu:exact_address', 'user:Anna Examples Comer:name_first_word']);
    assert.deepEqual(await names('ann@example.com', 1), ['user:Zed Zulu:exact_address']);
    assert.deepEqual(await names('ann.t', 10), ['user:Annie Example Comte:address']);
    assert.deepEqual(await names('@', 10), []);
  });

  test('R61 addresses: exact primary and alias first; a contact address; the query as an address prefix', async () => {
    const { db } = await open();
    await seedDirectory(db);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'Anna.Jones@example.com' })), ['user:Anna Jones:exact_address']);
    const alias = await autocomplete(db, { tenantId: 'tenant-1', query: 'aj@example.org' });
    assert.deepEqual(brief(alias), ['user:Anna Jones:exact_address']);
    assert.equal(alias.results[0]!.address, 'anna.jones@example.com', 'the primary is shown, the alias matched');
    assert.equal(alias.results[0]!.matched, 'aj@example.org');
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jonas@' })), ['contact:Jonas Partner:name_first_word'], 'the word "jonas" matches its name');
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'a@partner' })), ['contact:Jonas Partner:address']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'room@exa' })), ['public_folder:Jour Fixe Room:address']);
  });

  test('R61 tenant isolation: another tenant\'s users and contacts never appear', async () => {
    const { db } = await open();
    await seedDirectory(db);
    const mine = await autocomplete(db, { tenantId: 'tenant-1', query: 'jo', limit: 100 });
    assert.ok(mine.results.every((h) => h.name !== 'Joanna Other' && h.name !== 'Jo Other'));
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jo@partner.test' })), []);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'joanna' })), []);
    const theirs = await autocomplete(db, { tenantId: 'tenant-2', query: 'jo' });
    assert.deepEqual(brief(theirs), ['user:Joanna Other:name_first_word', 'contact:Jo Other:name_first_word']);
  });

  test('R61 limits and kinds: limit cuts the ranked list; kinds filter; bad input is refused with a clear message', async () => {
    const { db } = await open();
    await seedDirectory(db);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jo', limit: 2 })), ['group:JO:exact_name', 'user:José Álvarez:name_first_word']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jo', kinds: ['group'] })), ['group:JO:exact_name', 'group:Jobs Board:name_first_word']);
    assert.deepEqual(brief(await autocomplete(db, { tenantId: 'tenant-1', query: 'jo', kinds: ['contact', 'public_folder'] })),
      ['public_folder:Jour Fixe Room:name_first_word', 'contact:Jonas Partner:name_first_word']);
    for (const [query, limit, re] of [
      ['', 10, /empty/], ['   ', 10, /empty/], ['x'.repeat(257), 10, /257 characters.*256/], ['jo', 0, /1 to 100/], ['jo', 101, /1 to 100/], ['jo', 1.5, /1 to 100/],
    ] as const) {
      await assert.rejects(autocomplete(db, { tenantId: 'tenant-1', query, limit }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'bad_input');
        assert.match(e.message, re);
        return true;
      });
    }
    await assert.rejects(autocomplete(db, { tenantId: 'tenant-1', query: 'jo', kinds: ['mailbox' as 'user'] }), /unknown kind "mailbox"/);
    assert.equal((await autocomplete(db, { tenantId: 'tenant-1', query: 'x'.repeat(256) })).results.length, 0);
  });
});
