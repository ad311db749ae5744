/**
 * A socketmap server (Postfix ≥ 2.10, socketmap_table(5)) over TCP or a UNIX socket.
 *
 * Postfix keeps one persistent connection per process and lookup server, sends one request and
 * waits for its reply (no pipelining), closes a connection idle for 10 s or older than 100 s, and
 * retries a request once when the server closed the connection (dict_sockmap.c). So: requests of
 * one connection are answered strictly in order; many connections are served at once.
 *
 * Robustness: a framing error or a request over `maxRequestBytes` closes that connection (the
 * stream cannot be resynchronized) and never affects another one; a connection silent for
 * `idleTimeoutMs` is closed; connections beyond `maxConnections` are refused at accept. The
 * resolver never rejects (maps.ts turns store failures into TEMP); if it did, the reply is TEMP.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { NetstringDecoder, encodeNetstring } from './netstring.ts';
import { formatReply, parseRequest, type SocketmapReply, type SocketmapRequest } from './socketmap.ts';

export interface SocketmapServerOptions {
  /** TCP: host and port (0 = any free port); or `path` for a UNIX-domain socket. */
  host?: string;
  port?: number;
  path?: string;
  resolve: (request: SocketmapRequest) => Promise<SocketmapReply>;
  /** Largest request payload accepted (default 8192 bytes: a map name, a space and a key). */
  maxRequestBytes?: number;
  /** Close a connection that sends nothing for this long (default 60,000 ms; Postfix closes at 10 s idle). */
  idleTimeoutMs?: number;
  /** Connections open at once; more are refused (default 1024). */
  maxConnections?: number;
  /** Protocol events worth a log line: bad requests, refused connections. No key values. */
  onEvent?: (event: SocketmapEvent) => void;
}

export type SocketmapEvent =
  | { kind: 'framing_error'; message: string; remote: string }
  | { kind: 'bad_request'; remote: string }
  | { kind: 'idle_timeout'; remote: string }
  | { kind: 'resolver_error'; error: unknown };

export interface SocketmapServer extends AsyncDisposable {
  /** `host:port` or the socket path. */
  readonly listening: string;
  readonly port: number | null;
  /** Connections open now. */
  readonly connections: number;
  /** Requests answered since start. */
  readonly answered: number;
  /**
   * Graceful stop: no new connections; requests already received are answered; then every
   * connection is closed. Connections still busy after `graceMs` (default 5000) are destroyed.
   */
  close(graceMs?: number): Promise<void>;
}

interface Conn {
  socket: Socket;
  busy: boolean;
}

/** Starts listening; resolves once the socket is bound. */
export async function startSocketmapServer(o: SocketmapServerOptions): Promise<SocketmapServer> {
  const maxRequest = o.maxRequestBytes ?? 8192;
  const idleMs = o.idleTimeoutMs ?? 60_000;
  const conns = new Set<Conn>();
  let answered = 0;
  let closing = false;
  const event = (e: SocketmapEvent): void => {
    try {
      o.onEvent?.(e);
    } catch {
      /* a logger must not break the server */
    }
  };

  const server: Server = createServer({ noDelay: true }, (socket) => serve(socket));
  server.maxConnections = o.maxConnections ?? 1024;

  function serve(socket: Socket): void {
    const conn: Conn = { socket, busy: false };
    conns.add(conn);
    const remote = socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix';
    const decoder = new NetstringDecoder(maxRequest);
    const queue: Buffer[] = [];
    let broken = false;
    socket.setTimeout(idleMs);
    socket.on('timeout', () => {
      event({ kind: 'idle_timeout', remote });
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => conns.delete(conn));
    socket.on('data', (chunk: Buffer) => {
      if (closing && !conn.busy) return; // ended by close(): nothing more is answered
      const { frames, error } = decoder.push(chunk);
      queue.push(...frames);
      if (error !== null) {
        // Requests completed before the bad bytes are answered; then the connection closes.
        event({ kind: 'framing_error', message: error.message, remote });
        broken = true;
        socket.pause();
      }
      if (!conn.busy) void drain();
    });

    async function drain(): Promise<void> {
      conn.busy = true;
      // Pause reading while answering: one request at a time per connection, bounded memory.
      socket.pause();
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const payload = queue.shift()!;
          const request = parseRequest(payload);
          let reply: SocketmapReply;
          if (request === null) {
            event({ kind: 'bad_request', remote });
            reply = { kind: 'PERM', reason: 'bad request: expected "<map> <key>" in UTF-8' };
          } else {
            try {
              reply = await o.resolve(request);
            } catch (e) {
              event({ kind: 'resolver_error', error: e });
              reply = { kind: 'TEMP', reason: 'roster lookup failed' };
            }
          }
          if (socket.destroyed) return;
          socket.write(encodeNetstring(formatReply(reply)));
          answered++;
        }
      } finally {
        conn.busy = false;
        if (broken) socket.destroySoon();
        else if (closing) socket.end();
        else if (!socket.destroyed) socket.resume();
      }
    }
  }

  if (o.path !== undefined) server.listen(o.path);
  else server.listen(o.port ?? 0, o.host ?? '127.0.0.1');
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? (addr as AddressInfo).port : null;
  const listening = typeof addr === 'string' ? addr : `${o.host?.includes(':') ? `[${o.host}]` : (o.host ?? '127.0.0.1')}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (graceMs = 5000): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((res) => server.close(() => res()));
      for (const c of conns) if (!c.busy) c.socket.end();
      const deadline = setTimeout(() => {
        for (const c of conns) c.socket.destroy();
      }, graceMs);
      deadline.unref();
      await stopped;
      clearTimeout(deadline);
    })());

  return {
    listening,
    port,
    get connections() {
      return conns.size;
    },
    get answered() {
      return answered;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
