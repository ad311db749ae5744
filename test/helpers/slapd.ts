/**
 * A private OpenLDAP server for one test (or the benchmark): own temp dir, `slapd.conf` run with
 * `-f`, mdb backend, data loaded offline with `slapadd -q` before start, listening ONLY on
 * ldap://127.0.0.1:<free> and ldaps://127.0.0.1:<free> with the test CA's certificate.
 *
 * Loaded: core, cosine, inetorgperson, nis, the Roster test schema; modules mdb, ppolicy (so
 * `pwdAccountLockedTime` exists and a locked user cannot bind), syncprov with a session log
 * (RFC 4533 refreshOnly deltas). The reader account has explicit limits (default unlimited so a
 * paged read of 100k entries works; R5 tests set a size limit). The global default limit of 500
 * stays for every other identity.
 *
 * Lifecycle: `stop()` (or `await using`) ends slapd and removes the dir; `kill()` SIGKILLs it
 * and keeps the data; `start()` starts it again on the same ports with the same data; `halt()`
 * stops it gracefully keeping the data. slapd runs under `setpriv --pdeathsig KILL`, and a
 * process exit hook kills what is left, so no slapd outlives its test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { ensurePackages } from './debian.ts';
import { freePort, waitForPort } from './ports.ts';
import { testPki, type CertPair } from './tls.ts';
import { ldapModify as toolModify, runLdapTool, type LdapTarget } from './ldap-tools.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

export interface Slapd extends AsyncDisposable {
  url: string;
  ldapsUrl: string;
  host: string;
  port: number;
  ldapsPort: number;
  caFile: string;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
  readerDn: string;
  readerPassword: string;
  dir: string;
  /** Connection arguments for ldap-tools as admin over ldap:// (tests may switch url/caFile). */
  admin: LdapTarget;
  reader: LdapTarget;
  /** Applies change LDIF as the admin (changetype records). */
  ldapModify(ldif: string): Promise<void>;
  /** Adds content records (no changetype) as the admin. */
  ldapAdd(ldif: string): Promise<void>;
  /** Kills slapd and removes its dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, data kept (for crash and failover tests). */
  kill(): void;
  /** Graceful stop, data kept. */
  halt(): Promise<void>;
  /** (Re)starts on the same ports with the same data. */
  start(): Promise<void>;
  readonly pid: number | undefined;
}

export interface SlapdOptions {
  /** LDIF content records to load offline (may or may not include the suffix entry). */
  ldifFile?: string;
  ldif?: string;
  /** Default dc=example,dc=test. */
  suffix?: string;
  sizeLimitForReader?: number | 'unlimited';
  timeLimitForReader?: number | 'unlimited';
  /** Appended inside the database section (after the overlays); e.g. more `index` lines. */
  extraConfig?: string;
  /** syncprov session log size (entries); default 10000. */
  sessionLog?: number;
  /** Certificate slapd serves (default testPki().server); pass testPki().expired / .wrongName for R43 tests. */
  serverCert?: CertPair;
}

const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `/etc/ldap/schema/${s}.schema`);
const TEST_SCHEMA = resolve(import.meta.dirname, '../fixtures/schema/roster-test.schema');
const ADMIN_PASSWORD = 'admin-secret';
const READER_PASSWORD = 'reader-secret';

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) try { c.kill('SIGKILL'); } catch { /* gone */ }
  });
}

function conf(o: { dir: string; suffix: string; reader: string; size: string; time: string; extra: string; sessionLog: number; cert: CertPair }): string {
  const pki = testPki();
  return `${[...SCHEMAS, TEST_SCHEMA].map((s) => `include ${s}`).join('\n')}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload syncprov
pidfile ${o.dir}/slapd.pid
argsfile ${o.dir}/slapd.args
TLSCACertificateFile ${pki.caFile}
TLSCertificateFile ${o.cert.certFile}
TLSCertificateKeyFile ${o.cert.keyFile}
sizelimit 500
timelimit 3600
tool-threads 2

database mdb
suffix "${o.suffix}"
rootdn "cn=admin,${o.suffix}"
rootpw ${ADMIN_PASSWORD}
directory ${o.dir}/db
maxsize 4294967296
index objectClass eq
index entryUUID,entryCSN eq
index uid,mail,cn eq
index member eq
limits dn.exact="${o.reader}" size=${o.size} time=${o.time}
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="${o.reader}" read by self read by users read by * none
overlay ppolicy
ppolicy_default "${policyDn(o.suffix)}"
overlay syncprov
syncprov-checkpoint 100 5
syncprov-sessionlog ${o.sessionLog}
${o.extra}
`;
}

