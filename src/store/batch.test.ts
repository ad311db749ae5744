import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { seedTenant, TENANT } from '../../test/fixtures/store-data.ts';
import { bulkInsert, pgArrayLiteral, type BulkColumns } from './batch.ts';

const T = 'text' as const;
const COLUMNS: BulkColumns = [['at', T], ['actor', T], ['action', T], ['tenant_id', T], ['object_kind', T], ['object_id', T], ['before', T], ['after', T]];

/** Text a directory can hold that an array literal must not misread: quotes, backslashes, separators, the word NULL. */
const AWKWARD = ['', ' ', 'NULL', 'null', '"', '\\', '\\"', 'a,b', '{x}', '{"a"}', ' lead and trail ', 'line\nbreak\ttab', 'Zoë Ångström 李', '\'', '$1', 'x'.repeat(5000)];

test('pgArrayLiteral quotes every text element, escapes " and \\, writes NULL bare and integers unquoted', () => {
  const rows = [['a"b', 1], [null, null], ['c\\d', 2], ['NULL', 3]];
  assert.equal(pgArrayLiteral(rows, 0, 4, 0, 'text'), '{"a\\"b",NULL,"c\\\\d","NULL"}');
  assert.equal(pgArrayLiteral(rows, 1, 3, 1, 'integer'), '{NULL,2}');
  assert.throws(() => pgArrayLiteral([['1']], 0, 1, 0, 'integer'), /integer/);
});

forEachDialect('bulkInsert', (open) => {
  test('stores every value exactly, awkward text and NULL included, across statement chunks', async () => {
    const { db } = await open();
    await seedTenant(db);
    // 12,000 rows: more than one statement on both dialects (5,000 per unnest, ≤ 30,000 parameters on SQLite).
    const rows: (string | null)[][] = [];
    for (let i = 0; i < 12_000; i++) {
      const v = AWKWARD[i % AWKWARD.length]!;
      rows.push([`t${String(i).padStart(5, '0')}`, v, 'bulk.test', TENANT, 'user', `id-${i}`, i % 3 === 0 ? null : v, `${v}|${i}`]);
    }
    await bulkInsert(db, 'audit', COLUMNS, rows);
    const back = await db.selectFrom('audit').select(['at', 'actor', 'before', 'after']).where('action', '=', 'bulk.test').orderBy('at').execute();
    assert.equal(back.length, rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      assert.deepEqual([back[i]!.at, back[i]!.actor, back[i]!.before, back[i]!.after], [r[0], r[1], r[6], r[7]], `row ${i}`);
    }
  });
});
