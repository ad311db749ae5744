/**
 * Loads what the planner needs from the store for one run of one connection (StoreState).
 * A fixed handful of queries, whatever the size: users, addresses, groups, group addresses,
 * memberships, contacts, contact addresses, archives. Sorting happens here, in JavaScript, so
 * the order does not depend on a database collation.
 */
import type { Kysely } from 'kysely';
import { RosterError } from '../core/errors.ts';
import type {
  Address,
  FlagReason,
  ForeignAddress,
  StoreArchive,
  StoreContact,
  StoreGroup,
  StoreState,
  StoreUser,
  UserKind,
  UserSource,
  UserState,
} from '../core/model.ts';
import { isPostgres } from './batch.ts';
import type { Database } from './schema.ts';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Returns one shared instance per distinct string value (null stays null). */
function interner(): <T extends string | null>(value: T) => T {
  const seen = new Map<string, string>();
  return <T extends string | null>(value: T): T => {
    if (value === null) return value;
    const hit = seen.get(value);
    if (hit !== undefined) return hit as T;
    seen.set(value, value);
    return value;
  };
}

/**
 * Shared by every user, group and contact without aliases, members or addresses (most users of a
 * tenant): one frozen array instead of ~100,000 empty ones. Frozen, so a caller that tried to
 * modify it would fail loudly instead of changing every entry.
 */
const NONE: never[] = Object.freeze([]) as never[];

