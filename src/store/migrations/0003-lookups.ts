/**
 * Issue 4: lookups (R61, R62), duplicate findings (R63), and byte-ordered address search.
 *
 * - `search_terms`: one row per distinct folded word (src/core/fold.ts foldWords) of a user's
 *   display name, given name and surname, of a group's name, of a contact's name. Autocomplete
 *   scans (tenant_id, term) by prefix. Rows go with their object (delete triggers, not foreign keys:
 *   see below). Existing
 *   objects are indexed here; from now on every write of a name keeps its rows current.
 * - addresses: stored lower-case is now enforced (CHECK on PostgreSQL, trigger on SQLite) and the
 *   primary key is the uniqueness; the unique lower(address) index is dropped (first-sync insert cost).
 * - `addresses_tenant_ix` becomes (tenant_id, address, role, user_id): address prefix search per tenant,
 *   and an index-only read of a tenant's addresses for loadStoreState.
 * - On PostgreSQL `addresses.address`, `contact_addresses.address` and `search_terms.term` use the
 *   "C" collation, so a prefix is a byte range as on SQLite (a linguistic collation would make
 *   `term >= 'jo' AND term < 'jo\u{10FFFF}'` mean something else). Addresses are stored lower-case
 *   already (R4), so lower() under "C" (ASCII only, as SQLite's) changes nothing.
 * - `duplicate_findings` (R63): per connection (the connection whose complete read found it) and
 *   run; kind, the shown value, the normalized key, the objects involved (JSON), first and last seen.
 *   `finding_users`: the users a finding affects and the consequence applied to them while it lasts.
 * - `message_rules` and `message_rule_targets` (R62): tenant rules naming directory users, groups
 *   or plain addresses as senders or recipients; a group target is kept by (connection, anchor) and
 *   resolves to its current transitive members.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../db.ts';
import { foldWords } from '../../core/fold.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** The objects that own terms, and the column naming them. */
const TERM_OWNERS = [['users', 'user_id'], ['groups', 'group_id'], ['contacts', 'contact_id']] as const;

type TermRow = { tenant_id: string; term: string; user_id: string | null; group_id: string | null; contact_id: string | null };

async function insertTerms(db: AnyDb, rows: TermRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('search_terms').values(rows.slice(i, i + 500)).execute();
}

/** Indexes the names already in the store (a store created before this migration). */
async function backfillTerms(db: AnyDb): Promise<void> {
  const rows: TermRow[] = [];
  const users = await db.selectFrom('users').select(['id', 'tenant_id', 'display_name', 'given_name', 'surname']).execute();
  for (const u of users) for (const term of foldWords(u.display_name, u.given_name, u.surname)) rows.push({ tenant_id: u.tenant_id, term, user_id: u.id, group_id: null, contact_id: null });
  const groups = await db.selectFrom('groups').select(['id', 'tenant_id', 'name']).execute();
  for (const g of groups) for (const term of foldWords(g.name)) rows.push({ tenant_id: g.tenant_id, term, user_id: null, group_id: g.id, contact_id: null });
  const contacts = await db.selectFrom('contacts').select(['id', 'tenant_id', 'name']).execute();
  for (const c of contacts) for (const term of foldWords(c.name)) rows.push({ tenant_id: c.tenant_id, term, user_id: null, group_id: null, contact_id: c.id });
  await insertTerms(db, rows);
}

