/**
 * R63: reading duplicate findings and their consequences — the CLI list, `users show`, the rules'
 * refusal and suspension (D2), and the questions later features ask: may this user's personal lists
 * apply (personalListsActive), whose display names may spoofing protection use
 * (spoofingProtectedUsers). Findings are written by refreshDuplicates (duplicates.ts).
 */
import { describeFinding, DUPLICATE_KINDS, type Consequence, type DuplicateKind, type DuplicateObject } from '../core/duplicates.ts';
import { RosterError } from '../core/errors.ts';
import type { Executor } from './admin/audit.ts';
import { chunkRows } from './batch.ts';

export interface FindingView {
  id: string;
  kind: DuplicateKind;
  value: string;
  key: string;
  /** The connection whose complete read found it (R63: per connection). */
  connection: string;
  connectionId: string;
  runId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  objects: DuplicateObject[];
  /** The consequences in force: users affected, sorted by user id. */
  users: { userId: string; consequence: string }[];
}

export interface ListDuplicatesFilter {
  connectionId?: string;
  kind?: string;
}

/** The tenant's findings, by connection name, kind (DUPLICATE_KINDS order), key. `kind` must be one of DUPLICATE_KINDS ('bad_input'). */
export async function listDuplicates(db: Executor, tenantId: string, filter: ListDuplicatesFilter = {}): Promise<FindingView[]> {
  if (filter.kind !== undefined && !(DUPLICATE_KINDS as readonly string[]).includes(filter.kind)) {
    throw new RosterError('bad_input', `a duplicate kind is one of ${DUPLICATE_KINDS.join(', ')}, not ${JSON.stringify(filter.kind)}`);
  }
  let q = db.selectFrom('duplicate_findings as f').innerJoin('connections as c', 'c.id', 'f.connection_id')
    .selectAll('f').select('c.name as connection_name').where('f.tenant_id', '=', tenantId);
  const only = filter.connectionId;
  // A connection's list: what its own reads found, and the ADDRESS clashes other connections' reads
  // found that name one of its objects. A connection's read sees which of its addresses other entries
  // claim only through those entries' own reads (R51: once the higher-priority connection has taken an
  // address and runs again, the clash lives on in the lower-priority connection's finding, and must
  // still show for both). Name duplicates need no such help: each run compares the whole tenant.
  if (only !== undefined) {
    q = q.where((eb) => eb.or([
      eb('f.connection_id', '=', only),
      eb.and([eb('f.kind', '=', 'address'), eb('f.objects', 'like', `%"connectionId":${JSON.stringify(only)}%`)]),
    ]));
  }
  if (filter.kind !== undefined) q = q.where('f.kind', '=', filter.kind as DuplicateKind);
  let found = await q.execute();
  if (only !== undefined) {
    const own = new Set(found.filter((r) => r.connection_id === only).map((r) => `${r.kind}\u0000${r.key}`));
    found = found.filter((r) => r.connection_id === only ||
      (!own.has(`${r.kind}\u0000${r.key}`) && (JSON.parse(r.objects) as DuplicateObject[]).some((o) => o.connectionId === only)));
  }
  // Sorted here, by code units, not by the database's collation: the same order on both dialects.
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const rows = found.sort((a, b) => cmp(a.connection_name, b.connection_name) ||
    DUPLICATE_KINDS.indexOf(a.kind) - DUPLICATE_KINDS.indexOf(b.kind) || cmp(a.key, b.key));
  const users = new Map<string, { userId: string; consequence: string }[]>();
  for (const part of chunkRows(rows.map((r) => r.id), 500)) {
    const fu = await db.selectFrom('finding_users').selectAll().where('finding_id', 'in', part).orderBy('finding_id').orderBy('user_id').execute();
    for (const u of fu) users.set(u.finding_id, [...(users.get(u.finding_id) ?? []), { userId: u.user_id, consequence: u.consequence }]);
  }
  return rows.map((r) => ({
    id: r.id, kind: r.kind, value: r.value, key: r.key, connection: r.connection_name, connectionId: r.connection_id, runId: r.run_id,
    firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, objects: JSON.parse(r.objects) as DuplicateObject[], users: users.get(r.id) ?? [],
  }));
}

/** How many findings the connection's last applied read left. */
export async function countDuplicates(db: Executor, connectionId: string): Promise<number> {
  const r = await db.selectFrom('duplicate_findings').select((eb) => eb.fn.countAll().as('n')).where('connection_id', '=', connectionId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** A finding as it concerns one user. */
export interface UserFinding {
  id: string;
  kind: DuplicateKind;
  value: string;
  connection: string;
  consequence: Consequence;
  /** One line an administrator reads (describeFinding). */
  description: string;
}

/** The findings in force for each of `userIds` (users with none are absent), by kind (DUPLICATE_KINDS order), value, connection. */
export async function loadUserFindings(db: Executor, userIds: readonly string[]): Promise<Map<string, UserFinding[]>> {
  const out = new Map<string, UserFinding[]>();
  for (const part of chunkRows([...new Set(userIds)], 500)) {
    const rows = await db.selectFrom('finding_users as fu').innerJoin('duplicate_findings as f', 'f.id', 'fu.finding_id')
      .innerJoin('connections as c', 'c.id', 'f.connection_id')
      .select(['fu.user_id', 'fu.consequence', 'f.id', 'f.kind', 'f.value', 'f.objects', 'c.name'])
      .where('fu.user_id', 'in', part).execute();
    const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    rows.sort((a, b) => DUPLICATE_KINDS.indexOf(a.kind) - DUPLICATE_KINDS.indexOf(b.kind) || cmp(a.value, b.value) || cmp(a.name, b.name));
    for (const r of rows) {
      const f: UserFinding = {
        id: r.id, kind: r.kind, value: r.value, connection: r.name, consequence: r.consequence,
        description: describeFinding({ kind: r.kind, value: r.value, objects: JSON.parse(r.objects) as DuplicateObject[] }),
      };
      out.set(r.user_id, [...(out.get(r.user_id) ?? []), f]);
    }
  }
  return out;
}

/**
 * R63: false while a duplicate address, Kerberos or NTLM name involving the user lasts: its
 * personal allow/deny lists are suspended (not applied, no new rule can be added).
 */
export async function personalListsActive(db: Executor, userId: string): Promise<boolean> {
  const r = await db.selectFrom('finding_users').select('user_id').where('user_id', '=', userId)
    .where('consequence', '=', 'no_personal_features').executeTakeFirst();
  return r === undefined;
}

export interface SpoofingProtectedUser {
  userId: string;
  displayName: string;
}

/**
 * R63: the tenant's active users whose display names the display-name spoofing protection may
 * use: a non-empty display name that no finding of kind display_name involves. Sorted by user id.
 */
export async function spoofingProtectedUsers(db: Executor, tenantId: string): Promise<SpoofingProtectedUser[]> {
  const rows = await db.selectFrom('users as u').select(['u.id', 'u.display_name'])
    .where('u.tenant_id', '=', tenantId).where('u.state', '=', 'active').where('u.display_name', 'is not', null).where('u.display_name', '<>', '')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('finding_users as fu').select('fu.user_id')
      .whereRef('fu.user_id', '=', 'u.id').where('fu.consequence', '=', 'no_spoofing_protection'))))
    .orderBy('u.id').execute();
  return rows.map((r) => ({ userId: r.id, displayName: r.display_name ?? '' }));
}
