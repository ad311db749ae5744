/**
 * Host-side helpers for the Samba harness: leasing a free loopback address 127.0.0.x (Samba's
 * LDAP/RPC ports are fixed, so each DC needs its own address), listing the listening sockets of
 * a process tree, and running commands without echoing secrets.
 */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const TCP_PORTS = [53, 88, 135, 139, 389, 445, 464, 636, 3268, 3269];
const UDP_PORTS = [53, 88, 389, 464];

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind({ address: host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

export interface AddressLease { host: string; release(): void }

const held = new Set<string>();
process.on('exit', () => { for (const f of held) rmSync(f, { force: true }); });

/** Takes the lock file of one address; false when a live process holds it. */
function lock(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch {
      const pid = Number(readFileSync(file, { encoding: 'utf8', flag: 'r' }).trim() || 'NaN');
      if (Number.isFinite(pid) && alive(pid)) return false;
      rmSync(file, { force: true }); // stale: its owner died
    }
  }
  return false;
}

/**
 * Leases the lowest address 127.0.0.x (x in 2..250) that no other test process holds and whose
 * Samba ports are all free (checked by binding them). Release it when the DC is gone.
 */
export async function acquireAddress(): Promise<AddressLease> {
  for (let x = 2; x <= 250; x++) {
    const host = `127.0.0.${x}`;
    const file = `/tmp/roster-samba-addr-${host}.lock`;
    if (!lock(file)) continue;
    let free = true;
    for (const p of TCP_PORTS) if (!(await tcpFree(host, p))) { free = false; break; }
    if (free) for (const p of UDP_PORTS) if (!(await udpFree(host, p))) { free = false; break; }
    if (!free) { rmSync(file, { force: true }); continue; }
    held.add(file);
    return { host, release: () => { held.delete(file); rmSync(file, { force: true }); } };
  }
  throw new Error('no free loopback address 127.0.0.2–250 for a Samba DC');
}

export interface Socket { proto: 'tcp' | 'udp'; address: string; port: number; pid: number; process: string }

/**
 * `rootPid` and all its descendants. By parentage, not session: Samba's smbd and winbindd call
 * setsid() and would escape a process-group or session view.
 */
export function processTree(rootPid: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || !Number.isFinite(pid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const tree = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length > 0) for (const c of children.get(queue.pop()!) ?? []) if (!tree.has(c)) { tree.add(c); queue.push(c); }
  return tree;
}

/** Listening TCP and bound UDP sockets of `rootPid` and its descendants. */
export function listeningSockets(rootPid: number): Socket[] {
  const pids = processTree(rootPid);
  const out: Socket[] = [];
  const ss = execFileSync('ss', ['-ltunpH'], { encoding: 'utf8' });
  for (const line of ss.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const local = cols[4]!;
    const i = local.lastIndexOf(':');
    const address = local.slice(0, i).replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const port = Number(local.slice(i + 1));
    for (const m of line.matchAll(/\("([^"]*)",pid=(\d+)/g)) {
      const pid = Number(m[2]);
      if (pids.has(pid)) { out.push({ proto: cols[0] === 'udp' ? 'udp' : 'tcp', address, port, pid, process: m[1]! }); break; }
    }
  }
  return out;
}

/**
 * Runs a command, resolving with stdout; on failure rejects with the command name, its first
 * argument and stderr — never the full argv, which may carry a password.
 */
export function runCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { if (err.length < 50_000) err += b.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${code}): ${err.trim().slice(-4000)}`));
    });
    child.stdin.on('error', () => { /* exit code reports it */ });
    child.stdin.end(input ?? '');
  });
}
