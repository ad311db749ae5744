/**
 * The socketmap server over real TCP sockets, answering from a real store (SQLite; PostgreSQL
 * behind a loopback fault proxy for the failure cases).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../store/db.ts';
import { startPostgres, type TestPostgres } from '../../test/helpers/postgres.ts';
import { startFaultProxy } from '../../test/helpers/tcp-fault.ts';
import { connectSocketmap } from './client.ts';
import { encodeNetstring } from './netstring.ts';
import { createResolver, type Resolver } from './maps.ts';
import { startSocketmapServer, type SocketmapEvent, type SocketmapServer } from './server.ts';
import { showReply } from './socketmap.ts';
import { seedHolders } from './test-holders.ts';

let dir: string;
let store: Store;
let resolve: Resolver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-mta-'));
  store = await openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  await seedHolders(store.db);
  resolve = createResolver(store.db);
});

after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const EXPECTED: [string, string, string][] = [
  ['recipient', 'ann@acme.test', 'OK ann@acme.test'],
  ['recipient', 'ANN.B@acme.test', 'OK ann.b@acme.test'],
  ['recipient', 'flag@acme.test', 'NOTFOUND'],
  ['recipient', 'staff@acme.test', 'OK staff@acme.test'],
  ['recipient', 'nobody@acme.test', 'NOTFOUND'],
  ['alias', 'ann.b@acme.test', 'OK ann@acme.test'],
  ['alias', 'ann@acme.test', 'NOTFOUND'],
  ['domain', 'acme.test', 'OK acme.test'],
  ['domain', 'other.test', 'NOTFOUND'],
];

async function withServer(o: Partial<Parameters<typeof startSocketmapServer>[0]>, fn: (s: SocketmapServer, events: SocketmapEvent[]) => Promise<void>): Promise<void> {
  const events: SocketmapEvent[] = [];
  const server = await startSocketmapServer({ resolve, onEvent: (e) => events.push(e), ...o });
  try {
    await fn(server, events);
  } finally {
    await server.close(1000);
  }
}

/** Resolves with every byte the server sent until it closed the connection (or rejects after ms). */
function rawExchange(port: number, send: Buffer[], ms = 5000): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error(`server kept the connection open for ${ms} ms; got ${Buffer.concat(got).toString()}`));
    }, ms);
    s.on('data', (b) => got.push(b));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      res(Buffer.concat(got).toString());
    });
    s.on('connect', () => {
      for (const b of send) s.write(b);
    });
  });
}

