/** Brings a database to the latest schema with Kysely's Migrator (it takes its own lock). */
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { RosterError } from '../core/errors.ts';
import type { Dialect } from './db.ts';
import { allMigrations } from './migrations/index.ts';

/**
 * Applies every pending migration, each in its own transaction. Throws RosterError('internal')
 * naming the failed migration; an already up-to-date database is a no-op.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => allMigrations(dialect) },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined) {
    throw new RosterError('internal', `database migration failed${failed ? ` at ${failed.migrationName}` : ''}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
