/**
 * "Test connection" (R56): checks, in order, name resolution, TCP reach, TLS handshake and
 * certificate, bind, search base, filter, entries in scope and entries with an address in a
 * managed domain; stops at the first failing step and names it with a hint (firewall,
 * credentials, base DN, unmanaged domain…). Every step has a time and a deadline (R57).
 *
 * Servers are tried in order like a run (R55): the steps reported are those of the first server
 * that passes the connection steps (resolve → bind), or of the first server when none does;
 * `servers` lists each server tried and the step it failed at. Never prints the password.
 */
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import type { ConnectionSettings, ServerSpec } from '../core/connection.ts';
import { RosterError } from '../core/errors.ts';
import { domainOf } from '../core/address.ts';
import { checkPlainBind, serverUrl } from './connect.ts';
import { describeLdapError, ldapResultCode } from './ldap-errors.ts';
import { discoverServers, srvQueryName, type RandomSource } from './srv.ts';
import { validateFilter } from './filter.ts';
import { resolveProfile, userAttributes, userMappedAttributes, type ResolvedProfile } from './profiles.ts';
import { streamPages } from './paged-search.ts';
import { readAddresses } from './map-entry.ts';

export const TEST_STEPS = ['resolve', 'tcp', 'tls', 'bind', 'base', 'filter', 'count', 'managed'] as const;
export type TestStepName = (typeof TEST_STEPS)[number];

export interface TestStep {
  step: TestStepName;
  status: 'ok' | 'failed' | 'skipped' | 'not_run';
  ms: number;
  detail: string;
  /** Set on the failed step: what to check. */
  hint?: string;
}

export interface ConnectionTestReport {
  ok: boolean;
  /** The server the steps after `resolve` ran against (`ldaps://h:p`), null when none resolved. */
  server: string | null;
  steps: TestStep[];
  failedStep: TestStepName | null;
  hint: string | null;
  /** Each server tried, in order, with the step it failed at (null = passed the connection steps). */
  servers: { server: string; failedStep: TestStepName | null; detail: string | null }[];
  entries: number | null;
  managedEntries: number | null;
}

export interface TestConnectionOptions {
  /** The tenant's managed domains (lower case). */
  managedDomains: readonly string[];
  random?: RandomSource;
}

const HINTS: Record<TestStepName, string> = {
  resolve: 'name resolution: check the server name (or the SRV domain and DNS server) and this machine\'s DNS',
  tcp: 'firewall: is the port open from this machine, and is the directory server running and listening there?',
  tls: 'TLS: check the CA file (--ca-file) signs the server\'s certificate, that it has not expired and names the host; and the security (ldaps/StartTLS) matches the port',
  bind: 'credentials: check the bind DN and password (--bind-dn, --set-password), and that the account is enabled',
  base: 'base DN: the search base does not exist or the bind account cannot see it (--base-dn)',
  filter: 'filter: fix the custom filter (--filter, RFC 4515) or the attribute overrides (--map)',
  count: 'base DN or filter: no entry in scope matches the user filter',
  managed: 'unmanaged domain: no entry has an address in the tenant\'s managed domains — add the domain (roster domains add) or check the address attributes (--map primary=…)',
};

class StepFailed extends Error {}

/** Runs `fn` as one step with a deadline; pushes the step; throws StepFailed when it fails. */
async function step<T>(steps: TestStep[], name: TestStepName, ms: number, fn: () => Promise<{ value: T; detail: string; skipped?: boolean }>, onTimeout?: () => void): Promise<T> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([fn(), new Promise<never>((_, rej) => {
      timer = setTimeout(() => { onTimeout?.(); rej(new Error(`timed out after ${ms} ms`)); }, ms);
    })]);
    steps.push({ step: name, status: r.skipped === true ? 'skipped' : 'ok', ms: Math.round(performance.now() - t0), detail: r.detail });
    return r.value;
  } catch (e) {
    const detail = e instanceof StepFailed ? e.message : describeLdapError(e, { operationMs: ms });
    steps.push({ step: name, status: 'failed', ms: Math.round(performance.now() - t0), detail, hint: HINTS[name] });
    throw new StepFailed(detail);
  } finally {
    clearTimeout(timer);
  }
}

function tlsOptions(settings: ConnectionSettings, s: ServerSpec): ConnectionOptions {
  const ca = settings.caFile === null ? undefined : readFileSync(settings.caFile);
  return { ca, rejectUnauthorized: true, minVersion: 'TLSv1.2', host: s.address ?? s.host, ...(isIP(s.host) ? {} : { servername: s.host }) };
}