export function lookupsMigration(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyDb): Promise<void> {
      // Addresses are stored lower-case (R4: the application normalizes every one). The database now
      // enforces that form — a CHECK on PostgreSQL, a trigger on SQLite (which cannot add a CHECK to an
      // existing table) — and the primary key on `address` alone forbids a second holder in any case;
      // the unique lower(address) index, a second random-order B-tree on the hottest insert of a first
      // sync, goes. (The UPDATE is a no-op for stores written by Roster; the old unique index made
      // sure two rows could not collide once lower-cased.)
      await sql`UPDATE addresses SET address = lower(address) WHERE address <> lower(address)`.execute(db);
      await db.schema.dropIndex('addresses_lower_uq').execute();
      if (pg) {
        await sql`ALTER TABLE addresses ALTER COLUMN address TYPE text COLLATE "C"`.execute(db);
        await sql`ALTER TABLE contact_addresses ALTER COLUMN address TYPE text COLLATE "C"`.execute(db);
        await sql`ALTER TABLE addresses ADD CONSTRAINT addresses_lower_ck CHECK (address = lower(address))`.execute(db);
      } else {
        for (const [name, when] of [['addresses_lower_ins', 'BEFORE INSERT'], ['addresses_lower_upd', 'BEFORE UPDATE OF address']] as const) {
          await sql.raw(`CREATE TRIGGER ${name} ${when} ON addresses WHEN NEW.address <> lower(NEW.address)
            BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: addresses_lower_ck (addresses are stored lower-case)'); END`).execute(db);
        }
      }
      await db.schema.dropIndex('addresses_tenant_ix').execute();
      // Covering for the two readers of a tenant's addresses: loadStoreState (tenant + role → address,
      // user_id: an index-only scan instead of a probe per row in address order) and autocomplete.
      await db.schema.createIndex('addresses_tenant_address_ix').on('addresses').columns(['tenant_id', 'address', 'role', 'user_id']).execute();

      // No foreign keys: a term is a derived index entry, and on PostgreSQL every foreign key is a
      // trigger per inserted row (~3 s of a 100k-user first sync for ~280k terms). Terms go with their
      // object through the delete triggers below instead (fired by cascaded deletes too), and every
      // lookup joins terms to their object, so a term can never show something that is gone.
      await db.schema
        .createTable('search_terms')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('term', 'text', (c) => (pg ? c.notNull().modifyFront(sql`COLLATE "C"`) : c.notNull()))
        .addColumn('user_id', 'text')
        .addColumn('group_id', 'text')
        .addColumn('contact_id', 'text')
        .addCheckConstraint('search_terms_owner_ck', sql`(case when user_id is null then 0 else 1 end) + (case when group_id is null then 0 else 1 end) + (case when contact_id is null then 0 else 1 end) = 1`)
        .execute();
      await db.schema.createIndex('search_terms_tenant_term_ix').on('search_terms').columns(['tenant_id', 'term']).execute();
      await db.schema.createIndex('search_terms_user_ix').on('search_terms').column('user_id').where('user_id', 'is not', null).execute();
      await db.schema.createIndex('search_terms_group_ix').on('search_terms').column('group_id').where('group_id', 'is not', null).execute();
      await db.schema.createIndex('search_terms_contact_ix').on('search_terms').column('contact_id').where('contact_id', 'is not', null).execute();
      for (const [table, column] of TERM_OWNERS) {
        if (pg) {
          // Statement-level with a transition table: a purge of thousands of users is one DELETE here.
          await sql.raw(`CREATE FUNCTION search_terms_gone_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM search_terms WHERE ${column} IN (SELECT id FROM gone); RETURN NULL; END $$`).execute(db);
          await sql.raw(`CREATE TRIGGER search_terms_gone_${table} AFTER DELETE ON ${table} REFERENCING OLD TABLE AS gone
            FOR EACH STATEMENT EXECUTE FUNCTION search_terms_gone_${table}()`).execute(db);
        } else {
          await sql.raw(`CREATE TRIGGER search_terms_gone_${table} AFTER DELETE ON ${table}
            BEGIN DELETE FROM search_terms WHERE ${column} = OLD.id; END`).execute(db);
        }
      }

      await db.schema
        .createTable('duplicate_findings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) =>
          c.notNull().check(sql`kind in ('display_name', 'group_name', 'contact_name', 'kerberos_name', 'ntlm_name', 'address')`))
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('objects', 'text', (c) => c.notNull()) // JSON DuplicateObject[]
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('duplicate_findings_conn_kind_key_uq').on('duplicate_findings').columns(['connection_id', 'kind', 'key']).unique().execute();
      await db.schema.createIndex('duplicate_findings_tenant_ix').on('duplicate_findings').column('tenant_id').execute();
      await db.schema.createIndex('duplicate_findings_run_ix').on('duplicate_findings').column('run_id').execute();

      await db.schema
        .createTable('finding_users')
        .addColumn('finding_id', 'text', (c) => c.notNull().references('duplicate_findings.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('consequence', 'text', (c) => c.notNull().check(sql`consequence in ('no_spoofing_protection', 'no_personal_features')`))
        .addPrimaryKeyConstraint('finding_users_pk', ['finding_id', 'user_id'])
        .execute();
      await db.schema.createIndex('finding_users_user_ix').on('finding_users').column('user_id').execute();

      await db.schema
        .createTable('message_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('allow', 'block', 'quarantine', 'tag')`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('message_rules_tenant_name_uq', ['tenant_id', 'name'])
        .execute();
      await db.schema
        .createTable('message_rule_targets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rule_id', 'text', (c) => c.notNull().references('message_rules.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('sender', 'recipient')`))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user', 'group', 'address')`))
        // user: the user (rename and primary change keep the id); group: (connection, anchor) with its
        // last name for display; address: a plain address (any domain).
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.references('connections.id').onDelete('cascade'))
        .addColumn('anchor', 'text')
        .addColumn('address', 'text')
        .addColumn('label', 'text', (c) => c.notNull())
        .addCheckConstraint('message_rule_targets_kind_ck', sql`(kind = 'user' and user_id is not null) or (kind = 'group' and connection_id is not null and anchor is not null) or (kind = 'address' and address is not null)`)
        .execute();
      await db.schema.createIndex('message_rule_targets_rule_ix').on('message_rule_targets').column('rule_id').execute();
      await db.schema.createIndex('message_rule_targets_user_ix').on('message_rule_targets').column('user_id').where('user_id', 'is not', null).execute();

      await backfillTerms(db);
    },
    async down(db: AnyDb): Promise<void> {
      for (const [table] of TERM_OWNERS) {
        await sql.raw(`DROP TRIGGER IF EXISTS search_terms_gone_${table}${pg ? ` ON ${table}` : ''}`).execute(db);
        if (pg) await sql.raw(`DROP FUNCTION IF EXISTS search_terms_gone_${table}()`).execute(db);
      }
      for (const t of ['message_rule_targets', 'message_rules', 'finding_users', 'duplicate_findings', 'search_terms']) await db.schema.dropTable(t).ifExists().execute();
      await db.schema.dropIndex('addresses_tenant_address_ix').ifExists().execute();
      await db.schema.createIndex('addresses_tenant_ix').on('addresses').column('tenant_id').execute();
      if (pg) await sql`ALTER TABLE addresses DROP CONSTRAINT IF EXISTS addresses_lower_ck`.execute(db);
      else for (const t of ['addresses_lower_ins', 'addresses_lower_upd']) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
      await db.schema.createIndex('addresses_lower_uq').on('addresses').expression(sql`lower(address)`).unique().execute();
    },
  };
}