describe('socketmap server', () => {
  test('R61 one persistent connection answers 1,000 requests in order', async () => {
    await withServer({}, async (server) => {
      await using c = await connectSocketmap({ port: server.port! });
      for (let i = 0; i < 1000; i++) {
        const [map, key, want] = EXPECTED[i % EXPECTED.length]!;
        assert.equal(showReply(await c.lookup(map, key)), want, `${i}: ${map} ${key}`);
      }
      assert.equal(server.answered, 1000);
    });
  });

  test('R61 requests pipelined in one write are answered in order', async () => {
    await withServer({}, async (server) => {
      await using c = await connectSocketmap({ port: server.port! });
      const replies = await Promise.all(EXPECTED.map(([map, key]) => c.lookup(map, key)));
      assert.deepEqual(replies.map(showReply), EXPECTED.map((e) => e[2]));
    });
  });

  test('R61 200 concurrent persistent clients, 20 lookups each, all answered correctly', async () => {
    await withServer({}, async (server) => {
      const clients = await Promise.all(Array.from({ length: 200 }, () => connectSocketmap({ port: server.port! })));
      await Promise.all(clients.map(async (c, n) => {
        for (let i = 0; i < 20; i++) {
          const [map, key, want] = EXPECTED[(n + i) % EXPECTED.length]!;
          assert.equal(showReply(await c.lookup(map, key)), want);
        }
      }));
      assert.equal(server.connections, 200, 'every client kept its one connection');
      await Promise.all(clients.map((c) => c.close()));
      assert.equal(server.answered, 4000);
    });
  });

  test('a framing error closes only that connection; the others and new ones keep working', async () => {
    await withServer({}, async (server, events) => {
      await using good = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await good.lookup('recipient', 'ann@acme.test')), 'OK ann@acme.test');
      const got = await rawExchange(server.port!, [encodeNetstring('recipient ann@acme.test'), Buffer.from('recipient ann@acme.test\n')]);
      assert.equal(got, '16:OK ann@acme.test,', 'the good request before the bad bytes is answered, then the connection closes');
      assert.equal(events.filter((e) => e.kind === 'framing_error').length, 1);
      assert.equal(showReply(await good.lookup('recipient', 'ann@acme.test')), 'OK ann@acme.test');
      await using fresh = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await fresh.lookup('alias', 'ann.b@acme.test')), 'OK ann@acme.test');
    });
  });

  test('an oversized request is refused as soon as its length is read: the connection closes without an answer', async () => {
    await withServer({ maxRequestBytes: 512 }, async (server, events) => {
      // Only the length arrives: the server does not wait for 100,000 bytes.
      assert.equal(await rawExchange(server.port!, [Buffer.from('100000:recipient ')]), '');
      assert.equal(await rawExchange(server.port!, [encodeNetstring(`recipient ${'a'.repeat(600)}@acme.test`)]), '');
      const f = events.filter((e) => e.kind === 'framing_error');
      assert.equal(f.length, 2);
      assert.match((f[0] as { message: string }).message, /longer than 512 bytes/);
      await using c = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await c.lookup('recipient', `${'a'.repeat(400)}@acme.test`)), 'NOTFOUND', 'within the limit: answered');
    });
  });

  test('a request that is no "<map> <key>" is PERM and the connection stays usable; an unknown map is PERM', async () => {
    await withServer({}, async (server) => {
      await using c = await connectSocketmap({ port: server.port! });
      // "<empty map> <key>" is no request: PERM, and the same connection goes on.
      assert.equal(showReply(await c.lookup('', 'ann@acme.test')), 'PERM bad request: expected "<map> <key>" in UTF-8');
      assert.equal(showReply(await c.lookup('recipient', 'ann@acme.test')), 'OK ann@acme.test');
      assert.match(showReply(await c.lookup('virtual', 'ann@acme.test')), /^PERM unknown map "virtual"/);
      assert.equal(server.answered, 3);
    });
  });

  test('an idle connection, or one stuck in the middle of a request, is closed after the idle timeout', async () => {
    await withServer({ idleTimeoutMs: 300 }, async (server, events) => {
      const t0 = performance.now();
      const [silent, partial] = await Promise.all([rawExchange(server.port!, [], 3000), rawExchange(server.port!, [Buffer.from('23:recipient ann')], 3000)]);
      const ms = performance.now() - t0;
      assert.equal(silent, '');
      assert.equal(partial, '');
      assert.ok(ms >= 250 && ms < 2500, `closed after ${ms.toFixed(0)} ms`);
      assert.equal(events.filter((e) => e.kind === 'idle_timeout').length, 2);
      // A connection in use is not idle.
      await using c = await connectSocketmap({ port: server.port! });
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(showReply(await c.lookup('domain', 'acme.test')), 'OK acme.test');
      }
    });
  });

  test('connections beyond maxConnections are refused; the open ones are served', async () => {
    await withServer({ maxConnections: 2 }, async (server) => {
      await using a = await connectSocketmap({ port: server.port! });
      await using b = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await a.lookup('domain', 'acme.test')), 'OK acme.test');
      assert.equal(await rawExchange(server.port!, [encodeNetstring('domain acme.test')]), '', 'third connection closed unanswered');
      assert.equal(showReply(await b.lookup('domain', 'acme.test')), 'OK acme.test');
    });
  });

  test('graceful close: a request being answered gets its answer, then connections close and new ones are refused', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Resolver = async (req) => {
      await gate;
      return resolve(req);
    };
    const server = await startSocketmapServer({ resolve: slow });
    const busy = await connectSocketmap({ port: server.port! });
    const idle = await connectSocketmap({ port: server.port! });
    const pending = busy.lookup('recipient', 'ann@acme.test');
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close(5000);
    await idle.closed; // the idle connection is closed at once
    release();
    assert.equal(showReply(await pending), 'OK ann@acme.test');
    await busy.closed;
    await closing;
    await assert.rejects(connectSocketmap({ port: server.port! }), /ECONNREFUSED/);
  });

  test('a resolver that throws yields TEMP, never a crash', async () => {
    await withServer({ resolve: async () => { throw new Error('boom'); } }, async (server, events) => {
      await using c = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await c.lookup('recipient', 'ann@acme.test')), 'TEMP roster lookup failed');
      assert.equal(events.filter((e) => e.kind === 'resolver_error').length, 1);
    });
  });
});

describe('socketmap server on a failing PostgreSQL store', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  test('R61 a stalled store answers TEMP at the lookup timeout; a store whose server is gone answers TEMP; the server process survives both', async () => {
    const url = new URL(await pg.createDatabase());
    const direct = await openStore({ url: url.href });
    await seedHolders(direct.db);
    await direct.close();
    const proxy = await startFaultProxy({ target: { host: url.hostname, port: Number(url.port) } });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const viaProxy = await openStore({ url: url.href });
    const errors: unknown[] = [];
    const server = await startSocketmapServer({ resolve: createResolver(viaProxy.db, { timeoutMs: 400, onStoreError: (e) => errors.push(e) }) });
    try {
      await using c = await connectSocketmap({ port: server.port! });
      assert.equal(showReply(await c.lookup('recipient', 'ann@acme.test')), 'OK ann@acme.test');
      proxy.setFault({ kind: 'stall', atByte: 0, direction: 'toClient' });
      const t0 = performance.now();
      assert.equal(showReply(await c.lookup('recipient', 'ann@acme.test')), 'TEMP roster store lookup timed out after 400 ms');
      const ms = performance.now() - t0;
      assert.ok(ms >= 380 && ms < 2000, `TEMP after ${ms.toFixed(0)} ms`);
      // The store's server goes away: the stalled connection ends mid-query (pg emits 'error' on a
      // checked-out client: it must not crash the process), new connections are refused.
      await proxy.stop();
      const t1 = performance.now();
      assert.equal(showReply(await c.lookup('recipient', 'ann@acme.test')), 'TEMP roster store unavailable');
      assert.ok(performance.now() - t1 < 380, 'a refused store is reported at once, not at the timeout');
      assert.equal(errors.length, 2);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(showReply(await c.lookup('domain', 'acme.test')), 'TEMP roster store unavailable');
    } finally {
      await server.close(1000);
      await viaProxy.close().catch(() => {});
    }
  });
});
