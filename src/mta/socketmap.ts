/**
 * The socketmap protocol's messages (Postfix ≥ 2.10, socketmap_table(5)), inside the netstrings of
 * netstring.ts. A request is `<map name> <key>`; a reply is `OK <value>`, `NOTFOUND `,
 * `TEMP <reason>`, `TIMEOUT <reason>` or `PERM <reason>`. Postfix treats TEMP and TIMEOUT as a
 * temporary lookup failure (the SMTP client gets a 4xx and retries later), PERM as a configuration
 * error, and a reply over 100,000 bytes as an error.
 */

export interface SocketmapRequest {
  map: string;
  key: string;
}

export type SocketmapReply =
  | { kind: 'OK'; value: string }
  | { kind: 'NOTFOUND' }
  | { kind: 'TEMP'; reason: string }
  | { kind: 'TIMEOUT'; reason: string }
  | { kind: 'PERM'; reason: string };

/** Postfix's limit on a reply, without the netstring framing (dict_sockmap.c). */
export const MAX_REPLY_BYTES = 100_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a request payload: the map name up to the first space, the key after it (which may hold
 * further spaces). Null when there is no space, the map name is empty, or the bytes are not UTF-8
 * (Postfix sends UTF-8 keys with SMTPUTF8, ASCII otherwise).
 */
export function parseRequest(payload: Uint8Array): SocketmapRequest | null {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return null;
  }
  const space = text.indexOf(' ');
  if (space <= 0) return null;
  return { map: text.slice(0, space), key: text.slice(space + 1) };
}

/** Formats a request payload (for clients: tests, the benchmark). */
export function formatRequest(r: SocketmapRequest): string {
  return `${r.map} ${r.key}`;
}

/** Replaces what Postfix would log as '?' (controls, DEL) and bounds the length. */
function printable(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return Buffer.byteLength(clean) <= max ? clean : Buffer.from(clean).subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
}

/** The reply payload: one line, within Postfix's size limit. */
export function formatReply(r: SocketmapReply): string {
  switch (r.kind) {
    case 'OK':
      return `OK ${printable(r.value, MAX_REPLY_BYTES - 3)}`;
    case 'NOTFOUND':
      return 'NOTFOUND ';
    default:
      return `${r.kind} ${printable(r.reason, 500)}`;
  }
}

/** Parses a reply payload (for clients); an unknown status is null. */
export function parseReply(payload: string): SocketmapReply | null {
  const space = payload.indexOf(' ');
  const status = space < 0 ? payload : payload.slice(0, space);
  const rest = space < 0 ? '' : payload.slice(space + 1);
  switch (status) {
    case 'OK':
      return { kind: 'OK', value: rest };
    case 'NOTFOUND':
      return { kind: 'NOTFOUND' };
    case 'TEMP':
    case 'TIMEOUT':
    case 'PERM':
      return { kind: status, reason: rest };
    default:
      return null;
  }
}

/** The reply as one line (`OK a@b`, `NOTFOUND`, `TEMP …`) for people and JSON output. */
export function showReply(r: SocketmapReply): string {
  return formatReply(r).trimEnd();
}