async function resolveStep(steps: TestStep[], settings: ConnectionSettings, o: TestConnectionOptions): Promise<ServerSpec[]> {
  return step(steps, 'resolve', settings.connectTimeoutMs, async () => {
    let servers = settings.servers;
    let via = '';
    if (settings.srv) {
      try {
        servers = await discoverServers(settings.srv, { timeoutMs: Math.min(settings.connectTimeoutMs, 5000), ...(o.random ? { random: o.random } : {}) });
      } catch (e) {
        throw new StepFailed((e as Error).message);
      }
      via = `${srvQueryName(settings.srv.domain, settings.srv.kind)} → `;
    }
    if (servers.length === 0) throw new StepFailed('the connection lists no server');
    const out: ServerSpec[] = [];
    const failed: string[] = [];
    for (const s of servers) {
      if (s.address !== undefined || isIP(s.host)) { out.push(s); continue; }
      try {
        const a = await lookup(s.host);
        out.push({ ...s, address: a.address });
      } catch (e) {
        failed.push(`${s.host}: ${describeLdapError(e)}`);
      }
    }
    if (out.length === 0) throw new StepFailed(`${via}no server name resolves (${failed.join('; ')})`);
    const shown = out.map((s) => `${s.host}:${s.port}${s.address !== undefined && s.address !== s.host ? ` (${s.address})` : ''}`);
    return { value: out, detail: `${via}${shown.join(', ')}${failed.length > 0 ? `; not resolved: ${failed.join('; ')}` : ''}` };
  });
}

/** The connection steps against one server; returns a bound client. */
async function connectSteps(steps: TestStep[], settings: ConnectionSettings, s: ServerSpec, password: string | null): Promise<Client> {
  const address = s.address ?? s.host;
  await step(steps, 'tcp', settings.connectTimeoutMs, () => new Promise<{ value: undefined; detail: string }>((res, rej) => {
    const sock = tcpConnect({ host: address, port: s.port });
    sock.once('connect', () => { sock.destroy(); res({ value: undefined, detail: `${address}:${s.port} accepts connections` }); });
    sock.once('error', (e) => { sock.destroy(); rej(e); });
    sock.setTimeout(settings.connectTimeoutMs, () => { sock.destroy(); rej(new Error(`connect timed out after ${settings.connectTimeoutMs} ms`)); });
  }));
  const tls = s.security === 'plain' ? undefined : tlsOptions(settings, s);
  const client = new Client({
    url: serverUrl({ ...s, host: address }),
    timeout: settings.operationTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    ...(s.security === 'ldaps' ? { tlsOptions: tls } : {}),
    strictDN: false,
  });
  const drop = (): void => void client.unbind().catch(() => undefined);
  try {
    const deadline = settings.connectTimeoutMs + settings.operationTimeoutMs;
    await step(steps, 'tls', deadline, async () => {
      if (s.security === 'plain') return { value: undefined, detail: 'plain LDAP: no TLS', skipped: true };
      if (s.security === 'starttls') await client.startTLS({ ...tls });
      else {
        // LDAPS: a handshake of our own shows the certificate; the client handshakes again on bind.
        await new Promise<void>((res, rej) => {
          const sock = tlsConnect({ ...tls, port: s.port });
          sock.once('secureConnect', () => { sock.destroy(); res(); });
          sock.once('error', (e) => { sock.destroy(); rej(e); });
        });
      }
      return { value: undefined, detail: `${s.security === 'ldaps' ? 'LDAPS' : 'StartTLS'} handshake ok, certificate verified for ${s.host}` };
    }, drop);
    await step(steps, 'bind', deadline, async () => {
      try {
        checkPlainBind({ servers: [s], allowPlainBind: settings.allowPlainBind }, password);
      } catch (e) {
        throw new StepFailed((e as Error).message);
      }
      if (!password) return { value: undefined, detail: 'no password: anonymous session', skipped: true };
      await client.bind(settings.bindDn, password);
      return { value: undefined, detail: `bound as ${settings.bindDn}` };
    }, drop);
    return client;
  } catch (e) {
    drop();
    throw e;
  }
}

