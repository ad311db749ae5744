/**
 * A small socketmap client: one persistent connection, requests answered in order (as Postfix's
 * own client uses it). For the tests, the benchmark and operators' scripts; Postfix itself is the
 * production client.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { NetstringDecoder, encodeNetstring } from './netstring.ts';
import { MAX_REPLY_BYTES, formatRequest, parseReply, type SocketmapReply } from './socketmap.ts';

export interface SocketmapClient extends AsyncDisposable {
  /** Sends `<map> <key>` and resolves with the reply; rejects when the connection fails or closes. */
  lookup(map: string, key: string): Promise<SocketmapReply>;
  /** Sends raw bytes (tests of bad input). */
  writeRaw(bytes: Uint8Array): void;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function connectSocketmap(target: { host?: string; port?: number; path?: string; timeoutMs?: number }): Promise<SocketmapClient> {
  const socket: Socket = target.path !== undefined ? connect({ path: target.path }) : connect({ host: target.host ?? '127.0.0.1', port: target.port ?? 0 });
  socket.setNoDelay(true);
  await Promise.race([once(socket, 'connect'), once(socket, 'error').then(([e]) => Promise.reject(e))]);
  const decoder = new NetstringDecoder(MAX_REPLY_BYTES);
  const waiting: { resolve: (r: SocketmapReply) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | null = null;
  const failAll = (e: Error): void => {
    failure ??= e;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  socket.on('data', (chunk: Buffer) => {
    const { frames, error } = decoder.push(chunk);
    for (const f of frames) {
      const reply = parseReply(f.toString('utf8'));
      const w = waiting.shift();
      if (w === undefined) continue;
      if (reply === null) w.reject(new Error(`bad socketmap reply: ${f.toString('utf8').slice(0, 100)}`));
      else w.resolve(reply);
    }
    if (error !== null) {
      failAll(error);
      socket.destroy();
    }
  });
  socket.on('error', (e) => failAll(e));
  const closed = new Promise<void>((res) => socket.once('close', () => {
    failAll(new Error('socketmap server closed the connection'));
    res();
  }));
  if (target.timeoutMs !== undefined) {
    socket.setTimeout(target.timeoutMs, () => {
      failAll(new Error(`socketmap server did not answer within ${target.timeoutMs} ms`));
      socket.destroy();
    });
  }
  const close = async (): Promise<void> => {
    if (!socket.destroyed) socket.end();
    await closed;
  };
  return {
    lookup(map, key) {
      if (failure !== null) return Promise.reject(failure);
      return new Promise<SocketmapReply>((resolve, reject) => {
        waiting.push({ resolve, reject });
        socket.write(encodeNetstring(formatRequest({ map, key })));
      });
    },
    writeRaw(bytes) {
      socket.write(bytes);
    },
    closed,
    close,
    [Symbol.asyncDispose]: close,
  };
}
