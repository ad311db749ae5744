/**
 * `roster connections add|edit|show|list|delete --tenant t` (R1–R3, R20, R42, R43, R51).
 * The bind password never travels as a flag value and is never printed (R42).
 */
import { cacheStatus, humanAge } from '../../store/admin/cache.ts';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { getTenant } from '../../store/admin/tenants.ts';
import {
  addConnection, editConnection, validateConnectionSettings, getConnection, listConnections, deleteConnection, previewConnectionDeletion, type ConnectionInfo,
} from '../../store/admin/connections.ts';
import { loadConfig } from '../../config/config.ts';
import { loadSecretKey } from '../../config/secret-key.ts';
import { encryptSecret } from '../../sync/secrets.ts';
import { RosterError } from '../../core/errors.ts';
import { withStore, adminCtx } from '../with-store.ts';
import { table, fields } from '../output.ts';
import { obtainPassword } from '../password.ts';
import { connectionOptions, mergeConnectionOptions, type ConnectionOpts } from '../connection-options.ts';
import { holdThresholdOf } from '../../core/connection.ts';
import { healthLines, registerConnectionTest } from './test-connection.ts';
import { loadServerHealth } from '../../sync/server-health-store.ts';
import type { HoldThreshold } from '../../core/guards.ts';

interface TenantOpt {
  tenant: string;
  provider?: string;
}

function serverText(c: ConnectionInfo): string {
  const srv = c.settings.srv;
  // R55: discovered at each run from SRV records.
  if (srv !== undefined && srv !== null) {
    return `SRV ${srv.kind === 'ad' ? '_ldap._tcp.dc._msdcs.' : '_ldap._tcp.'}${srv.domain} (${srv.security}${srv.dnsServer === null ? '' : `, DNS ${srv.dnsServer}`})`;
  }
  return c.settings.servers.map((s) => `${s.security === 'ldaps' ? 'ldaps' : 'ldap'}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}${s.security === 'starttls' ? ' (StartTLS)' : ''}`).join(', ');
}

/** R41 in words, as the rule says it. */
function holdText(h: HoldThreshold): string {
  return `hold runs flagging more than ${h.count} users and more than ${h.percent} % of synced users, or more than ${h.absolute}`;
}

function describe(c: ConnectionInfo): string[] {
  const s = c.settings;
  const overrides = Object.entries(s.attributeOverrides).map(([k, v]) => `${k}=${v}`).join(', ');
  return fields([
    ['connection', c.name],
    ['tenant', c.tenant],
    ['enabled', c.enabled],
    ['priority', c.priority],
    ['schedule', c.schedule],
    ['profile', s.profile],
    ['servers', serverText(c)],
    ['base DN', s.baseDn],
    ['bind DN', s.bindDn || null],
    ['bind password', c.hasBindPassword ? 'set (encrypted)' : 'none'],
    ['filter', s.customFilter],
    ['CA file', s.caFile ?? 'system store'],
    ['plain bind allowed', s.allowPlainBind],
    ['deletion delay', s.deletionDelayDays === null ? 'never' : `${s.deletionDelayDays} days`],
    ['options', `sync disabled users ${s.options.syncDisabledUsers ? 'on' : 'off'}, public folders ${s.options.syncPublicFolders ? 'on' : 'off'}, contacts ${s.options.readContacts ? 'on' : 'off'}`],
    ['overrides', overrides || null],
    ['hold threshold', holdText(holdThresholdOf(s))],
    ['last complete run', c.lastCompleteRunAt],
  ]);
}

