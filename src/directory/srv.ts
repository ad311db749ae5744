/**
 * SRV discovery of directory servers (R55, RFC 2782): `_ldap._tcp.<domain>` for plain LDAP
 * directories, `_ldap._tcp.dc._msdcs.<domain>` for Active Directory domain controllers.
 *
 * Order: lowest priority first; within one priority, weighted random selection (a record of
 * weight w is picked next with probability w / sum; weight-0 records go first in the running
 * sum, so they keep a small chance, RFC 2782 "Usage rules"). The random source is injected.
 *
 * With a configured DNS server every lookup (SRV and the targets' A/AAAA records) goes to that
 * server (our own stub client, dns-query.ts), so targets need not be known to the system resolver; the discovered ServerSpec then
 * carries the target name as `host` (for display and TLS host name verification) and the
 * resolved IP as `address` (to connect); a target it has no address for is left out. Without one, the system's DNS servers (resolv.conf) answer the SRV query
 * and the connect resolves the target name itself.
 */
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import type { Security, ServerSpec, SrvKind } from '../core/connection.ts';
import { RosterError } from '../core/errors.ts';
import { DNS_TYPE, DnsError, parseDnsServer, queryDns } from './dns-query.ts';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** The SRV owner name queried for a domain (R55). */
export function srvQueryName(domain: string, kind: SrvKind): string {
  const d = domain.trim().replace(/\.$/, '');
  return kind === 'ad' ? `_ldap._tcp.dc._msdcs.${d}` : `_ldap._tcp.${d}`;
}

/**
 * Orders SRV records per RFC 2782: ascending priority; within a priority, repeatedly picks one
 * record at random weighted by its weight. Pure given `random`; does not mutate its input. A
 * single record whose target is "." means "no service" and yields nothing.
 */
export function orderSrvRecords(records: readonly SrvRecord[], random: RandomSource): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    // Weight-0 records first: they are picked only when the random number is 0 (RFC 2782).
    const left = usable.filter((r) => r.priority === p).sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      const pick = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        running += left[i]!.weight;
        if (running >= pick) { index = i; break; }
      }
      out.push(left.splice(index, 1)[0]!);
    }
  }
  return out;
}

export interface SrvDiscovery {
  domain: string;
  kind: SrvKind;
  security: Security;
  /** 'ip' or 'ip:port' ('[v6]:port'); null = the system resolver. */
  dnsServer: string | null;
}

export interface DiscoverOptions {
  random?: RandomSource;
  /** Deadline of each DNS query (R57). */
  timeoutMs?: number;
}

/** The DNS servers to ask: the configured one, else the system's (resolv.conf). */
function serversFor(dnsServer: string | null): string[] {
  if (dnsServer === null) return getServers();
  try {
    parseDnsServer(dnsServer);
  } catch (e) {
    throw new RosterError('bad_input', (e as Error).message);
  }
  return [dnsServer];
}

function dnsMessage(e: unknown): string {
  const code = e instanceof DnsError ? e.code : (e as { code?: string }).code;
  if (code === 'ENOTFOUND' || code === 'ENODATA') return 'no such record';
  if (code === 'ETIMEOUT') return 'DNS server did not answer in time';
  if (code === 'ECONNREFUSED') return 'DNS server refused the query';
  return code ?? (e as Error).message;
}

/** The first IPv4 (else IPv6) address of `name` through `servers`, or null when it has none. */
async function addressOf(servers: string[], name: string, timeoutMs: number): Promise<string | null> {
  if (isIP(name)) return name;
  for (const type of [DNS_TYPE.A, DNS_TYPE.AAAA]) {
    try {
      const a = await queryDns(servers, name, type, timeoutMs);
      if (a[0]?.address !== undefined) return a[0].address;
    } catch {
      // try the other family; none at all is reported by the caller
    }
  }
  return null;
}

/**
 * Looks up the SRV records of a connection and returns its servers in RFC 2782 order, each with
 * the SRV port and the connection's security. Throws RosterError('connect_failed') when the
 * name has no usable record or DNS does not answer, 'bad_input' for an invalid DNS server.
 */
export async function discoverServers(d: SrvDiscovery, o: DiscoverOptions = {}): Promise<ServerSpec[]> {
  const servers = serversFor(d.dnsServer);
  const timeoutMs = o.timeoutMs ?? 3000;
  const qname = srvQueryName(d.domain, d.kind);
  const via = d.dnsServer === null ? 'the system resolver' : `DNS server ${d.dnsServer}`;
  let records: SrvRecord[];
  try {
    records = (await queryDns(servers, qname, DNS_TYPE.SRV, timeoutMs)).flatMap((a) => (a.srv === undefined ? [] : [a.srv]));
  } catch (e) {
    throw new RosterError('connect_failed', `SRV lookup of ${qname} through ${via} failed: ${dnsMessage(e)}`, { details: { srv: qname } });
  }
  const ordered = orderSrvRecords(records, o.random ?? Math.random);
  if (ordered.length === 0) throw new RosterError('connect_failed', `SRV lookup of ${qname} through ${via} found no server`, { details: { srv: qname } });
  const out: ServerSpec[] = [];
  const unresolved: string[] = [];
  for (const r of ordered) {
    const host = r.name.replace(/\.$/, '');
    const spec: ServerSpec = { host, port: r.port, security: d.security };
    if (d.dnsServer !== null && isIP(host) === 0) {
      // The configured DNS server alone answers for its targets: never ask the system resolver.
      const address = await addressOf(servers, host, timeoutMs);
      if (address === null) { unresolved.push(host); continue; }
      spec.address = address;
    }
    out.push(spec);
  }
  if (out.length === 0) {
    throw new RosterError('connect_failed', `no SRV target of ${qname} has an address at ${via}: ${unresolved.join(', ')}`, { details: { srv: qname, unresolved } });
  }
  return out;
}
