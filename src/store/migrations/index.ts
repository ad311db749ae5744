/**
 * The migrations, in order, provided in code (no file-system scanning: works the same from a
 * bundle, a test or the CLI). Names sort in application order; never rename or edit an
 * applied one, add a new file instead.
 */
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../db.ts';
import { initialMigration } from './0001-initial.ts';
import { serverHealthMigration } from './0002-server-health.ts';
import { lookupsMigration } from './0003-lookups.ts';

export function allMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': initialMigration(dialect),
    '0002_server_health': serverHealthMigration(),
    '0003_lookups': lookupsMigration(dialect),
  };
}
