/**
 * R13 address claims of one read. Every address is held by at most one object; a run settles
 * who gets each address claimed by its candidates:
 * - held by a user that is not an active candidate of this run (unmatched, flagged, deactivated,
 *   another connection's), by a foreign object, or by a group of this connection still in the
 *   read → taken; except an alias of a user of a lower-priority connection, which yields (R51);
 * - held by an active candidate's user → that user keeps it if its entry still claims it, else it
 *   is released in this run (so addresses can move, and swap, between entries);
 * - free or released, several claimants → the entry whose primary sorts first (then anchor).
 * A candidate that loses its primary is skipped 'address_taken'; its user (if any) then keeps every
 * address it holds, which can take addresses from others: the pass repeats until stable (the set
 * of skipped candidates only grows, so it ends; in practice after one or two rounds).
 *
 * Stable candidates — every address they claim is already held by their own user — always keep
 * all their claims (each is held by an active candidate that claims it), so only the other
 * ("moving") candidates go through the rounds. In a run where little changed that is a handful,
 * instead of a map of every address of the read.
 */
import type { Address } from './model.ts';
import { type Candidate, type IssueList, cmp } from './plan-context.ts';

export interface ClaimContext {
  /** Id slot (UserIndex.slot) of the store user that holds an address (primary or alias), or -1. */
  ownerOf: (address: Address) => number;
  /** Addresses that users may not take: foreign objects and groups of this connection kept by the read. */
  blocked: ReadonlySet<Address>;
  /**
   * R51: true when `address` is held, as an alias, by a user that is no candidate of this run and
   * whose connection yields to this one by priority: a claimant here takes it (planRun removes it
   * from that user). Absent: nothing yields.
   */
  yields?: (address: Address) => boolean;
}

export interface ClaimResult {
  /** Candidates (directory or supplemental) that keep their primary; aliases filled. */
  settled: Candidate[];
  /**
   * The first `stableCount` of `settled` are stable: they claim only addresses their user holds
   * and owns, and keep them all.
   */
  stableCount: number;
  /** Candidates that lost their primary (R6 address_taken). */
  lost: Candidate[];
  /** The settled candidate that holds `address` after the run (its primary or an alias it won), or null. */
  holderAfter: (address: Address) => Candidate | null;
}

type Loss = { c: Candidate; address: Address; code: 'address_taken' | 'address_claimed_by_other_entry' };

function rank(a: Candidate, b: Candidate): number {
  return cmp(a.entry.primary ?? '', b.entry.primary ?? '') || cmp(a.entry.anchor, b.entry.anchor);
}

/** The claimant ranked first: its entry's primary sorts first, then its anchor. */
function best(list: readonly Candidate[]): Candidate {
  return list.reduce((w, c) => (rank(c, w) < 0 ? c : w));
}

/** Whether a candidate claims `address` (its primary claim or one of its alias claims). */
function claims(c: Candidate, address: Address): boolean {
  return c.primaryClaim === address || c.aliasClaims.includes(address);
}

/** Adds `c` to the claimants of `a`: bare while it is the only one, a list from the second on. */
function claim(claimants: Map<Address, Candidate | Candidate[] | null>, a: Address, c: Candidate): void {
  const prev = claimants.get(a);
  if (prev === undefined) claimants.set(a, c);
  else if (Array.isArray(prev)) prev.push(c);
  else claimants.set(a, [prev as Candidate, c]);
}

/**
 * One round over the moving candidates. Most addresses have one claimant: it is stored bare, and
 * only a second claimant turns the entry into a list. The same map then holds each address's
 * winner (a bare claimant that wins stays as it is): a first run claims ~100,000 addresses, and a
 * second map of them cost as much as the first. `stableHolder` finds the stable candidate of a
 * user (by id slot), if any.
 */
