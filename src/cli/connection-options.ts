/**
 * Turns `roster connections add|edit` options into ConnectionInput. Validation proper happens
 * in the store (validateConnectionSettings); this only parses the shapes of flags.
 */
import type { Command } from 'commander';
import { DEFAULT_CONNECTION_SETTINGS, holdThresholdOf, type ConnectionSettings, type MappedField, type ProfileName, type Security, type ServerSpec, type SrvKind } from '../core/connection.ts';
import type { DeletionDelayDays } from '../core/model.ts';
import type { ConnectionInput } from '../store/admin/connections.ts';
import { RosterError } from '../core/errors.ts';

export interface ConnectionOpts {
  profile?: string;
  server?: string[];
  starttls?: boolean;
  baseDn?: string;
  bindDn?: string;
  bindPasswordFile?: string;
  filter?: string;
  caFile?: string;
  allowPlainBind?: boolean;
  deletionDelay?: string;
  priority?: string;
  schedule?: string;
  syncDisabledUsers?: boolean;
  syncPublicFolders?: boolean;
  readContacts?: boolean;
  map?: string[];
  publicFolderClass?: string;
  netbiosDomain?: string;
  pageSize?: string;
  connectTimeout?: string;
  operationTimeout?: string;
  srvDomain?: string;
  srvKind?: string;
  srvSecurity?: string;
  dnsServer?: string;
  holdCount?: string;
  holdPercent?: string;
  holdAbsolute?: string;
  enabled?: boolean;
  newName?: string;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Declares the options shared by add and edit. */
export function connectionOptions(c: Command): Command {
  return c
    .option('--profile <name>', 'schema profile: active-directory | openldap (R1)')
    .option('--server <url>', 'ldaps://host[:636] or ldap://host[:389]; repeat for failover (R55)', collect)
    .option('--starttls', 'use StartTLS on ldap:// servers')
    .option('--srv-domain <domain>', 'discover servers by DNS SRV records of this domain instead of --server (R55); "" stops')
    .option('--srv-kind <kind>', 'ldap (_ldap._tcp.<domain>) | ad (_ldap._tcp.dc._msdcs.<domain>); default by profile')
    .option('--srv-security <s>', 'ldaps | starttls | plain for discovered servers (default starttls)')
    .option('--dns-server <ip[:port]>', 'DNS server for SRV discovery (default: the system resolver); "" clears it')
    .option('--base-dn <dn>', 'search base')
    .option('--bind-dn <dn>', 'bind account DN')
    .option('--bind-password-file <file>', 'file holding the bind password (else ROSTER_BIND_PASSWORD, else a prompt)')
    .option('--filter <rfc4515>', 'custom filter AND-ed with the profile filter (R2); "" clears it')
    .option('--ca-file <pem>', 'CA certificate(s) that sign the servers (R43)')
    .option('--allow-plain-bind', 'allow a password bind over plain LDAP (R43)')
    .option('--no-allow-plain-bind', 'disallow it again')
    .option('--deletion-delay <days>', '7 | 14 | 30 | never (R20)')
    .option('--priority <n>', 'lower wins an address among connections (R51)')
    .option('--schedule <s>', '30m | 6h | 12h | 24h | 3d | 7d | cron (R50)')
    .option('--sync-disabled-users', 'sync disabled accounts as active users (R3)')
    .option('--no-sync-disabled-users', 'do not')
    .option('--sync-public-folders', 'sync public folders (R3)')
    .option('--no-sync-public-folders', 'do not')
    .option('--read-contacts', 'read contacts into the cache (R3)')
    .option('--no-read-contacts', 'do not')
    .option('--map <field=attr>', 'attribute override (R1), e.g. primary=mail; field= removes it', collect)
    .option('--public-folder-class <class>', 'object class of public folders (D3); "" clears it')
    .option('--netbios-domain <name>', 'NetBIOS domain for NTLM names (AD)')
    .option('--page-size <n>', 'paged search size')
    .option('--connect-timeout <ms>', 'connect timeout (R57)')
    .option('--operation-timeout <ms>', 'operation timeout (R57)')
    .option('--hold-count <n>', 'R41: hold a run flagging more than n users (default 10) AND more than --hold-percent')
    .option('--hold-percent <p>', 'R41: … more than p % of the synced users (0–100, default 5)')
    .option('--hold-absolute <n>', 'R41: hold a run flagging more than n users regardless (default 500)')
    .option('--enabled', 'enable the connection')
    .option('--no-enabled', 'disable the connection');
}

const bad = (m: string): never => {
  throw new RosterError('bad_input', m);
};

function int(label: string, v: string): number {
  if (!/^\d+$/.test(v.trim())) bad(`${label} must be a whole number, not "${v}"`);
  return Number(v);
}

/** `ldaps://h:p`, `ldap://h:p` (plain, or StartTLS with --starttls); IPv6 in brackets. */
export function parseServer(url: string, starttls: boolean): ServerSpec {
  const m = /^(ldaps?):\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+)(?::(\d+))?\/?$/.exec(url.trim());
  if (!m) return bad(`invalid server "${url}": expected ldaps://host[:port] or ldap://host[:port]`);
  const secure = m[1] === 'ldaps';
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, port: m[3] === undefined ? (secure ? 636 : 389) : int('port', m[3]), security: secure ? 'ldaps' : starttls ? 'starttls' : 'plain' };
}

