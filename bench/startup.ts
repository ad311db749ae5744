/**
 * Start-up of `roster sync`: time from spawning `bin/roster sync acme main` to the first byte
 * the process sends to its LDAP server (a bare TCP listener on 127.0.0.1 that never answers;
 * the run then fails, which is fine: only the start-up is measured). Also times `--help`.
 *   node --no-warnings bench/startup.ts [--repeat K]
 * The store is a fresh SQLite data dir set up through the CLI (untimed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: argv } = parseArgs({ options: { repeat: { type: 'string', default: '5' } } });
const BIN = new URL('../bin/roster', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'roster-startup-'));
const env = { ...process.env, ROSTER_DATA_DIR: dir };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function cli(args: string[]): void {
  const r = spawnSync(BIN, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`roster ${args.join(' ')}: ${r.stderr}`);
}

try {
  let socket: Socket | undefined;
  let firstByte: (() => void) | undefined;
  const server = createServer((s) => {
    socket = s;
    s.once('data', () => firstByte?.());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'secret\n', { mode: 0o600 });
  cli(['tenants', 'add', 'acme']);
  cli(['domains', 'add', 'example.test', '--tenant', 'acme']);
  cli(['tenants', 'enable-sync', 'acme']);
  cli(['connections', 'add', 'main', '--tenant', 'acme', '--profile', 'openldap', '--server', `ldap://127.0.0.1:${port}`, '--allow-plain-bind',
    '--base-dn', 'dc=example,dc=test', '--bind-dn', 'cn=reader,dc=example,dc=test', '--bind-password-file', pw]);
  const help: number[] = [];
  const sync: number[] = [];
  for (let k = 0; k < Number(argv.repeat); k++) {
    let t = performance.now();
    spawnSync(BIN, ['--help'], { env });
    help.push(performance.now() - t);
    t = performance.now();
    const child = spawn(BIN, ['sync', 'acme', 'main', '--json'], { env, stdio: process.env['STARTUP_STDERR'] ? ['ignore', 'ignore', 'inherit'] : 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((r) => (firstByte = r));
    sync.push(performance.now() - t);
    socket?.destroy();
    await exited;
  }
  server.close();
  console.log(`--help: median ${median(help).toFixed(0)} ms (${help.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`sync to first LDAP byte: median ${median(sync).toFixed(0)} ms (${sync.map((x) => x.toFixed(0)).join(', ')})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
