/**
 * readDirectory: one complete read of a connection's directory (R1–R5, D3, D8). Connects to the
 * first usable server, streams users, public folders, groups (with range retrieval) and contacts
 * page by page, maps each entry at once to its compact form, reads excepted groups out of scope,
 * and only then returns a snapshot with complete: true. Any incomplete outcome throws
 * RosterError('read_incomplete') and yields nothing (R5).
 */
import type { Client } from 'ldapts';
import type { ConnectionSettings } from '../core/connection.ts';
import type { DirContact, DirectorySnapshot, DirUser, UserKind } from '../core/model.ts';
import { RosterError } from '../core/errors.ts';
import { connectDirectory, type ConnectOptions } from './connect.ts';
import { mapContact, mapUser } from './map-entry.ts';
import { contactAttributes, resolveProfile, userAttributes, userMappedAttributes, userSharedAttributes, type ResolvedProfile } from './profiles.ts';
import { streamPages, type SearchContext } from './paged-search.ts';
import { readExceptedGroups, readGroups } from './read-groups.ts';
import { discoverNetbiosDomain, namingContextOf, readRootDse, type RootDse } from './naming.ts';
import type { EntryView } from './values.ts';

export interface ReadProgress {
  phase: 'connect' | 'users' | 'groups' | 'contacts' | 'public_folders' | 'exceptions';
  entries: number;
}

export interface ReadResult {
  snapshot: DirectorySnapshot;
  /** 'ldaps://host:port' or 'ldap://host:port'. */
  serverUsed: string;
  netbiosDomain: string | null;
}

export interface ReadOptions {
  /** D8: anchors of excepted groups; those not among the groups read are read by anchor. */
  exceptedGroupAnchors?: string[];
  onProgress?: (p: ReadProgress) => void;
  signal?: AbortSignal;
  /** AD: read group members in explicit windows of this many values (range retrieval). */
  rangeStep?: number;
  /** R55: server health marks and a per-attempt callback for the run record. */
  connect?: ConnectOptions;
}

interface Reader {
  client: Client;
  p: ResolvedProfile;
  settings: ConnectionSettings;
  ctx: (what: string, phase: ReadProgress['phase']) => SearchContext;
}

/** Reads users (or public folders) into `out`. */
async function readUsers(r: Reader, filter: string, kind: UserKind, netbios: string | null, phase: ReadProgress['phase'],
  out: DirUser[]): Promise<void> {
  const ctx = r.ctx(phase === 'users' ? 'users' : 'public folders', phase);
  const spec = { base: r.settings.baseDn, scope: 'sub' as const, filter, attributes: userAttributes(r.p), decodeOnly: userMappedAttributes(r.p),
    shareValues: userSharedAttributes(r.p),
    binaryAttrs: r.p.binaryAttrs, pageSize: r.settings.pageSize };
  // Each entry is mapped as it arrives: a page holds DirUsers, never the raw entries.
  const map = (e: EntryView): DirUser => {
    const u = mapUser(e, r.p, kind, netbios);
    if (u === null) {
      throw new RosterError('read_incomplete', `entry ${e.dn} has no anchor (${r.p.fields.anchor ?? 'anchor'}) while reading ${ctx.what} ` +
        `from ${ctx.server}: is the attribute readable by the bind account?`);
    }
    return u;
  };
  for await (const page of streamPages(r.client, spec, ctx, map)) {
    for (let i = 0; i < page.length; i++) out.push(page[i]!);
  }
}

async function readContacts(r: Reader, filter: string): Promise<DirContact[]> {
  const ctx = r.ctx('contacts', 'contacts');
  const out: DirContact[] = [];
  const spec = { base: r.settings.baseDn, scope: 'sub' as const, filter, attributes: contactAttributes(r.p), binaryAttrs: r.p.binaryAttrs, pageSize: r.settings.pageSize };
  const map = (e: EntryView): DirContact => {
    const c = mapContact(e, r.p);
    if (c === null) throw new RosterError('read_incomplete', `contact ${e.dn} has no anchor while reading contacts from ${ctx.server}`);
    return c;
  };
  for await (const page of streamPages(r.client, spec, ctx, map)) {
    for (const c of page) out.push(c);
  }
  return out;
}