export function parseDelay(v: string): DeletionDelayDays {
  if (v === 'never') return null;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) bad(`deletion delay must be 7, 14, 30 or never (R20), not "${v}"`);
  return n as DeletionDelayDays; // the store refuses anything but 7, 14 and 30
}

function applyMaps(cur: Partial<Record<MappedField, string>>, maps: string[]): Partial<Record<MappedField, string>> {
  const out = { ...cur };
  for (const m of maps) {
    const i = m.indexOf('=');
    if (i <= 0) bad(`--map needs field=attribute, not "${m}"`);
    const field = m.slice(0, i) as MappedField;
    const attr = m.slice(i + 1).trim();
    if (attr === '') delete out[field];
    else out[field] = attr;
  }
  return out;
}

/** R55: --srv-domain and friends; a domain replaces the listed servers. */
function mergeSrv(s: ConnectionSettings, o: ConnectionOpts): void {
  if (o.srvDomain === '') s.srv = null;
  else if (o.srvDomain !== undefined) {
    const cur = s.srv ?? { kind: s.profile === 'active-directory' ? 'ad' : 'ldap', security: 'starttls', dnsServer: null };
    s.srv = { ...cur, domain: o.srvDomain };
    s.servers = [];
  }
  const touched = o.srvKind !== undefined || o.srvSecurity !== undefined || o.dnsServer !== undefined;
  if (!touched) return;
  if (s.srv === undefined || s.srv === null) return bad('--srv-kind, --srv-security and --dns-server need --srv-domain (R55)');
  if (o.srvKind !== undefined) s.srv.kind = o.srvKind as SrvKind;
  if (o.srvSecurity !== undefined) s.srv.security = o.srvSecurity as Security;
  if (o.dnsServer !== undefined) s.srv.dnsServer = o.dnsServer === '' ? null : o.dnsServer;
}

/**
 * Merges options onto `base` (an existing connection for edit, or defaults for add).
 * Options not given keep base values.
 */
export function mergeConnectionOptions(name: string, o: ConnectionOpts, base: ConnectionInput | null): ConnectionInput {
  const b: ConnectionSettings = base?.settings ?? {
    ...DEFAULT_CONNECTION_SETTINGS,
    profile: (o.profile ?? bad('--profile is required (active-directory or openldap)')) as ProfileName,
    servers: [],
    bindDn: '',
    baseDn: o.baseDn ?? bad('--base-dn is required'),
  };
  const s: ConnectionSettings = {
    ...b,
    options: { ...b.options },
    attributeOverrides: applyMaps(b.attributeOverrides, o.map ?? []),
  };
  if (o.profile !== undefined) s.profile = o.profile as ProfileName;
  if (o.server !== undefined) {
    if (o.srvDomain !== undefined && o.srvDomain !== '') bad('give either --server or --srv-domain, not both (R55)');
    s.servers = o.server.map((u) => parseServer(u, o.starttls === true));
    s.srv = null;
  }
  else if (o.starttls !== undefined) s.servers = s.servers.map((v) => (v.security === 'plain' ? { ...v, security: 'starttls' } : v));
  mergeSrv(s, o);
  if (o.baseDn !== undefined) s.baseDn = o.baseDn;
  if (o.bindDn !== undefined) s.bindDn = o.bindDn;
  if (o.filter !== undefined) s.customFilter = o.filter.trim() === '' ? null : o.filter;
  if (o.caFile !== undefined) s.caFile = o.caFile === '' ? null : o.caFile;
  if (o.allowPlainBind !== undefined) s.allowPlainBind = o.allowPlainBind;
  if (o.deletionDelay !== undefined) s.deletionDelayDays = parseDelay(o.deletionDelay);
  if (o.syncDisabledUsers !== undefined) s.options.syncDisabledUsers = o.syncDisabledUsers;
  if (o.syncPublicFolders !== undefined) s.options.syncPublicFolders = o.syncPublicFolders;
  if (o.readContacts !== undefined) s.options.readContacts = o.readContacts;
  if (o.publicFolderClass !== undefined) s.publicFolderClass = o.publicFolderClass === '' ? null : o.publicFolderClass;
  if (o.netbiosDomain !== undefined) s.netbiosDomain = o.netbiosDomain === '' ? null : o.netbiosDomain;
  if (o.pageSize !== undefined) s.pageSize = int('page size', o.pageSize);
  if (o.connectTimeout !== undefined) s.connectTimeoutMs = int('connect timeout', o.connectTimeout);
  if (o.operationTimeout !== undefined) s.operationTimeoutMs = int('operation timeout', o.operationTimeout);
  if (o.holdCount !== undefined || o.holdPercent !== undefined || o.holdAbsolute !== undefined) {
    const h = holdThresholdOf(b);
    s.holdThreshold = {
      count: o.holdCount === undefined ? h.count : int('--hold-count', o.holdCount),
      percent: o.holdPercent === undefined ? h.percent : int('--hold-percent', o.holdPercent),
      absolute: o.holdAbsolute === undefined ? h.absolute : int('--hold-absolute', o.holdAbsolute),
    };
  }
  return {
    name: o.newName ?? name,
    priority: o.priority !== undefined ? int('priority', o.priority) : (base?.priority ?? 100),
    enabled: o.enabled ?? base?.enabled ?? true,
    schedule: o.schedule ?? base?.schedule ?? '30m',
    settings: s,
  };
}
