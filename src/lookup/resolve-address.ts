/**
 * R61 resolve: an address → the tenant managing its domain, the user / public folder or group
 * holding it, the contacts showing it, and the recipient verdict (src/core/recipient.ts, the same
 * function the MTA lookup server asks). Four indexed point queries.
 */
import type { Kysely } from 'kysely';
import { domainOf, normalizeAddress } from '../core/address.ts';
import { RosterError } from '../core/errors.ts';
import type { FlagReason, UserKind, UserSource, UserState } from '../core/model.ts';
import { explainVerdict, recipientVerdict, type RecipientFacts, type RecipientVerdict } from '../core/recipient.ts';
import type { Database } from '../store/schema.ts';

export interface ConnectionRef {
  id: string;
  name: string;
  priority: number;
}

export type AddressHolder =
  | {
      kind: UserKind; // 'user' | 'public_folder'
      id: string;
      primary: string;
      role: 'primary' | 'alias';
      state: UserState;
      access: boolean;
      source: UserSource;
      name: string | null;
      connection: ConnectionRef | null;
      flagReason: FlagReason | null;
      flaggedAt: string | null;
      deleteAfter: string | null;
    }
  | { kind: 'group'; id: string; name: string; anchor: string; connection: ConnectionRef };

export interface ShowingContact {
  id: string;
  name: string;
  anchor: string;
  tenantId: string;
  tenant: string;
  connection: ConnectionRef;
}

export interface ResolvedAddress {
  address: string;
  domain: string;
  /** The tenant managing the domain (restricted to `tenantId` when one was given), or null. */
  tenant: { id: string; name: string } | null;
  holder: AddressHolder | null;
  /** Contacts showing the address (several possible, any connection; R13, R63). */
  contacts: ShowingContact[];
  verdict: RecipientVerdict & { explanation: string };
}

export interface ResolveInput {
  address: string;
  /** Only this tenant's objects (a domain another tenant manages then counts as unmanaged). */
  tenantId?: string;
}

/** R61: what holds `address` and whether mail to it is accepted. 'bad_input' when it is not an address. */
export async function resolveAddress(db: Kysely<Database>, input: ResolveInput): Promise<ResolvedAddress> {
  const address = normalizeAddress(input.address);
  if (address === null) throw new RosterError('bad_input', `not a valid mail address: ${JSON.stringify(input.address)}`);
  const domain = domainOf(address);
  // Three independent point reads, concurrent (one round trip's latency on PostgreSQL).
  const [t, h, contactRows] = await Promise.all([
    db
      .selectFrom('domains as d')
      .innerJoin('tenants as t', 't.id', 'd.tenant_id')
      .select(['t.id', 't.name'])
      .where('d.name', '=', domain)
      .$if(input.tenantId !== undefined, (qb) => qb.where('d.tenant_id', '=', input.tenantId!))
      .executeTakeFirst(),
    db
      .selectFrom('addresses as a')
      .leftJoin('users as u', 'u.id', 'a.user_id')
      .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'a.user_id').on('p.role', '=', 'primary'))
      .leftJoin('groups as g', 'g.id', 'a.group_id')
      .leftJoin('connections as cu', 'cu.id', 'u.connection_id')
      .leftJoin('connections as cg', 'cg.id', 'g.connection_id')
      .select([
      'a.role', 'a.user_id', 'a.group_id', 'p.address as primary', 'u.kind', 'u.state', 'u.access_enabled', 'u.source', 'u.display_name',
      'u.flag_reason', 'u.flagged_at', 'u.delete_after', 'g.name as group_name', 'g.anchor as group_anchor',
      'cu.id as u_conn_id', 'cu.name as u_conn_name', 'cu.priority as u_conn_priority',
      'cg.id as conn_id', 'cg.name as conn_name', 'cg.priority as conn_priority',
    ])
      .where('a.address', '=', address)
      .$if(input.tenantId !== undefined, (qb) => qb.where('a.tenant_id', '=', input.tenantId!))
      .executeTakeFirst(),
    db
      .selectFrom('contact_addresses as ca')
      .innerJoin('contacts as ct', 'ct.id', 'ca.contact_id')
      .innerJoin('connections as c', 'c.id', 'ct.connection_id')
      .innerJoin('tenants as t', 't.id', 'ct.tenant_id')
      .select(['ct.id', 'ct.name', 'ct.anchor', 't.id as tenant_id', 't.name as tenant', 'c.id as conn_id', 'c.name as conn_name', 'c.priority as conn_priority'])
      .where('ca.address', '=', address)
      .$if(input.tenantId !== undefined, (qb) => qb.where('ct.tenant_id', '=', input.tenantId!))
      .orderBy('c.priority')
      .orderBy('ct.name')
      .orderBy('ct.id')
      .execute(),
  ]);
  const tenant = t === undefined ? null : { id: t.id, name: t.name };
  const connection = (r: { conn_id: string | null; conn_name: string | null; conn_priority: number | null }): ConnectionRef | null =>
    r.conn_id === null ? null : { id: r.conn_id, name: r.conn_name ?? '', priority: Number(r.conn_priority) };

  let holder: AddressHolder | null = null;
  if (h !== undefined && h.user_id !== null && h.state !== null) {
    holder = {
      kind: h.kind === 'public_folder' ? 'public_folder' : 'user', id: h.user_id, primary: h.primary ?? address,
      role: h.role === 'primary' ? 'primary' : 'alias', state: h.state as UserState, access: Number(h.access_enabled) === 1,
      source: h.source as UserSource, name: h.display_name,
      connection: connection({ conn_id: h.u_conn_id, conn_name: h.u_conn_name, conn_priority: h.u_conn_priority }), flagReason: h.flag_reason as FlagReason | null,
      flaggedAt: h.flagged_at, deleteAfter: h.delete_after,
    };
  } else if (h !== undefined && h.group_id !== null) {
    const conn = connection(h);
    if (conn !== null) holder = { kind: 'group', id: h.group_id, name: h.group_name ?? '', anchor: h.group_anchor ?? '', connection: conn };
  }

  const contacts = contactRows.map((r) => ({ id: r.id, name: r.name, anchor: r.anchor, tenantId: r.tenant_id, tenant: r.tenant, connection: connection(r)! }));

  const facts: RecipientFacts = {
    managed: tenant !== null,
    user: holder !== null && holder.kind !== 'group' ? { kind: holder.kind, role: holder.role, state: holder.state, accessEnabled: holder.access } : null,
    group: holder?.kind === 'group',
    contacts: tenant === null ? 0 : contacts.filter((c) => c.tenantId === tenant.id).length,
  };
  const verdict = recipientVerdict(facts);
  return { address, domain, tenant, holder, contacts, verdict: { ...verdict, explanation: explainVerdict(verdict) } };
}
