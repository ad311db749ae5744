/**
 * A PRIVATE Postfix instance for the recipient-validation tests (Debian's `postfix` package,
 * installed when missing with debconf "No configuration", so the system instance is never
 * configured or started). Everything lives under one temp dir: config_directory (main.cf,
 * master.cf), queue_directory, data_directory and the mail log (maillog_file via postlogd).
 *
 * master.cf holds only smtpd on 127.0.0.1:<free port> and the internal services it needs; every
 * service runs with chroot n. main.cf: inet_interfaces = 127.0.0.1, no local delivery
 * (mydestination empty, no system aliases), the relay domains and recipients answered by a
 * socketmap server (`roster postfix serve`), smtpd_reject_unlisted_recipient = yes, and
 * relay_transport = discard so that nothing could ever leave the machine. Started with
 * `postfix -c <dir> start`, stopped with `postfix -c <dir> stop`; leftovers are killed by the pid
 * master wrote (and its children). Never touches /etc/postfix or port 25.
 *
 * Also: `postmapQuery()` runs `postmap -c <dir> -q` (the lookup exactly as Postfix's own client
 * does it), and `smtpSession()` speaks plain SMTP to the instance (EHLO, MAIL FROM, RCPT TO).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from './debian.ts';
import { freePort, waitForPort } from './ports.ts';
import { REPO_ROOT } from './cli.ts';

export interface PostfixOptions {
  /** The socketmap server Postfix asks: `inet:127.0.0.1:<port>` or `unix:/path`. */
  socketmap: string;
  /** relay_domains: these names, or (default) the socketmap `domain` map. */
  relayDomains?: string[];
  /** Also rewrite aliases to primaries through the `alias` map (virtual_alias_maps). */
  aliasMap?: boolean;
  /** Extra main.cf lines. */
  extraMain?: string[];
}

export interface PostfixInstance extends AsyncDisposable {
  dir: string;
  configDir: string;
  smtpPort: number;
  /** The mail log so far (maillog_file). */
  log(): string;
  stop(): Promise<void>;
}

const POSTFIX_SBIN = '/usr/sbin/postfix';

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function idOf(user: string): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim()),
  };
}

function mainCf(dir: string, port: number, o: PostfixOptions): string {
  const map = (name: string) => `socketmap:${o.socketmap}:${name}`;
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${join(dir, 'spool')}`,
    `data_directory = ${join(dir, 'data')}`,
    `maillog_file = ${join(dir, 'maillog')}`,
    `maillog_file_prefixes = ${dir}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = mx.roster-test.invalid',
    'mydomain = roster-test.invalid',
    'myorigin = $myhostname',
    'mydestination =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'alias_maps =',
    'alias_database =',
    'local_recipient_maps =',
    'smtpd_peername_lookup = no',
    'smtpd_banner = $myhostname ESMTP',
    'biff = no',
    'append_dot_mydomain = no',
    'smtputf8_enable = yes',
    // Recipient validation by Roster (docs/POSTFIX.md):
    `relay_domains = ${o.relayDomains !== undefined ? o.relayDomains.join(', ') : map('domain')}`,
    `relay_recipient_maps = ${map('recipient')}`,
    ...(o.aliasMap === true ? [`virtual_alias_maps = ${map('alias')}`] : []),
    'smtpd_reject_unlisted_recipient = yes',
    // The test client on 127.0.0.1 gets no relay permission: only the relay domains are accepted.
    'smtpd_relay_restrictions = reject_unauth_destination',
    // Nothing is ever delivered: accepted mail would be discarded, not relayed.
    'relay_transport = discard:',
    'default_transport = discard:',
    ...(o.extraMain ?? []),
    `# smtpd listens on 127.0.0.1:${port} (master.cf)`,
    '',
  ].join('\n');
}

