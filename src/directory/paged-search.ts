/**
 * Streams the entries of one search page by page (RFC 2696 paged results driven by safe-paging.ts): memory holds one page. Any failure — a result code other than success, a
 * timeout, a closed or reset connection — becomes RosterError('read_incomplete') naming the fault,
 * the entries read so far, the phase and the server (R5). Continuation references are collected,
 * not followed (R5).
 */
import type { Client } from 'ldapts';
import { RosterError } from '../core/errors.ts';
import { describeLdapError } from './ldap-errors.ts';
import { compileFilter } from './filter-compile.ts';
import { toRawEntry, type EntryView, type RawEntry } from './values.ts';
import { pagedSearch, type Page } from './safe-paging.ts';

export interface SearchSpec {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: string;
  attributes: string[];
  /** Attributes returned as bytes (objectGUID…), matched case-insensitively. */
  binaryAttrs: string[];
  /** When set, only these of the returned attributes are decoded (the mapping reads no others). */
  decodeOnly?: readonly string[] | undefined;
  /** Attributes whose values repeat across entries (given names, companies): equal values share one string. */
  shareValues?: readonly string[] | undefined;
  pageSize: number;
}

export interface SearchContext {
  /** `ldap://host:port`, for messages. */
  server: string;
  /** What is being read, for messages: "users", "groups", "the range of member of CN=…". */
  what: string;
  signal?: AbortSignal | undefined;
  /** Continuation references are appended here (deduplicated by the caller). */
  references: string[];
  /** Called after each page with the number of entries streamed so far. */
  onPage?: ((entries: number) => void) | undefined;
  operationTimeoutMs?: number | undefined;
}

/**
 * ldapts matches explicitBufferAttributes against the returned attribute type with a
 * case-sensitive `includes`; servers may spell a name differently than we asked, so the list
 * answers case-insensitively.
 */
function caseInsensitiveList(names: string[]): string[] {
  const lc = new Set(names.map((n) => n.toLowerCase()));
  const list = [...names];
  Object.defineProperty(list, 'includes', { value: (t: string) => lc.has(String(t).toLowerCase().split(';')[0] ?? '') });
  return list;
}

/** The RosterError for a failed read step. */
export function incompleteError(e: unknown, ctx: SearchContext, entries: number): RosterError {
  if (e instanceof RosterError) return e;
  if (ctx.signal?.aborted) {
    return new RosterError('read_incomplete', `read aborted after ${entries} entries while reading ${ctx.what} from ${ctx.server}`, { cause: e, details: { aborted: true } });
  }
  const fault = describeLdapError(e, { operationMs: ctx.operationTimeoutMs });
  return new RosterError('read_incomplete', `${fault} after ${entries} entries while reading ${ctx.what} from ${ctx.server}`,
    { cause: e, details: { fault, entries, what: ctx.what, server: ctx.server } });
}

/**
 * Streams the search page by page; yields a page only after it completed successfully. Paging is
 * ours (safe-paging.ts), not ldapts' searchPaginated, which can stop early on an empty page (R5).
 * The caller owns each page array (it may clear slots to release entries early). With `map`, a
 * page holds what `map` made of each entry as it arrived (see pagedSearch); a throw from `map`
 * fails the read with that error (a RosterError as is, anything else as read_incomplete).
 */
export async function* streamPages<T = RawEntry>(client: Client, spec: SearchSpec, ctx: SearchContext,
  map?: (e: EntryView) => T): AsyncGenerator<T[]> {
  let count = 0;
  const pages = pagedSearch(client, {
    base: spec.base,
    scope: spec.scope,
    filter: compileFilter(spec.filter), // exact bytes for escapes (filter-compile.ts)
    attributes: spec.attributes,
    binaryAttrs: spec.binaryAttrs,
    decodeOnly: spec.decodeOnly,
    shareValues: spec.shareValues,
    pageSize: spec.pageSize,
    // No sizeLimit: ldapts treats sizeLimitExceeded as success when one is set (a silent partial read).
  }, map);
  for (;;) {
    if (ctx.signal?.aborted) {
      await pages.return(undefined).catch(() => undefined);
      throw incompleteError(new Error('aborted'), ctx, count);
    }
    let step: IteratorResult<Page<T>>;
    try {
      step = await pages.next();
    } catch (e) {
      throw incompleteError(e, ctx, count);
    }
    if (step.done) return;
    for (const r of step.value.references) ctx.references.push(r);
    count += step.value.entries.length;
    yield step.value.entries;
    ctx.onPage?.(count);
  }
}

/** streamPages entry by entry. */
export async function* streamEntries(client: Client, spec: SearchSpec, ctx: SearchContext): AsyncGenerator<RawEntry> {
  for await (const page of streamPages(client, spec, ctx)) yield* page;
}

/** A single non-paged search (base-scope reads: rootDSE, range steps, one entry by DN). */
export async function searchOnce(client: Client, spec: Omit<SearchSpec, 'pageSize'>, ctx: SearchContext): Promise<RawEntry[]> {
  if (ctx.signal?.aborted) throw incompleteError(new Error('aborted'), ctx, 0);
  try {
    const r = await client.search(spec.base, {
      scope: spec.scope,
      filter: compileFilter(spec.filter), // exact bytes for escapes (filter-compile.ts)
      attributes: spec.attributes,
      explicitBufferAttributes: caseInsensitiveList(spec.binaryAttrs),
      derefAliases: 'never',
    });
    for (const ref of r.searchReferences) ctx.references.push(ref);
    return r.searchEntries.map((e) => toRawEntry(e));
  } catch (e) {
    throw incompleteError(e, ctx, 0);
  }
}
