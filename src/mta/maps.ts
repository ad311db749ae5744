/**
 * The socketmap maps Roster serves to Postfix (docs/POSTFIX.md), answered from the store alone:
 *
 * - `recipient`: a valid recipient (R61, src/core/recipient.ts) → `OK <address>`, else NOTFOUND.
 * - `alias`: an alias of a valid user or public folder → `OK <its primary>`, else NOTFOUND (the
 *   primary itself, a group's address and everything else are NOTFOUND: nothing to rewrite).
 * - `domain`: a domain some tenant manages → `OK <domain>`, else NOTFOUND.
 *
 * Keys are normalized like every address in Roster (src/core/address.ts: trimmed, lower-case, IDN
 * domains to punycode), so lookups are case-insensitive and a Unicode domain finds its punycode
 * form. A key that is no address (a bare local part, `@domain`, an address with an empty part) is
 * NOTFOUND without touching the store. An unknown map name is PERM (a configuration error on the
 * Postfix side). A store failure or a lookup slower than `timeoutMs` is TEMP: Postfix then answers
 * 4xx and the sender retries — never a 5xx because of our own failure.
 */
import type { Kysely } from 'kysely';
import type { Address } from '../core/model.ts';
import { normalizeAddress, normalizeDomain } from '../core/address.ts';
import { recipientVerdict } from '../core/recipient.ts';
import type { Database } from '../store/schema.ts';
import { isManagedDomain, loadRecipientFacts } from './recipient-facts.ts';
import type { SocketmapReply, SocketmapRequest } from './socketmap.ts';

export const MAP_NAMES = ['recipient', 'alias', 'domain'] as const;
export type MapName = (typeof MAP_NAMES)[number];

const NOTFOUND: SocketmapReply = { kind: 'NOTFOUND' };

export function isMapName(name: string): name is MapName {
  return (MAP_NAMES as readonly string[]).includes(name);
}

/**
 * Plus-addressing (Postfix's `recipient_delimiter`): `ann+news@acme.test` → the base address
 * `ann@acme.test` and the extension `+news`, split at the first delimiter character that is not the
 * first character of the local part; null when there is none.
 */
export function splitExtension(address: Address, delimiters: string): { base: Address; extension: string } | null {
  if (delimiters === '') return null;
  const at = address.lastIndexOf('@');
  let cut = -1;
  for (let i = 1; i < at; i++) {
    if (delimiters.includes(address[i] as string)) {
      cut = i;
      break;
    }
  }
  if (cut < 0) return null;
  return { base: (address.slice(0, cut) + address.slice(at)) as Address, extension: address.slice(cut, at) };
}

async function answerAddress(db: Kysely<Database>, map: 'recipient' | 'alias', address: Address): Promise<SocketmapReply> {
  const { facts, primary } = await loadRecipientFacts(db, address);
  const verdict = recipientVerdict(facts);
  if (!verdict.valid) return NOTFOUND;
  if (map === 'recipient') return { kind: 'OK', value: address };
  return facts.user?.role === 'alias' && primary !== null ? { kind: 'OK', value: primary } : NOTFOUND;
}

/**
 * Answers one map for one key from the store. Throws on store errors (see `createResolver`).
 * With `recipientDelimiter` (e.g. "+" or "+-"), an address that is not itself valid is tried again
 * without its extension; the alias map keeps the extension on the primary it answers
 * (`sales+q4@` → `ann+q4@`), as Postfix's propagate_unmatched_extensions would.
 */
export async function answerMap(db: Kysely<Database>, map: MapName, key: string, recipientDelimiter = ''): Promise<SocketmapReply> {
  if (map === 'domain') {
    const domain = normalizeDomain(key);
    if (domain === null || !domain.includes('.')) return NOTFOUND;
    return (await isManagedDomain(db, domain)) ? { kind: 'OK', value: domain } : NOTFOUND;
  }
  const address = normalizeAddress(key);
  if (address === null) return NOTFOUND;
  const whole = await answerAddress(db, map, address);
  const split = whole.kind === 'NOTFOUND' ? splitExtension(address, recipientDelimiter) : null;
  if (split === null) return whole;
  const base = await answerAddress(db, map, split.base);
  if (base.kind !== 'OK') return base;
  if (map === 'recipient') return { kind: 'OK', value: address };
  const at = base.value.lastIndexOf('@');
  return { kind: 'OK', value: base.value.slice(0, at) + split.extension + base.value.slice(at) };
}

export interface ResolverOptions {
  /** A lookup still running after this many milliseconds is answered TEMP (default 5000). */
  timeoutMs?: number;
  /** Called for each store failure or timeout (never with the key's value logged by us). */
  onStoreError?: (e: unknown, map: MapName) => void;
  /** Plus-addressing characters, as Postfix's recipient_delimiter (default none). */
  recipientDelimiter?: string;
}

export type Resolver = (request: SocketmapRequest) => Promise<SocketmapReply>;

class LookupTimeout extends Error {}

/** The server's request handler: map dispatch, store errors and timeouts turned into TEMP. Never rejects. */
export function createResolver(db: Kysely<Database>, o: ResolverOptions = {}): Resolver {
  const timeoutMs = o.timeoutMs ?? 5000;
  return async (request) => {
    if (!isMapName(request.map)) return { kind: 'PERM', reason: `unknown map "${request.map.slice(0, 40)}"; Roster serves ${MAP_NAMES.join(', ')}` };
    const map = request.map;
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LookupTimeout()), timeoutMs);
      });
      return await Promise.race([answerMap(db, map, request.key, o.recipientDelimiter ?? ''), deadline]);
    } catch (e) {
      o.onStoreError?.(e, map);
      return e instanceof LookupTimeout
        ? { kind: 'TEMP', reason: `roster store lookup timed out after ${timeoutMs} ms` }
        : { kind: 'TEMP', reason: 'roster store unavailable' };
    } finally {
      clearTimeout(timer);
    }
  };
}
