/**
 * A private Samba AD DC for tests, on its own loopback address 127.0.0.x (its LDAP/RPC ports
 * cannot move, so one DC per address), with our own smb.conf (no DNS forwarder, trimmed
 * services, every path inside its dir, the test CA's certificate with SAN IP:127.0.0.x) and its
 * own KRB5_CONFIG. Every listening socket of its process tree is checked to be on 127.0.0.x.
 *
 * Provisioning (~6 s) and loading the fixture (~3–5 s online) happen once per (address, fixture
 * version) into a template under /tmp; each start copies the template (`cp -a`, ~0.1 s) and
 * starts Samba on the copy, so a test gets a fresh domain in about 2 s. An address is held with
 * a lock file (pid inside; stale locks of dead processes are taken over).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackages } from './debian.ts';
import { serverCertFor, testPki } from './tls.ts';
import { ldapModify as toolModify, ldapSearch, type LdapTarget } from './ldap-tools.ts';
import { sambaFixture, sambaFixtureLdif, SAMBA_FIXTURE_VERSION, type SambaFixture } from './samba-fixture.ts';
import { acquireAddress, listeningSockets, processTree, runCmd, type Socket } from './samba-host.ts';

export type { SambaFixture } from './samba-fixture.ts';

export interface SambaDc extends AsyncDisposable {
  host: string;
  ldapPort: 389;
  ldapsPort: 636;
  caFile: string;
  realm: 'EXAMPLE.TEST';
  netbios: 'EXAMPLE';
  baseDn: 'DC=example,DC=test';
  /** Administrator@EXAMPLE.TEST (simple bind as UPN). */
  bindDn: string;
  password: string;
  dir: string;
  /** ldap-tools target as the administrator over LDAPS, verified against `caFile`. */
  admin: LdapTarget;
  /** Applies change LDIF over LDAPS as the administrator. */
  ldapModify(ldif: string): Promise<void>;
  /** samba-tool with -s, and -H ldap://host / -U Administrator where the command takes them. */
  samba(...args: string[]): Promise<string>;
  /** Listening sockets of the DC's processes (tests assert they are all on `host`). */
  sockets(): Socket[];
  stop(): Promise<void>;
  fixture: SambaFixture;
  readonly pid: number | undefined;
}

const HARNESS_VERSION = 1;
const PASSWORD = 'Passw0rd!Roster';
const REALM = 'EXAMPLE.TEST';

function smbConf(dir: string, host: string): string {
  return `[global]
	netbios name = DC1
	realm = ${REALM}
	workgroup = EXAMPLE
	server role = active directory domain controller
	# a host address with a mask: Samba only accepts addresses of real interfaces otherwise
	interfaces = ${host}/8
	bind interfaces only = yes
	# no SMB file server (s3fs): LDAP, KDC, DNS and RPC are all the tests use
	server services = -dnsupdate -nbt -wrepl -s3fs
	disable netbios = yes
	dns forwarder =
	private dir = ${dir}/private
	state directory = ${dir}/state
	cache directory = ${dir}/cache
	lock directory = ${dir}
	pid directory = ${dir}/pid
	binddns dir = ${dir}/bind-dns
	ncalrpc dir = ${dir}/run/ncalrpc
	winbindd socket directory = ${dir}/run/winbindd
	ntp signd socket directory = ${dir}/run/ntp_signd
	log file = ${dir}/log/log.%m
	logging = file
	log level = 1
	panic action =
	tls enabled = yes
	tls keyfile = ${dir}/tls/key.pem
	tls certfile = ${dir}/tls/cert.pem
	tls cafile = ${dir}/tls/ca.pem
	ldap server require strong auth = no
	idmap_ldb:use rfc2307 = yes
[sysvol]
	path = ${dir}/state/sysvol
	read only = No
[netlogon]
	path = ${dir}/state/sysvol/example.test/scripts
	read only = No
`;
}

