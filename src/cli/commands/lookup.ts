/**
 * `roster lookup autocomplete|resolve|expand` (R61): thin commands over src/lookup. Addresses are
 * shown to humans with Unicode domains; --json keeps the stored (punycode) form.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { RosterError } from '../../core/errors.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import { autocomplete, LOOKUP_KINDS, type LookupKind } from '../../lookup/autocomplete.ts';
import { expandGroup, type GroupExpansion } from '../../lookup/expand-group.ts';
import { resolveAddress, type ResolvedAddress } from '../../lookup/resolve-address.ts';
import { withStore } from '../with-store.ts';
import { fields, table } from '../output.ts';
import { intOption, showAddress } from './admin-common.ts';

function parseKinds(raw: string | undefined): LookupKind[] | undefined {
  if (raw === undefined) return undefined;
  const kinds = raw.split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const k of kinds) {
    if (!(LOOKUP_KINDS as readonly string[]).includes(k)) throw new RosterError('bad_input', `unknown --kind ${JSON.stringify(k)}: use ${LOOKUP_KINDS.join(', ')}`);
  }
  return kinds as LookupKind[];
}

/** Human lines for a resolved address. */
export function resolveLines(r: ResolvedAddress): string[] {
  const h = r.holder;
  const conn = (c: { name: string; priority: number } | null) => (c === null ? null : `${c.name} (priority ${c.priority})`);
  const lines = fields([
    ['address', showAddress(r.address)],
    ['tenant', r.tenant?.name ?? '(domain not managed)'],
    ['verdict', r.verdict.explanation],
    ['held by', h === null ? '(nothing)' : h.kind === 'group' ? `group ${h.name}` : `${h.kind === 'public_folder' ? 'public folder' : 'user'} ${showAddress(h.primary)} (${h.role})`],
    ...(h !== null && h.kind !== 'group'
      ? ([['state', h.state], ['access', h.access ? 'enabled' : 'disabled'], ['source', h.source], ['name', h.name], ['connection', conn(h.connection)],
          ['flag reason', h.flagReason], ['delete after', h.deleteAfter]] as [string, string | null][])
      : []),
    ...(h !== null && h.kind === 'group' ? ([['anchor', h.anchor], ['connection', conn(h.connection)]] as [string, string | null][]) : []),
  ]);
  if (r.contacts.length > 0) {
    lines.push(`shown by ${r.contacts.length} contact${r.contacts.length === 1 ? '' : 's'}:`);
    for (const c of r.contacts) lines.push(`  ${c.name} (tenant ${c.tenant}, connection ${c.connection.name}, anchor ${c.anchor})`);
  }
  return lines;
}

/** Human lines for an expansion. */
export function expandLines(x: GroupExpansion): string[] {
  const c = x.counts;
  const lines = [
    `group ${x.group.name} (${x.group.connection}:${x.group.anchor}): ${c.users} users, ${c.publicFolders} public folders, ${c.groups} groups, ${c.contacts} contacts, ${c.unresolved} unresolved`,
    ...table(['DEPTH', 'KIND', 'NAME', 'ADDRESS', 'STATE', 'VIA'], x.members.map((m) => [m.depth, m.kind, m.name, showAddress(m.address), m.state, m.via.name])),
  ];
  for (const u of x.unresolved) lines.push(`unresolved: anchor ${u.anchor} (depth ${u.depth}, via ${u.via.name}): no synced user, group or contact has it`);
  for (const e of x.cycles) lines.push(`cycle: ${e.from.name} → ${e.to.name}`);
  if (x.truncated) lines.push(`truncated at depth ${x.maxDepth}: not expanded: ${x.notExpanded.map((g) => g.name).join(', ')} (raise --max-depth)`);
  return lines;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('lookup').description('autocomplete, address resolution and group expansion (R61)');

  cmd.command('autocomplete <tenant> <query>')
    .description("users, public folders, groups and contacts whose name words or addresses start with the query")
    .option('--limit <n>', 'results, 1..100 (default 10)')
    .option('--kind <kinds>', `comma-separated: ${LOOKUP_KINDS.join(',')} (default all)`)
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (tenantName: string, query: string, o: { limit?: string; kind?: string; provider?: string }) => {
      const limit = intOption('limit', o.limit);
      const kinds = parseKinds(o.kind);
      const r = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, tenantName, o.provider);
        return autocomplete(s.db, { tenantId: t.id, query, ...(limit === undefined ? {} : { limit }), ...(kinds === undefined ? {} : { kinds }) });
      });
      ctx.emit(r, table(['KIND', 'NAME', 'ADDRESS', 'STATE', 'CONNECTION', 'MATCH'],
        r.results.map((h) => [h.kind, h.name, showAddress(h.address), h.state, h.connection, `${h.match} (${h.match.endsWith('address') ? showAddress(h.matched) : h.matched})`]), 'no match'));
    });

  cmd.command('resolve <address>')
    .description('what holds an address, the contacts that show it, and whether mail to it is accepted (recipient validation)')
    .option('--tenant <name>', "only this tenant's objects")
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (address: string, o: { tenant?: string; provider?: string }) => {
      const r = await withStore(ctx, async (s) => {
        const tenantId = o.tenant === undefined ? undefined : (await getTenant(s.db, o.tenant, o.provider)).id;
        return resolveAddress(s.db, { address, ...(tenantId === undefined ? {} : { tenantId }) });
      });
      ctx.emit(r, resolveLines(r));
    });

  cmd.command('expand <tenant> <group>')
    .description('transitive members of a group (name, address, id or <connection>:<anchor>), cycle-safe')
    .option('--max-depth <n>', 'levels to expand, 1..1000 (default 20)')
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (tenantName: string, group: string, o: { maxDepth?: string; provider?: string }) => {
      const maxDepth = intOption('max-depth', o.maxDepth);
      const x = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, tenantName, o.provider);
        return expandGroup(s.db, { tenantId: t.id, group, ...(maxDepth === undefined ? {} : { maxDepth }) });
      });
      ctx.emit(x, expandLines(x));
    });
}
