/**
 * RFC 2696 paged results, driven page by page by us rather than by ldapts' searchPaginated.
 *
 * Why: ldapts (9.x) stops paging when a page comes back with no entries and no references, even
 * when the server sent a cookie for more. Active Directory can return such empty pages in the
 * middle of a filtered search, so searchPaginated could end a read early without any error — a
 * silently short read, which R5 forbids. Here paging goes on while the server returns a non-empty
 * cookie, whatever the page held, and any result code other than success throws.
 *
 * This uses three ldapts internals (`_ensureConnected`, `_nextMessageId`, `_send`); the package is
 * pinned to one minor line and src/directory/safe-paging.test.ts fails if they change shape.
 */
import { Client, MessageResponseStatus, PagedResultsControl, SearchRequest, StatusCodeParser } from 'ldapts';
import type { Control, Filter } from 'ldapts';

interface RawSearchEntry {
  toObject(requestAttributes: string[], explicitBufferAttributes: string[]): { dn: string } & Record<string, unknown>;
}
interface RawSearchResponse {
  status: number;
  searchEntries: RawSearchEntry[];
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
  return ['_ensureConnected', '_nextMessageId', '_send'].every((m) => typeof c[m] === 'function');
}

export interface PageRequest {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: Filter;
  attributes: string[];
  explicitBufferAttributes: string[];
  pageSize: number;
}

export interface Page {
  entries: ({ dn: string } & Record<string, unknown>)[];
  references: string[];
}

/** Yields one page at a time; ends only after the server's last page (empty cookie). */
export async function* pagedSearch(client: Client, req: PageRequest): AsyncGenerator<Page> {
  if (!hasPagingInternals(client)) throw new Error('ldapts internals for paging are missing (ldapts version changed?)');
  const internals = client as unknown as ClientInternals;
  await internals._ensureConnected();
  let cookie: Buffer | undefined;
  for (;;) {
    const control = new PagedResultsControl({ value: cookie ? { size: req.pageSize, cookie } : { size: req.pageSize } });
    const message = new SearchRequest({
      messageId: internals._nextMessageId(),
      baseDN: req.base,
      scope: req.scope,
      filter: req.filter,
      attributes: req.attributes,
      explicitBufferAttributes: req.explicitBufferAttributes,
      derefAliases: 'never',
      sizeLimit: 0,
      timeLimit: 0,
      returnAttributeValues: true,
      controls: [control],
    });
    const result = await internals._send(message);
    if (result?.status !== MessageResponseStatus.Success) throw StatusCodeParser.parse(result as never);
    yield {
      entries: result.searchEntries.map((e) => e.toObject(req.attributes, req.explicitBufferAttributes)),
      references: result.searchReferences.flatMap((r) => r.uris),
    };
    const response = result.controls?.find((c): c is PagedResultsControl => c instanceof PagedResultsControl);
    const next = response?.value?.cookie;
    if (!next || next.length === 0) return;
    cookie = next;
  }
}