async function encrypted(file: string | undefined): Promise<string> {
  const pw = await obtainPassword(file);
  return encryptSecret(pw, loadSecretKey(loadConfig(), true));
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('connections').description('directory connections of a tenant');
  registerConnectionTest(cmd, ctx);
  connectionOptions(
    cmd.command('add <name>').description('add a connection (settings validated before saving)').requiredOption('--tenant <name>', 'tenant').option('--provider <name>', 'provider of the tenant'),
  ).action(async (name: string, o: ConnectionOpts & TenantOpt) => {
    const c = await withStore(ctx, async (s) => {
      const t = await getTenant(s.db, o.tenant, o.provider);
      const input = mergeConnectionOptions(name, o, null);
      // Validate before asking for a password, so a typo does not cost a prompt.
      validateConnectionSettings(input.settings);
      const secret = input.settings.bindDn === '' && o.bindPasswordFile === undefined ? null : await encrypted(o.bindPasswordFile);
      return addConnection(s.db, t, input, secret, adminCtx(ctx));
    });
    ctx.emit(c, [`connection ${c.name} added to tenant ${c.tenant}`, ...describe(c)]);
  });
  connectionOptions(
    cmd
      .command('edit <name>')
      .description('change settings; options not given keep their values')
      .requiredOption('--tenant <name>', 'tenant')
      .option('--provider <name>', 'provider of the tenant')
      .option('--new-name <name>', 'rename the connection')
      .option('--set-password', 'replace the bind password (from ROSTER_BIND_PASSWORD or a prompt)')
      .option('--clear-password', 'remove the stored bind password'),
  ).action(async (name: string, o: ConnectionOpts & TenantOpt & { setPassword?: boolean; clearPassword?: boolean }) => {
    const c = await withStore(ctx, async (s) => {
      const t = await getTenant(s.db, o.tenant, o.provider);
      const cur = await getConnection(s.db, t, name);
      const next = mergeConnectionOptions(name, o, cur);
      let secret: string | null | undefined;
      if (o.clearPassword === true) secret = null;
      if (o.bindPasswordFile !== undefined || o.setPassword === true) {
        if (secret === null) throw new RosterError('bad_input', '--clear-password cannot be combined with a new password');
        secret = await encrypted(o.bindPasswordFile);
      }
      return editConnection(s.db, t, name, next, secret, adminCtx(ctx));
    });
    ctx.emit(c, [`connection ${c.name} updated`, ...describe(c)]);
  });
  cmd
    .command('show <name>')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider of the tenant')
    .action(async (name: string, o: TenantOpt) => {
      const now = ctx.now();
      const { c, health, cache } = await withStore(ctx, async (s) => {
        const tenant = await getTenant(s.db, o.tenant, o.provider);
        const conn = await getConnection(s.db, tenant, name);
        return { c: conn, health: await loadServerHealth(s.db, conn.id), cache: (await cacheStatus(s.db, tenant, now, conn.id))[0] ?? null };
      });
      // R60: the cache's age and state, so an operator sees at once that lookups serve old data.
      const cacheLine = cache === null ? [] : [`cache: ${cache.state}${cache.ageSeconds === null ? '' : `, last complete read ${cache.lastCompleteReadAt} (${humanAge(cache.ageSeconds)} ago)`}` +
        (cache.since !== null ? `; newer run ${cache.since.status}: ${cache.since.error ?? ''}` : '')];
      ctx.emit({ ...c, serverHealth: health, cache }, [...describe(c), ...healthLines(health, Date.now()), ...cacheLine]);
    });
  cmd
    .command('list')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider of the tenant')
    .action(async (o: TenantOpt) => {
      const cs = await withStore(ctx, async (s) => listConnections(s.db, await getTenant(s.db, o.tenant, o.provider)));
      ctx.emit(
        cs,
        table(['CONNECTION', 'PRIO', 'ENABLED', 'PROFILE', 'SERVERS', 'BASE DN', 'LAST COMPLETE RUN'], cs.map((c) => [c.name, c.priority, c.enabled ? 'yes' : 'no', c.settings.profile, serverText(c), c.settings.baseDn, c.lastCompleteRunAt])),
      );
    });
  cmd
    .command('delete <name>')
    .description('delete a connection with its directory cache, exceptions, additions and runs; its users stay (unanchored)')
    .requiredOption('--tenant <name>', 'tenant')
    .option('--provider <name>', 'provider of the tenant')
    .option('--yes', 'confirm the deletion')
    .action(async (name: string, o: TenantOpt & { yes?: boolean }) => {
      await withStore(ctx, async (s) => {
        const t = await getTenant(s.db, o.tenant, o.provider);
        if (o.yes !== true) {
          const p = await previewConnectionDeletion(s.db, t, name);
          ctx.emit({ ...p, deleted: false }, `deleting ${name} would drop ${p.groups} groups, ${p.contacts} contacts and ${p.runs} runs; ${p.users} users stay, unanchored`);
          throw new RosterError('bad_input', `nothing deleted: run again with --yes to delete connection ${name}`);
        }
        const r = await deleteConnection(s.db, t, name, adminCtx(ctx));
        ctx.emit({ ...r, deleted: true }, `connection ${name} deleted (${r.users} users kept, unanchored)`);
      });
    });
}
