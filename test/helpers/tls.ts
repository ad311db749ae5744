/**
 * Throwaway PKI for test servers (R43): a CA, server certificates for loopback addresses, and
 * deliberately bad material (a foreign CA, an expired certificate, a wrong-name certificate)
 * for the TLS failure tests. Clients in tests always verify against `caFile`; never turn
 * verification off.
 *
 * Keys are EC P-256 (fast to make; GnuTLS in slapd and Samba and Node's OpenSSL accept them).
 * The PKI is made once per machine under /tmp (keyed by version, rebuilt when the CA is near
 * expiry) so many test processes share it; a half-written cache is never visible because it is
 * built in a temp dir and renamed into place.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate, randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** A certificate and its key, both PEM files. */
export interface CertPair {
  certFile: string;
  keyFile: string;
}

/** The shared test PKI. Every path is a PEM file. */
export interface TestPki {
  dir: string;
  /** CA that signed `server`, `expired` and `wrongName`; give this to clients. */
  caFile: string;
  ca: CertPair;
  /** Valid 30 days, SAN IP:127.0.0.1, DNS:localhost. */
  server: CertPair;
  /** A second, unrelated CA (clients pointed at it must reject `server`). */
  wrongCaFile: string;
  /** Signed by `ca`, SAN IP:127.0.0.1, DNS:localhost, but expired in 2020. */
  expired: CertPair;
  /** Signed by `ca`, valid, but only for DNS:wrong.invalid (no IP SAN). */
  wrongName: CertPair;
}

const VERSION = 'v1';
const CACHE = `/tmp/roster-test-pki-${VERSION}`;
const DAY_MS = 86_400_000;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, name: string): string {
  const keyFile = join(dir, `${name}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  return keyFile;
}

function makeCa(dir: string, name: string, cn: string): CertPair {
  const keyFile = newKey(dir, name);
  const certFile = join(dir, `${name}.crt`);
  openssl(['req', '-x509', '-new', '-key', keyFile, '-out', certFile, '-days', '3650', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { certFile, keyFile };
}

/** SAN entries: IPs become `IP:`, names `DNS:`. */
function sanOf(ips: string[], dns: string[]): string {
  return [...ips.map((i) => `IP:${i}`), ...dns.map((d) => `DNS:${d}`)].join(',');
}

/**
 * Issues a server certificate signed by `ca` with `openssl ca`, which (unlike `x509 -req`)
 * accepts explicit start and end dates, so an already expired certificate can be made.
 */
export function issueServerCert(ca: CertPair, dir: string, name: string,
  opts: { ips: string[]; dns: string[]; startDate?: string; endDate?: string; days?: number }): CertPair {
  const keyFile = newKey(dir, name);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const cn = opts.dns[0] ?? opts.ips[0] ?? 'server';
  openssl(['req', '-new', '-key', keyFile, '-out', csr, '-subj', `/CN=${cn}`], dir);
  const caDir = join(dir, `ca-${name}`);
  execFileSync('mkdir', ['-p', caDir]);
  writeFileSync(join(caDir, 'index.txt'), '');
  writeFileSync(join(caDir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  const conf = join(caDir, 'ca.cnf');
  writeFileSync(conf, [
    '[ca]', 'default_ca = tca', '[tca]', `dir = ${caDir}`, 'database = $dir/index.txt', 'serial = $dir/serial',
    'new_certs_dir = $dir', 'default_md = sha256', 'policy = anything', 'unique_subject = no', 'copy_extensions = none',
    '[anything]', 'commonName = supplied', '[ext]', 'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth',
    `subjectAltName = ${sanOf(opts.ips, opts.dns)}`, '',
  ].join('\n'));
  const dates = opts.startDate && opts.endDate
    ? ['-startdate', opts.startDate, '-enddate', opts.endDate]
    : ['-days', String(opts.days ?? 30)];
  openssl(['ca', '-batch', '-config', conf, '-extensions', 'ext', '-cert', ca.certFile, '-keyfile', ca.keyFile,
    '-in', csr, '-out', certFile, '-notext', ...dates], dir);
  rmSync(caDir, { recursive: true, force: true });
  rmSync(csr, { force: true });
  return { certFile, keyFile };
}

function build(dir: string): void {
  const ca = makeCa(dir, 'ca', 'Roster Test CA');
  makeCa(dir, 'wrong-ca', 'Roster Wrong CA');
  issueServerCert(ca, dir, 'server', { ips: ['127.0.0.1'], dns: ['localhost'], days: 30 });
  issueServerCert(ca, dir, 'expired', { ips: ['127.0.0.1'], dns: ['localhost'],
    startDate: '20200101000000Z', endDate: '20200201000000Z' });
  issueServerCert(ca, dir, 'wrong-name', { ips: [], dns: ['wrong.invalid'], days: 30 });
}

function pkiAt(dir: string): TestPki {
  const pair = (n: string): CertPair => ({ certFile: join(dir, `${n}.crt`), keyFile: join(dir, `${n}.key`) });
  const ca = pair('ca');
  return { dir, caFile: ca.certFile, ca, server: pair('server'), wrongCaFile: join(dir, 'wrong-ca.crt'),
    expired: pair('expired'), wrongName: pair('wrong-name') };
}

/** True when the cached server certificate is still valid for at least two more days. */
function usable(dir: string): boolean {
  const f = join(dir, 'wrong-name.crt'); // written last
  if (!existsSync(f)) return false;
  try {
    const cert = new X509Certificate(readFileSync(join(dir, 'server.crt')));
    return Date.parse(cert.validTo) - Date.now() > 2 * DAY_MS;
  } catch {
    return false;
  }
}

let cached: TestPki | undefined;

/** The shared test PKI, made on first use (about 0.2 s) and reused by later processes. */
export function testPki(): TestPki {
  if (cached) return cached;
  if (!usable(CACHE)) {
    const tmp = mkdtempSync(`${CACHE}.tmp-`);
    build(tmp);
    if (existsSync(CACHE)) {
      // Stale: move it aside first; a concurrent reader keeps its already opened files.
      try { renameSync(CACHE, `${tmp}.old`); rmSync(`${tmp}.old`, { recursive: true, force: true }); } catch { /* raced */ }
    }
    try {
      renameSync(tmp, CACHE);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
    if (!usable(CACHE)) throw new Error(`test PKI at ${CACHE} is unusable after rebuild`);
  }
  cached = pkiAt(CACHE);
  return cached;
}

/**
 * A server certificate signed by the test CA for other addresses (for instance a Samba DC on
 * 127.0.0.7 with its DNS name), cached under the PKI dir by its SAN list.
 */
export function serverCertFor(ips: string[], dns: string[]): CertPair {
  const pki = testPki();
  const name = `srv-${[...ips, ...dns].join('_').replace(/[^A-Za-z0-9_.-]/g, '-')}`;
  // One directory per certificate, renamed into place whole, so a key never meets another cert.
  const final = join(pki.dir, name);
  const pair = { certFile: join(final, 'server.crt'), keyFile: join(final, 'server.key') };
  if (existsSync(pair.certFile)) return pair;
  const tmp = mkdtempSync(join(pki.dir, '.issue-'));
  issueServerCert(pki.ca, tmp, 'server', { ips, dns, days: 30 });
  try {
    renameSync(tmp, final);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process made it first
  }
  return pair;
}
