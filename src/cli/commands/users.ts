/** `roster users list|show|add|edit|delete` (R14, R23, D2, D10, D11). Users are named by address. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import type { UserDetails } from '../../core/model.ts';
import { addUser, deleteUser, editUser, listUsers, showUser, type UserView } from '../../store/admin/users.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { fields, table } from '../output.ts';
import { connectionOptions, intOption, resolveScope, resolveTenant, showAddress, tenantOptions, type TenantOpts } from './admin-common.ts';

/** CLI option → detail field; the option names are the field names in kebab case. */
const DETAIL_OPTIONS: [string, keyof UserDetails][] = [
  ['given-name', 'givenName'],
  ['surname', 'surname'],
  ['display-name', 'displayName'],
  ['home-phone', 'homePhone'],
  ['mobile', 'mobile'],
  ['company', 'company'],
  ['department', 'department'],
  ['notes', 'notes'],
];

function detailOptions(cmd: Command): Command {
  for (const [opt] of DETAIL_OPTIONS) cmd.option(`--${opt} <value>`, `${opt.replace('-', ' ')} ('' clears it)`);
  return cmd;
}

function detailsFrom(o: Record<string, unknown>): Partial<UserDetails> {
  const out: Partial<UserDetails> = {};
  for (const [opt, field] of DETAIL_OPTIONS) {
    const key = opt.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = o[key];
    if (typeof v === 'string') out[field] = v;
  }
  return out;
}

/** Human lines for one user (addresses in Unicode). */
export function userLines(u: UserView): string[] {
  const d = u.details;
  return fields([
    ['address', showAddress(u.address)],
    ['aliases', u.aliases.map(showAddress).join(', ') || null],
    ['source', u.source === 'addition' ? 'ldap (addition)' : u.source],
    ['state', u.state],
    ['access', u.access ? 'enabled' : 'disabled'],
    ['connection', u.connection],
    ['anchor', u.anchor],
    ['dn', u.dn],
    ['flag reason', u.flagReason],
    ['flagged at', u.flaggedAt],
    ['delete after', u.deleteAfter],
    ['rules', u.ruleCount],
    ['archives', u.archives.map(showAddress).join(', ') || null],
    ['display name', d.displayName],
    ['given name', d.givenName],
    ['surname', d.surname],
    ['home phone', d.homePhone],
    ['mobile', d.mobile],
    ['company', d.company],
    ['department', d.department],
    ['notes', d.notes],
    // R63: consequences of duplicate findings.
    ['spoofing protection', u.spoofingProtection ? 'on' : 'off (duplicate display name, R63)'],
    ['personal lists', u.personalLists ? 'on' : 'suspended (duplicate address, Kerberos or NTLM name, R63)'],
    ['archive view', `off: ${u.personalArchiveViewReason}`],
    ...u.duplicates.map((f): [string, string] => ['duplicate', `${f.description} (connection ${f.connection})`]),
  ]);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('users').description("a tenant's users (named by primary address or alias)");

  connectionOptions(cmd.command('list').description('list users, ordered by address'), false)
    .option('--state <state>', 'active | pending_deletion | deactivated')
    .option('--source <source>', 'ldap | manual | smtp | addition')
    .option('--search <text>', 'part of an address or display name')
    .option('--limit <n>', 'page size (default 100)')
    .option('--offset <n>', 'skip this many')
    .action(async (o: TenantOpts & { connection?: string; state?: string; source?: string; search?: string; limit?: string; offset?: string }) => {
      const page = await withStore(ctx, async (s) => {
        const { tenant, connectionId } = await resolveScope(s.db, o);
        const limit = intOption('limit', o.limit);
        const offset = intOption('offset', o.offset);
        return listUsers(s.db, tenant.id, {
          ...(o.state !== undefined ? { state: o.state } : {}),
          ...(o.source !== undefined ? { source: o.source } : {}),
          ...(o.search !== undefined ? { search: o.search } : {}),
          ...(connectionId !== undefined ? { connectionId } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(offset !== undefined ? { offset } : {}),
        });
      });
      ctx.emit(page, [
        ...table(
          ['ADDRESS', 'SOURCE', 'STATE', 'ACCESS', 'CONNECTION', 'ALIASES', 'RULES', 'DELETE AFTER'],
          page.users.map((u) => [showAddress(u.address), u.source, u.state, u.access ? 'on' : 'off', u.connection, u.aliases.length, u.ruleCount, u.deleteAfter]),
        ),
        `${page.users.length} of ${page.total} users (offset ${page.offset})`,
      ]);
    });

  tenantOptions(cmd.command('show <address>').description('one user, found by primary address or alias')).action(
    async (address: string, o: TenantOpts) => {
      const u = await withStore(ctx, async (s) => showUser(s.db, (await resolveTenant(s.db, o)).id, address));
      ctx.emit(u, userLines(u));
    },
  );

  detailOptions(
    tenantOptions(cmd.command('add <address>').description('create a manual user (R14), or an SMTP-discovered one with --smtp (D2)')),
  )
    .option('--alias <address...>', 'aliases (in managed domains, free)')
    .option('--smtp', 'source smtp instead of manual')
    .action(async (address: string, o: TenantOpts & { alias?: string[]; smtp?: boolean } & Record<string, unknown>) => {
      const u = await withStore(ctx, async (s) =>
        addUser(s.db, (await resolveTenant(s.db, o)).id, { address, aliases: o.alias ?? [], details: detailsFrom(o) }, o.smtp === true ? 'smtp' : 'manual', adminCtx(ctx)),
      );
      ctx.emit(u, `${u.source} user ${showAddress(u.address)} created in tenant ${o.tenant}`);
    });

  detailOptions(tenantOptions(cmd.command('edit <address>').description("change a manual or SMTP user's details (directory users are read-only, D10)"))).action(
    async (address: string, o: TenantOpts & Record<string, unknown>) => {
      const u = await withStore(ctx, async (s) => editUser(s.db, (await resolveTenant(s.db, o)).id, address, detailsFrom(o), adminCtx(ctx)));
      ctx.emit(u, [`user ${showAddress(u.address)} updated`, ...userLines(u)]);
    },
  );

  tenantOptions(cmd.command('delete <address>').description('delete a user with its rules; archives stay, unlinked (R23)')).action(
    async (address: string, o: TenantOpts) => {
      const r = await withStore(ctx, async (s) => deleteUser(s.db, (await resolveTenant(s.db, o)).id, address, adminCtx(ctx)));
      const lines = [`user ${showAddress(r.address)} deleted with ${r.rulesDeleted} rules; ${r.archivesUnlinked.length} archives kept, unlinked`];
      if (r.source === 'ldap' || r.source === 'addition') lines.push('note: the directory is the truth: if it still has this user, the next sync run brings it back (R23)');
      ctx.emit(r, lines);
    },
  );
}
