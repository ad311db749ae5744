/**
 * Directory connections of a tenant (BEHAVIOR §1, R1–R3, R20, R43, R50, R51). Settings are
 * validated before anything is saved; the bind password arrives already encrypted (R42) and
 * is never returned by these functions except through `loadBindSecret` for the sync shell.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { Database, ConnectionTable } from '../schema.ts';
import { holdThresholdOf, type ConnectionSettings, type MappedField } from '../../core/connection.ts';
import { RosterError } from '../../core/errors.ts';
import { normalizeDn } from '../../core/dn.ts';
import { validateFilter } from '../../directory/filter.ts';
import { recordAudit, checkName, type AdminCtx, type TenantInfo } from './tenants.ts';

export const MAPPED_FIELDS: readonly MappedField[] = [
  'primary', 'aliases', 'givenName', 'surname', 'displayName', 'homePhone', 'mobile', 'company', 'department',
  'notes', 'anchor', 'kerberosName', 'accountName', 'members', 'groupName', 'contactName',
];
export const SCHEDULES = ['30m', '6h', '12h', '24h', '3d', '7d'] as const;

export interface ConnectionInput {
  name: string;
  priority: number;
  enabled: boolean;
  /** R50: one of SCHEDULES or a 5-field cron expression. */
  schedule: string;
  settings: ConnectionSettings;
}

/** A connection as shown to admins: never the secret, only whether one is stored. */
export interface ConnectionInfo extends ConnectionInput {
  id: string;
  tenant: string;
  hasBindPassword: boolean;
  lastCompleteRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const bad = (m: string): never => {
  throw new RosterError('bad_input', m);
};
const ATTR_RE = /^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)$/;

/** R55: a DNS domain, a kind, a security and optionally a DNS server (IP, IP:port or [IPv6]:port). */
function checkSrv(s: ConnectionSettings): void {
  const v = s.srv;
  if (v === undefined || v === null) return;
  if (s.servers.length > 0) bad('a connection lists servers or discovers them by SRV (--srv-domain), not both (R55)');
  if (!/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/.test(v.domain)) bad(`invalid SRV domain "${v.domain}"`);
  if (v.kind !== 'ldap' && v.kind !== 'ad') bad(`invalid SRV kind "${String(v.kind)}" (ldap or ad)`);
  if (!['ldaps', 'starttls', 'plain'].includes(v.security)) bad(`invalid security "${v.security}" (ldaps, starttls or plain)`);
  if (v.dnsServer !== null) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(v.dnsServer) ?? /^([0-9a-fA-F:]+)$/.exec(v.dnsServer);
    const port = m?.[3] === undefined ? 53 : Number(m[3]);
    if (!m || isIP(m[1] ?? m[2] ?? '') === 0 || port < 1 || port > 65535) bad(`invalid DNS server "${v.dnsServer}": expected ip, ip:port or [ipv6]:port`);
  }
  if (v.security === 'plain' && s.bindDn !== '' && !s.allowPlainBind) {
    bad(`SRV-discovered servers of ${v.domain} use plain LDAP: a simple bind with a password there needs --allow-plain-bind (R43)`);
  }
}

function checkServers(s: ConnectionSettings): void {
  checkSrv(s);
  if (s.servers.length === 0 && (s.srv === undefined || s.srv === null)) bad('a connection needs at least one server, or an SRV domain (R55)');
  for (const sv of s.servers) {
    if (!/^[A-Za-z0-9._:[\]-]+$/.test(sv.host)) bad(`invalid server host "${sv.host}"`);
    if (!Number.isInteger(sv.port) || sv.port < 1 || sv.port > 65535) bad(`invalid port ${sv.port} for server ${sv.host}`);
    if (!['ldaps', 'starttls', 'plain'].includes(sv.security)) bad(`invalid security "${sv.security}" (ldaps, starttls or plain)`);
    // R43: a password over plain LDAP only on the admin's explicit word.
    if (sv.security === 'plain' && s.bindDn !== '' && !s.allowPlainBind) {
      bad(`server ${sv.host}:${sv.port} is plain LDAP: a simple bind with a password there needs --allow-plain-bind (R43)`);
    }
  }
}

