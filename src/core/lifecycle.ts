/**
 * Lifecycle times (R15, R20, R21, D5). PURE: `now` is always a parameter (the clock override
 * drives every lifecycle time, D5).
 */
import type { DeletionDelayDays, StoreUser } from './model.ts';

const DAY_MS = 86_400_000;

/**
 * R15/R20: the deletion date of a user flagged at `now`: now + days, as an ISO-8601 UTC string;
 * null when the delay is "never". Throws RangeError when `now` is not a valid time.
 */
export function computeDeleteAfter(now: string, days: DeletionDelayDays): string | null {
  if (days === null) return null;
  const t = Date.parse(now);
  if (Number.isNaN(t)) throw new RangeError(`invalid time: ${now}`);
  return new Date(t + days * DAY_MS).toISOString();
}

/**
 * R21: the users a purge deletes at `now`: state pending_deletion with a deleteAfter that has
 * passed (deleteAfter <= now, compared as instants). Users with no deleteAfter (delay "never"),
 * active and deactivated users are never selected. Keeps input order.
 */
export function selectPurgeable<U extends Pick<StoreUser, 'state' | 'deleteAfter'>>(
  users: readonly U[],
  now: string,
): U[] {
  const t = Date.parse(now);
  if (Number.isNaN(t)) throw new RangeError(`invalid time: ${now}`);
  return users.filter(
    (u) => u.state === 'pending_deletion' && u.deleteAfter !== null && Date.parse(u.deleteAfter) <= t,
  );
}
