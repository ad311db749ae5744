/**
 * A private Samba AD DC for tests, on its own loopback address 127.0.0.x (its LDAP/RPC ports
 * cannot move, so one DC per address), with our own smb.conf (no DNS forwarder, trimmed
 * services, every path inside its dir, the test CA's certificate with SAN IP:127.0.0.x) and its
 * own KRB5_CONFIG. Every listening socket of its process tree is checked to be on 127.0.0.x.
 *
 * Provisioning (~6 s) and loading the fixture (~3–5 s online) happen once per fixture version
 * into a template under /tmp (one process builds, others wait); each start copies the template
 * (`cp -a`, ~0.1 s; Samba tolerates the relocated dir since every path comes from the smb.conf
 * we rewrite), starts Samba on the copy and, when the template was built on another address,
 * moves the DC's DNS A record — a fresh domain in about 3 s. An address is held with a lock file
 * (pid inside; stale locks of dead processes are taken over).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackages } from './debian.ts';
import { testPki } from './tls.ts';
import { configure, REALM } from './samba-config.ts';
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

const HARNESS_VERSION = 2;
const PASSWORD = 'Passw0rd!Roster';

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
    writeFileSync(join(tmp, 'template-host'), host);
    try {
      renameSync(tmp, dest);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process finished first: use theirs
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

const aliveOwner = (file: string): boolean => {
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Makes sure the template exists. One process builds (holding `<template>.lock`); others wait
 * for it rather than provisioning in parallel on the same 2 cores.
 */
async function ensureTemplate(host: string, template: string, withFixture: boolean): Promise<void> {
  const lockFile = `${template}.lock`;
  const deadline = Date.now() + 240_000;
  while (!existsSync(template)) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    } catch {
      if (!aliveOwner(lockFile)) { rmSync(lockFile, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`waited too long for another process to build ${template}`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (!existsSync(template)) await buildTemplate(host, template, withFixture);
    } finally {
      rmSync(lockFile, { force: true });
    }
  }
}

/**
 * With the address lease held, nothing else uses this address's instance dirs: remove those of
 * dead test processes. Also remove templates of older harness or fixture versions (~45 MB each)
 * and abandoned half-built ones.
 */
function sweep(host: string): void {
  const current = new Set([0, SAMBA_FIXTURE_VERSION].map((f) => templateName(f)));
  for (const name of readdirSync('/tmp')) {
    const path = join('/tmp', name);
    let stale = name.startsWith(`roster-samba-${host}-`);
    if (name.startsWith('roster-samba-template-')) {
      const base = name.replace(/\.(tmp-.*|lock)$/, '');
      if (!current.has(base)) stale = !name.endsWith('.lock') || !aliveOwner(path);
      else if (name.includes('.tmp-')) stale = Date.now() - statSync(path).mtimeMs > 15 * 60_000;
    }
    if (stale) rmSync(path, { recursive: true, force: true });
  }
}

const templateName = (fixtureVersion: number): string => `roster-samba-template-h${HARNESS_VERSION}-f${fixtureVersion}`;

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
    const template = join('/tmp', templateName(withFixture ? SAMBA_FIXTURE_VERSION : 0));
    sweep(host);
    await ensureTemplate(host, template, withFixture);
    dir = mkdtempSync(`/tmp/roster-samba-${host}-`);
    // cp -a keeps the sysvol's NT ACL xattrs; Samba tolerates the relocated private dir
    // because every path it uses comes from the smb.conf we rewrite.
    execFileSync('cp', ['-a', `${template}/.`, dir]);
    configure(dir, host);
    r = spawnSamba(dir);
    live.add(r.child);
    await waitReady(r, host, caFile);
    // The template may come from another address: move the DC's A record here (SRV → dc1 → host).
    const builtOn = readFileSync(join(dir, 'template-host'), 'utf8').trim();
    if (builtOn !== host) await sambaTool(dir, host, ['dns', 'update', host, 'example.test', 'dc1', 'A', builtOn, host]);
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
