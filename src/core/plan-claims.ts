/**
 * R13 address claims of one read. Every address is held by at most one object; a run settles
 * who gets each address claimed by its candidates:
 * - held by a user that is not an active candidate of this run (unmatched, flagged, deactivated,
 *   another connection's), by a foreign object, or by a group of this connection still in the
 *   read → taken;
 * - held by an active candidate's user → that user keeps it if its entry still claims it, else it
 *   is released in this run (so addresses can move, and swap, between entries);
 * - free or released, several claimants → the entry whose primary sorts first (then anchor).
 * A candidate that loses its primary is skipped 'address_taken'; its user (if any) then keeps every
 * address it holds, which can take addresses from others: the pass repeats until stable (the set
 * of skipped candidates only grows, so it ends; in practice after one or two rounds).
 */
import type { Address } from './model.ts';
import { type Candidate, type IssueList, cmp } from './plan-context.ts';

export interface ClaimContext {
  /** Id of the store user that holds an address (primary or alias), if any. */
  ownerOf: (address: Address) => string | undefined;
  /** Addresses that users may not take: foreign objects and groups of this connection kept by the read. */
  blocked: ReadonlySet<Address>;
}

export interface ClaimResult {
  /** Candidates (directory or supplemental) that keep their primary; aliases filled. */
  settled: Candidate[];
  /** Candidates that lost their primary (R6 address_taken). */
  lost: Candidate[];
  /**
   * Every address a settled candidate claimed → the settled candidate that holds it after the
   * run (its primary, or an alias it won), or null when none does (taken by someone else).
   */
  winnerOf: ReadonlyMap<Address, Candidate | null>;
}

type Loss = { c: Candidate; address: Address; code: 'address_taken' | 'address_claimed_by_other_entry' };

function rank(a: Candidate, b: Candidate): number {
  return cmp(a.entry.primary ?? '', b.entry.primary ?? '') || cmp(a.entry.anchor, b.entry.anchor);
}

/** The claimant ranked first: its entry's primary sorts first, then its anchor. */
function best(list: readonly Candidate[]): Candidate {
  return list.reduce((w, c) => (rank(c, w) < 0 ? c : w));
}

/**
 * One round over the given active candidates. Most addresses have one claimant: it is stored
 * bare, and only a second claimant turns the entry into a list (100,000 small arrays less).
 */
function round(active: readonly Candidate[], ctx: ClaimContext): { winnerOf: Map<Address, Candidate | null>; losses: Loss[] } {
  const byUser = new Map<string, Candidate>();
  for (const c of active) if (c.user !== null) byUser.set(c.user.id, c);
  const claimants = new Map<Address, Candidate | Candidate[]>();
  const claim = (a: Address, c: Candidate): void => {
    const prev = claimants.get(a);
    if (prev === undefined) claimants.set(a, c);
    else if (Array.isArray(prev)) prev.push(c);
    else claimants.set(a, [prev, c]);
  };
  for (const c of active) {
    claim(c.primaryClaim, c);
    for (const a of c.aliasClaims) claim(a, c);
  }
  const winnerOf = new Map<Address, Candidate | null>();
  const losses: Loss[] = [];
  for (const [address, claimed] of claimants) {
    const list = Array.isArray(claimed) ? claimed : null;
    let winner: Candidate | null = null;
    const ownerId = ctx.ownerOf(address);
    if (ownerId !== undefined) {
      const holder = byUser.get(ownerId);
      if (holder !== undefined) winner = list === null ? (claimed as Candidate) : list.includes(holder) ? holder : best(list);
    } else if (!ctx.blocked.has(address)) {
      winner = list === null ? (claimed as Candidate) : best(list);
    }
    winnerOf.set(address, winner);
    if (list === null) {
      if (claimed !== winner) losses.push({ c: claimed as Candidate, address, code: winner === null ? 'address_taken' : 'address_claimed_by_other_entry' });
      continue;
    }
    for (const c of list) {
      if (c === winner) continue;
      losses.push({ c, address, code: winner === null ? 'address_taken' : 'address_claimed_by_other_entry' });
    }
  }
  return { winnerOf, losses };
}

/**
 * Settles the claims of `candidates` (frozen ones are ignored: their user keeps what it holds).
 * Reports alias losses as issues on the final round only.
 */
export function settleClaims(candidates: readonly Candidate[], ctx: ClaimContext, issues: IssueList): ClaimResult {
  let active = candidates.filter((c) => c.mode !== 'frozen');
  const lost: Candidate[] = [];
  for (;;) {
    const { winnerOf, losses } = round(active, ctx);
    const losers = new Set<Candidate>();
    for (const l of losses) if (l.address === l.c.primaryClaim) losers.add(l.c);
    if (losers.size === 0) {
      for (const c of active) c.aliases = c.aliasClaims.length === 0 ? [] : c.aliasClaims.filter((a) => winnerOf.get(a) === c);
      for (const l of losses) issues.add(l.c.entry.anchor, l.c.entry.dn, { code: l.code, value: l.address });
      return { settled: active, lost: lost.sort(rank), winnerOf };
    }
    lost.push(...losers);
    active = active.filter((c) => !losers.has(c));
  }
}