function checkOptions(settings: ConnectionSettings, opts: ReadOptions): void {
  if (!Number.isSafeInteger(settings.pageSize) || settings.pageSize < 1) throw new RosterError('bad_input', `page size must be a positive integer, got ${settings.pageSize}`);
  if (opts.rangeStep !== undefined && (!Number.isSafeInteger(opts.rangeStep) || opts.rangeStep < 1)) {
    throw new RosterError('bad_input', `range step must be a positive integer, got ${opts.rangeStep}`);
  }
}

/**
 * Reads the whole directory of one connection. Throws RosterError 'bad_input' (R43 plain bind,
 * invalid custom filter or override) before connecting, 'connect_failed' when no server could be
 * connected and bound, 'read_incomplete' on any incomplete outcome (R5). The bind password is
 * never part of any message.
 */
export async function readDirectory(settings: ConnectionSettings, bindPassword: string | null, opts: ReadOptions = {}): Promise<ReadResult> {
  checkOptions(settings, opts);
  const p = resolveProfile(settings);
  const { onProgress, signal } = opts;
  onProgress?.({ phase: 'connect', entries: 0 });
  const conn = await connectDirectory(settings, bindPassword, signal, opts.connect);
  // Aborting closes the socket: a pending page fails at once and is reported as aborted.
  const onAbort = (): void => void conn.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const references: string[] = [];
  const r: Reader = {
    client: conn.client, p, settings,
    ctx: (what, phase) => ({
      server: conn.server, what, signal, references, operationTimeoutMs: settings.operationTimeoutMs,
      onPage: (entries) => onProgress?.({ phase, entries }),
    }),
  };
  try {
    let root: RootDse | null = null;
    const rootDse = async (): Promise<RootDse> => (root ??= await readRootDse(conn.client, r.ctx('the rootDSE', 'connect')));
    let netbios = settings.netbiosDomain;
    if (p.name === 'active-directory' && netbios === null) {
      netbios = await discoverNetbiosDomain(conn.client, await rootDse(), settings.baseDn, r.ctx('the NetBIOS domain name', 'connect'));
    }
    onProgress?.({ phase: 'users', entries: 0 });
    const users: DirUser[] = [];
    await readUsers(r, p.userFilter, 'user', netbios, 'users', users);
    if (settings.options.syncPublicFolders && p.publicFolderFilter !== null) {
      onProgress?.({ phase: 'public_folders', entries: 0 });
      await readUsers(r, p.publicFolderFilter, 'public_folder', netbios, 'public_folders', users);
    }
    onProgress?.({ phase: 'groups', entries: 0 });
    // Member values mostly repeat users' DNs: they share the users' strings (dropped after the groups).
    let dnPool: Map<string, string> | undefined = new Map();
    for (const u of users) dnPool.set(u.dn, u.dn);
    const groups = await readGroups(conn.client, p, { base: settings.baseDn, filter: p.groupFilter, pageSize: settings.pageSize,
      rangeStep: opts.rangeStep, dnPool }, r.ctx('groups', 'groups'));
    dnPool = undefined;
    let contacts: DirContact[] = [];
    if (settings.options.readContacts && p.contactFilter !== null) {
      onProgress?.({ phase: 'contacts', entries: 0 });
      contacts = await readContacts(r, p.contactFilter);
    }
    const seen = new Set(groups.map((g) => g.anchor));
    const missing = [...new Set((opts.exceptedGroupAnchors ?? []).map((a) => a.trim().toLowerCase()))].filter((a) => a !== '' && !seen.has(a));
    let exceptedGroupsOutOfScope: DirectorySnapshot['exceptedGroupsOutOfScope'] = [];
    if (missing.length > 0) {
      onProgress?.({ phase: 'exceptions', entries: 0 });
      const nc = namingContextOf(settings.baseDn, await rootDse());
      exceptedGroupsOutOfScope = await readExceptedGroups(conn.client, p, missing, nc, settings.pageSize, opts.rangeStep, r.ctx('excepted groups', 'exceptions'));
    }
    if (signal?.aborted) throw new RosterError('read_incomplete', `read aborted at the end of the read from ${conn.server}`, { details: { aborted: true } });
    return {
      snapshot: { complete: true, users, groups, contacts, exceptedGroupsOutOfScope, references: [...new Set(references)] },
      serverUsed: conn.server,
      netbiosDomain: netbios,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await conn.close();
  }
}
