/**
 * What the store knows about one normalized address, for the R61 verdict (src/core/recipient.ts),
 * in ONE statement: the mail server asks for every recipient of every message, so a lookup is one
 * round trip on PostgreSQL and a few index probes on either dialect (the `addresses` primary key,
 * the holder's primary through `addresses_primary_uq`, `domains.name`, `contact_addresses_address_ix`).
 * Reads the store only, never the directory: answers go on while the directory is down (R60).
 */
import { sql, type Kysely } from 'kysely';
import { domainOf } from '../core/address.ts';
import type { Address, UserKind, UserState } from '../core/model.ts';
import type { RecipientFacts } from '../core/recipient.ts';
import type { Database } from '../store/schema.ts';

export interface AddressFacts {
  facts: RecipientFacts;
  /** The holder's primary address when a user or public folder holds it (for the alias map). */
  primary: Address | null;
}

/** Loads the facts about `address` (already normalized, src/core/address.ts). Throws on store errors. */
export async function loadRecipientFacts(db: Kysely<Database>, address: Address): Promise<AddressFacts> {
  const row = await db
    .selectFrom(sql<{ one: number }>`(select 1 as one)`.as('x'))
    .leftJoin('addresses as a', (j) => j.on('a.address', '=', address))
    .leftJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('addresses as p', (j) => j.onRef('p.user_id', '=', 'a.user_id').on('p.role', '=', 'primary'))
    .select((eb) => [
      'a.role',
      'u.kind',
      'u.state',
      'u.access_enabled',
      'p.address as primary_address',
      eb.selectFrom('domains').select((e) => e.fn.countAll<number>().as('n')).where('name', '=', domainOf(address)).as('managed'),
      eb.selectFrom('contact_addresses').select((e) => e.fn.countAll<number>().as('n')).where('address', '=', address).as('contacts'),
    ])
    .executeTakeFirstOrThrow();
  const role = row.role;
  const user: RecipientFacts['user'] =
    row.kind !== null && (role === 'primary' || role === 'alias')
      ? { kind: row.kind as UserKind, role, state: row.state as UserState, accessEnabled: row.access_enabled === 1 }
      : null;
  return {
    facts: { managed: Number(row.managed) > 0, user, group: row.role === 'group', contacts: Number(row.contacts ?? 0) },
    primary: user === null ? null : ((row.primary_address ?? null) as Address | null),
  };
}

/** Whether some tenant manages `domain` (ASCII, lower-case). Throws on store errors. */
export async function isManagedDomain(db: Kysely<Database>, domain: string): Promise<boolean> {
  const row = await db.selectFrom('domains').select('id').where('name', '=', domain).executeTakeFirst();
  return row !== undefined;
}
