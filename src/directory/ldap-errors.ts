/**
 * Turns what ldapts and Node's sockets throw into short, precise fault names for messages
 * (R5: "size limit exceeded after 500 entries while reading users from ldap://…"). Never includes
 * a password: ldapts errors carry the server's diagnostic text, which holds no credentials.
 */

/** LDAP result codes (RFC 4511 §4.1.9 and extensions) that a read can meet, by name. */
const RESULT_NAMES: Record<number, string> = {
  1: 'operations error',
  2: 'protocol error',
  3: 'time limit exceeded',
  4: 'size limit exceeded',
  7: 'authentication method not supported',
  8: 'strong authentication required',
  10: 'referral returned for the search itself',
  11: 'administrative limit exceeded',
  12: 'unavailable critical extension',
  13: 'confidentiality required',
  32: 'no such object (the search base does not exist)',
  34: 'invalid DN syntax',
  48: 'inappropriate authentication',
  49: 'invalid credentials',
  50: 'insufficient access rights',
  51: 'server busy',
  52: 'server unavailable',
  53: 'server unwilling to perform',
  80: 'other server error',
  4096: 'sync refresh required',
};

/** Chain errors: the server's certificate is not signed by a CA we trust (usually the wrong CA file). */
const UNTRUSTED_CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function clip(s: string, n = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n) + '…' : one;
}

/** The LDAP result code of an error thrown by ldapts, or null for transport errors. */
export function ldapResultCode(e: unknown): number | null {
  if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'number') return (e as { code: number }).code;
  return null;
}

/** A short description of what went wrong, e.g. "size limit exceeded" or "connection refused". */
export function describeLdapError(e: unknown, timeouts?: { connectMs?: number; operationMs?: number }): string {
  const code = ldapResultCode(e);
  if (code !== null) {
    const name = RESULT_NAMES[code] ?? `LDAP result ${code}`;
    // ldapts appends " Code: 0x31" to the server's diagnostic text: the code is shown already.
    const msg = e instanceof Error ? clip(e.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '')) : '';
    return msg && msg.toLowerCase() !== name ? `${name} (${code}: ${msg})` : `${name} (${code})`;
  }
  if (!(e instanceof Error)) return clip(String(e));
  const errCode = 'code' in e ? String((e as { code: unknown }).code) : '';
  if (errCode === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS host name does not match the server certificate: ${clip(e.message)}`;
  if (UNTRUSTED_CHAIN_CODES.has(errCode)) {
    return `TLS certificate verification failed: the server's certificate is not signed by a trusted CA — is the connection's CA file (--ca-file) the one that signed it? (${errCode}: ${clip(e.message)})`;
  }
  if (errCode === 'CERT_HAS_EXPIRED') return `TLS certificate has expired (${errCode}): ${clip(e.message)}`;
  if (TLS_VERIFY_CODES.has(errCode)) return `TLS certificate verification failed (${errCode}): ${clip(e.message)}`;
  if (errCode === 'ECONNREFUSED') return 'connection refused';
  if (errCode === 'ECONNRESET') return 'connection reset';
  if (errCode === 'EHOSTUNREACH' || errCode === 'ENETUNREACH') return 'host unreachable';
  if (errCode === 'ENOTFOUND' || errCode === 'EAI_AGAIN') return `host name not resolved (${errCode})`;
  const m = e.message;
  if (m === 'Connection timeout') return `connect timed out${timeouts?.connectMs ? ` after ${timeouts.connectMs} ms` : ''}`;
  if (m.endsWith('Operation timed out')) return `operation timed out${timeouts?.operationMs ? ` after ${timeouts.operationMs} ms` : ''}`;
  if (m.startsWith('Connection closed before message response')) return 'connection closed by the server';
  if (m.startsWith('Socket error')) return `connection reset (${clip(m.split('\n').slice(1).join(' ') || m)})`;
  if (m.startsWith('Socket connection not established')) return 'connection lost';
  if (/wrong version number|handshake|ssl|tls/i.test(m)) return `TLS failure: ${clip(m)}`;
  return clip(m) || e.name;
}