function firstDn(text: string): string | undefined {
  const m = /^dn:(:?) ?(.*)$/m.exec(text);
  if (!m) return undefined;
  return m[1] === ':' ? Buffer.from(m[2]!, 'base64').toString('utf8') : m[2]!;
}

function headOf(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    return buf.subarray(0, readSync(fd, buf, 0, 4096, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The default password policy entry the harness adds (ppolicy needs one to honour locks). */
export const policyDn = (suffix: string): string => `cn=roster-default-policy,${suffix}`;

const sameDn = (a: string, b: string): boolean => a.replace(/\s*,\s*/g, ',').toLowerCase() === b.replace(/\s*,\s*/g, ',').toLowerCase();

/** Runs a command to completion, rejecting with its stderr; `input` is piped to stdin. */
async function run(cmd: string, args: string[], input?: Array<string | { file: string }>): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { if (err.length < 20_000) err += b.toString('utf8'); });
  const closed = once(child, 'close');
  child.stdin.on('error', () => { /* the exit code reports it */ });
  for (const part of input ?? []) {
    if (typeof part === 'string') {
      if (!child.stdin.write(part)) await once(child.stdin, 'drain');
    } else {
      for await (const chunk of createReadStream(part.file)) if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
    }
  }
  child.stdin.end();
  const [code] = (await closed) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`);
}

/**
 * Removes instance dirs whose owning test process is gone (it was SIGKILLed before stop();
 * pdeathsig already ended its slapd). A 100k instance is ~200 MB, so they must not pile up.
 */
function sweepOrphans(): void {
  for (const name of readdirSync('/tmp')) {
    if (!name.startsWith('roster-slapd-')) continue;
    const dir = join('/tmp', name);
    try {
      const owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
      if (Number.isFinite(owner) && owner > 0) process.kill(owner, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Starts a private slapd; rejects (never skips) if it cannot. */
export async function startSlapd(opts: SlapdOptions = {}): Promise<Slapd> {
  ensurePackages('openldap', 'tools');
  hookExit();
  const suffix = opts.suffix ?? 'dc=example,dc=test';
  const host = '127.0.0.1';
  sweepOrphans();
  const dir = mkdtempSync('/tmp/roster-slapd-');
  writeFileSync(join(dir, 'owner'), String(process.pid));
  mkdirSync(join(dir, 'db'));
  const readerDn = `cn=roster-reader,${suffix}`;
  const limit = (v: number | 'unlimited' | undefined): string => (v === undefined ? 'unlimited' : String(v));
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, conf({ dir, suffix, reader: readerDn, size: limit(opts.sizeLimitForReader),
    time: limit(opts.timeLimitForReader), extra: opts.extraConfig ?? '', sessionLog: opts.sessionLog ?? 10000,
    cert: opts.serverCert ?? testPki().server }));

  // The suffix entry comes from the data when it has one, otherwise from us; the reader last.
  const dataHead = opts.ldif ?? (opts.ldifFile !== undefined ? headOf(opts.ldifFile) : '');
  const dataHasSuffix = (() => { const d = firstDn(dataHead); return d !== undefined && sameDn(d, suffix); })();
  const dc = /^dc=([^,]+)/i.exec(suffix)?.[1];
  const suffixEntry = dataHasSuffix ? '' : ldifEntry(suffix, dc !== undefined
    ? { objectClass: ['top', 'dcObject', 'organization'], dc, o: dc }
    : { objectClass: ['top', 'organizationalUnit'], ou: /^[^=]+=([^,]+)/.exec(suffix)?.[1] ?? 'base' });
  const readerEntry = ldifEntry(readerDn, { objectClass: ['top', 'person'], cn: 'roster-reader', sn: 'reader', userPassword: READER_PASSWORD });
  // ppolicy enforces pwdAccountLockedTime only for users under some policy: a default one.
  const policyEntry = ldifEntry(policyDn(suffix), { objectClass: ['top', 'device', 'pwdPolicy'], cn: 'roster-default-policy',
    pwdAttribute: 'userPassword', pwdLockout: 'TRUE' });
  const data: Array<string | { file: string }> = [suffixEntry];
  if (opts.ldif !== undefined) data.push(opts.ldif.endsWith('\n\n') ? opts.ldif : `${opts.ldif.replace(/\n*$/, '')}\n\n`);
  if (opts.ldifFile !== undefined) data.push({ file: opts.ldifFile }, '\n');
  data.push(readerEntry, policyEntry);
  try {
    await run('slapadd', ['-q', '-w', '-f', confFile, '-b', suffix], data);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  let port = 0;
  let ldapsPort = 0;
  const pickPorts = async (): Promise<void> => {
    port = await freePort(host);
    do ldapsPort = await freePort(host); while (ldapsPort === port);
  };
  await pickPorts();
  const pki = testPki();
  let child: ChildProcess | undefined;
  let stderr = '';
  let removed = false;

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      if (!child.killed) return; // already running
      await once(child, 'exit'); // kill() was just called: let it die before restarting
    }
    stderr = '';
    // -d 0 keeps slapd in the foreground (we own its pid); pdeathsig kills it if we die.
    const c = spawn('setpriv', ['--pdeathsig', 'KILL', 'slapd', '-d', '0', '-f', confFile,
      '-h', `ldap://${host}:${port}/ ldaps://${host}:${ldapsPort}/`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    child = c;
    live.add(c);
    c.stderr!.on('data', (b: Buffer) => { if (stderr.length < 20_000) stderr += b.toString('utf8'); });
    c.on('exit', () => live.delete(c));
    const exited = once(c, 'exit').then(() => { throw new Error(`slapd exited at start: ${stderr.trim()}`); });
    exited.catch(() => { /* only observed through the race below */ });
    await Promise.race([Promise.all([waitForPort(port, host, 15_000), waitForPort(ldapsPort, host, 15_000)]), exited]);
    // An open port may belong to a process that took it first: make sure slapd answers there.
    const probe = await runLdapTool('ldapsearch', { url: `ldap://${host}:${port}` }, ['-LLL', '-s', 'base', '-b', '', '1.1']);
    if (probe.code !== 0 || c.exitCode !== null) {
      throw new Error(`slapd not answering on port ${port} (in use?): ${probe.stderr.trim()} ${stderr.trim()}`);
    }
  };

  const halt = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };

  // Another process may grab a free port between freePort() and slapd's bind: retry on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (e) {
      await halt();
      if (attempt >= 3 || !/bind|in use/i.test(String(e))) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      await pickPorts();
    }
  }

  const admin: LdapTarget = { url: `ldap://${host}:${port}`, bindDn: `cn=admin,${suffix}`, password: ADMIN_PASSWORD, caFile: pki.caFile };
  const reader: LdapTarget = { ...admin, bindDn: readerDn, password: READER_PASSWORD };
  const stop = async (): Promise<void> => {
    await halt();
    if (!removed) { removed = true; rmSync(dir, { recursive: true, force: true }); }
  };
  const slapd: Slapd = {
    url: `ldap://${host}:${port}`, ldapsUrl: `ldaps://${host}:${ldapsPort}`, host, port, ldapsPort, caFile: pki.caFile,
    baseDn: suffix, adminDn: `cn=admin,${suffix}`, adminPassword: ADMIN_PASSWORD, readerDn, readerPassword: READER_PASSWORD,
    dir, admin, reader,
    ldapModify: (ldif) => toolModify(admin, ldif),
    ldapAdd: (ldif) => toolModify(admin, ldif, { add: true }),
    stop, halt: () => halt(), start,
    kill: () => { child?.kill('SIGKILL'); },
    get pid() { return child?.pid; },
    [Symbol.asyncDispose]: stop,
  };
  return slapd;
}
