/**
 * RFC 2696 paged results, driven page by page by us rather than by ldapts' searchPaginated.
 *
 * Why: ldapts (9.x) stops paging when a page comes back with no entries and no references, even
 * when the server sent a cookie for more. Active Directory can return such empty pages in the
 * middle of a filtered search, so searchPaginated could end a read early without any error — a
 * silently short read, which R5 forbids. Here paging goes on while the server returns a non-empty
 * cookie, whatever the page held, and any result code other than success throws.
 *
 * Entries are not parsed by ldapts: the entry tap (entry-tap.ts) hands their bytes to our decoder
 * (ber-entry.ts) as they arrive, so a page is held once, in its compact RawEntry form. The page's
 * SearchResultDone (status, cookie) and references still go through ldapts.
 *
 * This uses three ldapts internals (`_ensureConnected`, `_nextMessageId`, `_send`) besides those
 * of the tap; the package is pinned to one minor line and src/directory/safe-paging.test.ts fails
 * if they change shape.
 */
import { Client, MessageResponseStatus, PagedResultsControl, SearchRequest, StatusCodeParser } from 'ldapts';
import type { Control, Filter } from 'ldapts';
import { EntryDecoder } from './ber-entry.ts';
import { entryTap, hasTapInternals } from './entry-tap.ts';
import type { EntryView, RawEntry } from './values.ts';

interface RawSearchResponse {
  status: number;
  searchReferences: { uris: string[] }[];
  controls?: Control[];
}
/** The ldapts internals we rely on. */
interface ClientInternals {
  _ensureConnected(): Promise<void>;
  _nextMessageId(): number;
  _send(message: SearchRequest): Promise<RawSearchResponse | undefined>;
}

export function hasPagingInternals(client: Client): boolean {
  const c = client as unknown as Record<string, unknown>;
  return ['_ensureConnected', '_nextMessageId', '_send'].every((m) => typeof c[m] === 'function') && hasTapInternals(client);
}

export interface PageRequest {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: Filter;
  attributes: string[];
  /** Attributes (any case) whose values are bytes (objectGUID…). */
  binaryAttrs: readonly string[];
  /** When set, only these attributes are decoded; the others requested are skipped (any case). */
  decodeOnly?: readonly string[] | undefined;
  /** Attributes (any case) whose short values repeat across entries: equal values share one string. */
  shareValues?: readonly string[] | undefined;
  pageSize: number;
}

export interface Page<T = RawEntry> {
  entries: T[];
  references: string[];
}

interface InFlight<T> {
  result: Promise<RawSearchResponse | undefined>;
  entries: T[];
}

/**
 * Yields one page at a time; ends only after the server's last page (empty cookie). The request
 * for the next page is sent as soon as a page's cookie arrives, before that page is yielded: the
 * server searches while the caller maps (the caller runs no other operation meanwhile). A request
 * still in flight when the caller stops early is left to fail with the connection.
 *
 * `map`, when given, turns each entry into what the page holds as soon as the entry is decoded,
 * so that the entry is garbage at once instead of living with the page (100,000 users: less
 * memory and less for the collector to copy); it gets the decoder's lighter EntryView, valid for
 * the call. A throw from `map` fails the search with that very error (R5: the read never goes on
 * without the entry).
 */
export async function* pagedSearch<T = RawEntry>(client: Client, req: PageRequest, map?: (e: EntryView) => T): AsyncGenerator<Page<T>> {
  if (!hasPagingInternals(client)) throw new Error('ldapts internals for paging are missing (ldapts version changed?)');
  const internals = client as unknown as ClientInternals;
  await internals._ensureConnected();
  const tap = entryTap(client);
  const decoder = new EntryDecoder({ binaryAttrs: req.binaryAttrs, only: req.decodeOnly, shared: req.shareValues });
  const send = (cookie: Buffer | undefined): InFlight<T> => {
    const control = new PagedResultsControl({ value: cookie ? { size: req.pageSize, cookie } : { size: req.pageSize } });
    const messageId = internals._nextMessageId();
    const message = new SearchRequest({
      messageId,
      baseDN: req.base,
      scope: req.scope,
      filter: req.filter,
      attributes: req.attributes,
      derefAliases: 'never',
      sizeLimit: 0,
      timeLimit: 0,
      returnAttributeValues: true,
      controls: [control],
    });
    const entries: T[] = [];
    let failed = false;
    tap.listen(messageId, (buf, start, end) => {
      if (failed) return;
      try {
        entries.push(map === undefined ? (decoder.decode(buf, start, end) as T) : map(decoder.decodeView(buf, start, end)));
      } catch (e) {
        failed = true; // the request fails with this error; later entries of it are dropped
        tap.fail(messageId, e as Error);
      }
    });
    let result: Promise<RawSearchResponse | undefined>;
    try {
      result = internals._send(message);
    } catch (e) {
      result = Promise.reject(e as Error);
    }
    result = result.finally(() => tap.stop(messageId));
    result.catch(() => undefined); // awaited below, or abandoned with the read: never unhandled
    return { result, entries };
  };
  let inFlight: InFlight<T> | null = send(undefined);
  while (inFlight !== null) {
    const { result: pending, entries }: InFlight<T> = inFlight;
    const result: RawSearchResponse | undefined = await pending;
    if (result?.status !== MessageResponseStatus.Success) throw StatusCodeParser.parse(result as never);
    const response = result.controls?.find((c): c is PagedResultsControl => c instanceof PagedResultsControl);
    const next: Buffer | undefined = response?.value?.cookie;
    inFlight = next && next.length > 0 ? send(next) : null;
    yield { entries, references: result.searchReferences.flatMap((r) => r.uris) };
  }
}