function round(
  active: readonly Candidate[],
  ctx: ClaimContext,
  stableHolder: (slot: number) => Candidate | undefined,
): { winnerOf: Map<Address, Candidate | null>; losses: Loss[] } {
  const byUser = new Map<number, Candidate>();
  for (const c of active) if (c.slot >= 0) byUser.set(c.slot, c);
  const claimants = new Map<Address, Candidate | Candidate[] | null>();
  for (const c of active) {
    claim(claimants, c.primaryClaim, c);
    for (const a of c.aliasClaims) claim(claimants, a, c);
  }
  const losses: Loss[] = [];
  for (const [address, claimed] of claimants) {
    const list = Array.isArray(claimed) ? claimed : null;
    let winner: Candidate | null = null;
    let stableWins = false;
    const ownerId = ctx.ownerOf(address);
    if (ownerId !== -1) {
      const holder = byUser.get(ownerId);
      if (holder !== undefined) {
        winner = list === null ? (claimed as Candidate) : list.includes(holder) ? holder : best(list);
      } else {
        const stable = stableHolder(ownerId);
        // A stable candidate keeps what it claims; what its user holds but it no longer claims is released.
        if (stable !== undefined) {
          if (claims(stable, address)) stableWins = true;
          else winner = list === null ? (claimed as Candidate) : best(list);
        } else if (ctx.yields?.(address) === true) {
          winner = list === null ? (claimed as Candidate) : best(list);
        }
      }
    } else if (ctx.blocked.size === 0 || !ctx.blocked.has(address)) {
      winner = list === null ? (claimed as Candidate) : best(list);
    }
    if (winner !== claimed) claimants.set(address, winner); // an existing key: the iteration is unaffected
    const code = winner === null && !stableWins ? 'address_taken' : 'address_claimed_by_other_entry';
    if (list === null) {
      if (claimed !== winner) losses.push({ c: claimed as Candidate, address, code });
      continue;
    }
    for (const c of list) if (c !== winner) losses.push({ c, address, code });
  }
  return { winnerOf: claimants as Map<Address, Candidate | null>, losses };
}

/**
 * Settles the claims of `candidates` (frozen ones are ignored: their user keeps what it holds).
 * Reports alias losses as issues on the final round only.
 */
export function settleClaims(candidates: readonly Candidate[], ctx: ClaimContext, issues: IssueList): ClaimResult {
  const stable: Candidate[] = [];
  let moving: Candidate[] = [];
  for (const c of candidates) {
    if (c.mode === 'frozen') continue;
    // Candidate.stable was settled by buildCandidate (plan-match.ts stableClaims) with the same ownerOf.
    if (c.stable) stable.push(c);
    else moving.push(c);
  }
  let stableByUser: Map<number, Candidate> | undefined; // built on the first question
  const stableHolder = (slot: number): Candidate | undefined => {
    if (stableByUser === undefined) {
      stableByUser = new Map();
      for (const c of stable) stableByUser.set(c.slot, c);
    }
    return stableByUser.get(slot);
  };
  const lost: Candidate[] = [];
  for (;;) {
    const { winnerOf, losses } = round(moving, ctx, stableHolder);
    const losers = new Set<Candidate>();
    for (const l of losses) if (l.address === l.c.primaryClaim) losers.add(l.c);
    if (losers.size === 0) {
      // A candidate's claim list is its own copy: when it wins every claim, it is its alias list too.
      for (const c of stable) c.aliases = c.aliasClaims;
      // In this last round nobody loses a primary: a candidate without a loss won every alias it claims.
      const lostSome = new Set<Candidate>();
      for (const l of losses) lostSome.add(l.c);
      for (const c of moving) c.aliases = lostSome.has(c) ? c.aliasClaims.filter((a) => winnerOf.get(a) === c) : c.aliasClaims;
      for (const l of losses) issues.add(l.c.entry.anchor, l.c.entry.dn, { code: l.code, value: l.address });
      const holderAfter = (address: Address): Candidate | null => {
        const w = winnerOf.get(address);
        if (w !== undefined && w !== null) return w;
        const ownerId = ctx.ownerOf(address);
        const s = ownerId === -1 ? undefined : stableHolder(ownerId);
        return s !== undefined && claims(s, address) ? s : null;
      };
      // The order of `settled` does not matter: planRun sorts every output.
      const settled = moving.length === 0 ? stable : stable.concat(moving);
      return { settled, stableCount: stable.length, lost: lost.sort(rank), holderAfter };
    }
    lost.push(...losers);
    moving = moving.filter((c) => !losers.has(c));
  }
}
