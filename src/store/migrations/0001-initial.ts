/**
 * The first schema: every table of src/store/schema.ts with the constraints its comments
 * state. Column types are the same on both dialects (TEXT ids and times, INTEGER booleans),
 * so every query is identical; only the auto-numbered ids of `run_items` and `audit` differ.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../db.ts';

// Kysely<any> is the documented type for migrations: they must not depend on today's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function initialMigration(dialect: Dialect): Migration {
  const serial = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('providers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sync_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sync_enabled_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('tenants_provider_name_uq', ['provider_id', 'name'])
        .execute();

      // Domain names are stored lower-case (CHECK), so UNIQUE(name) is case-insensitive.
      await db.schema
        .createTable('domains')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addCheckConstraint('domains_name_lower_ck', sql`name = lower(name)`)
        .execute();
      await db.schema.createIndex('domains_tenant_ix').on('domains').column('tenant_id').execute();

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('scope_key', 'text', (c) => c.notNull())
        .addColumn('bind_secret', 'text')
        .addColumn('schedule', 'text', (c) => c.notNull())
        .addColumn('last_complete_run_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('connections_tenant_name_uq', ['tenant_id', 'name'])
        .addUniqueConstraint('connections_tenant_scope_uq', ['tenant_id', 'scope_key'])
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user', 'public_folder')`))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'pending_deletion', 'deactivated')`))
        .addColumn('access_enabled', 'integer', (c) => c.notNull())
        .addColumn('given_name', 'text')
        .addColumn('surname', 'text')
        .addColumn('display_name', 'text')
        .addColumn('home_phone', 'text')
        .addColumn('mobile', 'text')
        .addColumn('company', 'text')
        .addColumn('department', 'text')
        .addColumn('notes', 'text')
        .addColumn('kerberos_name', 'text')
        .addColumn('ntlm_name', 'text')
        .addColumn('connection_id', 'text', (c) => c.references('connections.id').onDelete('set null'))
        .addColumn('anchor', 'text')
        .addColumn('dn', 'text')
        .addColumn('flag_reason', 'text')
        .addColumn('flagged_at', 'text')
        .addColumn('delete_after', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_tenant_ix').on('users').column('tenant_id').execute();
      // NULLs are distinct on both dialects: users without a connection or anchor never collide.
      await db.schema.createIndex('users_connection_anchor_uq').on('users').columns(['connection_id', 'anchor']).unique().execute();
      // Purge selection (R21) and Conflicts listings.
      await db.schema.createIndex('users_delete_after_ix').on('users').column('delete_after').where('delete_after', 'is not', null).execute();

      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('anchor', 'text', (c) => c.notNull())
        .addColumn('dn', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('groups_connection_anchor_uq', ['connection_id', 'anchor'])
        .execute();
      await db.schema.createIndex('groups_tenant_ix').on('groups').column('tenant_id').execute();

      // R13: one address space per system. The PK serves exact lookups of normalized addresses;
      // the unique lower() index is what forbids the same address in another case.
      await db.schema
        .createTable('addresses')
        .addColumn('address', 'text', (c) => c.primaryKey())
        // No FK to tenants: rows go with their user or group, and on PostgreSQL every FK is a
        // trigger per inserted row (140,000 address rows for 100,000 users).
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('primary', 'alias', 'group')`))
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.references('groups.id').onDelete('cascade'))
        .addCheckConstraint('addresses_owner_ck', sql`(user_id is null) <> (group_id is null)`)
        .addCheckConstraint('addresses_group_role_ck', sql`(role = 'group') = (group_id is not null)`)
        .execute();
      await db.schema.createIndex('addresses_lower_uq').on('addresses').expression(sql`lower(address)`).unique().execute();
      await db.schema.createIndex('addresses_primary_uq').on('addresses').column('user_id').unique().where(sql.ref('role'), '=', 'primary').execute();
      await db.schema.createIndex('addresses_user_ix').on('addresses').column('user_id').execute();
      // Partial: user address rows (the bulk) do not pay for an index entry they never need.
      await db.schema.createIndex('addresses_group_ix').on('addresses').column('group_id').where('group_id', 'is not', null).execute();
      await db.schema.createIndex('addresses_tenant_ix').on('addresses').column('tenant_id').execute();

      await db.schema
        .createTable('memberships')
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('group_anchor', 'text', (c) => c.notNull())
        .addColumn('member_anchor', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['connection_id', 'group_anchor', 'member_anchor'])
        .execute();
      // "Which groups is this object in" (lookups, nested expansion upwards).
      await db.schema.createIndex('memberships_member_ix').on('memberships').columns(['connection_id', 'member_anchor']).execute();

      await db.schema
        .createTable('contacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('anchor', 'text', (c) => c.notNull())
        .addColumn('dn', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('contacts_connection_anchor_uq', ['connection_id', 'anchor'])
        .execute();
      await db.schema.createIndex('contacts_tenant_ix').on('contacts').column('tenant_id').execute();

      await db.schema
        .createTable('contact_addresses')
        .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('contact_addresses_pk', ['contact_id', 'address'])
        .execute();
      await db.schema.createIndex('contact_addresses_address_ix').on('contact_addresses').column('address').execute();

      await db.schema
        .createTable('rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('allow', 'deny')`))
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rules_user_ix').on('rules').column('user_id').execute();

      await db.schema
        .createTable('archives')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('archives_tenant_address_uq', ['tenant_id', 'address'])
        .execute();
      await db.schema.createIndex('archives_user_ix').on('archives').column('user_id').execute();

      await db.schema
        .createTable('exceptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user', 'group', 'alias')`))
        .addColumn('anchor', 'text')
        .addColumn('dn', 'text')
        .addColumn('address', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('exceptions_connection_ix').on('exceptions').column('connection_id').execute();

      await db.schema
        .createTable('additions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('additions_connection_ix').on('additions').column('connection_id').execute();

      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('clock_override', 'text')
        .addColumn('server_used', 'text')
        .addColumn('counts', 'text')
        .addColumn('plan', 'text')
        .addColumn('error', 'text')
        .addColumn('error_code', 'text')
        .execute();
      await db.schema.createIndex('runs_connection_started_ix').on('runs').columns(['connection_id', 'started_at']).execute();
      await db.schema.createIndex('runs_tenant_started_ix').on('runs').columns(['tenant_id', 'started_at']).execute();

      await db.schema
        .createTable('run_items')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('anchor', 'text')
        .addColumn('dn', 'text')
        .addColumn('value', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('run_items_run_ix').on('run_items').column('run_id').execute();

      // No FKs: the audit trail outlives tenants and objects (R25).
      await db.schema
        .createTable('audit')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text')
        .addColumn('object_kind', 'text')
        .addColumn('object_id', 'text')
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .execute();
      await db.schema.createIndex('audit_tenant_at_ix').on('audit').columns(['tenant_id', 'at']).execute();
      await db.schema.createIndex('audit_object_ix').on('audit').columns(['object_kind', 'object_id']).execute();
    },
    async down(db: AnyDb): Promise<void> {
      for (const t of ['audit', 'run_items', 'runs', 'additions', 'exceptions', 'archives', 'rules', 'contact_addresses',
        'contacts', 'memberships', 'addresses', 'groups', 'users', 'connections', 'domains', 'tenants', 'providers']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
