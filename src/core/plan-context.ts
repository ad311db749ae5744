/**
 * Internal shapes shared by the planRun passes (plan-*.ts). Not part of the public model.
 */
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
  /** Alias addresses it asks for, qualifying (R13), sorted, primaryClaim excluded. */
  aliasClaims: Address[];
  /** Filled by the claim pass: aliases won, sorted. */
  aliases: Address[];
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

/** Byte-order-like comparison used for every deterministic sort (code units; addresses are lower-case). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
