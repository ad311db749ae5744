import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { dirUser, details, seedTenant, snapshot, syncSnapshot } from '../../test/helpers/lookup-fixtures.ts';
import { refreshPlannerStatistics } from './statistics.ts';

forEachDialect('planner statistics after a large apply', (open, factory) => {
  test('refreshPlannerStatistics leaves statistics for the tables a sync fills (lookups are planned on them); PostgreSQL vacuums them too', async () => {
    const { db } = await open();
    await seedTenant(db);
    const users = Array.from({ length: 300 }, (_, i) => dirUser(`a${i}`, `u${i}@example.com`, { details: details({ displayName: `User Number${i}` }) }));
    await syncSnapshot(db, snapshot({ users }));
    await refreshPlannerStatistics(db);
    if (factory.dialect === 'sqlite') {
      const rows = await sql<{ tbl: string }>`select distinct tbl from sqlite_stat1 where tbl in ('users', 'addresses', 'search_terms')`.execute(db);
      assert.deepEqual(rows.rows.map((r) => r.tbl).sort(), ['addresses', 'search_terms', 'users']);
    } else {
      const rows = await sql<{ tablename: string }>`select distinct tablename from pg_stats where schemaname = current_schema() and tablename in ('users', 'addresses', 'search_terms')`.execute(db);
      assert.deepEqual(rows.rows.map((r) => r.tablename).sort(), ['addresses', 'search_terms', 'users']);
      // Vacuumed too (not only analyzed): the visibility map is what lets index-only scans skip the table.
      const vac = await sql<{ relname: string; last_vacuum: unknown }>`
        select relname, last_vacuum from pg_stat_user_tables where relname in ('users', 'addresses', 'search_terms')`.execute(db);
      assert.equal(vac.rows.length, 3);
      for (const r of vac.rows) assert.ok(r.last_vacuum !== null, `${r.relname} vacuumed`);
    }
  });
});
