/**
 * `roster duplicates list <tenant> [--connection c] [--kind k]` (R63): the duplicate findings each
 * connection's last applied complete read left, as warning lines (humans) or the findings with
 * their objects and first/last seen (--json).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import { getConnection } from '../../store/admin/connections.ts';
import { listDuplicates, type FindingView } from '../../store/duplicate-views.ts';
import { describeFinding, DUPLICATE_KINDS } from '../../core/duplicates.ts';
import { withStore } from '../with-store.ts';

const CONSEQUENCE: Record<string, string> = {
  no_spoofing_protection: 'excluded from display-name spoofing protection',
  no_personal_features: 'no personal archive view, no personal allow/deny lists',
};

/** One warning line per finding: what is duplicated, by whom, since when, and what it costs the users involved. */
export function findingLines(fs: readonly FindingView[]): string[] {
  return fs.map((f) => {
    const users = f.users.length;
    const consequence = users === 0 ? '' : `; ${users} user${users === 1 ? '' : 's'} ${CONSEQUENCE[f.users[0]!.consequence] ?? f.users[0]!.consequence}`;
    return `warning: [${f.connection}] duplicate ${describeFinding(f)} (first seen ${f.firstSeenAt}, last seen ${f.lastSeenAt}${consequence})`;
  });
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('duplicates').description('duplicate names and addresses found by complete reads (R63)');
  cmd.command('list <tenant>')
    .description('the findings of each connection\'s last applied read')
    .option('--connection <name>', 'only this connection\'s findings')
    .option('--kind <kind>', `only one kind: ${DUPLICATE_KINDS.join(' | ')}`)
    .option('--provider <name>', 'provider, when the tenant name is not unique')
    .action(async (tenantName: string, o: { connection?: string; kind?: string; provider?: string }) => {
      const fs = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, tenantName, o.provider);
        const connectionId = o.connection === undefined ? undefined : (await getConnection(s.db, t, o.connection)).id;
        return listDuplicates(s.db, t.id, { ...(connectionId === undefined ? {} : { connectionId }), ...(o.kind === undefined ? {} : { kind: o.kind }) });
      });
      ctx.emit(fs, fs.length === 0 ? 'no duplicate findings' : findingLines(fs));
    });
}
