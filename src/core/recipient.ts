/**
 * R61 recipient validation: is mail to this address accepted? PURE — the store lookup
 * (src/lookup/resolve-address.ts) and the MTA lookup server both gather the facts about an
 * address and ask this one function, so they can never disagree.
 *
 * Valid: an address in a managed domain held by an active user or public folder (primary or
 * alias, access enabled) or by a group. Not valid: a flagged (pending_deletion) or deactivated
 * holder, an active holder whose access is off, an address only contacts show (contacts are not
 * recipients), an address nobody holds, an address in a domain no tenant manages, a value that
 * is not an address at all.
 */
import type { UserKind, UserState } from './model.ts';

/** What the store knows about one normalized address. */
export interface RecipientFacts {
  /** Some tenant manages the address's domain. */
  managed: boolean;
  /** The user or public folder holding it (primary or alias), if any. */
  user: { kind: UserKind; role: 'primary' | 'alias'; state: UserState; accessEnabled: boolean } | null;
  /** A group holds it. */
  group: boolean;
  /** How many contacts show it (any connection). */
  contacts: number;
}

export type RecipientReason =
  | 'active_user' // an active user's primary or alias
  | 'active_public_folder' // an active public folder's primary or alias
  | 'group' // a group's address
  | 'pending_deletion' // R15: flagged, access disabled
  | 'deactivated' // R22: kept with access disabled
  | 'access_disabled' // active, but access is off
  | 'contact_only' // only contacts show it: contacts are not recipients
  | 'unknown' // nothing holds it
  | 'unmanaged_domain' // no tenant manages its domain
  | 'invalid_address'; // not a mail address (R4)

export interface RecipientVerdict {
  valid: boolean;
  reason: RecipientReason;
}

/** The R61 verdict for an address; `null` facts mean the value did not normalize to an address. */
export function recipientVerdict(facts: RecipientFacts | null): RecipientVerdict {
  if (facts === null) return { valid: false, reason: 'invalid_address' };
  if (!facts.managed) return { valid: false, reason: 'unmanaged_domain' };
  const u = facts.user;
  if (u !== null) {
    if (u.state === 'pending_deletion') return { valid: false, reason: 'pending_deletion' };
    if (u.state === 'deactivated') return { valid: false, reason: 'deactivated' };
    if (!u.accessEnabled) return { valid: false, reason: 'access_disabled' };
    return { valid: true, reason: u.kind === 'public_folder' ? 'active_public_folder' : 'active_user' };
  }
  if (facts.group) return { valid: true, reason: 'group' };
  if (facts.contacts > 0) return { valid: false, reason: 'contact_only' };
  return { valid: false, reason: 'unknown' };
}

const EXPLANATIONS: Readonly<Record<RecipientReason, string>> = {
  active_user: 'an active user holds it',
  active_public_folder: 'an active public folder holds it',
  group: 'a group holds it',
  pending_deletion: 'its user is flagged for deletion (R15)',
  deactivated: 'its user is deactivated',
  access_disabled: "its user's access is disabled",
  contact_only: 'only a directory contact shows it; contacts are not recipients',
  unknown: 'no user, public folder or group holds it',
  unmanaged_domain: 'no tenant manages its domain',
  invalid_address: 'not a valid mail address',
};

/** One line an administrator (or an SMTP reply) can show for a verdict. */
export function explainVerdict(v: RecipientVerdict): string {
  return `${v.valid ? 'valid' : 'not valid'}: ${EXPLANATIONS[v.reason]}`;
}
