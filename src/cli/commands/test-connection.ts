/**
 * `roster connections test <name> --tenant t [--json] [--filter f]` (R56): runs the checks of
 * src/directory/test-connection.ts and prints each step with ok/failed and its time; names the
 * first failing step with a hint. Exit 0 when every step passes; otherwise the report is printed
 * (stdout) and the command fails with 'connect_failed' (exit 6) for resolve/tcp/tls/bind, or
 * 'bad_input' (exit 2) for base DN, filter, empty scope and unmanaged domains (the settings are
 * wrong, not the network). `--filter` tries a custom filter before it is saved.
 * Also registers the per-server health view used by `connections show` (R55).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import { getConnection } from '../../store/admin/connections.ts';
import { loadConfig } from '../../config/config.ts';
import { loadSecretKey } from '../../config/secret-key.ts';
import { decryptSecret } from '../../sync/secrets.ts';
import { RosterError } from '../../core/errors.ts';
import { withStore } from '../with-store.ts';
import { table } from '../output.ts';
import type { ConnectionTestReport } from '../../directory/test-connection.ts';
import { isUnhealthy, type ServerHealth } from '../../directory/server-health.ts';

const NETWORK_STEPS = new Set(['resolve', 'tcp', 'tls', 'bind']);

export function reportLines(r: ConnectionTestReport): string[] {
  const lines = table(['STEP', 'RESULT', 'TIME', 'DETAIL'], r.steps.map((s) => [s.step, s.status === 'not_run' ? '-' : s.status, s.status === 'not_run' ? '' : `${s.ms} ms`, s.detail]));
  const others = r.servers.filter((s) => s.failedStep !== null && s.server !== r.server);
  for (const s of others) lines.push(`server ${s.server} failed at ${s.failedStep}: ${s.detail ?? ''}`);
  if (r.ok) lines.push(`all checks passed on ${r.server ?? '?'}`);
  else lines.push(`FAILED at step "${r.failedStep}"${r.server === null ? '' : ` on ${r.server}`}`, `hint: ${r.hint}`);
  return lines;
}

/** `SERVER  HEALTH  …` lines for `connections show` (R55), real clock. */
export function healthLines(health: ServerHealth[], nowMs: number): string[] {
  if (health.length === 0) return ['server health: no run has tried a server yet'];
  return ['server health:', ...table(['SERVER', 'HEALTH', 'UNTIL', 'LAST OK', 'LAST FAILURE', 'LAST ERROR'], health.map((h) => [
    h.server, isUnhealthy(h, nowMs) ? 'unhealthy' : 'healthy', isUnhealthy(h, nowMs) ? h.unhealthyUntil : null, h.lastSuccessAt, h.lastFailureAt, h.lastError,
  ]))];
}

export function registerConnectionTest(cmd: Command, ctx: CliContext): void {
  cmd
    .command('test <name>')
    .description('test a connection step by step: DNS, TCP, TLS, bind, base DN, filter, entries, managed domains (R56)')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider of the tenant')
    .option('--filter <rfc4515>', 'try this custom filter instead of the saved one ("" = none)')
    .action(async (name: string, o: { tenant: string; provider?: string; filter?: string }) => {
      const report = await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, o.tenant, o.provider);
        const c = await getConnection(s.db, t, name);
        const row = await s.db.selectFrom('connections').select('bind_secret').where('id', '=', c.id).executeTakeFirstOrThrow();
        const password = row.bind_secret === null ? null : decryptSecret(row.bind_secret, loadSecretKey(loadConfig(), false));
        const domains = await s.db.selectFrom('domains').select('name').where('tenant_id', '=', t.id).orderBy('name').execute();
        const settings = o.filter === undefined ? c.settings : { ...c.settings, customFilter: o.filter.trim() === '' ? null : o.filter };
        const { testConnection } = await import('../../directory/test-connection.ts');
        return testConnection(settings, password, { managedDomains: domains.map((d) => d.name.toLowerCase()) });
      });
      ctx.emit(report, reportLines(report));
      if (!report.ok) {
        throw new RosterError(NETWORK_STEPS.has(report.failedStep ?? '') ? 'connect_failed' : 'bad_input',
          `connection test failed at step "${report.failedStep}": ${report.hint}`, { details: { failedStep: report.failedStep } });
      }
    });
}
