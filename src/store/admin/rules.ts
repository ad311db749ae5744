/**
 * D2: a user's personal allow and deny lists, as plain records `(user, allow|deny, value)`.
 * Rules go with their user (R21, R23: deleted with it). Each change is audited (R25).
 */
import type { Kysely } from 'kysely';
import { RosterError } from '../../core/errors.ts';
import type { Database } from '../schema.ts';
import { type AdminContext, type Executor, writeAudit } from './audit.ts';
import { inTransaction, requireUser } from './users.ts';
import { loadUserFindings, type UserFinding } from '../duplicate-views.ts';

export type RuleKind = 'allow' | 'deny';

export interface RuleView {
  id: string;
  /** Primary address of the owner. */
  user: string;
  kind: RuleKind;
  value: string;
  createdAt: string;
}

/** A listed rule: suspended while a duplicate (R63) takes the user's personal features away. */
export interface ListedRule extends RuleView {
  suspended: boolean;
  /** Why, naming the duplicate(s); null when the rule is in force. */
  suspendedBecause: string | null;
}

/** R63: the findings that suspend the user's personal lists, as one sentence, or null. */
async function suspension(db: Executor, userId: string): Promise<string | null> {
  const fs: UserFinding[] = ((await loadUserFindings(db, [userId])).get(userId) ?? []).filter((f) => f.consequence === 'no_personal_features');
  if (fs.length === 0) return null;
  return `duplicate ${fs.map((f) => `${f.description} (found by connection ${f.connection})`).join('; ')} (R63)`;
}

/** Values longer than this are refused: a rule names an address or a domain (R44). */
const MAX_VALUE = 512;

function parseKind(kind: string): RuleKind {
  if (kind === 'allow' || kind === 'deny') return kind;
  throw new RosterError('bad_input', `a rule is allow or deny, not ${JSON.stringify(kind)}`);
}

/** Rule values compare case-insensitively: stored trimmed and lower-case. */
function parseValue(value: string): string {
  const v = value.trim().toLowerCase();
  if (v === '' || v.length > MAX_VALUE || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new RosterError('bad_input', `a rule value must be 1 to ${MAX_VALUE} printable characters`);
  }
  return v;
}

/** Adds a rule to the user holding `address`; the same (kind, value) twice is a 'conflict'. */
export async function addRule(
  db: Kysely<Database>,
  tenantId: string,
  address: string,
  input: { kind: string; value: string },
  ctx: AdminContext,
): Promise<RuleView> {
  const kind = parseKind(input.kind);
  const value = parseValue(input.value);
  return inTransaction(db, async (trx) => {
    const user = await requireUser(trx, tenantId, address);
    const suspended = await suspension(trx, user.id);
    if (suspended !== null) {
      throw new RosterError('conflict', `user ${user.address} gets no personal allow/deny rules while a duplicate lasts: ${suspended}. ` +
        'Fix the duplicate in the directory and sync again (roster duplicates list shows them all)');
    }
    const dup = await trx
      .selectFrom('rules')
      .select('id')
      .where('user_id', '=', user.id)
      .where('kind', '=', kind)
      .where('value', '=', value)
      .executeTakeFirst();
    if (dup !== undefined) throw new RosterError('conflict', `user ${user.address} already has the rule ${kind} ${value}`);
    const rule: RuleView = { id: crypto.randomUUID(), user: user.address, kind, value, createdAt: ctx.now };
    await trx
      .insertInto('rules')
      .values({ id: rule.id, user_id: user.id, kind, value, created_at: ctx.now })
      .execute();
    await writeAudit(trx, ctx, [{ action: 'rule.add', tenantId, objectKind: 'rule', objectId: rule.id, before: null, after: rule }]);
    return rule;
  });
}

/** The rules of the user holding `address`, ordered by kind then value; suspended while a duplicate lasts (R63). */
export async function listRules(db: Executor, tenantId: string, address: string): Promise<ListedRule[]> {
  const user = await requireUser(db, tenantId, address);
  const suspendedBecause = await suspension(db, user.id);
  const rows = await db
    .selectFrom('rules')
    .selectAll()
    .where('user_id', '=', user.id)
    .orderBy('kind')
    .orderBy('value')
    .execute();
  return rows.map((r) => ({ id: r.id, user: user.address, kind: r.kind as RuleKind, value: r.value, createdAt: r.created_at,
    suspended: suspendedBecause !== null, suspendedBecause }));
}

/** Deletes the user's rule `(kind, value)`; 'not_found' when it has none. */
export async function deleteRule(
  db: Kysely<Database>,
  tenantId: string,
  address: string,
  input: { kind: string; value: string },
  ctx: AdminContext,
): Promise<RuleView> {
  const kind = parseKind(input.kind);
  const value = parseValue(input.value);
  return inTransaction(db, async (trx) => {
    const user = await requireUser(trx, tenantId, address);
    const row = await trx
      .selectFrom('rules')
      .selectAll()
      .where('user_id', '=', user.id)
      .where('kind', '=', kind)
      .where('value', '=', value)
      .executeTakeFirst();
    if (row === undefined) throw new RosterError('not_found', `user ${user.address} has no rule ${kind} ${value}`);
    await trx.deleteFrom('rules').where('id', '=', row.id).execute();
    const rule: RuleView = { id: row.id, user: user.address, kind, value, createdAt: row.created_at };
    await writeAudit(trx, ctx, [{ action: 'rule.delete', tenantId, objectKind: 'rule', objectId: row.id, before: rule, after: null }]);
    return rule;
  });
}