async function searchSteps(steps: TestStep[], settings: ConnectionSettings, client: Client, server: string, o: TestConnectionOptions): Promise<{ entries: number; managed: number }> {
  const ms = settings.operationTimeoutMs;
  await step(steps, 'base', ms, async () => {
    try {
      const r = await client.search(settings.baseDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'], sizeLimit: 1 });
      if (r.searchEntries.length === 0) throw new StepFailed(`${settings.baseDn} is not visible to the bind account`);
    } catch (e) {
      if (ldapResultCode(e) === 32) throw new StepFailed(`${settings.baseDn} does not exist on ${server} (32: no such object)`);
      throw e;
    }
    return { value: undefined, detail: `${settings.baseDn} exists` };
  });
  const p = await step<ResolvedProfile>(steps, 'filter', ms, async () => {
    if (settings.customFilter !== null) {
      const v = validateFilter(settings.customFilter);
      if (!v.ok) throw new StepFailed(`invalid custom filter at position ${v.position}: ${v.message}`);
    }
    let prof: ResolvedProfile;
    try {
      prof = resolveProfile(settings);
    } catch (e) {
      throw new StepFailed((e as Error).message);
    }
    // The server judges the filter too (unknown matching rules, syntax it refuses).
    await client.search(settings.baseDn, { scope: 'sub', filter: prof.userFilter, attributes: ['1.1'], sizeLimit: 1 }).catch((e: unknown) => {
      if (ldapResultCode(e) === 4) return; // size limit 1 reached: the filter works
      throw new StepFailed(`the server refuses the filter ${prof.userFilter}: ${describeLdapError(e)}`);
    });
    return { value: prof, detail: `user filter ${prof.userFilter}` };
  });
  const counted = await step(steps, 'count', Math.max(ms, 1), async () => {
    const managed = new Set(o.managedDomains.map((d) => d.toLowerCase()));
    let entries = 0;
    let inManaged = 0;
    const spec = { base: settings.baseDn, scope: 'sub' as const, filter: p.userFilter, attributes: userAttributes(p), decodeOnly: userMappedAttributes(p),
      binaryAttrs: p.binaryAttrs, pageSize: settings.pageSize };
    const ctx = { server, what: 'users', references: [] as string[], operationTimeoutMs: ms };
    try {
      for await (const page of streamPages(client, spec, ctx)) {
        for (const e of page) {
          entries++;
          const a = readAddresses(e, p, []);
          if ([a.primary, ...a.aliases].some((x) => x !== null && managed.has(domainOf(x)))) inManaged++;
        }
      }
    } catch (e) {
      throw new StepFailed(e instanceof RosterError ? e.message : describeLdapError(e));
    }
    if (entries === 0) throw new StepFailed(`no entry under ${settings.baseDn} matches ${p.userFilter}`);
    return { value: { entries, managed: inManaged }, detail: `${entries} entries in scope` };
  });
  await step(steps, 'managed', ms, async () => {
    const domains = o.managedDomains.length === 0 ? 'none' : o.managedDomains.join(', ');
    if (counted.managed === 0) throw new StepFailed(`none of the ${counted.entries} entries has an address in a managed domain (${domains})`);
    return { value: undefined, detail: `${counted.managed} of ${counted.entries} entries have an address in a managed domain (${domains})` };
  });
  return counted;
}

function finish(steps: TestStep[], server: string | null, servers: ConnectionTestReport['servers'], counts: { entries: number; managed: number } | null): ConnectionTestReport {
  const done = new Set(steps.map((s) => s.step));
  const all = [...steps, ...TEST_STEPS.filter((n) => !done.has(n)).map((n): TestStep => ({ step: n, status: 'not_run', ms: 0, detail: 'not run: an earlier step failed' }))];
  const failed = all.find((s) => s.status === 'failed');
  return { ok: failed === undefined, server, steps: all, failedStep: failed?.step ?? null, hint: failed?.hint ?? null, servers,
    entries: counts?.entries ?? null, managedEntries: counts?.managed ?? null };
}

/**
 * Tests a connection (R56). Never throws for a failing step (the report says which); throws
 * only on programming errors. The password is never part of the report.
 */
export async function testConnection(settings: ConnectionSettings, password: string | null, o: TestConnectionOptions): Promise<ConnectionTestReport> {
  const resolveSteps: TestStep[] = [];
  let servers: ServerSpec[];
  try {
    servers = await resolveStep(resolveSteps, settings, o);
  } catch {
    return finish(resolveSteps, null, [], null);
  }
  const tried: ConnectionTestReport['servers'] = [];
  let firstSteps: TestStep[] | null = null;
  let firstServer: string | null = null;
  for (const s of servers) {
    const steps = [...resolveSteps];
    const url = serverUrl(s);
    let client: Client;
    try {
      client = await connectSteps(steps, settings, s, password);
    } catch {
      const f = steps.find((x) => x.status === 'failed');
      tried.push({ server: url, failedStep: f?.step ?? null, detail: f?.detail ?? null });
      if (firstSteps === null) { firstSteps = steps; firstServer = url; }
      continue;
    }
    tried.push({ server: url, failedStep: null, detail: null });
    try {
      const counts = await searchSteps(steps, settings, client, url, o);
      return finish(steps, url, tried, counts);
    } catch {
      return finish(steps, url, tried, null);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
  return finish(firstSteps ?? resolveSteps, firstServer, tried, null);
}
