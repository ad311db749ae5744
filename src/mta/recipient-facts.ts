/**
 * What the store knows about one normalized address, for the R61 verdict (src/core/recipient.ts),
 * in ONE statement: the mail server asks for every recipient of every message, so a lookup is one
 * round trip on PostgreSQL and a few index probes on either dialect (the `addresses` primary key,
 * the holder's primary through `addresses_primary_uq`, `domains.name`, `contact_addresses_address_ix`).
 * Reads the store only, never the directory: answers go on while the directory is down (R60).
 */
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { domainOf } from '../core/address.ts';
import type { Address, UserKind, UserState } from '../core/model.ts';
import type { RecipientFacts } from '../core/recipient.ts';
import type { Database } from '../store/schema.ts';
import { PREPARED } from '../store/pg-prepared.ts';

export interface AddressFacts {
  facts: RecipientFacts;
  /** The holder's primary address when a user or public folder holds it (for the alias map). */
  primary: Address | null;
}

type FactsRow = {
  role: string | null;
  kind: string | null;
  state: string | null;
  access_enabled: number | null;
  primary_address: string | null;
  managed: number | string | null;
  contacts: number | string | null;
};

// Stand-ins compiled into the statement once, replaced by the real values at each lookup.
const ADDRESS = '\u0000address';
const DOMAIN = '\u0000domain';

/**
 * The statement (built by Kysely, so identical on both dialects). `role = 'primary'` is a literal,
 * not a parameter: only then can SQLite use the partial index `addresses_primary_uq` (a bound
 * value made the lookup 5× slower).
 */
function factsQuery(db: Kysely<Database>): CompiledQuery<FactsRow> {
  return db
    .selectFrom(sql<{ one: number }>`(select 1 as one)`.as('x'))
    .leftJoin('addresses as a', (j) => j.on('a.address', '=', ADDRESS))
    .leftJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'a.user_id').on('p.role', '=', sql.lit('primary')))
    .select((eb) => [
      'a.role',
      'u.kind',
      'u.state',
      'u.access_enabled',
      'p.address as primary_address',
      eb.selectFrom('domains').select((e) => e.fn.countAll<number>().as('n')).where('name', '=', DOMAIN).as('managed'),
      eb.selectFrom('contact_addresses').select((e) => e.fn.countAll<number>().as('n')).where('address', '=', ADDRESS).as('contacts'),
    ])
    // A named statement on PostgreSQL (planned once per pooled connection: src/store/pg-prepared.ts).
    .modifyEnd(PREPARED)
    .compile();
}

/**
 * Compiled once per Kysely instance: building and compiling the query cost more than running it
 * on SQLite (~55 µs against ~6 µs), and the server runs it for every RCPT TO.
 */
const compiled = new WeakMap<Kysely<Database>, CompiledQuery<FactsRow>>();

/** Loads the facts about `address` (already normalized, src/core/address.ts). Throws on store errors. */
export async function loadRecipientFacts(db: Kysely<Database>, address: Address): Promise<AddressFacts> {
  let query = compiled.get(db);
  if (query === undefined) compiled.set(db, (query = factsQuery(db)));
  const domain = domainOf(address);
  const parameters = query.parameters.map((p) => (p === ADDRESS ? address : p === DOMAIN ? domain : p));
  const row = (await db.executeQuery<FactsRow>({ ...query, parameters })).rows[0];
  if (row === undefined) throw new Error('recipient facts query returned no row');
  const role = row.role;
  const user: RecipientFacts['user'] =
    row.kind !== null && (role === 'primary' || role === 'alias')
      ? { kind: row.kind as UserKind, role, state: row.state as UserState, accessEnabled: row.access_enabled === 1 }
      : null;
  return {
    facts: { managed: Number(row.managed) > 0, user, group: role === 'group', contacts: Number(row.contacts ?? 0) },
    primary: user === null ? null : ((row.primary_address ?? null) as Address | null),
  };
}

/** Whether some tenant manages `domain` (ASCII, lower-case). Throws on store errors. */
export async function isManagedDomain(db: Kysely<Database>, domain: string): Promise<boolean> {
  const row = await db.selectFrom('domains').select('id').where('name', '=', domain).executeTakeFirst();
  return row !== undefined;
}
