/**
 * R41 mass-deletion hold: decides from a plan whether a run must be held for approval. PURE.
 * (R5, the other guard, lives in the reader: an incomplete read never yields a snapshot.)
 */
import type { Plan } from './model.ts';

/** R41 threshold: hold when more than `count` AND more than `percent` % of synced users, or more than `absolute`. */
export interface HoldThreshold {
  count: number;
  percent: number;
  absolute: number;
}

export const DEFAULT_HOLD_THRESHOLD: HoldThreshold = { count: 10, percent: 5, absolute: 500 };

export type HoldCode = 'mass_deletion' | 'no_eligible_users';

export interface GuardResult {
  hold: boolean;
  /** Machine code of the reason, null when not held. */
  code: HoldCode | null;
  /** Human-readable reason, null when not held. */
  reason: string | null;
}

/**
 * R41: hold when the plan would flag or remove more users than the threshold (default: more than
 * 10 AND more than 5 % of plan.syncedUserCount, or more than 500), or when the read has no eligible
 * user while the store holds users of this connection. Partial thresholds are merged over the defaults.
 */
export function guardPlan(plan: Plan, threshold: Partial<HoldThreshold> = {}): GuardResult {
  const t = { ...DEFAULT_HOLD_THRESHOLD, ...threshold };
  const affected = plan.flagCount + plan.counts.removed;
  const synced = plan.syncedUserCount;
  if (plan.counts.eligible === 0 && synced > 0) {
    return {
      hold: true,
      code: 'no_eligible_users',
      reason: `the directory returned no eligible users while ${synced} users of this connection are synced`,
    };
  }
  // Integer arithmetic: affected/synced > percent/100  ⇔  affected*100 > percent*synced.
  if (affected > t.absolute || (affected > t.count && affected * 100 > t.percent * synced)) {
    return {
      hold: true,
      code: 'mass_deletion',
      reason:
        `the run would flag or remove ${affected} of ${synced} synced users ` +
        `(threshold: more than ${t.count} and more than ${t.percent} %, or more than ${t.absolute})`,
    };
  }
  return { hold: false, code: null, reason: null };
}
