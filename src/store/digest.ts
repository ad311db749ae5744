/**
 * A content digest of the store's directory data: users, addresses, groups, memberships,
 * contacts (with addresses) and archives. Generated row ids (users, groups, contacts,
 * archives) are replaced by natural keys — a user by its primary address, a group or contact
 * by (connection, anchor) — so two stores that received the same plans have equal digests
 * although newId() differs; tenant and connection ids are kept (admins create them).
 * Rows are sorted in JavaScript by code point, so the digest does not depend on a collation
 * and is the same on SQLite and PostgreSQL.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Row = readonly unknown[];

function sortedLines(rows: Row[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 (hex) of the canonical dump, for the whole store or one tenant. Read-only. */
export async function digestStore(db: Kysely<Database>, tenantId?: string): Promise<string> {
  const t = tenantId;
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    const users = await trx.selectFrom('users').selectAll().$if(t !== undefined, (q) => q.where('tenant_id', '=', t!)).execute();
    const addresses = await trx.selectFrom('addresses').selectAll().$if(t !== undefined, (q) => q.where('tenant_id', '=', t!)).execute();
    const groups = await trx.selectFrom('groups').selectAll().$if(t !== undefined, (q) => q.where('tenant_id', '=', t!)).execute();
    const members = await trx
      .selectFrom('memberships as m')
      .innerJoin('connections as c', 'c.id', 'm.connection_id')
      .select(['m.connection_id', 'm.group_anchor', 'm.member_anchor'])
      .$if(t !== undefined, (q) => q.where('c.tenant_id', '=', t!))
      .execute();
    const contacts = await trx.selectFrom('contacts').selectAll().$if(t !== undefined, (q) => q.where('tenant_id', '=', t!)).execute();
    const contactAddresses = await trx
      .selectFrom('contact_addresses as ca')
      .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
      .select(['c.connection_id', 'c.anchor', 'ca.address'])
      .$if(t !== undefined, (q) => q.where('c.tenant_id', '=', t!))
      .execute();
    const archives = await trx.selectFrom('archives').selectAll().$if(t !== undefined, (q) => q.where('tenant_id', '=', t!)).execute();

    const primaryOf = new Map<string, string>();
    for (const a of addresses) if (a.role === 'primary' && a.user_id !== null) primaryOf.set(a.user_id, a.address);
    const userKey = (id: string | null): string | null => (id === null ? null : (primaryOf.get(id) ?? `?${id}`));
    const groupKey = new Map(groups.map((g) => [g.id, `${g.connection_id}/${g.anchor}`]));

    const hash = createHash('sha256');
    const section = (name: string, rows: Row[]): void => {
      hash.update(`#${name} ${rows.length}\n`);
      for (const line of sortedLines(rows)) hash.update(`${line}\n`);
    };
    section('users', users.map((u) => [userKey(u.id), u.tenant_id, u.kind, u.source, u.state, u.access_enabled,
      u.given_name, u.surname, u.display_name, u.home_phone, u.mobile, u.company, u.department, u.notes,
      u.kerberos_name, u.ntlm_name, u.connection_id, u.anchor, u.dn, u.flag_reason, u.flagged_at, u.delete_after,
      u.created_at, u.updated_at]));
    section('addresses', addresses.map((a) => [a.address, a.tenant_id, a.role, userKey(a.user_id),
      a.group_id === null ? null : (groupKey.get(a.group_id) ?? `?${a.group_id}`)]));
    section('groups', groups.map((g) => [g.tenant_id, g.connection_id, g.anchor, g.dn, g.name, g.created_at, g.updated_at]));
    section('memberships', members.map((m) => [m.connection_id, m.group_anchor, m.member_anchor]));
    section('contacts', contacts.map((c) => [c.tenant_id, c.connection_id, c.anchor, c.dn, c.name, c.created_at, c.updated_at]));
    section('contact_addresses', contactAddresses.map((c) => [c.connection_id, c.anchor, c.address]));
    section('archives', archives.map((a) => [a.tenant_id, a.address, userKey(a.user_id), a.created_at]));
    return hash.digest('hex');
  });
}
