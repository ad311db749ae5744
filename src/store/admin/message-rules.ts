/**
 * R62: tenant message rules naming directory users and groups (or plain addresses) as senders or
 * recipients. A target is resolved when the rule is created — to the user holding the address, to
 * the group holding it (kept by connection + anchor), or to the address itself — and a group target
 * stands for the group's CURRENT transitive members at every evaluation: a member the directory adds
 * and a sync brings in matches the next evaluation, the rule untouched.
 *
 * Every change writes its audit row in the same transaction (R25).
 */
import type { Kysely } from 'kysely';
import { normalizeAddress } from '../../core/address.ts';
import { RosterError, isRosterError } from '../../core/errors.ts';
import type { UserState } from '../../core/model.ts';
import { expandFrom } from '../../lookup/expand-group.ts';
import { findGroup } from '../../lookup/find-group.ts';
import { containingGroups, objectsOfAddress } from '../../lookup/membership.ts';
import { newId } from '../ids.ts';
import type { Database, MessageRuleTable, MessageRuleTargetTable } from '../schema.ts';
import { type AdminContext, isUniqueViolation, tenantName, writeAudit } from './audit.ts';

export type RuleAction = MessageRuleTable['action'];
export const RULE_ACTIONS: readonly RuleAction[] = ['allow', 'block', 'quarantine', 'tag'];
export type TargetRole = MessageRuleTargetTable['role'];

export interface NewMessageRule {
  tenantId: string;
  name: string;
  action: string;
  /** Each: an address, `user:<address>` or `group:<name | connection:anchor | address | id>`. */
  senders: readonly string[];
  recipients: readonly string[];
  actor: string;
  now: string;
}

/** A target with its resolution now. */
export interface TargetView {
  role: TargetRole;
  kind: 'user' | 'group' | 'address';
  /** What the administrator named (the address, or the group's name at the time). */
  label: string;
  /** kind 'user': the user now (rename and primary change keep it). */
  user?: { id: string; primary: string | null; state: UserState };
  /** kind 'group': present = still in the directory cache; members = its transitive members now. */
  group?: { connection: string; anchor: string; present: boolean; name: string | null; members: number | null; users: number | null };
  /** kind 'address'. */
  address?: string;
}

export interface MessageRuleView {
  id: string;
  name: string;
  action: RuleAction;
  createdAt: string;
  updatedAt: string;
  senders: TargetView[];
  recipients: TargetView[];
}

type TargetRow = Omit<MessageRuleTargetTable, 'id' | 'rule_id' | 'role'>;

function badTarget(raw: string, why: string): RosterError {
  return new RosterError('bad_input', `rule target ${JSON.stringify(raw)}: ${why}`);
}

/** Resolves what the administrator typed to a stored target (see NewMessageRule). */
async function parseTarget(db: Kysely<Database>, tenantId: string, raw: string): Promise<TargetRow> {
  const s = raw.trim();
  const lower = s.toLowerCase();
  if (lower.startsWith('group:')) {
    const ref = s.slice(6).trim();
    try {
      const g = await findGroup(db, tenantId, ref);
      return { kind: 'group', user_id: null, connection_id: g.connectionId, anchor: g.anchor, address: null, label: g.name };
    } catch (e) {
      if (isRosterError(e) && (e.code === 'not_found' || e.code === 'bad_input')) throw badTarget(raw, e.code === 'not_found' ? `no group ${JSON.stringify(ref)} in this tenant` : e.message);
      throw e;
    }
  }
  const explicitUser = lower.startsWith('user:');
  const text = explicitUser ? s.slice(5).trim() : s;
  const address = normalizeAddress(text);
  if (address === null) throw badTarget(raw, 'not a valid mail address (use an address, user:<address> or group:<name>)');
  const held = await db
    .selectFrom('addresses as a')
    .leftJoin('groups as g', 'g.id', 'a.group_id')
    .select(['a.user_id', 'g.connection_id', 'g.anchor', 'g.name'])
    .where('a.address', '=', address)
    .where('a.tenant_id', '=', tenantId)
    .executeTakeFirst();
  if (held?.user_id != null) return { kind: 'user', user_id: held.user_id, connection_id: null, anchor: null, address: null, label: address };
  if (explicitUser) throw badTarget(raw, `no user of this tenant holds ${address}`);
  if (held?.connection_id != null && held.anchor != null) {
    return { kind: 'group', user_id: null, connection_id: held.connection_id, anchor: held.anchor, address: null, label: held.name ?? address };
  }
  return { kind: 'address', user_id: null, connection_id: null, anchor: null, address, label: address };
}

async function ruleRow(db: Kysely<Database>, tenantId: string, name: string) {
  const rule = await db.selectFrom('message_rules').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
  if (rule === undefined) throw new RosterError('not_found', `no message rule ${JSON.stringify(name)} in tenant ${await tenantName(db, tenantId)}`);
  return rule;
}

