import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { details, dirContact, dirGroup, dirUser, seedTenant, snapshot, syncSnapshot, termsOf, userDn } from '../../test/helpers/lookup-fixtures.ts';
import { addUser, deleteUser, editUser } from './admin/users.ts';
import type { Database } from './schema.ts';
import { replaceSearchTerms, termRows } from './search-terms.ts';

const CTX = { actor: 'cli:test', now: '2026-11-22T11:00:00.000Z' };

async function idOf(db: Kysely<Database>, table: 'users' | 'groups' | 'contacts', anchor: string): Promise<string> {
  return (await db.selectFrom(table).select('id').where('anchor', '=', anchor).executeTakeFirstOrThrow()).id;
}

const alice = dirUser('a-alice', 'alice@example.com', { details: details({ displayName: 'Alice Émile-Smith', givenName: 'Alice', surname: 'Émile-Smith' }) });
const bob = dirUser('a-bob', 'bob@example.com', { details: details({ displayName: 'BOB  o’Brien', givenName: null, surname: 'O’Brien' }) });
const sales = dirGroup('g-sales', [userDn('a-alice')], { name: 'Sales Team (EU)' });
const partner = dirContact('c-jose', ['jose@partner.test'], { name: 'José Müller' });

forEachDialect('search terms (R61)', (open) => {
  test('R61 terms follow a sync, a user rename, a group rename and removals, exactly', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ users: [alice, bob], groups: [sales], contacts: [partner] }));
    const [a, b, g, c] = [await idOf(db, 'users', 'a-alice'), await idOf(db, 'users', 'a-bob'), await idOf(db, 'groups', 'g-sales'), await idOf(db, 'contacts', 'c-jose')];
    assert.deepEqual(await termsOf(db), [
      `contact:${c}:jose`, `contact:${c}:muller`,
      `group:${g}:eu`, `group:${g}:sales`, `group:${g}:team`,
      `user:${a}:alice`, `user:${a}:emile`, `user:${a}:smith`,
      `user:${b}:bob`, `user:${b}:brien`, `user:${b}:o`,
    ].sort());

    // Alice renamed in the directory (update_user of her names); the group renamed; Bob's phone changes only.
    const alice2 = { ...alice, details: details({ displayName: 'Alice Jones', givenName: 'Alice', surname: 'Jones' }) };
    const bob2 = { ...bob, details: { ...bob.details, mobile: '+1 555' } };
    const ops = await syncSnapshot(db, snapshot({ users: [alice2, bob2], groups: [{ ...sales, name: 'Équipe Ventes' }], contacts: [partner] }));
    assert.equal(ops.update_user, 2);
    assert.equal(ops.upsert_group, 1);
    assert.deepEqual(await termsOf(db), [
      `contact:${c}:jose`, `contact:${c}:muller`,
      `group:${g}:equipe`, `group:${g}:ventes`,
      `user:${a}:alice`, `user:${a}:jones`,
      `user:${b}:bob`, `user:${b}:brien`, `user:${b}:o`,
    ].sort());

    // The group and the contact leave the directory: their rows go with them (cascade).
    await syncSnapshot(db, snapshot({ users: [alice2, bob2], groups: [], contacts: [] }));
    assert.deepEqual(await termsOf(db), [`user:${a}:alice`, `user:${a}:jones`, `user:${b}:bob`, `user:${b}:brien`, `user:${b}:o`].sort());

    // A user deleted by hand (R23): its rows go too.
    await deleteUser(db, 'tenant-1', 'bob@example.com', CTX);
    assert.deepEqual(await termsOf(db), [`user:${a}:alice`, `user:${a}:jones`]);
  });

  test('R61 a contact renamed keeps exactly its new words; a user whose name did not change keeps its rows', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ users: [alice], contacts: [partner] }));
    const c = await idOf(db, 'contacts', 'c-jose');
    const before = (await termsOf(db)).filter((t) => t.startsWith('user:'));
    await syncSnapshot(db, snapshot({ users: [alice], contacts: [{ ...partner, name: 'Jürgen Partner' }] }));
    assert.deepEqual((await termsOf(db)).filter((t) => t.startsWith('contact:')), [`contact:${c}:jurgen`, `contact:${c}:partner`]);
    assert.deepEqual((await termsOf(db)).filter((t) => t.startsWith('user:')), before);
  });

  test('R61 manual users: add and edit keep their terms (D10)', async () => {
    const { db } = await open();
    await seedTenant(db);
    const u = await addUser(db, 'tenant-1', { address: 'm@example.com', details: { displayName: 'Zoë Manual', givenName: 'Zoë' } }, 'manual', CTX);
    assert.deepEqual(await termsOf(db), [`user:${u.id}:manual`, `user:${u.id}:zoe`]);
    await editUser(db, 'tenant-1', 'm@example.com', { displayName: 'Zoë Renamed', mobile: '1' }, CTX);
    assert.deepEqual(await termsOf(db), [`user:${u.id}:renamed`, `user:${u.id}:zoe`]);
    await editUser(db, 'tenant-1', 'm@example.com', { mobile: '2' }, CTX);
    assert.deepEqual(await termsOf(db), [`user:${u.id}:renamed`, `user:${u.id}:zoe`]);
    await editUser(db, 'tenant-1', 'm@example.com', { displayName: '', givenName: '' }, CTX);
    assert.deepEqual(await termsOf(db), []);
  });

  test('replaceSearchTerms replaces only the named objects; termRows folds and dedupes', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ users: [alice, bob] }));
    const a = await idOf(db, 'users', 'a-alice');
    const b = await idOf(db, 'users', 'a-bob');
    await replaceSearchTerms(db, 'tenant-1', 'user', [{ id: a, names: ['ÅSA åsa', null, 'Lind'] }]);
    assert.deepEqual((await termsOf(db)).filter((t) => t.includes(a)), [`user:${a}:asa`, `user:${a}:lind`]);
    assert.equal((await termsOf(db)).filter((t) => t.includes(b)).length, 3);
    assert.deepEqual(termRows('t', 'group', [{ id: 'g', names: ['A a', 'b'] }]), [['t', 'a', null, 'g', null], ['t', 'b', null, 'g', null]]);
  });
});

forEachDialect('search terms go with their objects (delete triggers, R61)', (open) => {
  test('R61 deleting a connection (its groups and contacts cascade) and then the tenant (its users cascade) leaves no term behind', async () => {
    const { db } = await open();
    await seedTenant(db);
    await syncSnapshot(db, snapshot({ users: [alice, bob], groups: [sales], contacts: [partner] }));
    const kinds = async () => (await termsOf(db)).map((t) => t.split(':')[0]);
    assert.deepEqual([...new Set(await kinds())].sort(), ['contact', 'group', 'user']);
    const conn = await db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    await db.deleteFrom('memberships').where('connection_id', '=', conn.id).execute();
    await db.deleteFrom('connections').where('id', '=', conn.id).execute();
    assert.deepEqual([...new Set(await kinds())], ['user'], 'the groups and contacts went by cascade, their terms by trigger');
    await db.deleteFrom('tenants').execute();
    assert.deepEqual(await termsOf(db), [], 'the users went by cascade, their terms by trigger');
    const left = await db.selectFrom('search_terms').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(left.n), 0);
  });
});
