/**
 * The fault proxy against a tiny echo server on loopback: each fault does exactly what it says
 * at the byte it says (the R5 suite relies on these offsets).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { startFaultProxy, type Fault } from './tcp-fault.ts';

let echo: Server;
let echoPort = 0;
const received: Buffer[] = [];
const PATTERN = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 0xff));

before(async () => {
  echo = createServer((s) => {
    s.on('data', (b: Buffer) => { received.push(b); s.write(b); });
    s.on('error', () => undefined);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as { port: number }).port;
});
after(() => new Promise<void>((res) => echo.close(() => res())));

interface Outcome { data: Buffer; ended: boolean; error: string | null; open: boolean; times: number[] }

/** Sends PATTERN through a proxy with `fault`, collects what comes back for `waitMs`. */
async function through(fault: Fault, waitMs = 400): Promise<Outcome & { proxy: { bytesToClient: number; bytesToServer: number; fired: readonly string[] } }> {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort }, fault });
  try {
    const s: Socket = connect({ host: proxy.host, port: proxy.port });
    await once(s, 'connect');
    const chunks: Buffer[] = [];
    const times: number[] = [];
    const t0 = performance.now();
    const o: Outcome = { data: Buffer.alloc(0), ended: false, error: null, open: true, times };
    s.on('data', (b: Buffer) => { chunks.push(b); times.push(performance.now() - t0); });
    s.on('end', () => { o.ended = true; });
    s.on('error', (e: NodeJS.ErrnoException) => { o.error = e.code ?? e.message; });
    s.on('close', () => { o.open = false; });
    s.write(PATTERN);
    await new Promise((r) => setTimeout(r, waitMs));
    o.data = Buffer.concat(chunks);
    s.destroy();
    return { ...o, proxy: { bytesToClient: proxy.bytesToClient, bytesToServer: proxy.bytesToServer, fired: [...proxy.fired] } };
  } finally {
    await proxy.stop();
  }
}

test('none: every byte goes both ways, counted', async () => {
  const r = await through({ kind: 'none' });
  assert.deepEqual(r.data, PATTERN);
  assert.equal(r.proxy.bytesToClient, PATTERN.length);
  assert.equal(r.proxy.bytesToServer, PATTERN.length);
  assert.deepEqual(r.proxy.fired, []);
});

test('cut: exactly atByte bytes reach the client, then a clean close', async () => {
  const r = await through({ kind: 'cut', atByte: 3000 });
  assert.deepEqual(r.data, PATTERN.subarray(0, 3000));
  assert.equal(r.ended, true);
  assert.equal(r.error, null);
  assert.equal(r.open, false);
  assert.deepEqual(r.proxy.fired, ['cut@3000']);
});

test('cut at byte 0 closes before anything is forwarded', async () => {
  const r = await through({ kind: 'cut', atByte: 0 });
  assert.equal(r.data.length, 0);
  assert.equal(r.open, false);
});

test('reset: atByte bytes, then ECONNRESET', async () => {
  const r = await through({ kind: 'reset', atByte: 4321 });
  assert.deepEqual(r.data, PATTERN.subarray(0, 4321));
  assert.equal(r.error, 'ECONNRESET');
  assert.equal(r.open, false);
});

test('stall: atByte bytes, then silence with the socket still open', async () => {
  const r = await through({ kind: 'stall', atByte: 1234 }, 500);
  assert.deepEqual(r.data, PATTERN.subarray(0, 1234));
  assert.equal(r.open, true, 'a stalled connection stays open');
  assert.equal(r.ended, false);
  assert.equal(r.error, null);
});

test('corrupt: the byte at atByte is flipped (or replaced), the rest is intact', async () => {
  const r = await through({ kind: 'corrupt', atByte: 5000 });
  assert.equal(r.data.length, PATTERN.length);
  const want = Buffer.from(PATTERN);
  want[5000] = want[5000]! ^ 0xff;
  assert.deepEqual(r.data, want);
  const r2 = await through({ kind: 'corrupt', atByte: 9998, bytes: [1, 2, 3, 4] });
  const want2 = Buffer.from(PATTERN);
  want2[9998] = 1; want2[9999] = 2; // cut to the stream's length
  assert.deepEqual(r2.data, want2);
});

test('pause: nothing lost, the bytes after atByte arrive at least ms later', async () => {
  const r = await through({ kind: 'pause', atByte: 2000, ms: 300 }, 700);
  assert.deepEqual(r.data, PATTERN);
  assert.ok(r.times.at(-1)! >= 290, `last bytes after ${r.times.at(-1)} ms`);
});

test('toServer: a cut in the client → server direction stops what the server gets', async () => {
  received.length = 0;
  const r = await through({ kind: 'cut', atByte: 100, direction: 'toServer' });
  assert.equal(Buffer.concat(received).length, 100);
  assert.equal(r.proxy.bytesToServer, 100);
  assert.equal(r.open, false);
});

test('setFault applies to new connections; only loopback targets are accepted', async () => {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort }, fault: { kind: 'cut', atByte: 10 } });
  try {
    proxy.setFault({ kind: 'none' });
    const s = connect({ host: proxy.host, port: proxy.port });
    s.write('hello');
    const [b] = (await once(s, 'data')) as [Buffer];
    assert.equal(b.toString(), 'hello');
    s.destroy();
    assert.equal(proxy.connections, 1);
  } finally {
    await proxy.stop();
  }
  await assert.rejects(startFaultProxy({ target: { host: '10.0.0.1', port: 389 } }), /not a loopback/);
});
