/**
 * R63 duplicate findings in the store: computed after every APPLIED complete read of a connection,
 * inside the apply transaction (src/sync/reconcile.ts finalize, src/sync/review-run.ts approve),
 * replacing the connection's previous findings. Dry runs and held runs never come here.
 *
 * The work is SQL aggregates over the tenant (GROUP BY a normalized key HAVING count(*) > 1,
 * restricted to keys that involve the connection), then src/core/duplicates.ts turns the rows
 * into findings and consequences. The keys are those of nameKey / loginKey (src/core/duplicates.ts):
 * whitespace collapsed with replace() (no regular expressions on SQLite) and lower() folding ASCII
 * only on both dialects (PostgreSQL under COLLATE "C"), so SQLite and PostgreSQL find the same.
 *
 * Replacing: a finding that persists (same connection, kind, key) keeps its id and first_seen_at
 * and gets this run's id and last_seen_at; a finding that is gone is deleted with its consequences
 * (that is how they are lifted); consequences are rewritten for the connection's findings.
 * Reading them (lists, user views, rules, personalListsActive, spoofingProtectedUsers): duplicate-views.ts.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import {
  addressClaimsOf, buildFindings, r51ClashesOf,
  type AddressClaim, type PriorityClash, type DuplicateFinding, type DuplicateKind, type DuplicateObject, type DuplicateRow,
} from '../core/duplicates.ts';
import type { PlanOp, RunIssue, SkippedEntry } from '../core/model.ts';
import type { Database } from './schema.ts';
import { bulkInsert, chunkRows, isPostgres, updateFromValues, type BulkColumns } from './batch.ts';
import { newId } from './ids.ts';

/** lower() of ASCII letters only, the same on both dialects (SQLite's lower() is ASCII-only; PostgreSQL's is under "C"). */
function lowerAscii(db: Kysely<Database>, e: RawBuilder<unknown>): RawBuilder<string> {
  return isPostgres(db) ? sql<string>`lower(${e} collate "C")` : sql<string>`lower(${e})`;
}

// Whitespace runs collapse with the \x01\x02 trick: ' ' → \x01\x02, then \x02\x01 → '', then \x01\x02 → ' '.
const lit = (s: string): RawBuilder<unknown> => sql.lit(s);

/**
 * SQL of nameKey(col) (src/core/duplicates.ts). Most names hold no tab, CR, LF nor double space:
 * they take the short branch, lower(trim(col)), which is the same key for them (at 100,000 users
 * the replace() chain for every row cost about 100 ms more on each dialect).
 */
export function nameKeySql(db: Kysely<Database>, col: RawBuilder<unknown>): RawBuilder<string> {
  const spaced = sql`replace(replace(replace(${col}, ${lit('\t')}, ' '), ${lit('\n')}, ' '), ${lit('\r')}, ' ')`;
  const collapsed = sql`replace(replace(replace(${spaced}, ' ', ${lit('\u0001\u0002')}), ${lit('\u0002\u0001')}, ''), ${lit('\u0001\u0002')}, ' ')`;
  const odd = sql`${col} like '%  %' or ${col} like ${lit('%\t%')} or ${col} like ${lit('%\n%')} or ${col} like ${lit('%\r%')}`;
  return lowerAscii(db, sql`case when ${odd} then trim(${collapsed}) else trim(${col}) end`);
}

/** SQL of loginKey(col). */
export function loginKeySql(db: Kysely<Database>, col: RawBuilder<unknown>): RawBuilder<string> {
  return lowerAscii(db, sql`trim(${col})`);
}

interface Scope {
  tenantId: string;
  connectionId: string;
  connectionNames: Map<string, string>;
}

type UserRow = { id: string; kind: string; connection_id: string | null; anchor: string | null; dn: string | null; display_name: string | null; primary_address: string | null };
type NamedRow = { id: string; connection_id: string; anchor: string; dn: string; name: string; address: string | null };