/** Writes smb.conf, krb5.conf and TLS files for `dir` (a fresh provision or a copied template). */
function configure(dir: string, host: string): void {
  for (const d of ['etc', 'log', 'cache', 'pid', 'run', 'tls', 'bind-dns']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc/smb.conf'), smbConf(dir, host));
  writeFileSync(join(dir, 'krb5.conf'), `[libdefaults]\n\tdefault_realm = ${REALM}\n\tdns_lookup_realm = false\n\tdns_lookup_kdc = false\n` +
    `[realms]\n\t${REALM} = {\n\t\tkdc = ${host}\n\t\tadmin_server = ${host}\n\t}\n[domain_realm]\n\t.example.test = ${REALM}\n`);
  const cert = serverCertFor([host], ['dc1.example.test', 'localhost']);
  copyFileSync(cert.certFile, join(dir, 'tls/cert.pem'));
  copyFileSync(cert.keyFile, join(dir, 'tls/key.pem'));
  chmodSync(join(dir, 'tls/key.pem'), 0o600); // Samba refuses a key readable by others
  copyFileSync(testPki().caFile, join(dir, 'tls/ca.pem'));
}

const envFor = (dir: string): NodeJS.ProcessEnv => ({ ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf'), PASSWD: PASSWORD });

interface Running { child: ChildProcess; stderr: () => string }

function spawnSamba(dir: string): Running {
  let stderr = '';
  // detached → setsid: the DC's whole tree shares one process group we can signal;
  // pdeathsig ends the master if the test process dies (its children follow the master).
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'samba', '-s', join(dir, 'etc/smb.conf'), '--foreground', '--no-process-group'],
    { env: envFor(dir), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.stderr!.on('data', (b: Buffer) => { if (stderr.length < 20_000) stderr += b.toString('utf8'); });
  return { child, stderr: () => stderr };
}

async function waitReady(r: Running, host: string, caFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const target: LdapTarget = { url: `ldaps://${host}`, bindDn: `Administrator@${REALM}`, password: PASSWORD, caFile };
  for (;;) {
    if (r.child.exitCode !== null || r.child.signalCode !== null) throw new Error(`samba exited at start: ${r.stderr().trim()}`);
    const res = await ldapSearch(target, { base: 'DC=example,DC=test', scope: 'base', attrs: ['1.1'], extra: ['-o', 'nettimeout=2'] });
    if (res.code === 0) return;
    if (Date.now() > deadline) throw new Error(`samba on ${host} not answering LDAPS after ${timeoutMs} ms: ${res.stderr.trim()}`);
    await new Promise((res2) => setTimeout(res2, 200));
  }
}

async function halt(r: Running): Promise<void> {
  const c = r.child;
  // Taken before signalling: once the master is gone, orphans are reparented and untraceable.
  const tree = c.pid !== undefined ? processTree(c.pid) : new Set<number>();
  if (c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((res) => c.once('exit', res));
    killGroup(c, 'SIGTERM');
    const t = setTimeout(() => killGroup(c, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
  killGroup(c, 'SIGKILL');
  for (const pid of tree) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
}

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try { process.kill(-c.pid, sig); } catch { /* group gone */ }
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) {
      const tree = c.pid !== undefined ? processTree(c.pid) : new Set<number>();
      killGroup(c, 'SIGKILL');
      for (const pid of tree) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  });
}

const H_COMMANDS = new Set(['user', 'group', 'contact', 'ou', 'computer', 'domain', 'dsacl', 'fsmo', 'gpo', 'sites', 'spn', 'schema']);

function sambaTool(dir: string, host: string, args: string[]): Promise<string> {
  const extra = ['-s', join(dir, 'etc/smb.conf')];
  const takesH = H_COMMANDS.has(args[0] ?? '') && !(args[0] === 'domain' && args[1] === 'info'); // `domain info <ip>` has no -H
  if (takesH && !args.includes('-H')) extra.push('-H', `ldap://${host}`);
  if ((H_COMMANDS.has(args[0] ?? '') || args[0] === 'dns') && !args.some((a) => a.startsWith('-U'))) extra.push('-U', 'Administrator');
  return runCmd('samba-tool', [...args, ...extra], envFor(dir));
}

/** Provisions a domain on `host` and loads the fixture, leaving a stopped template at `dest`. */
async function buildTemplate(host: string, dest: string, withFixture: boolean): Promise<void> {
  const tmp = mkdtempSync(`${dest}.tmp-`);
  try {
    await runCmd('samba-tool', ['domain', 'provision', '--use-rfc2307', `--realm=${REALM}`, '--domain=EXAMPLE', '--server-role=dc',
      '--dns-backend=SAMBA_INTERNAL', `--adminpass=${PASSWORD}`, '--host-name=dc1', `--targetdir=${tmp}`,
      `--option=interfaces = ${host}/8`, '--option=bind interfaces only = yes'], envFor(tmp));
    configure(tmp, host);
    const r = spawnSamba(tmp);
    try {
      await waitReady(r, host, testPki().caFile);
      // Provisioning gives the DC no A record for a loopback address (testbed.md).
      await sambaTool(tmp, host, ['dns', 'add', host, 'example.test', 'dc1', 'A', host]).catch((e: Error) => {
        if (!/already exists/i.test(e.message)) throw e;
      });
      if (withFixture) {
        await toolModify({ url: `ldaps://${host}`, bindDn: `Administrator@${REALM}`, password: PASSWORD, caFile: testPki().caFile },
          sambaFixtureLdif());
      }
    } finally {
      await halt(r);
    }
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * With the address lease held, nothing else uses this address's dirs: remove instance dirs of
 * dead test processes and templates of older harness or fixture versions (~45 MB each).
 */
function sweep(host: string): void {
  const current = new Set([0, SAMBA_FIXTURE_VERSION].map((f) => `roster-samba-template-h${HARNESS_VERSION}-f${f}-${host}`));
  for (const name of readdirSync('/tmp')) {
    const stale = name.startsWith(`roster-samba-${host}-`)
      || (name.startsWith('roster-samba-template-') && name.endsWith(`-${host}`) && !current.has(name))
      || (name.startsWith('roster-samba-template-') && name.includes(`-${host}.tmp-`));
    if (stale) rmSync(join('/tmp', name), { recursive: true, force: true });
  }
}

/**
 * Starts a Samba AD DC with (by default) the fixture loaded; rejects, never skips, when it
 * cannot. The first start on an address takes ~10–15 s (provision + fixture); later ~2 s.
 */
export async function startSamba(opts: { fixture?: boolean } = {}): Promise<SambaDc> {
  ensurePackages('samba', 'tools');
  hookExit();
  const withFixture = opts.fixture !== false;
  const lease = await acquireAddress();
  const host = lease.host;
  const caFile = testPki().caFile;
  let dir: string | undefined;
  let r: Running | undefined;
  try {
    const template = `/tmp/roster-samba-template-h${HARNESS_VERSION}-f${withFixture ? SAMBA_FIXTURE_VERSION : 0}-${host}`;
    sweep(host);
    if (!existsSync(template)) await buildTemplate(host, template, withFixture);
    dir = mkdtempSync(`/tmp/roster-samba-${host}-`);
    // cp -a keeps the sysvol's NT ACL xattrs; Samba tolerates the relocated private dir
    // because every path it uses comes from the smb.conf we rewrite.
    execFileSync('cp', ['-a', `${template}/.`, dir]);
    configure(dir, host);
    r = spawnSamba(dir);
    live.add(r.child);
    await waitReady(r, host, caFile);
    const bad = listeningSockets(r.child.pid!).filter((s) => s.address !== host);
    if (bad.length > 0) throw new Error(`samba listens outside ${host}: ${bad.map((s) => `${s.proto} ${s.address}:${s.port}`).join(', ')}`);
  } catch (e) {
    if (r) await halt(r);
    if (dir) rmSync(dir, { recursive: true, force: true });
    lease.release();
    throw e;
  }
  const running = r;
  const d = dir;
  const admin: LdapTarget = { url: `ldaps://${host}`, bindDn: `Administrator@${REALM}`, password: PASSWORD, caFile };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await halt(running);
    live.delete(running.child);
    rmSync(d, { recursive: true, force: true });
    lease.release();
  };
  return {
    host, ldapPort: 389, ldapsPort: 636, caFile, realm: 'EXAMPLE.TEST', netbios: 'EXAMPLE', baseDn: 'DC=example,DC=test',
    bindDn: `Administrator@${REALM}`, password: PASSWORD, dir: d, admin,
    ldapModify: (ldif) => toolModify(admin, ldif),
    samba: (...args) => sambaTool(d, host, args),
    sockets: () => listeningSockets(running.child.pid!),
    stop, fixture: sambaFixture,
    get pid() { return running.child.pid; },
    [Symbol.asyncDispose]: stop,
  };
}
