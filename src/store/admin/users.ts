/**
 * Users as the admin sees them (D11) and the admin's own user actions: list, show, add a manual
 * or SMTP user (R14, D2), edit a manual user's details (D10), delete (R23).
 *
 * Invariants: every address is stored normalized (punycode domain, lower case) and is unique
 * across the system (R13, enforced by the `addresses` UNIQUE index; checked first here for a
 * humane message); every mutation writes its audit row in the same transaction (R25); a user's
 * rules go with it and its archives stay, unlinked (R21, R23).
 */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Address, UserDetails, UserSource } from '../../core/model.ts';
import { DETAIL_FIELDS } from '../../core/model.ts';
import { domainOf, normalizeAddress } from '../../core/address.ts';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, isUniqueViolation, tenantName, writeAudit } from './audit.ts';
import { deleteUsersById, loadUserViews, type UserView } from './user-views.ts';
import { replaceSearchTerms } from '../search-terms.ts';

export type { ListUsersFilter, UserPage, UserView } from './user-views.ts';
export { deleteUsersById, listUsers, loadUserViews } from './user-views.ts';

/** Parses an admin-given address (R4) or throws 'bad_input'. */
export function parseAddress(raw: string): Address {
  const a = normalizeAddress(raw);
  if (a === null) throw new RosterError('bad_input', `not a valid mail address: ${JSON.stringify(raw)}`);
  return a;
}

/** Id of the tenant's user holding `address` as primary or alias, or null. */
export async function findUserId(db: Executor, tenantId: string, address: Address): Promise<string | null> {
  const row = await db
    .selectFrom('addresses')
    .select('user_id')
    .where('address', '=', address)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** The user holding `address` (primary or alias) in the tenant; 'not_found' names both. */
export async function requireUser(db: Executor, tenantId: string, rawAddress: string): Promise<UserView> {
  const address = parseAddress(rawAddress);
  const id = await findUserId(db, tenantId, address);
  const view = id === null ? undefined : (await loadUserViews(db, [id]))[0];
  if (view === undefined) {
    throw new RosterError('not_found', `no user with address ${address} in tenant ${await tenantName(db, tenantId)}`);
  }
  return view;
}

/** D11 view of one user found by its primary address or an alias. */
export async function showUser(db: Executor, tenantId: string, address: string): Promise<UserView> {
  return requireUser(db, tenantId, address);
}

/**
 * Checks that `address` may be given to a new user or addition of the tenant: its domain is
 * managed by the tenant ('bad_input') and no object holds it ('conflict' naming the holder).
 */
export async function assertAddressFree(db: Executor, tenantId: string, address: Address): Promise<void> {
  const domain = domainOf(address);
  const managed = await db
    .selectFrom('domains')
    .select('id')
    .where('name', '=', domain)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (managed === undefined) {
    throw new RosterError('bad_input', `domain ${domain} is not managed by tenant ${await tenantName(db, tenantId)}`);
  }
  const holder = await db
    .selectFrom('addresses as a')
    .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'a.user_id').on('p.role', '=', 'primary'))
    .leftJoin('groups as g', 'g.id', 'a.group_id')
    .select(['a.role', 'p.address as primary', 'g.name as groupName'])
    .where('a.address', '=', address)
    .executeTakeFirst();
  if (holder !== undefined) {
    const who =
      holder.role === 'group'
        ? `group ${holder.groupName ?? '?'}`
        : holder.role === 'primary'
          ? `user ${holder.primary ?? '?'}`
          : `user ${holder.primary ?? '?'} (as an alias)`;
    throw new RosterError('conflict', `address ${address} is already held by ${who}`, {
      details: { address, holder: who },
    });
  }
  const addition = await db.selectFrom('additions').select('id').where('address', '=', address).executeTakeFirst();
  if (addition !== undefined) throw new RosterError('conflict', `address ${address} is already on an additions list`);
}

export interface NewUser {
  address: string;
  aliases?: string[];
  details?: Partial<UserDetails>;
}

const DETAIL_COLUMNS = {
  givenName: 'given_name',
  surname: 'surname',
  displayName: 'display_name',
  homePhone: 'home_phone',
  mobile: 'mobile',
  company: 'company',
  department: 'department',
  notes: 'notes',
} as const satisfies Record<keyof UserDetails, keyof Database['users']>;

function detailColumns(details: Partial<UserDetails>): Partial<Record<(typeof DETAIL_COLUMNS)[keyof UserDetails], string | null>> {
  const out: Partial<Record<(typeof DETAIL_COLUMNS)[keyof UserDetails], string | null>> = {};
  for (const f of DETAIL_FIELDS) {
    const v = details[f];
    if (v === undefined) continue;
    const t = v === null ? null : v.trim();
    out[DETAIL_COLUMNS[f]] = t === '' ? null : t;
  }
  return out;
}

/**
 * Inserts a user with its address rows inside the caller's transaction, after checking every
 * address (assertAddressFree), links an unlinked archive of its primary address (as R10 does)
 * and writes the 'user.add' audit row. Returns the new user's view.
 */