function userObject(s: Scope, u: UserRow, address: string | null = u.primary_address): DuplicateObject {
  return {
    kind: u.kind === 'public_folder' ? 'public_folder' : 'user', id: u.id, connectionId: u.connection_id,
    connectionName: u.connection_id === null ? null : (s.connectionNames.get(u.connection_id) ?? null),
    anchor: u.anchor, dn: u.dn, name: u.display_name, address,
  };
}

function namedObject(s: Scope, kind: 'group' | 'contact', r: NamedRow): DuplicateObject {
  return {
    kind, id: r.id, connectionId: r.connection_id, connectionName: s.connectionNames.get(r.connection_id) ?? null,
    anchor: r.anchor, dn: r.dn, name: r.name, address: r.address,
  };
}

/** Keys of `keyExpr` over the tenant's rows of `table` seen more than once, at least once on a row of the connection. */
function duplicateKeys(table: 'users' | 'groups' | 'contacts', column: string, keyExpr: RawBuilder<string>, s: Scope): RawBuilder<unknown> {
  return sql`select k from (select ${keyExpr} as k, connection_id from ${sql.table(table)}
      where tenant_id = ${s.tenantId} and ${sql.ref(column)} is not null) d
    where k <> '' group by k having count(*) > 1 and max(case when connection_id = ${s.connectionId} then 1 else 0 end) = 1`;
}

