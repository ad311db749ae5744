/**
 * A minimal DNS stub client (RFC 1035) for SRV, A and AAAA questions, over UDP with a TCP retry
 * when the answer is truncated. Why our own: Node's resolver (c-ares) rejects Samba's internal
 * DNS answers to SRV queries with EBADRESP (Samba compresses the SRV target name, which
 * RFC 2782 forbids but every other resolver accepts), and AD domains are what SRV discovery is for.
 *
 * Invariants: one question per query; the answer must carry our id and be a response; every
 * query has a deadline (R57); name compression pointers must point backwards (no loops).
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';

export const DNS_TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;

export interface DnsAnswer {
  type: number;
  /** A/AAAA: the address; SRV: the record. */
  address?: string;
  srv?: { priority: number; weight: number; port: number; name: string };
}

export class DnsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const RCODES: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 3: 'ENOTFOUND', 4: 'ENOTIMP', 5: 'EREFUSED' };

function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length > 63) throw new DnsError('EBADNAME', `DNS label too long in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, type >> 8, type & 0xff, 0, 1]));
  return Buffer.concat(parts);
}

/** Reads a possibly compressed name at `off`; returns it and the offset after it in place. */
function readName(m: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let pos = off;
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = m[pos];
    if (len === undefined) throw new DnsError('EBADRESP', 'DNS name runs past the message');
    if (len === 0) return [labels.join('.'), end === -1 ? pos + 1 : end];
    if ((len & 0xc0) === 0xc0) {
      const ptr = ((len & 0x3f) << 8) | (m[pos + 1] ?? 0);
      if (ptr >= pos) throw new DnsError('EBADRESP', 'DNS compression pointer does not point backwards');
      if (end === -1) end = pos + 2;
      pos = ptr;
      continue;
    }
    labels.push(m.toString('utf8', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new DnsError('EBADRESP', 'DNS name too long');
}

function decode(m: Buffer, id: number): { truncated: boolean; answers: DnsAnswer[] } {
  if (m.length < 12 || m.readUInt16BE(0) !== id || (m[2]! & 0x80) === 0) throw new DnsError('EBADRESP', 'not an answer to our query');
  const truncated = (m[2]! & 0x02) !== 0;
  const rcode = m[3]! & 0x0f;
  if (rcode !== 0) throw new DnsError(RCODES[rcode] ?? 'EBADRESP', `DNS server answered rcode ${rcode}`);
  const qd = m.readUInt16BE(4);
  const an = m.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(m, off)[1] + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    off = readName(m, off)[1];
    if (off + 10 > m.length) throw new DnsError('EBADRESP', 'DNS record runs past the message');
    const type = m.readUInt16BE(off);
    const rdlen = m.readUInt16BE(off + 8);
    const rd = off + 10;
    if (rd + rdlen > m.length) throw new DnsError('EBADRESP', 'DNS record data runs past the message');
    if (type === DNS_TYPE.A && rdlen === 4) answers.push({ type, address: [...m.subarray(rd, rd + 4)].join('.') });
    else if (type === DNS_TYPE.AAAA && rdlen === 16) {
      const g: string[] = [];
      for (let j = 0; j < 16; j += 2) g.push(m.readUInt16BE(rd + j).toString(16));
      answers.push({ type, address: g.join(':') });
    } else if (type === DNS_TYPE.SRV && rdlen >= 7) {
      answers.push({ type, srv: { priority: m.readUInt16BE(rd), weight: m.readUInt16BE(rd + 2), port: m.readUInt16BE(rd + 4), name: readName(m, rd + 6)[0] } });
    }
    off = rd + rdlen;
  }
  return { truncated, answers };
}

/** 'ip', 'ip:port', '[v6]:port' or bare v6 → host and port (53 by default). */
export function parseDnsServer(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([0-9.]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1]!, port: m[2] === undefined ? 53 : Number(m[2]) };
  if (isIP(s) === 6) return { host: s, port: 53 };
  throw new DnsError('EBADSERVER', `invalid DNS server "${s}"`);
}

function udp(server: { host: string; port: number }, q: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => { sock.close(); reject(new DnsError('ETIMEOUT', 'DNS server did not answer in time')); }, timeoutMs);
    sock.on('error', (e) => { clearTimeout(timer); sock.close(); reject(new DnsError((e as NodeJS.ErrnoException).code ?? 'ECONNREFUSED', e.message)); });
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) !== q.readUInt16BE(0)) return; // not ours: keep waiting
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(q, server.port, server.host);
  });
}

function tcp(server: { host: string; port: number }, q: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => { sock.destroy(); reject(new DnsError('ETIMEOUT', 'DNS server did not answer in time')); });
    sock.on('error', (e) => reject(new DnsError((e as NodeJS.ErrnoException).code ?? 'ECONNREFUSED', e.message)));
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
  });
}

/**
 * Asks `servers` (in order, the next on a transport failure) one question; returns the answers
 * of the asked type. Throws DnsError: ENOTFOUND (NXDOMAIN), ETIMEOUT, EBADRESP, ESERVFAIL…
 */
export async function queryDns(servers: readonly string[], name: string, type: number, timeoutMs: number): Promise<DnsAnswer[]> {
  let last: unknown = new DnsError('ENOSERVER', 'no DNS server configured');
  for (const s of servers) {
    const server = parseDnsServer(s);
    const id = randomInt(0, 0x10000);
    const q = encodeQuery(id, name, type);
    try {
      let r = decode(await udp(server, q, timeoutMs), id);
      if (r.truncated) r = decode(await tcp(server, q, timeoutMs), id);
      return r.answers.filter((a) => a.type === type);
    } catch (e) {
      last = e;
      // An authoritative "no such name" or a server failure is an answer; transport errors try the next.
      if (e instanceof DnsError && (e.code === 'ENOTFOUND' || e.code === 'EBADRESP')) throw e;
    }
  }
  throw last;
}