function masterCf(port: number): string {
  const svc = (name: string, type: string, priv: string, wakeup: string, limit: string, cmd: string) =>
    `${name.padEnd(10)} ${type.padEnd(10)} ${priv} - n ${wakeup} ${limit} ${cmd}`;
  return [
    svc(`127.0.0.1:${port}`, 'inet', 'n', '-', '-', 'smtpd'),
    svc('cleanup', 'unix', 'n', '-', '0', 'cleanup'),
    svc('qmgr', 'unix', 'n', '300', '1', 'qmgr'),
    svc('rewrite', 'unix', '-', '-', '-', 'trivial-rewrite'),
    svc('bounce', 'unix', '-', '-', '0', 'bounce'),
    svc('defer', 'unix', '-', '-', '0', 'bounce'),
    svc('trace', 'unix', '-', '-', '0', 'bounce'),
    svc('verify', 'unix', '-', '-', '1', 'verify'),
    svc('proxymap', 'unix', '-', '-', '-', 'proxymap'),
    svc('error', 'unix', '-', '-', '-', 'error'),
    svc('retry', 'unix', '-', '-', '-', 'error'),
    svc('discard', 'unix', '-', '-', '-', 'discard'),
    svc('anvil', 'unix', '-', '-', '1', 'anvil'),
    svc('scache', 'unix', '-', '-', '1', 'scache'),
    svc('postlog', 'unix-dgram', 'n', '-', '1', 'postlogd'),
    '',
  ].join('\n');
}

