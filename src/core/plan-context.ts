/**
 * Internal shapes shared by the planRun passes (plan-*.ts). Not part of the public model.
 */
import { domainOf } from './address.ts';
import type { Address, DirUser, EntryIssue, RunIssue, SkipReason, StoreUser } from './model.ts';

/** How a run treats a matched store user. */
export type EntryMode =
  /** ldap/addition user or a new user: the directory is the truth (R12). */
  | 'directory'
  /** manual/smtp user: details and aliases only added (R14, D10). */
  | 'supplemental'
  /** deactivated user: never touched by a run (R22). */
  | 'frozen';

/** An entry that passed every check but the address claims (R13). */
export interface Candidate {
  entry: DirUser;
  /** The matched store user (R11), or null for a new user (R10). */
  user: StoreUser | null;
  /** The id slot of `user` in the run's UserIndex (UserIndex.slotOf), or -1 when `user` is null. */
  slot: number;
  matchedBy: 'anchor' | 'primary' | 'alias' | null;
  mode: EntryMode;
  /** The primary the user will have: the entry's (directory) or the user's (supplemental). */
  primaryClaim: Address;
  /**
   * Alias addresses it asks for, qualifying (R13), sorted, primaryClaim excluded. May be the
   * entry's own `aliases` array: never mutate it, and copy it into a plan op.
   */
  aliasClaims: Address[];
  /** Filled by the claim pass: aliases won, sorted. May be `aliasClaims` itself (same rules). */
  aliases: Address[];
  /**
   * Stable (plan-claims.ts): not frozen, matched, and every address it claims is held and owned by
   * its own user (its primary claim is the user's primary). It keeps all its claims; `aliases` is
   * already `aliasClaims`.
   */
  stable: boolean;
  /** Stable, directory mode, and its user already as the entry wants: planCandidate has nothing to do. */
  unchanged: boolean;
}

/** Issue sink with truncation of values (EntryIssue.value ≤ 512 chars). */
export class IssueList {
  readonly items: RunIssue[] = [];
  add(anchor: string | null, dn: string | null, issue: EntryIssue): void {
    const value = issue.value.length > 512 ? issue.value.slice(0, 512) : issue.value;
    const item: RunIssue = { anchor, dn, code: issue.code, value };
    if (issue.detail !== undefined) item.detail = issue.detail;
    this.items.push(item);
  }
}

/** Skipped entries by anchor, with the value concerned (R6). */
export type SkipMap = Map<string, { entry: DirUser; reason: SkipReason; value: string | null }>;

/** Whether the domain of an address (domainOf) is one of the tenant's managed domains. */
export type ManagedCheck = (address: Address) => boolean;

/**
 * The ManagedCheck of a set of domains. With a few domains it compares the address's tail with
 * each (no sliced domain string to allocate and hash: it runs two or three times per entry).
 */
export function managedCheck(domains: ReadonlySet<string>): ManagedCheck {
  if (domains.size > 8) return (a) => domains.has(domainOf(a));
  const list = [...domains];
  return (a) => {
    // domainOf: what follows the first '@', or the whole value when there is none (at = -1).
    const n = a.length - a.indexOf('@') - 1;
    for (const d of list) if (d.length === n && a.endsWith(d)) return true;
    return false;
  };
}

/** Byte-order-like comparison used for every deterministic sort (code units; addresses are lower-case). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