/** The keys `query` (a duplicateKeys statement) returns. */
async function repeatedKeys(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<string[]> {
  return (await query.execute(db)).rows.map((r) => (r as { k: string }).k);
}

/** Bound keys per IN list, far below both dialects' parameter limits. */
const MAX_BOUND_KEYS = 5_000;

/**
 * The filter on repeated keys: the keys bound as an IN list (the common case: a few), or, for a
 * tenant with thousands of repeated keys, the key statement itself again as a subquery.
 */
function keyFilter(keys: readonly string[], query: RawBuilder<unknown>): RawBuilder<unknown> {
  return keys.length <= MAX_BOUND_KEYS ? sql.join(keys.map((k) => sql`${k}`)) : query;
}

const userKeyCol = (column: string): RawBuilder<unknown> => sql.ref(`u.${column}`);

/** display_name, kerberos_name, ntlm_name among the tenant's users. */
async function userRows(db: Kysely<Database>, s: Scope, kind: DuplicateKind, column: 'display_name' | 'kerberos_name' | 'ntlm_name'): Promise<DuplicateRow[]> {
  const key = (c: RawBuilder<unknown>) => (kind === 'display_name' ? nameKeySql(db, c) : loginKeySql(db, c));
  // Keys first (one scan of the tenant's users); their rows only when some key repeats — most runs find none.
  const keyQuery = duplicateKeys('users', column, key(sql.ref(column)), s);
  const keys = await repeatedKeys(db, keyQuery);
  if (keys.length === 0) return [];
  const rows = await sql<UserRow & { k: string; v: string }>`
    select t.*, p.address as primary_address from (
      select u.id, u.kind, u.connection_id, u.anchor, u.dn, u.display_name, ${userKeyCol(column)} as v, ${key(userKeyCol(column))} as k
      from users u where u.tenant_id = ${s.tenantId} and ${userKeyCol(column)} is not null) t
    left join addresses p on p.user_id = t.id and p.role = 'primary'
    where t.k in (${keyFilter(keys, keyQuery)})`.execute(db);
  return rows.rows.map((r) => ({ kind, key: r.k, value: r.v, object: userObject(s, r) }));
}

/** group_name among the tenant's groups, contact_name among its contacts. */
async function namedRows(db: Kysely<Database>, s: Scope, table: 'groups' | 'contacts'): Promise<DuplicateRow[]> {
  const kind: DuplicateKind = table === 'groups' ? 'group_name' : 'contact_name';
  const address = table === 'groups'
    ? sql`(select a.address from addresses a where a.group_id = t.id)`
    : sql`(select min(ca.address) from contact_addresses ca where ca.contact_id = t.id)`;
  const keyQuery = duplicateKeys(table, 'name', nameKeySql(db, sql.ref('name')), s);
  const keys = await repeatedKeys(db, keyQuery);
  if (keys.length === 0) return [];
  const rows = await sql<NamedRow & { k: string }>`
    select t.*, ${address} as address from (
      select x.id, x.connection_id, x.anchor, x.dn, x.name, ${nameKeySql(db, sql.ref('x.name'))} as k
      from ${sql.table(table)} x where x.tenant_id = ${s.tenantId}) t
    where t.k in (${keyFilter(keys, keyQuery)})`.execute(db);
  return rows.rows.map((r) => ({ kind, key: r.k, value: r.name, object: namedObject(s, table === 'groups' ? 'group' : 'contact', r) }));
}

/**
 * Addresses a contact shows that involve the connection: held by a user or group of the tenant
 * (the contact or the holder being the connection's), or shown by several contacts (one of them
 * the connection's).
 */
async function contactAddresses(db: Kysely<Database>, s: Scope): Promise<string[]> {
  const held = await sql<{ address: string }>`
    select distinct ca.address from contact_addresses ca
    join contacts c on c.id = ca.contact_id
    join addresses a on a.address = ca.address
    left join users u on u.id = a.user_id
    left join groups g on g.id = a.group_id
    where c.tenant_id = ${s.tenantId} and a.tenant_id = ${s.tenantId}
      and (c.connection_id = ${s.connectionId} or u.connection_id = ${s.connectionId} or g.connection_id = ${s.connectionId})`.execute(db);
  const shown = await sql<{ address: string }>`
    select ca.address from contact_addresses ca join contacts c on c.id = ca.contact_id
    where c.tenant_id = ${s.tenantId}
    group by ca.address having count(*) > 1 and max(case when c.connection_id = ${s.connectionId} then 1 else 0 end) = 1`.execute(db);
  return [...held.rows, ...shown.rows].map((r) => r.address);
}

/** Every object of the tenant involved with `addresses`: holders (users, groups) and contacts showing them. */
async function addressObjects(db: Kysely<Database>, s: Scope, addresses: readonly string[]): Promise<DuplicateRow[]> {
  const out: DuplicateRow[] = [];
  for (const part of chunkRows(addresses, 500)) {
    const holders = await db.selectFrom('addresses as a')
      .leftJoin('users as u', 'u.id', 'a.user_id')
      .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'u.id').on('p.role', '=', 'primary'))
      .leftJoin('groups as g', 'g.id', 'a.group_id')
      .select(['a.address', 'a.user_id', 'a.group_id', 'u.kind', 'u.connection_id as u_conn', 'u.anchor as u_anchor', 'u.dn as u_dn',
        'u.display_name', 'p.address as primary_address', 'g.connection_id as g_conn', 'g.anchor as g_anchor', 'g.dn as g_dn', 'g.name as g_name'])
      .where('a.tenant_id', '=', s.tenantId).where('a.address', 'in', part).execute();
    for (const h of holders) {
      const object = h.user_id !== null
        ? userObject(s, { id: h.user_id, kind: h.kind ?? 'user', connection_id: h.u_conn, anchor: h.u_anchor, dn: h.u_dn, display_name: h.display_name, primary_address: h.primary_address })
        : namedObject(s, 'group', { id: h.group_id ?? '', connection_id: h.g_conn ?? '', anchor: h.g_anchor ?? '', dn: h.g_dn ?? '', name: h.g_name ?? '', address: h.address });
      out.push({ kind: 'address', key: h.address, value: h.address, object });
    }
    const contacts = await db.selectFrom('contact_addresses as ca').innerJoin('contacts as c', 'c.id', 'ca.contact_id')
      .select(['ca.address', 'c.id', 'c.connection_id', 'c.anchor', 'c.dn', 'c.name'])
      .where('c.tenant_id', '=', s.tenantId).where('ca.address', 'in', part).execute();
    for (const c of contacts) out.push({ kind: 'address', key: c.address, value: c.address, object: namedObject(s, 'contact', c) });
  }
  return out;
}