/** master's pid from its pid file, or null. */
function masterPid(dir: string): number | null {
  const f = join(dir, 'spool', 'pid', 'master.pid');
  if (!existsSync(f)) return null;
  const n = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(n) && n > 1 ? n : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs master (by its pid file) and the processes it started. */
function killLeftovers(dir: string): void {
  const pid = masterPid(dir);
  if (pid === null || !alive(pid)) return;
  const children = run('ps', ['-o', 'pid=', '--ppid', String(pid)]).out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
  for (const p of [pid, ...children]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Starts a private Postfix; throws (with the log) when it does not come up. */
export async function startPostfix(o: PostfixOptions): Promise<PostfixInstance> {
  ensurePackages('postfix');
  const dir = mkdtempSync(join(tmpdir(), 'roster-postfix-'));
  chmodSync(dir, 0o755); // the postfix user must reach data/ and the queue
  const configDir = join(dir, 'etc');
  mkdirSync(configDir);
  mkdirSync(join(dir, 'spool'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const pf = idOf('postfix');
  chownSync(data, pf.uid, pf.gid);
  const smtpPort = await freePort();
  writeFileSync(join(configDir, 'main.cf'), mainCf(dir, smtpPort, o));
  writeFileSync(join(configDir, 'master.cf'), masterCf(smtpPort));
  const log = (): string => (existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    run(POSTFIX_SBIN, ['-c', configDir, 'stop']);
    const pid = masterPid(dir);
    for (let i = 0; i < 50 && pid !== null && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    killLeftovers(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = (): void => {
    killLeftovers(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  // `postfix check` creates the queue's subdirectories with their owners and modes.
  const checked = run(POSTFIX_SBIN, ['-c', configDir, 'check']);
  const started = run(POSTFIX_SBIN, ['-c', configDir, 'start']);
  try {
    if (started.status !== 0) throw new Error(`postfix start exited ${started.status}: ${checked.out}${started.out}`);
    await waitForPort(smtpPort, '127.0.0.1', 20_000);
  } catch (e) {
    const tail = log().slice(-3000);
    await stop();
    throw new Error(`private Postfix did not start: ${(e as Error).message}\n${tail}`);
  }
  return { dir, configDir, smtpPort, log, stop, [Symbol.asyncDispose]: stop };
}

/**
 * `postmap -c <configDir> -q <key> <table>`: the value (exit 0), null otherwise; postmap exits 1
 * both for "not found" and for a fatal lookup error, `out` (stdout + stderr) tells them apart.
 * Asynchronous on purpose: a fault proxy in this process must keep forwarding meanwhile.
 */
export async function postmapQuery(configDir: string, key: string, table: string): Promise<{ value: string | null; status: number; out: string }> {
  const child = spawn('/usr/sbin/postmap', ['-c', configDir, '-q', key, table], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const status = await new Promise<number>((res) => child.once('close', (code) => res(code ?? -1)));
  clearTimeout(timer);
  return { value: status === 0 ? stdout.replace(/\n$/, '') : null, status, out: `${stdout}${stderr}` };
}

export interface SmtpReply {
  code: number;
  /** The enhanced status code (e.g. "5.1.1"), when the server sent one. */
  enhanced: string | null;
  text: string;
}

export interface SmtpSession {
  banner: SmtpReply;
  /** Sends one command line and reads the (possibly multi-line) reply. */
  command(line: string): Promise<SmtpReply>;
  rcpt(address: string): Promise<SmtpReply>;
  quit(): Promise<void>;
}

/** Opens an SMTP session: reads the banner, sends EHLO and MAIL FROM (both must be 2xx). */
export async function smtpSession(port: number, o: { helo?: string; from?: string; smtputf8?: boolean } = {}): Promise<SmtpSession> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let buffer = '';
  let waiter: (() => void) | null = null;
  let ended = false;
  socket.on('data', (d: string) => {
    buffer += d;
    waiter?.();
  });
  socket.on('close', () => {
    ended = true;
    waiter?.();
  });
  socket.on('error', () => {});
  const readReply = async (): Promise<SmtpReply> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const lines = buffer.split('\r\n');
      const last = lines.findIndex((l) => /^\d{3} /.test(l) || /^\d{3}$/.test(l));
      if (last >= 0) {
        const replyLines = lines.slice(0, last + 1);
        buffer = lines.slice(last + 1).join('\r\n');
        const code = Number(replyLines[last]!.slice(0, 3));
        const text = replyLines.map((l) => l.slice(4)).join('\n');
        const enhanced = /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(replyLines[last]!.slice(4))?.[1] ?? null;
        return { code, enhanced, text };
      }
      if (ended) throw new Error(`SMTP server closed the connection; got: ${buffer}`);
      if (Date.now() > deadline) throw new Error(`no SMTP reply within 30 s; got: ${buffer}`);
      await new Promise<void>((res) => {
        waiter = res;
        setTimeout(res, 1000);
      });
      waiter = null;
    }
  };
  const command = async (line: string): Promise<SmtpReply> => {
    socket.write(`${line}\r\n`);
    return readReply();
  };
  const banner = await readReply();
  if (banner.code !== 220) throw new Error(`SMTP banner: ${banner.code} ${banner.text}`);
  const ehlo = await command(`EHLO ${o.helo ?? 'client.roster-test.invalid'}`);
  if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
  const from = await command(`MAIL FROM:<${o.from ?? 'sender@sender.invalid'}>${o.smtputf8 === true ? ' SMTPUTF8' : ''}`);
  if (from.code !== 250) throw new Error(`MAIL FROM: ${from.code} ${from.text}`);
  return {
    banner,
    command,
    rcpt: (address) => command(`RCPT TO:<${address}>`),
    async quit() {
      if (!ended) {
        await command('QUIT').catch(() => undefined);
        socket.destroy();
      }
    },
  };
}

// `node test/helpers/postfix.ts inet:127.0.0.1:10027` starts an instance against that socketmap
// server and keeps it until SIGINT/SIGTERM (for trying things by hand).
if (import.meta.main) {
  const p = await startPostfix({ socketmap: process.argv[2] ?? 'inet:127.0.0.1:10027', aliasMap: true });
  console.log(`postfix smtpd on 127.0.0.1:${p.smtpPort}, config ${p.configDir}`);
  const keep = setInterval(() => {}, 1 << 30);
  const stop = (): void => {
    clearInterval(keep);
    void p.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export interface RosterServe {
  port: number;
  pid: number;
  /** What the server printed on stderr so far. */
  stderr(): string;
  /** SIGTERM; resolves with the exit code and stdout. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `roster postfix serve --listen 127.0.0.1:<free port>` as a child process with the given
 * ROSTER_* environment; resolves once it printed its "listening on" line (throws after 20 s).
 */
export async function startRosterServe(env: Record<string, string>, extraArgs: string[] = []): Promise<RosterServe> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--no-warnings', join(REPO_ROOT, 'src/cli/main.ts'), 'postfix', 'serve', '--listen', `127.0.0.1:${port}`, '--json', ...extraArgs], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env['ROSTER_DATA_DIR'] ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const deadline = Date.now() + 20_000;
  while (!err.includes('listening on')) {
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
    if (done) throw new Error(`roster postfix serve exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`roster postfix serve printed no "listening on" line in 20 s: ${err}`);
    }
  }
  return {
    port,
    pid: child.pid!,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      return { code, stdout: out, stderr: err };
    },
  };
}
