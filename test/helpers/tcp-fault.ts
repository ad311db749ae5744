/**
 * A TCP fault injector on loopback for the R5 fault suite (test/integration/faults-*.test.ts):
 * listens on 127.0.0.1:<free port> and forwards every connection to a real server (slapd, Samba),
 * applying a fault at a chosen byte offset of one direction of each connection.
 *
 * Offsets count per connection from its first byte (a run opens one LDAP connection: bind,
 * rootDSE and pages all flow through it), in the faulted direction: by default server → client.
 * Faults:
 * - none: transparent;
 * - cut: the first `atByte` bytes go through, then the client sees a clean close (FIN) and the
 *   server connection is destroyed;
 * - reset: like cut but the client gets a TCP RST (socket.resetAndDestroy());
 * - stall: the first `atByte` bytes go through, then nothing more in either direction; both
 *   sockets stay open and what arrives is read and dropped ("accepts bytes, never replies");
 * - corrupt: the bytes at `atByte` are replaced by `bytes` (default: the one byte XOR 0xff);
 *   forwarding goes on;
 * - pause: at `atByte` forwarding stops for `ms` milliseconds, then resumes (nothing lost).
 *
 * Invariant: only loopback targets are accepted (never traffic to another address), and stop()
 * destroys every socket it made.
 */
import { createServer, connect, isIP, type Socket, type Server } from 'node:net';
import { once } from 'node:events';

export type FaultDirection = 'toClient' | 'toServer';
export type Fault =
  | { kind: 'none' }
  | { kind: 'cut'; atByte: number; direction?: FaultDirection }
  | { kind: 'reset'; atByte: number; direction?: FaultDirection }
  | { kind: 'stall'; atByte: number; direction?: FaultDirection }
  | { kind: 'corrupt'; atByte: number; bytes?: Buffer | number[]; direction?: FaultDirection }
  | { kind: 'pause'; atByte: number; ms: number; direction?: FaultDirection };

export interface FaultProxy extends AsyncDisposable {
  host: '127.0.0.1';
  port: number;
  /** Applies to bytes forwarded from now on, on open and new connections. */
  setFault(f: Fault): void;
  /** Total bytes forwarded server → client / client → server, over all connections. */
  readonly bytesToClient: number;
  readonly bytesToServer: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /**
   * Chunks the clients sent (first 10,000): connection number (1-based), offset in that
   * connection's client → server stream, length, and how many bytes that connection had sent
   * to the client by then. LDAP clients write one message per chunk, so this locates message
   * boundaries: the n-th request and where the server's answers before it ended.
   */
  readonly clientWrites: readonly { conn: number; at: number; length: number; toClientAt: number }[];
  /** The first `captureBytes` bytes each connection sent to the client (as forwarded, before faults). */
  captured(conn: number): Buffer;
  /** Faults that fired (one per connection and fault), e.g. "cut@300". */
  readonly fired: readonly string[];
  stop(): Promise<void>;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

interface Leg {
  /** Bytes already forwarded (or dropped) in this direction. */
  offset: number;
  done: boolean;
}

/** Starts the proxy; rejects for a non-loopback target. */
export async function startFaultProxy(o: { target: { host: string; port: number }; fault?: Fault; captureBytes?: number }): Promise<FaultProxy> {
  if (!isLoopback(o.target.host)) throw new Error(`fault proxy: target ${o.target.host} is not a loopback address`);
  let fault: Fault = o.fault ?? { kind: 'none' };
  let toClient = 0;
  let toServer = 0;
  let accepted = 0;
  const fired: string[] = [];
  const captures = new Map<number, Buffer[]>();
  const clientWrites: { conn: number; at: number; length: number; toClientAt: number }[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const connNo = ++accepted;
    const upstream = connect({ host: o.target.host, port: o.target.port });
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    let stalled = false;
    const legs: Record<FaultDirection, Leg> = { toClient: { offset: 0, done: false }, toServer: { offset: 0, done: false } };
    const end = (): void => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('end', () => { if (!stalled) upstream.end(); });
    // The client gave up (a timeout closed it): the server side goes too, stalled or not.
    client.on('close', () => upstream.destroy());
    upstream.on('end', () => { if (!stalled) client.end(); });

    const pipe = (from: Socket, to: Socket, dir: FaultDirection): void => {
      const leg = legs[dir];
      const count = (n: number): void => { if (dir === 'toClient') toClient += n; else toServer += n; };
      from.on('data', (chunk: Buffer) => {
        if (dir === 'toServer' && clientWrites.length < 10_000) {
          clientWrites.push({ conn: connNo, at: leg.offset, length: chunk.length, toClientAt: legs.toClient.offset });
        }
        if (dir === 'toClient' && o.captureBytes !== undefined && leg.offset < o.captureBytes) {
          const list = captures.get(connNo) ?? [];
          list.push(Buffer.from(chunk.subarray(0, o.captureBytes - leg.offset)));
          captures.set(connNo, list);
        }
        if (stalled) return; // read and dropped
        const f = fault;
        const applies = f.kind !== 'none' && (f.direction ?? 'toClient') === dir && !leg.done;
        const start = leg.offset;
        leg.offset += chunk.length;
        if (!applies || f.atByte >= start + chunk.length) {
          count(chunk.length);
          to.write(chunk);
          return;
        }
        const at = Math.max(0, f.atByte - start);
        const head = chunk.subarray(0, at);
        leg.done = true;
        fired.push(`${f.kind}@${f.atByte}`);
        count(head.length);
        switch (f.kind) {
          case 'cut':
            to.end(head);
            (to === client ? upstream : client).destroy();
            return;
          case 'reset':
            to.write(head, () => { to.resetAndDestroy(); (to === client ? upstream : client).destroy(); });
            return;
          case 'stall':
            to.write(head);
            stalled = true;
            return;
          case 'corrupt': {
            const out = Buffer.from(chunk);
            const repl = f.bytes === undefined ? Buffer.from([out[at]! ^ 0xff]) : Buffer.from(f.bytes);
            repl.copy(out, at, 0, Math.min(repl.length, out.length - at));
            count(out.length - head.length);
            to.write(out);
            return;
          }
          case 'pause': {
            to.write(head);
            from.pause();
            const rest = chunk.subarray(at);
            setTimeout(() => {
              if (to.destroyed) return;
              count(rest.length);
              to.write(rest);
              from.resume();
            }, f.ms).unref();
            return;
          }
        }
      });
    };
    pipe(upstream, client, 'toClient');
    pipe(client, upstream, 'toServer');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fault proxy: no port');

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((res) => server.close(() => res()));
  };
  return {
    host: '127.0.0.1',
    port: addr.port,
    setFault: (f) => { fault = f; },
    get bytesToClient() { return toClient; },
    get bytesToServer() { return toServer; },
    get connections() { return accepted; },
    get fired() { return fired; },
    get clientWrites() { return clientWrites; },
    captured: (conn) => Buffer.concat(captures.get(conn) ?? []),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