function groupInto<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * The store as one run of `connectionId` sees it: every user of the tenant (any source, any
 * connection) with its primary and sorted aliases; this connection's groups (sorted member
 * anchors) and contacts (sorted addresses); group addresses of the tenant's other connections
 * (foreignAddresses); the tenant's archives. Users sorted by id; groups and contacts by anchor;
 * archives and foreign addresses by address. All queries read one snapshot (one transaction,
 * REPEATABLE READ on PostgreSQL; SQLite's read transaction is a snapshot in WAL mode).
 * Throws RosterError('internal') if a user has no primary address row (a broken invariant).
 */
export async function loadStoreState(
  db: Kysely<Database>,
  tenantId: string,
  connectionId: string,
  opts: LoadOptions = {},
): Promise<StoreState> {
  const rows = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute((trx) => readRows(trx, tenantId, connectionId, opts.cooperative === true && !isPostgres(trx)));
  return buildState(rows, connectionId);
}

export interface LoadOptions {
  /**
   * Let other work of the process run while loading (a sync loads the store while its directory read
   * waits on the server). PostgreSQL's queries are asynchronous anyway; SQLite's are synchronous, so
   * the two big ones (users, memberships) are stepped row by row, handing the event loop back every
   * YIELD_ROWS rows. Same rows, same snapshot (one read transaction).
   */
  cooperative?: boolean;
}

/** Rows between two turns of the event loop in a cooperative load on SQLite (~5 ms of stepping). */
const YIELD_ROWS = 2_000;

/** Every row of `q`, stepped as a stream with the event loop handed back every YIELD_ROWS rows. */
async function collectYielding<R>(q: { stream(): AsyncIterableIterator<R> }): Promise<R[]> {
  const out: R[] = [];
  for await (const r of q.stream()) {
    out.push(r);
    if (out.length % YIELD_ROWS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

/** What StoreUser needs: every user column but tenant_id and the row times (less to materialize at 100k). */
const USER_COLUMNS = [
  'id', 'kind', 'source', 'state', 'access_enabled', 'given_name', 'surname', 'display_name', 'home_phone', 'mobile', 'company',
  'department', 'notes', 'kerberos_name', 'ntlm_name', 'connection_id', 'anchor', 'dn', 'flag_reason', 'flagged_at', 'delete_after',
] as const;

function readRows(db: Kysely<Database>, tenantId: string, connectionId: string, yielding: boolean) {
  const all = <R>(q: { execute(): Promise<R[]>; stream(): AsyncIterableIterator<R> }): Promise<R[]> => (yielding ? collectYielding(q) : q.execute());
  return Promise.all([
    // Each user with its primary in one row (the partial unique index on primary rows serves the
    // join): 100,000 address rows fewer to materialize than reading every address of the tenant.
    all(db
      .selectFrom('users as u')
      .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'u.id').on('p.role', '=', 'primary'))
      .select(USER_COLUMNS.map((c) => `u.${c}` as const))
      .select('p.address as primary_address')
      .where('u.tenant_id', '=', tenantId)),
    db.selectFrom('addresses').select(['address', 'user_id']).where('tenant_id', '=', tenantId).where('role', '=', 'alias').execute(),
    db.selectFrom('groups').select(['id', 'anchor', 'dn', 'name']).where('connection_id', '=', connectionId).execute(),
    db
      .selectFrom('addresses as a')
      .innerJoin('groups as g', 'g.id', 'a.group_id')
      .select(['a.address', 'a.group_id', 'g.connection_id'])
      // Driven by the tenant's groups (few) rather than the tenant's addresses (many).
      .where('g.tenant_id', '=', tenantId)
      .execute(),
    all(db.selectFrom('memberships').select(['group_anchor', 'member_anchor']).where('connection_id', '=', connectionId)),
    db.selectFrom('contacts').select(['id', 'anchor', 'dn', 'name']).where('connection_id', '=', connectionId).execute(),
    db
      .selectFrom('contact_addresses as ca')
      .innerJoin('contacts as c', 'c.id', 'ca.contact_id')
      .select(['ca.contact_id', 'ca.address'])
      .where('c.connection_id', '=', connectionId)
      .execute(),
    db.selectFrom('archives').select(['id', 'address', 'user_id']).where('tenant_id', '=', tenantId).execute(),
  ]);
}

function buildState(rows: Awaited<ReturnType<typeof readRows>>, connectionId: string): StoreState {
  const [userRows, addressRows, groupRows, groupAddressRows, memberRows, contactRows, contactAddressRows, archiveRows] = rows;

  const aliases = new Map<string, Address[]>();
  for (const a of addressRows) if (a.user_id !== null) groupInto(aliases, a.user_id, a.address as Address);

  // Low-cardinality columns repeat on every row: one string per distinct value, not per user
  // (the per-row copies die young instead of filling the old generation; StoreState stays compact).
  const intern = interner();
  // Each row is released once mapped (its strings live on in the StoreUser): the ~100,000 row
  // objects and the StoreUsers are not all alive at once at the peak of the load.
  const users: StoreUser[] = [];
  for (let i = 0; i < userRows.length; i++) {
    const u = userRows[i]!;
    userRows[i] = undefined as never;
    const primary = u.primary_address as Address | null;
    if (primary === null) {
      throw new RosterError('internal', 'a user of the store has no primary address', { details: { userId: u.id } });
    }
    users.push({
      id: u.id,
      kind: intern(u.kind) as UserKind,
      source: intern(u.source) as UserSource,
      state: intern(u.state) as UserState,
      accessEnabled: u.access_enabled === 1,
      primary,
      aliases: aliases.get(u.id)?.sort(byString) ?? NONE,
      details: {
        givenName: u.given_name,
        surname: u.surname,
        displayName: u.display_name,
        homePhone: u.home_phone,
        mobile: u.mobile,
        company: intern(u.company),
        department: intern(u.department),
        notes: u.notes,
      },
      kerberosName: u.kerberos_name,
      ntlmName: u.ntlm_name,
      connectionId: intern(u.connection_id),
      anchor: u.anchor,
      dn: u.dn,
      flagReason: intern(u.flag_reason) as FlagReason | null,
      flaggedAt: u.flagged_at,
      deleteAfter: u.delete_after,
    });
  }
  users.sort((a, b) => byString(a.id, b.id));

  const groupAddress = new Map<string, Address>();
  const foreignAddresses: ForeignAddress[] = [];
  for (const a of groupAddressRows) {
    if (a.connection_id === connectionId) {
      if (a.group_id !== null) groupAddress.set(a.group_id, a.address as Address);
    } else {
      foreignAddresses.push({ address: a.address as Address, ownerKind: 'group', connectionId: a.connection_id });
    }
  }
  foreignAddresses.sort((a, b) => byString(a.address, b.address));

  const members = new Map<string, string[]>();
  for (const m of memberRows) groupInto(members, intern(m.group_anchor), m.member_anchor);
  const groups: StoreGroup[] = groupRows.map((g) => ({
    id: g.id,
    anchor: g.anchor,
    dn: g.dn,
    name: g.name,
    address: groupAddress.get(g.id) ?? null,
    memberAnchors: members.get(g.anchor)?.sort(byString) ?? NONE,
  }));
  groups.sort((a, b) => byString(a.anchor, b.anchor));

  const contactAddresses = new Map<string, Address[]>();
  for (const c of contactAddressRows) groupInto(contactAddresses, c.contact_id, c.address as Address);
  const contacts: StoreContact[] = contactRows.map((c) => ({
    id: c.id,
    anchor: c.anchor,
    dn: c.dn,
    name: c.name,
    addresses: contactAddresses.get(c.id)?.sort(byString) ?? NONE,
  }));
  contacts.sort((a, b) => byString(a.anchor, b.anchor));

  const archives: StoreArchive[] = archiveRows.map((a) => ({ id: a.id, address: a.address as Address, userId: a.user_id }));
  archives.sort((a, b) => byString(a.address, b.address));

  return { users, groups, contacts, foreignAddresses, archives };
}
