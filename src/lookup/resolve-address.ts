/**
 * R61 resolve: an address → the tenant managing its domain, the user / public folder or group
 * holding it, the contacts showing it, and the recipient verdict (src/core/recipient.ts, the same
 * function the MTA lookup server asks). Small indexed point reads, concurrent in two or three batches.
 */
import type { Kysely } from 'kysely';
import { domainOf, normalizeAddress } from '../core/address.ts';
import { RosterError } from '../core/errors.ts';
import type { FlagReason, UserKind, UserSource, UserState } from '../core/model.ts';
import { explainVerdict, recipientVerdict, type RecipientFacts, type RecipientVerdict } from '../core/recipient.ts';
import type { Database } from '../store/schema.ts';
import { PREPARED, padIn } from '../store/pg-prepared.ts';

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

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
  // Small statements, each batch concurrent: on PostgreSQL planning a many-table join costs more
  // than running it, and concurrent statements plan in their own backends.
  const [t, held, shown] = await Promise.all([
    db
      .selectFrom('domains as d')
      .innerJoin('tenants as t', 't.id', 'd.tenant_id')
      .select(['t.id', 't.name'])
      .where('d.name', '=', domain)
      .$if(input.tenantId !== undefined, (qb) => qb.where('d.tenant_id', '=', input.tenantId!))
      .modifyEnd(PREPARED)
      .executeTakeFirst(),
    db
      .selectFrom('addresses')
      .select(['role', 'user_id', 'group_id'])
      .where('address', '=', address)
      .$if(input.tenantId !== undefined, (qb) => qb.where('tenant_id', '=', input.tenantId!))
      .modifyEnd(PREPARED)
      .executeTakeFirst(),
    db
      .selectFrom('contact_addresses as ca')
      .innerJoin('contacts as ct', 'ct.id', 'ca.contact_id')
      .select(['ct.id', 'ct.name', 'ct.anchor', 'ct.tenant_id', 'ct.connection_id'])
      .where('ca.address', '=', address)
      .$if(input.tenantId !== undefined, (qb) => qb.where('ct.tenant_id', '=', input.tenantId!))
      .modifyEnd(PREPARED)
      .execute(),
  ]);
  const tenant = t === undefined ? null : { id: t.id, name: t.name };
  const userId = held?.user_id ?? null;
  const groupId = held?.group_id ?? null;
  const none = Promise.resolve(undefined);
  const [user, primary, group] = await Promise.all([
    userId === null ? none : db.selectFrom('users')
      .select(['kind', 'state', 'access_enabled', 'source', 'display_name', 'flag_reason', 'flagged_at', 'delete_after', 'connection_id'])
      .where('id', '=', userId).modifyEnd(PREPARED).executeTakeFirst(),
    userId === null ? none : db.selectFrom('addresses').select('address').where('user_id', '=', userId).where('role', '=', 'primary').modifyEnd(PREPARED).executeTakeFirst(),
    groupId === null ? none : db.selectFrom('groups').select(['name', 'anchor', 'connection_id']).where('id', '=', groupId).modifyEnd(PREPARED).executeTakeFirst(),
  ]);
  const connIds = [...new Set([user?.connection_id, group?.connection_id, ...shown.map((c) => c.connection_id)].filter((x): x is string => typeof x === 'string'))];
  const tenantIds = [...new Set(shown.map((c) => c.tenant_id))];
  const [conns, tenants] = await Promise.all([
    connIds.length === 0 ? Promise.resolve([]) : db.selectFrom('connections').select(['id', 'name', 'priority']).where('id', 'in', padIn(connIds)).modifyEnd(PREPARED).execute(),
    tenantIds.length === 0 ? Promise.resolve([]) : db.selectFrom('tenants').select(['id', 'name']).where('id', 'in', padIn(tenantIds)).modifyEnd(PREPARED).execute(),
  ]);
  const connOf = new Map(conns.map((c) => [c.id, { id: c.id, name: c.name, priority: Number(c.priority) }]));
  const tenantOf = new Map(tenants.map((x) => [x.id, x.name]));

  let holder: AddressHolder | null = null;
  if (userId !== null && user !== undefined) {
    holder = {
      kind: user.kind === 'public_folder' ? 'public_folder' : 'user', id: userId, primary: primary?.address ?? address,
      role: held?.role === 'primary' ? 'primary' : 'alias', state: user.state as UserState, access: Number(user.access_enabled) === 1,
      source: user.source as UserSource, name: user.display_name, connection: user.connection_id === null ? null : (connOf.get(user.connection_id) ?? null),
      flagReason: user.flag_reason as FlagReason | null, flaggedAt: user.flagged_at, deleteAfter: user.delete_after,
    };
  } else if (groupId !== null && group !== undefined) {
    const conn = connOf.get(group.connection_id);
    if (conn !== undefined) holder = { kind: 'group', id: groupId, name: group.name, anchor: group.anchor, connection: conn };
  }
  const contacts: ShowingContact[] = shown
    .flatMap((c) => {
      const conn = connOf.get(c.connection_id);
      return conn === undefined ? [] : [{ id: c.id, name: c.name, anchor: c.anchor, tenantId: c.tenant_id, tenant: tenantOf.get(c.tenant_id) ?? c.tenant_id, connection: conn }];
    })
    .sort((a, b) => a.connection.priority - b.connection.priority || cmp(a.name, b.name) || cmp(a.id, b.id));

  const facts: RecipientFacts = {
    managed: tenant !== null,
    user: holder !== null && holder.kind !== 'group' ? { kind: holder.kind, role: holder.role, state: holder.state, accessEnabled: holder.access } : null,
    group: holder?.kind === 'group',
    contacts: tenant === null ? 0 : contacts.filter((c) => c.tenantId === tenant.id).length,
  };
  const verdict = recipientVerdict(facts);
  return { address, domain, tenant, holder, contacts, verdict: { ...verdict, explanation: explainVerdict(verdict) } };
}