function checkDn(label: string, dn: string, required: boolean): void {
  if (dn === '') {
    if (required) bad(`${label} is required`);
    return;
  }
  // A DN is a sequence of attr=value RDNs; a cheap structural check catches typos before a run does.
  const rdns = normalizeDn(dn).split(/(?<!\\),/);
  if (rdns.some((r) => !/^[a-z0-9][a-z0-9.-]*=./.test(r))) bad(`${label} "${dn}" is not a valid DN (expected attr=value,attr=value…)`);
}

/**
 * Active Directory (and Samba AD) also bind with a user principal name (`svc@EXAMPLE.COM`) or a
 * down-level logon name (`EXAMPLE\\svc`); OpenLDAP binds with a DN only.
 */
function checkBindName(s: ConnectionSettings): void {
  if (s.profile === 'active-directory') {
    if (/^[^\s@=,]+@[^\s@=,]+$/.test(s.bindDn)) return; // UPN
    if (/^[^\s\\=,]+\\[^\s\\=,]+$/.test(s.bindDn)) return; // DOMAIN\user
  }
  const hint = s.profile === 'active-directory' ? ', a UPN (svc@example.com) or DOMAIN\\user' : '';
  try {
    checkDn('bind DN', s.bindDn, false);
  } catch (e) {
    if (hint === '') throw e;
    bad(`bind DN "${s.bindDn}" is not a valid DN (attr=value,attr=value…)${hint}`);
  }
}

/**
 * Validates settings (R1, R2, R3, R20, R43, R57) and returns them with the custom filter
 * normalized. Throws 'bad_input' with the first problem; a bad filter carries the parser's message.
 */
export function validateConnectionSettings(s: ConnectionSettings): ConnectionSettings {
  if (s.profile !== 'active-directory' && s.profile !== 'openldap') bad(`unknown profile "${String(s.profile)}" (active-directory or openldap)`);
  checkServers(s);
  checkDn('base DN', s.baseDn, true);
  checkBindName(s);
  let customFilter = s.customFilter;
  if (customFilter !== null) {
    const v = validateFilter(customFilter);
    if (!v.ok) bad(`invalid filter at position ${v.position}: ${v.message}`);
    else customFilter = v.normalized;
  }
  if (s.deletionDelayDays !== null && ![7, 14, 30].includes(s.deletionDelayDays)) {
    bad(`deletion delay must be 7, 14, 30 or never (R20), not ${String(s.deletionDelayDays)}`);
  }
  for (const [field, attr] of Object.entries(s.attributeOverrides)) {
    if (!MAPPED_FIELDS.includes(field as MappedField)) bad(`unknown mapped field "${field}" (one of ${MAPPED_FIELDS.join(', ')})`);
    if (typeof attr !== 'string' || !ATTR_RE.test(attr)) bad(`invalid attribute name "${String(attr)}" for field ${field}`);
  }
  if (s.publicFolderClass !== null && !ATTR_RE.test(s.publicFolderClass)) bad(`invalid object class "${s.publicFolderClass}"`);
  if (!Number.isInteger(s.pageSize) || s.pageSize < 1 || s.pageSize > 100_000) bad('page size must be an integer from 1 to 100000');
  for (const [k, v] of [['connect timeout', s.connectTimeoutMs], ['operation timeout', s.operationTimeoutMs]] as const) {
    if (!Number.isInteger(v) || v < 100 || v > 3_600_000) bad(`${k} must be from 100 ms to 1 hour`);
  }
  // R41: stored in full, so that the row says which threshold its runs were guarded by.
  const holdThreshold = holdThresholdOf(s);
  for (const [k, v] of [['count', holdThreshold.count], ['absolute', holdThreshold.absolute]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) bad(`hold threshold ${k} must be a whole number ≥ 0 (R41), not ${String(v)}`);
  }
  const p = holdThreshold.percent;
  if (!Number.isInteger(p) || p < 0 || p > 100) bad(`hold threshold percent must be a whole number from 0 to 100 (R41), not ${String(p)}`);
  return { ...s, customFilter, holdThreshold: { count: holdThreshold.count, percent: p, absolute: holdThreshold.absolute } };
}