/** The plan's R13 claims as objects: the connection's user or group with that anchor after the apply, else the bare entry. */
async function claimObjects(db: Kysely<Database>, s: Scope, claims: readonly AddressClaim[]): Promise<DuplicateRow[]> {
  const anchors = [...new Set(claims.map((c) => c.anchor))];
  const users = new Map<string, UserRow>();
  const groups = new Map<string, NamedRow>();
  for (const part of chunkRows(anchors, 500)) {
    const us = await db.selectFrom('users as u')
      .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'u.id').on('p.role', '=', 'primary'))
      .select(['u.id', 'u.kind', 'u.connection_id', 'u.anchor', 'u.dn', 'u.display_name', 'p.address as primary_address'])
      .where('u.connection_id', '=', s.connectionId).where('u.anchor', 'in', part).execute();
    for (const u of us) if (u.anchor !== null) users.set(u.anchor, u);
    const gs = await db.selectFrom('groups as g').leftJoin('addresses as a', 'a.group_id', 'g.id')
      .select(['g.id', 'g.connection_id', 'g.anchor', 'g.dn', 'g.name', 'a.address'])
      .where('g.connection_id', '=', s.connectionId).where('g.anchor', 'in', part).execute();
    for (const g of gs) groups.set(g.anchor, g);
  }
  return claims.map((c) => {
    const u = users.get(c.anchor);
    const g = groups.get(c.anchor);
    const object: DuplicateObject = u !== undefined ? userObject(s, u)
      : g !== undefined ? namedObject(s, 'group', g)
        : { kind: 'entry', id: null, connectionId: s.connectionId, connectionName: s.connectionNames.get(s.connectionId) ?? null, anchor: c.anchor, dn: c.dn, name: null, address: c.address };
    return { kind: 'address', key: c.address, value: c.address, object };
  });
}

/** R51 clashes as objects: the lower-priority user that yielded an alias, the other connection's entry a user was taken over from. */
async function clashObjects(db: Kysely<Database>, s: Scope, clashes: readonly PriorityClash[]): Promise<DuplicateRow[]> {
  const ids = [...new Set(clashes.flatMap((c) => (c.userId === null ? [] : [c.userId])))];
  const users = new Map<string, UserRow>();
  for (const part of chunkRows(ids, 500)) {
    const us = await db.selectFrom('users as u')
      .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'u.id').on('p.role', '=', 'primary'))
      .select(['u.id', 'u.kind', 'u.connection_id', 'u.anchor', 'u.dn', 'u.display_name', 'p.address as primary_address'])
      .where('u.tenant_id', '=', s.tenantId).where('u.id', 'in', part).execute();
    for (const u of us) users.set(u.id, u);
  }
  const out: DuplicateRow[] = [];
  for (const c of clashes) {
    const u = c.userId === null ? undefined : users.get(c.userId);
    if (u !== undefined) out.push({ kind: 'address', key: c.address, value: c.address, object: userObject(s, u) });
    if (c.entry !== null) {
      out.push({ kind: 'address', key: c.address, value: c.address, object: {
        kind: 'entry', id: null, connectionId: c.entry.connectionId, connectionName: s.connectionNames.get(c.entry.connectionId) ?? null,
        anchor: c.entry.anchor, dn: c.entry.dn, name: null, address: c.address,
      } });
    }
  }
  return out;
}

export interface RefreshInput {
  tenantId: string;
  connectionId: string;
  runId: string;
  /** Lifecycle clock (D5). */
  now: string;
  /** The applied plan's issues, skipped entries (R13 claims) and ops (R51 clashes). */
  plan: { issues: readonly RunIssue[]; skipped: readonly SkippedEntry[]; ops: readonly PlanOp[] };
}

