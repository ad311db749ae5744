/**
 * `roster message-rules add|list|show|delete|match` (R62): tenant message rules naming directory
 * users and groups (or plain addresses) as senders or recipients.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import {
  addMessageRule, deleteMessageRule, listMessageRules, matchMessageRules, RULE_ACTIONS, showMessageRule, type MessageRuleView, type TargetView,
} from '../../store/admin/message-rules.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { showAddress } from './admin-common.ts';

function targetText(t: TargetView): string {
  if (t.kind === 'user') return `user ${showAddress(t.user?.primary ?? t.label)}${t.user !== undefined && t.user.state !== 'active' ? ` (${t.user.state})` : ''}`;
  if (t.kind === 'address') return `address ${showAddress(t.address ?? t.label)}`;
  const g = t.group;
  if (g === undefined || !g.present) return `group ${t.label} (${g?.connection ?? '?'}:${g?.anchor ?? '?'}) — LEFT THE DIRECTORY, matches nobody`;
  return `group ${g.name ?? t.label} (${g.connection}:${g.anchor}) — ${g.members} members now, ${g.users} users`;
}

/** Human lines for one rule. */
export function ruleLines(r: MessageRuleView): string[] {
  return [
    `rule ${r.name}: ${r.action}`,
    `  senders:    ${r.senders.length === 0 ? 'any' : ''}`,
    ...r.senders.map((t) => `    ${targetText(t)}`),
    `  recipients: ${r.recipients.length === 0 ? 'any' : ''}`,
    ...r.recipients.map((t) => `    ${targetText(t)}`),
  ].map((l) => l.trimEnd());
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('message-rules').description('message rules naming directory users and groups (R62)');
  const withProvider = (c: Command) => c.option('--provider <name>', 'provider, when the tenant name is not unique');

  withProvider(cmd.command('add <tenant> <name>'))
    .description('create a rule; a target is an address, user:<address> or group:<name|connection:anchor|address>')
    .requiredOption('--action <action>', RULE_ACTIONS.join(' | '))
    .option('--sender <target>', 'a sender target (repeat for more; none = any sender)', collect)
    .option('--recipient <target>', 'a recipient target (repeat for more; none = any recipient)', collect)
    .action(async (tenantName: string, name: string, o: { action: string; sender?: string[]; recipient?: string[]; provider?: string }) => {
      const who = adminCtx(ctx);
      const r = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, tenantName, o.provider);
        return addMessageRule(s.db, { tenantId: t.id, name, action: o.action, senders: o.sender ?? [], recipients: o.recipient ?? [], actor: who.actor, now: who.now });
      });
      ctx.emit(r, [`message rule ${r.name} created`, ...ruleLines(r)]);
    });

  withProvider(cmd.command('list <tenant>')).description('rules by name, each target resolved now').action(async (tenantName: string, o: { provider?: string }) => {
    const rs = await withStore(ctx, async (s) => listMessageRules(s.db, (await getTenant(s.db, tenantName, o.provider)).id));
    ctx.emit(rs, rs.length === 0 ? 'no message rules' : rs.flatMap(ruleLines));
  });

  withProvider(cmd.command('show <tenant> <name>')).description('one rule, each target resolved now').action(async (tenantName: string, name: string, o: { provider?: string }) => {
    const r = await withStore(ctx, async (s) => showMessageRule(s.db, (await getTenant(s.db, tenantName, o.provider)).id, name));
    ctx.emit(r, ruleLines(r));
  });

  withProvider(cmd.command('delete <tenant> <name>')).description('delete a rule').action(async (tenantName: string, name: string, o: { provider?: string }) => {
    const r = await withStore(ctx, async (s) => deleteMessageRule(s.db, (await getTenant(s.db, tenantName, o.provider)).id, name, adminCtx(ctx)));
    ctx.emit(r, `message rule ${r.name} deleted`);
  });

  withProvider(cmd.command('match <tenant>'))
    .description('the rules that apply to a message from --sender to the --recipient(s), resolved against the directory now')
    .requiredOption('--sender <address>', 'the envelope sender')
    .requiredOption('--recipient <address>', 'a recipient (repeat for more)', collect)
    .action(async (tenantName: string, o: { sender: string; recipient: string[]; provider?: string }) => {
      const m = await withStore(ctx, async (s) =>
        matchMessageRules(s.db, { tenantId: (await getTenant(s.db, tenantName, o.provider)).id, sender: o.sender, recipients: o.recipient }));
      ctx.emit(m, m.rules.length === 0 ? `no rule applies to ${showAddress(m.sender)} → ${m.recipients.map(showAddress).join(', ')}` : m.rules.map((r) => {
        const parts = [r.senders.length > 0 ? `sender matches ${r.senders.join(', ')}` : 'any sender',
          r.recipients.length > 0 ? r.recipients.map((x) => `${showAddress(x.recipient)} matches ${x.targets.join(', ')}`).join('; ') : 'any recipient'];
        return `${r.name}: ${r.action} (${parts.join('; ')})`;
      }));
    });
}