function checkInput(i: ConnectionInput): ConnectionInput {
  checkName('connection', i.name);
  if (!Number.isInteger(i.priority) || i.priority < 0 || i.priority > 1_000_000) bad('priority must be an integer from 0 to 1000000');
  const cron = /^(\S+\s+){4}\S+$/.test(i.schedule.trim());
  if (!(SCHEDULES as readonly string[]).includes(i.schedule) && !cron) bad(`schedule must be one of ${SCHEDULES.join(', ')} or a 5-field cron expression`);
  return { ...i, settings: validateConnectionSettings(i.settings) };
}

/** R51: the normalized server set + base DN; two connections of one tenant may not share it. */
export function scopeKey(s: ConnectionSettings): string {
  const servers = [...new Set(s.servers.map((v) => `${v.host.toLowerCase()}:${v.port}`))].sort();
  if (s.srv !== undefined && s.srv !== null) servers.push(`srv:${s.srv.kind}:${s.srv.domain.toLowerCase().replace(/\.$/, '')}`);
  return `${servers.join(',')}|${normalizeDn(s.baseDn)}`;
}

/** Rows stored before R41's per-connection threshold existed show (and keep, on edit) the defaults. */
function withHoldThreshold(s: ConnectionSettings): ConnectionSettings {
  return { ...s, holdThreshold: holdThresholdOf(s) };
}