/** Current resolution of a rule's targets. */
async function viewOf(db: Kysely<Database>, rule: MessageRuleTable): Promise<MessageRuleView> {
  const targets = await db
    .selectFrom('message_rule_targets as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('addresses as a', (j) => j.onRef('a.user_id', '=', 't.user_id').on('a.role', '=', 'primary'))
    .leftJoin('groups as g', (j) => j.onRef('g.connection_id', '=', 't.connection_id').onRef('g.anchor', '=', 't.anchor'))
    .leftJoin('connections as c', 'c.id', 't.connection_id')
    .select(['t.role', 't.kind', 't.label', 't.user_id', 't.anchor', 't.address', 'u.state', 'a.address as primary', 'g.id as group_id', 'g.name as group_name',
      'g.anchor as group_anchor', 'g.dn as group_dn', 't.connection_id', 'c.name as connection'])
    .where('t.rule_id', '=', rule.id)
    .orderBy('t.id')
    .execute();
  const views: TargetView[] = [];
  for (const t of targets) {
    const v: TargetView = { role: t.role, kind: t.kind, label: t.label };
    if (t.kind === 'user' && t.user_id !== null) v.user = { id: t.user_id, primary: t.primary, state: (t.state ?? 'active') as UserState };
    if (t.kind === 'address' && t.address !== null) v.address = t.address;
    if (t.kind === 'group' && t.connection_id !== null && t.anchor !== null) {
      if (t.group_id === null) {
        v.group = { connection: t.connection ?? t.connection_id, anchor: t.anchor, present: false, name: null, members: null, users: null };
      } else {
        const x = await expandFrom(db, {
          id: t.group_id, name: t.group_name ?? '', anchor: t.anchor, dn: t.group_dn ?? '', connectionId: t.connection_id, connection: t.connection ?? '', address: null,
        }, 20);
        v.group = { connection: t.connection ?? '', anchor: t.anchor, present: true, name: t.group_name, members: x.members.length, users: x.counts.users + x.counts.publicFolders };
      }
    }
    views.push(v);
  }
  return {
    id: rule.id, name: rule.name, action: rule.action, createdAt: rule.created_at, updatedAt: rule.updated_at,
    senders: views.filter((v) => v.role === 'sender'), recipients: views.filter((v) => v.role === 'recipient'),
  };
}

/**
 * Creates a rule. 'bad_input': empty or over-long name, unknown action, no target at all, a target
 * that is no address / unknown user / unknown or ambiguous group. 'conflict': the name is taken.
 */
export async function addMessageRule(db: Kysely<Database>, input: NewMessageRule): Promise<MessageRuleView> {
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new RosterError('bad_input', 'a message rule needs a name of 1 to 200 characters');
  const action = input.action.trim().toLowerCase() as RuleAction;
  if (!RULE_ACTIONS.includes(action)) throw new RosterError('bad_input', `unknown action ${JSON.stringify(input.action)}: use ${RULE_ACTIONS.join(', ')}`);
  if (input.senders.length + input.recipients.length === 0) {
    throw new RosterError('bad_input', 'a message rule needs at least one sender or recipient (no senders = any sender; no recipients = any recipient)');
  }
  const ctx: AdminContext = { actor: input.actor, now: input.now };
  try {
    return await db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('message_rules').select('id').where('tenant_id', '=', input.tenantId).where('name', '=', name).executeTakeFirst();
      if (taken !== undefined) throw new RosterError('conflict', `a message rule named ${JSON.stringify(name)} already exists in tenant ${await tenantName(trx, input.tenantId)}`);
      const rows: (TargetRow & { role: TargetRole })[] = [];
      for (const s of input.senders) rows.push({ role: 'sender', ...(await parseTarget(trx, input.tenantId, s)) });
      for (const r of input.recipients) rows.push({ role: 'recipient', ...(await parseTarget(trx, input.tenantId, r)) });
      const id = newId();
      await trx.insertInto('message_rules').values({ id, tenant_id: input.tenantId, name, action, created_at: input.now, updated_at: input.now }).execute();
      await trx.insertInto('message_rule_targets').values(rows.map((r) => ({ id: newId(), rule_id: id, ...r }))).execute();
      const rule = await trx.selectFrom('message_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const view = await viewOf(trx, rule);
      await writeAudit(trx, ctx, [{ action: 'message_rule.add', tenantId: input.tenantId, objectKind: 'message_rule', objectId: id, before: null, after: view }]);
      return view;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new RosterError('conflict', `a message rule named ${JSON.stringify(name)} was created meanwhile`, { cause: e });
    throw e;
  }
}

/** The tenant's rules by name, each target with its current resolution. */
export async function listMessageRules(db: Kysely<Database>, tenantId: string): Promise<MessageRuleView[]> {
  const rules = await db.selectFrom('message_rules').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
  const out: MessageRuleView[] = [];
  for (const r of rules) out.push(await viewOf(db, r));
  return out;
}

export async function showMessageRule(db: Kysely<Database>, tenantId: string, name: string): Promise<MessageRuleView> {
  return viewOf(db, await ruleRow(db, tenantId, name));
}

/** Deletes a rule with its targets; audited. 'not_found' when there is none of that name. */
export async function deleteMessageRule(db: Kysely<Database>, tenantId: string, name: string, ctx: AdminContext): Promise<MessageRuleView> {
  return db.transaction().execute(async (trx) => {
    const before = await viewOf(trx, await ruleRow(trx, tenantId, name));
    await trx.deleteFrom('message_rules').where('id', '=', before.id).execute();
    await writeAudit(trx, ctx, [{ action: 'message_rule.delete', tenantId, objectKind: 'message_rule', objectId: before.id, before, after: null }]);
    return before;
  });
}

export interface MatchInput {
  tenantId: string;
  sender: string;
  recipients: readonly string[];
}

export interface RuleMatch {
  id: string;
  name: string;
  action: RuleAction;
  /** The sender targets the sender matched (empty when the rule names no sender: any sender). */
  senders: string[];
  /** Per matching recipient, the targets it matched (empty when the rule names no recipient). */
  recipients: { recipient: string; targets: string[] }[];
}

export interface MatchResult {
  sender: string;
  recipients: string[];
  rules: RuleMatch[];
}

interface Resolved {
  address: string;
  userId: string | null;
  groups: Set<string>;
}

function parseMatchAddress(raw: string, what: string): string {
  const a = normalizeAddress(raw);
  if (a === null) throw new RosterError('bad_input', `${what} ${JSON.stringify(raw)} is not a valid mail address`);
  return a;
}

/**
 * R62: the tenant's rules that apply to a message: a rule applies when its senders (if any) match
 * the sender AND its recipients (if any) match at least one recipient. A user target matches the
 * user's primary or any alias; a group target any CURRENT transitive member (users through their
 * addresses, nested groups, contacts) and the group's own address; an address target exactly.
 */
export async function matchMessageRules(db: Kysely<Database>, input: MatchInput): Promise<MatchResult> {
  const sender = parseMatchAddress(input.sender, 'sender');
  const recipients = [...new Set(input.recipients.map((r) => parseMatchAddress(r, 'recipient')))];
  if (recipients.length === 0) throw new RosterError('bad_input', 'give at least one recipient');
  const targets = await db
    .selectFrom('message_rule_targets as t')
    .innerJoin('message_rules as r', 'r.id', 't.rule_id')
    .select(['r.id as rule_id', 'r.name', 'r.action', 't.role', 't.kind', 't.user_id', 't.connection_id', 't.anchor', 't.address', 't.label'])
    .where('r.tenant_id', '=', input.tenantId)
    .orderBy('r.name')
    .orderBy('t.id')
    .execute();
  if (targets.length === 0) return { sender, recipients, rules: [] };
  const cache = new Map<string, Resolved>();
  const resolve = async (address: string): Promise<Resolved> => {
    let r = cache.get(address);
    if (r === undefined) {
      const objs = await objectsOfAddress(db, input.tenantId, address);
      r = { address, userId: objs.userId, groups: await containingGroups(db, objs.anchors) };
      cache.set(address, r);
    }
    return r;
  };
  const hit = (t: (typeof targets)[number], r: Resolved): boolean =>
    t.kind === 'user' ? t.user_id !== null && t.user_id === r.userId
      : t.kind === 'group' ? r.groups.has(`${t.connection_id}\n${t.anchor}`)
        : t.address === r.address;

  const byRule = new Map<string, typeof targets>();
  for (const t of targets) byRule.set(t.rule_id, [...(byRule.get(t.rule_id) ?? []), t]);
  const rules: RuleMatch[] = [];
  for (const [id, ts] of byRule) {
    const senderTargets = ts.filter((t) => t.role === 'sender');
    const recipientTargets = ts.filter((t) => t.role === 'recipient');
    const s = senderTargets.length === 0 ? null : await resolve(sender);
    const matchedSenders = s === null ? [] : senderTargets.filter((t) => hit(t, s)).map((t) => t.label);
    if (senderTargets.length > 0 && matchedSenders.length === 0) continue;
    const matchedRecipients: { recipient: string; targets: string[] }[] = [];
    if (recipientTargets.length > 0) {
      for (const rcpt of recipients) {
        const r = await resolve(rcpt);
        const labels = recipientTargets.filter((t) => hit(t, r)).map((t) => t.label);
        if (labels.length > 0) matchedRecipients.push({ recipient: rcpt, targets: labels });
      }
      if (matchedRecipients.length === 0) continue;
    }
    rules.push({ id, name: ts[0]!.name, action: ts[0]!.action, senders: matchedSenders, recipients: matchedRecipients });
  }
  return { sender, recipients, rules };
}
