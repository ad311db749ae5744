/**
 * R55/R52: per-server health of each connection, and the list of server attempts of a run.
 *
 * `server_health` holds one row per (connection, server key — see serverKey in
 * src/directory/server-health.ts). Times are REAL-clock ISO strings: a server that failed stays
 * unhealthy until `unhealthy_until`, whatever the lifecycle clock override says. Rows go with
 * their connection (ON DELETE CASCADE). `runs.server_attempts` is a JSON array of ServerAttempt.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function serverHealthMigration(): Migration {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('server_health')
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('server', 'text', (c) => c.notNull())
        .addColumn('unhealthy_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_failure_at', 'text')
        .addColumn('last_success_at', 'text')
        .addPrimaryKeyConstraint('server_health_pk', ['connection_id', 'server'])
        .execute();
      await db.schema.alterTable('runs').addColumn('server_attempts', 'text').execute();
    },
    async down(db: AnyDb): Promise<void> {
      await db.schema.alterTable('runs').dropColumn('server_attempts').execute();
      await db.schema.dropTable('server_health').ifExists().execute();
    },
  };
}
