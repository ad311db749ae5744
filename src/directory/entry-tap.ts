/**
 * Takes the SearchResultEntry messages of chosen searches out of ldapts' message stream before
 * ldapts parses them, so that src/directory can decode them itself (ber-entry.ts). Everything else
 * — bind, the SearchResultDone with its paging cookie, references, other operations — is handed
 * on to ldapts' own parser unchanged, message by message, so ldapts still settles every request,
 * its timeouts and its socket-loss handling (R5: a lost connection still fails the page).
 *
 * How: ldapts reads socket data through `client.messageParser.read(data, map)`; the tap replaces
 * that object by a framing wrapper (one per client, installed on first use) that splits the byte
 * stream into LDAPMessages and routes them. Uses the ldapts internals `messageParser`,
 * `messageDetailsByMessageId` and `socket` (checked by hasTapInternals; safe-paging.test.ts fails
 * when they change shape).
 */
import type { Client } from 'ldapts';

/** Receives the content bytes of one SearchResultEntry protocol op: `buf[start, end)`. */
export type EntrySink = (buf: Buffer, start: number, end: number) => void;

interface ParserLike {
  read(data: Buffer, messageDetailsByMessageId: Map<string, unknown>): void;
}
interface MessageDetails {
  reject(e: Error): void;
}
interface TapInternals {
  messageParser: ParserLike;
  messageDetailsByMessageId: Map<string, MessageDetails>;
  socket?: { destroy(): void } | undefined;
}

export function hasTapInternals(client: Client): boolean {
  const c = client as unknown as Partial<TapInternals>;
  return typeof c.messageParser?.read === 'function' && c.messageDetailsByMessageId instanceof Map;
}

const SEARCH_RESULT_ENTRY = 0x64;
/** SearchResultEntry, SearchResultDone, SearchResultReference. */
const SEARCH_RESULTS = new Set([0x64, 0x65, 0x73]);

/** Header of one BER element at `o`: where its content starts and where it ends; null if incomplete. */
function header(buf: Buffer, o: number): { content: number; end: number } | null {
  if (buf.length - o < 2) return null;
  const first = buf[o + 1]!;
  if (first < 0x80) return { content: o + 2, end: o + 2 + first };
  const n = first & 0x7f;
  if (n === 0 || n > 4) throw new Error(`malformed LDAP message: unsupported length form 0x${first.toString(16)}`);
  if (buf.length - o < 2 + n) return null;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[o + 2 + i]!;
  return { content: o + 2 + n, end: o + 2 + n + len };
}

/** The framing wrapper that replaces ldapts' parser on a tapped client. */
class FramingParser implements ParserLike {
  readonly inner: ParserLike;
  readonly client: TapInternals;
  readonly sinks = new Map<number, EntrySink>();
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** Bytes needed before the pending message can be complete (0: unknown). */
  #need = 0;
  #socket: unknown;

  constructor(inner: ParserLike, client: TapInternals) {
    this.inner = inner;
    this.client = client;
  }

  read(data: Buffer, details: Map<string, unknown>): void {
    // Bytes left from another socket belong to a stream that is gone.
    if (this.client.socket !== this.#socket) {
      this.#socket = this.client.socket;
      this.#chunks = [];
      this.#bytes = 0;
    }
    let buf = data;
    if (this.#bytes > 0) {
      this.#chunks.push(data);
      this.#bytes += data.length;
      // A large message (a group with many members) arrives in many chunks: join them once.
      if (this.#bytes < this.#need) return;
      buf = Buffer.concat(this.#chunks, this.#bytes);
      this.#chunks = [];
      this.#bytes = 0;
    }
    let o = 0;
    try {
      while (o < buf.length) {
        if (buf[o] !== 0x30) throw new Error(`malformed LDAP message: expected a sequence (0x30), got 0x${buf[o]!.toString(16)}`);
        const h = header(buf, o);
        if (h === null || h.end > buf.length) {
          this.#need = h === null ? 0 : h.end - o;
          this.#chunks = [buf.subarray(o)];
          this.#bytes = buf.length - o;
          return;
        }
        this.#route(buf, o, h.content, h.end, details);
        o = h.end;
      }
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #route(buf: Buffer, start: number, content: number, end: number, details: Map<string, unknown>): void {
    // messageID INTEGER (0..2^31-1), then the protocol op's tag.
    const n = buf[content + 1]!;
    if (buf[content] !== 0x02 || n < 1 || n > 4 || content + 2 + n >= end) {
      // ldapts would log such a message and drop it: during a tapped search that could be an
      // entry, and dropping it would make the read silently short (R5). Fail instead.
      if (this.sinks.size > 0) throw new Error(`malformed LDAP message: no valid message ID (tag 0x${(buf[content] ?? 0).toString(16)})`);
      this.inner.read(buf.subarray(start, end), details);
      return;
    }
    let id = 0;
    for (let i = 0; i < n; i++) id = id * 256 + buf[content + 2 + i]!;
    const op = buf[content + 2 + n]!;
    const sink = op === SEARCH_RESULT_ENTRY ? this.sinks.get(id) : undefined;
    if (sink !== undefined) {
      const h = header(buf, content + 2 + n);
      if (h === null || h.end > end) throw new Error(`malformed LDAP message ${id}: the search entry runs past its message`);
      sink(buf, h.content, h.end);
      return;
    }
    // A search result for no pending request (a damaged message ID) is dropped by ldapts: while a
    // tapped search runs it may be one of its entries (R5), so the read fails.
    if (this.sinks.size > 0 && SEARCH_RESULTS.has(op) && !this.sinks.has(id) && !this.client.messageDetailsByMessageId.has(String(id))) {
      throw new Error(`malformed LDAP message: a search result for message ${id}, which no request is waiting for`);
    }
    this.inner.read(buf.subarray(start, end), details);
  }

  /** The stream cannot be followed any more: fail the tapped searches and drop the connection. */
  #fail(e: Error): void {
    this.#chunks = [];
    this.#bytes = 0;
    for (const id of this.sinks.keys()) rejectRequest(this.client, id, e);
    this.client.socket?.destroy();
  }
}

/** Rejects a pending ldapts request with `e` (what ldapts itself does when it cannot parse a response). */
function rejectRequest(client: TapInternals, id: number, e: Error): void {
  const d = client.messageDetailsByMessageId.get(String(id));
  if (d === undefined) return;
  client.messageDetailsByMessageId.delete(String(id));
  d.reject(e);
}

export interface EntryTap {
  /** Routes the search entries of request `messageId` to `sink` until `stop` is called. */
  listen(messageId: number, sink: EntrySink): void;
  stop(messageId: number): void;
  /** Fails request `messageId` with `e` (e.g. an entry that could not be decoded). */
  fail(messageId: number, e: Error): void;
}

/** The tap of a client, installed on first use. Throws when the ldapts internals are missing. */
export function entryTap(client: Client): EntryTap {
  if (!hasTapInternals(client)) throw new Error('ldapts internals for entry decoding are missing (ldapts version changed?)');
  const c = client as unknown as TapInternals;
  let parser = c.messageParser;
  if (!(parser instanceof FramingParser)) {
    parser = new FramingParser(parser, c);
    c.messageParser = parser;
  }
  const framing = parser as FramingParser;
  return {
    listen: (id, sink) => void framing.sinks.set(id, sink),
    stop: (id) => void framing.sinks.delete(id),
    fail: (id, e) => rejectRequest(c, id, e),
  };
}