function toInfo(r: ConnectionTable, tenant: TenantInfo): ConnectionInfo {
  return {
    id: r.id,
    tenant: tenant.name,
    name: r.name,
    priority: r.priority,
    enabled: r.enabled === 1,
    schedule: r.schedule,
    settings: withHoldThreshold(JSON.parse(r.settings) as ConnectionSettings),
    hasBindPassword: r.bind_secret !== null,
    lastCompleteRunAt: r.last_complete_run_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

async function checkUnique(db: Kysely<Database>, tenant: TenantInfo, i: ConnectionInput, key: string, selfId: string | null): Promise<void> {
  const others = await db.selectFrom('connections').select(['id', 'name', 'scope_key']).where('tenant_id', '=', tenant.id).execute();
  for (const o of others) {
    if (o.id === selfId) continue;
    if (o.name === i.name) throw new RosterError('conflict', `tenant "${tenant.name}" already has a connection named "${i.name}"`);
    if (o.scope_key === key) {
      throw new RosterError('conflict', `connection "${o.name}" of tenant "${tenant.name}" already reads these servers and base DN (R51)`);
    }
  }
}

/** Shape of the audit before/after: settings without secrets, plus whether a password is set. */
function auditView(i: ConnectionInput, hasPassword: boolean): unknown {
  return { ...i, hasBindPassword: hasPassword };
}

export async function addConnection(db: Kysely<Database>, tenant: TenantInfo, input: ConnectionInput, bindSecret: string | null, ctx: AdminCtx): Promise<ConnectionInfo> {
  const i = checkInput(input);
  const key = scopeKey(i.settings);
  return db.transaction().execute(async (tx) => {
    await checkUnique(tx, tenant, i, key, null);
    const row: ConnectionTable = {
      id: randomUUID(),
      tenant_id: tenant.id,
      name: i.name,
      priority: i.priority,
      enabled: i.enabled ? 1 : 0,
      profile: i.settings.profile,
      settings: JSON.stringify(i.settings),
      scope_key: key,
      bind_secret: bindSecret,
      schedule: i.schedule,
      last_complete_run_at: null,
      created_at: ctx.now,
      updated_at: ctx.now,
    };
    await tx.insertInto('connections').values(row).execute();
    await recordAudit(tx, ctx, [{ action: 'connection.add', tenantId: tenant.id, objectKind: 'connection', objectId: row.id, after: auditView(i, bindSecret !== null) }]);
    return toInfo(row, tenant);
  });
}

async function row(db: Kysely<Database>, tenant: TenantInfo, name: string): Promise<ConnectionTable> {
  const r = await db.selectFrom('connections').selectAll().where('tenant_id', '=', tenant.id).where('name', '=', name).executeTakeFirst();
  if (!r) throw new RosterError('not_found', `tenant "${tenant.name}" has no connection named "${name}"`);
  return r;
}

export async function getConnection(db: Kysely<Database>, tenant: TenantInfo, name: string): Promise<ConnectionInfo> {
  return toInfo(await row(db, tenant, name), tenant);
}

/** The encrypted bind password (R42) for the sync shell, or null. Never print it. */
export async function loadBindSecret(db: Kysely<Database>, connectionId: string): Promise<string | null> {
  const r = await db.selectFrom('connections').select('bind_secret').where('id', '=', connectionId).executeTakeFirst();
  return r?.bind_secret ?? null;
}

export async function listConnections(db: Kysely<Database>, tenant: TenantInfo): Promise<ConnectionInfo[]> {
  const rows = await db.selectFrom('connections').selectAll().where('tenant_id', '=', tenant.id).orderBy('priority').orderBy('name').execute();
  return rows.map((r) => toInfo(r, tenant));
}

/**
 * Replaces a connection's settings with `next` (validated like add). `bindSecret`: undefined
 * keeps the stored password, null clears it, a string replaces it (already encrypted).
 */
export async function editConnection(
  db: Kysely<Database>,
  tenant: TenantInfo,
  name: string,
  next: ConnectionInput,
  bindSecret: string | null | undefined,
  ctx: AdminCtx,
): Promise<ConnectionInfo> {
  const i = checkInput(next);
  const key = scopeKey(i.settings);
  return db.transaction().execute(async (tx) => {
    const cur = await row(tx, tenant, name);
    await checkUnique(tx, tenant, i, key, cur.id);
    const secret = bindSecret === undefined ? cur.bind_secret : bindSecret;
    const set = {
      name: i.name,
      priority: i.priority,
      enabled: i.enabled ? 1 : 0,
      profile: i.settings.profile,
      settings: JSON.stringify(i.settings),
      scope_key: key,
      bind_secret: secret,
      schedule: i.schedule,
      updated_at: ctx.now,
    };
    await tx.updateTable('connections').set(set).where('id', '=', cur.id).execute();
    const before = toInfo(cur, tenant);
    await recordAudit(tx, ctx, [
      {
        action: 'connection.edit',
        tenantId: tenant.id,
        objectKind: 'connection',
        objectId: cur.id,
        before: auditView(before, before.hasBindPassword),
        after: { ...(auditView(i, secret !== null) as object), passwordChanged: bindSecret !== undefined },
      },
    ]);
    return toInfo({ ...cur, ...set }, tenant);
  });
}

export interface ConnectionDeletion {
  connection: string;
  /** Users anchored to it: they stay, unanchored (R18 may flag them later). */
  users: number;
  groups: number;
  contacts: number;
  runs: number;
}

async function deletionCounts(db: Kysely<Database>, r: ConnectionTable): Promise<ConnectionDeletion> {
  const count = async (t: 'users' | 'groups' | 'contacts' | 'runs') =>
    Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<string | number>().as('n')).where('connection_id', '=', r.id).executeTakeFirstOrThrow()).n);
  return { connection: r.name, users: await count('users'), groups: await count('groups'), contacts: await count('contacts'), runs: await count('runs') };
}

export async function previewConnectionDeletion(db: Kysely<Database>, tenant: TenantInfo, name: string): Promise<ConnectionDeletion> {
  return deletionCounts(db, await row(db, tenant, name));
}

/**
 * Deletes a connection with its directory cache (R60: groups, memberships, contacts), its
 * exceptions, additions and runs. Its users stay with their anchor cleared of the connection.
 */
export async function deleteConnection(db: Kysely<Database>, tenant: TenantInfo, name: string, ctx: AdminCtx): Promise<ConnectionDeletion> {
  return db.transaction().execute(async (tx) => {
    const r = await row(tx, tenant, name);
    const counts = await deletionCounts(tx, r);
    await tx.updateTable('users').set({ connection_id: null, updated_at: ctx.now }).where('connection_id', '=', r.id).execute();
    await tx.deleteFrom('memberships').where('connection_id', '=', r.id).execute();
    await tx.deleteFrom('connections').where('id', '=', r.id).execute();
    await recordAudit(tx, ctx, [{ action: 'connection.delete', tenantId: tenant.id, objectKind: 'connection', objectId: r.id, before: auditView(toInfo(r, tenant), r.bind_secret !== null), after: counts }]);
    return counts;
  });
}
