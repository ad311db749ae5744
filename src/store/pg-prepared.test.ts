import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { seedTenant } from '../../test/helpers/admin-fixtures.ts';
import { PREPARED, padIn } from './pg-prepared.ts';

test('padIn pads to a power of two with the last element; short lists stay', () => {
  assert.deepEqual(padIn([]), []);
  assert.deepEqual(padIn(['a']), ['a']);
  assert.deepEqual(padIn(['a', 'b', 'c']), ['a', 'b', 'c', 'c']);
  assert.equal(padIn(Array.from({ length: 33 }, (_, i) => i)).length, 64);
});

forEachDialect('prepared lookups statements', (open, factory) => {
  test('a marked statement returns the same rows; on PostgreSQL it runs as a named statement, unmarked ones do not', async () => {
    const { db } = await open();
    await seedTenant(db, { tenant: 'acme', domains: ['acme.test', 'beta.test'] });
    await db.connection().execute(async (c) => {
      const marked = () => c.selectFrom('domains').select('name').where('name', 'in', padIn(['acme.test', 'beta.test', 'x.test'])).orderBy('name').modifyEnd(PREPARED);
      for (let i = 0; i < 3; i++) assert.deepEqual((await marked().execute()).map((r) => r.name), ['acme.test', 'beta.test']);
      const viaConn = await c.selectFrom('domains').select('name').where('name', '=', 'acme.test').modifyEnd(PREPARED).execute();
      assert.deepEqual(viaConn.map((r) => r.name), ['acme.test']);
      await c.selectFrom('domains').select('name').where('name', '=', 'unmarked.test').execute();
      if (factory.dialect === 'postgres') {
        const names = (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(c)).rows.map((r) => r.statement);
        assert.ok(names.some((s) => s.includes("= $1 /*roster:prepared*/")), names.join('\n'));
        assert.ok(!names.some((s) => s.includes('unmarked')), 'an unmarked statement is not prepared');
      }
    });
  });
});
