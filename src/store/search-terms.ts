/**
 * R61: keeps `search_terms` current — one row per distinct folded word (src/core/fold.ts) of a
 * user's display name, given name and surname, of a group's name, of a contact's name. Every
 * writer of a name calls replaceSearchTerms in its own transaction; rows of removed objects go
 * with them (ON DELETE CASCADE). Bulk statements only: a 100k-user first sync writes ~300k rows.
 */
import type { Kysely } from 'kysely';
import { foldWords } from '../core/fold.ts';
import { bulkInsert, chunk, type BulkColumns } from './batch.ts';
import type { Database } from './schema.ts';

export type TermOwner = 'user' | 'group' | 'contact';

/** One object whose terms are replaced: its id and the name texts its words come from. */
export interface TermSubject {
  id: string;
  names: readonly (string | null | undefined)[];
}

const T = 'text' as const;
const TERM_COLUMNS: BulkColumns = [['tenant_id', T], ['term', T], ['user_id', T], ['group_id', T], ['contact_id', T]];
const OWNER_COLUMN = { user: 'user_id', group: 'group_id', contact: 'contact_id' } as const;

/** The search_terms rows of `subjects` (columns in TERM_COLUMNS order). */
export function termRows(tenantId: string, owner: TermOwner, subjects: readonly TermSubject[]): (string | null)[][] {
  const rows: (string | null)[][] = [];
  for (const s of subjects) {
    for (const term of foldWords(...s.names)) {
      rows.push([tenantId, term, owner === 'user' ? s.id : null, owner === 'group' ? s.id : null, owner === 'contact' ? s.id : null]);
    }
  }
  return rows;
}

/**
 * Replaces the terms of `subjects` (all of one owner kind and tenant): deletes their rows, then
 * inserts the words of their current names. `fresh: true` (objects created in this transaction)
 * skips the delete.
 */
export async function replaceSearchTerms(
  db: Kysely<Database>,
  tenantId: string,
  owner: TermOwner,
  subjects: readonly TermSubject[],
  opts: { fresh?: boolean } = {},
): Promise<void> {
  if (subjects.length === 0) return;
  if (opts.fresh !== true) {
    const column = OWNER_COLUMN[owner];
    for (const part of chunk(subjects, 1)) {
      await db.deleteFrom('search_terms').where(column, 'in', part.map((s) => s.id)).execute();
    }
  }
  await bulkInsert(db, 'search_terms', TERM_COLUMNS, termRows(tenantId, owner, subjects));
}