export async function insertUser(
  trx: Executor,
  tenantId: string,
  input: NewUser,
  fields: { source: UserSource; connectionId: string | null },
  ctx: AdminContext,
): Promise<UserView> {
  const primary = parseAddress(input.address);
  const aliases = [...new Set((input.aliases ?? []).map(parseAddress))].filter((a) => a !== primary).sort();
  for (const a of [primary, ...aliases]) await assertAddressFree(trx, tenantId, a);
  const id = crypto.randomUUID();
  await trx
    .insertInto('users')
    .values({
      id,
      tenant_id: tenantId,
      kind: 'user',
      source: fields.source,
      state: 'active',
      access_enabled: 1,
      given_name: null,
      surname: null,
      display_name: null,
      home_phone: null,
      mobile: null,
      company: null,
      department: null,
      notes: null,
      ...detailColumns(input.details ?? {}),
      kerberos_name: null,
      ntlm_name: null,
      connection_id: fields.connectionId,
      anchor: null,
      dn: null,
      flag_reason: null,
      flagged_at: null,
      delete_after: null,
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .execute();
  const d = input.details ?? {};
  await replaceSearchTerms(trx, tenantId, 'user', [{ id, names: [d.displayName, d.givenName, d.surname] }], { fresh: true });
  await trx
    .insertInto('addresses')
    .values([
      { address: primary, tenant_id: tenantId, role: 'primary', user_id: id, group_id: null },
      ...aliases.map((a) => ({ address: a, tenant_id: tenantId, role: 'alias', user_id: id, group_id: null })),
    ])
    .execute();
  await trx
    .updateTable('archives')
    .set({ user_id: id })
    .where('tenant_id', '=', tenantId)
    .where('address', '=', primary)
    .where('user_id', 'is', null)
    .execute();
  const [view] = await loadUserViews(trx, [id]);
  if (view === undefined) throw new RosterError('internal', 'user vanished while being created');
  await writeAudit(trx, ctx, [{ action: 'user.add', tenantId, objectKind: 'user', objectId: id, before: null, after: view }]);
  return view;
}

/** Runs `fn` in a transaction and turns a lost uniqueness race into a 'conflict'. */
export async function inTransaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(fn);
  } catch (e) {
    if (isUniqueViolation(e)) throw new RosterError('conflict', 'an address or name was taken meanwhile: retry', { cause: e });
    throw e;
  }
}

/**
 * Creates a user that no directory owns: source 'manual' (R14) or 'smtp' (D2), active, access on,
 * no connection. Its addresses must be free and in the tenant's managed domains.
 */
export async function addUser(
  db: Kysely<Database>,
  tenantId: string,
  input: NewUser,
  source: 'manual' | 'smtp',
  ctx: AdminContext,
): Promise<UserView> {
  return inTransaction(db, (trx) => insertUser(trx, tenantId, input, { source, connectionId: null }, ctx));
}

/** Sources whose contact details come from a directory and are read-only to admins (D10). */
function detailsReadOnly(u: UserView): boolean {
  return u.source === 'ldap' || u.source === 'entra' || (u.source === 'addition' && u.anchor !== null);
}

/**
 * D10: edits contact details of a manual or SMTP user (or an addition no directory entry backs).
 * Directory fields of directory users are read-only: 'bad_input'. An empty string clears a field.
 */
export async function editUser(
  db: Kysely<Database>,
  tenantId: string,
  address: string,
  details: Partial<UserDetails>,
  ctx: AdminContext,
): Promise<UserView> {
  const unknown = Object.keys(details).filter((k) => !(DETAIL_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new RosterError('bad_input', `unknown user fields: ${unknown.join(', ')}`);
  return inTransaction(db, async (trx) => {
    const before = await requireUser(trx, tenantId, address);
    if (detailsReadOnly(before)) {
      throw new RosterError(
        'bad_input',
        `user ${before.address} comes from the directory (source ${before.source}): its details are read-only (D10)`,
      );
    }
    const set = detailColumns(details);
    if (Object.keys(set).length === 0) return before;
    await trx.updateTable('users').set({ ...set, updated_at: ctx.now }).where('id', '=', before.id).execute();
    const [after] = await loadUserViews(trx, [before.id]);
    if (after !== undefined && ('display_name' in set || 'given_name' in set || 'surname' in set)) {
      const n = after.details;
      await replaceSearchTerms(trx, tenantId, 'user', [{ id: before.id, names: [n.displayName, n.givenName, n.surname] }]);
    }
    await writeAudit(trx, ctx, [
      { action: 'user.edit', tenantId, objectKind: 'user', objectId: before.id, before, after: after ?? null },
    ]);
    return after ?? before;
  });
}

export interface DeletedUser {
  id: string;
  address: string;
  source: string;
  rulesDeleted: number;
  archivesUnlinked: string[];
}

/**
 * R23: deletes a user by hand, whatever its source, with its rules and alias rows; its archives
 * stay, unlinked; an addition of its address leaves the list. An 'ldap' user the directory still
 * has comes back at the next run (the directory is the truth).
 */
export async function deleteUser(
  db: Kysely<Database>,
  tenantId: string,
  address: string,
  ctx: AdminContext,
  action = 'user.delete',
): Promise<DeletedUser> {
  return inTransaction(db, async (trx) => {
    const before = await requireUser(trx, tenantId, address);
    await deleteUsersById(trx, [before.id]);
    await writeAudit(trx, ctx, [{ action, tenantId, objectKind: 'user', objectId: before.id, before, after: null }]);
    return {
      id: before.id,
      address: before.address,
      source: before.source,
      rulesDeleted: before.ruleCount,
      archivesUnlinked: before.archives,
    };
  });
}