/** Computes the connection's findings against the store as it is now (after the apply). */
export async function computeDuplicates(db: Kysely<Database>, i: Omit<RefreshInput, 'runId' | 'now'>): Promise<DuplicateFinding[]> {
  const conns = await db.selectFrom('connections').select(['id', 'name']).where('tenant_id', '=', i.tenantId).execute();
  const s: Scope = { tenantId: i.tenantId, connectionId: i.connectionId, connectionNames: new Map(conns.map((c) => [c.id, c.name])) };
  const rows: DuplicateRow[] = [];
  rows.push(...await userRows(db, s, 'display_name', 'display_name'));
  rows.push(...await namedRows(db, s, 'groups'));
  rows.push(...await namedRows(db, s, 'contacts'));
  rows.push(...await userRows(db, s, 'kerberos_name', 'kerberos_name'));
  rows.push(...await userRows(db, s, 'ntlm_name', 'ntlm_name'));
  const claims = addressClaimsOf(i.plan.issues, i.plan.skipped);
  rows.push(...await claimObjects(db, s, claims));
  const clashes = r51ClashesOf(i.plan);
  rows.push(...await clashObjects(db, s, clashes));
  const addresses = new Set([...await contactAddresses(db, s), ...claims.map((c) => c.address), ...clashes.map((c) => c.address)]);
  rows.push(...await addressObjects(db, s, [...addresses].sort()));
  return buildFindings(i.connectionId, rows);
}

const T = 'text' as const;
const FINDING_COLUMNS: BulkColumns = [['id', T], ['tenant_id', T], ['connection_id', T], ['run_id', T], ['kind', T], ['value', T], ['key', T],
  ['objects', T], ['first_seen_at', T], ['last_seen_at', T]];
const FINDING_USER_COLUMNS: BulkColumns = [['finding_id', T], ['user_id', T], ['consequence', T]];

export interface RefreshResult {
  findings: number;
  added: number;
  kept: number;
  removed: number;
  /** Users under a consequence of this connection's findings. */
  affectedUsers: number;
}

/**
 * R63: replaces the connection's findings and their consequences with those of the store as it is
 * now. Call inside the apply transaction of an applied complete read.
 */
export async function refreshDuplicates(db: Kysely<Database>, i: RefreshInput): Promise<RefreshResult> {
  const findings = await computeDuplicates(db, i);
  const existing = await db.selectFrom('duplicate_findings').select(['id', 'kind', 'key']).where('connection_id', '=', i.connectionId).execute();
  const idOf = new Map(existing.map((e) => [`${e.kind}\u0000${e.key}`, e.id]));
  const kept: string[][] = [];
  const added: string[][] = [];
  const users: string[][] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    const k = `${f.kind}\u0000${f.key}`;
    const objects = JSON.stringify(f.objects);
    let id = idOf.get(k);
    if (id !== undefined) kept.push([id, i.runId, i.now, f.value, objects]);
    else {
      id = newId();
      added.push([id, i.tenantId, i.connectionId, i.runId, f.kind, f.value, f.key, objects, i.now, i.now]);
    }
    seen.add(id);
    for (const u of f.users) users.push([id, u.userId, u.consequence]);
  }
  const gone = existing.filter((e) => !seen.has(e.id)).map((e) => e.id);
  // Consequences are rewritten whole: explicit deletes (not only the FK cascade), the same on both dialects.
  await db.deleteFrom('finding_users').where('finding_id', 'in', (eb) => eb.selectFrom('duplicate_findings').select('id').where('connection_id', '=', i.connectionId)).execute();
  for (const part of chunkRows(gone, 500)) await db.deleteFrom('duplicate_findings').where('id', 'in', part).execute();
  await updateFromValues(db, 'duplicate_findings', 'id', ['run_id', 'last_seen_at', 'value', 'objects'], kept);
  await bulkInsert(db, 'duplicate_findings', FINDING_COLUMNS, added);
  await bulkInsert(db, 'finding_users', FINDING_USER_COLUMNS, users);
  return { findings: findings.length, added: added.length, kept: kept.length, removed: gone.length, affectedUsers: new Set(users.map((u) => u[1])).size };
}
