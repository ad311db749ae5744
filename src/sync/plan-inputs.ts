/**
 * R41: a fingerprint of what a plan was computed from — the store state the planner saw and the
 * run settings (managed domains, exceptions, additions, options, delay) and the connection's settings
 * (base DN, filter, profile…) — so that approving a held
 * run can refuse a plan whose inputs changed since (an admin deleted a user, added an exception,
 * fixed the filter, another connection's run moved addresses…). The directory side is the held
 * read itself, which approval applies as it was reviewed.
 */
import { createHash } from 'node:crypto';
import type { RunSettings, StoreState } from '../core/model.ts';

export function fingerprintPlanInputs(state: StoreState, settings: RunSettings, connectionSettings: string): string {
  const h = createHash('sha256');
  h.update(connectionSettings); // servers, base DN, filter, profile, options: what the read was made with
  h.update('\n');
  const put = (v: unknown): void => {
    h.update(JSON.stringify(v));
    h.update('\n');
  };
  // flagUnanchored depends on this run's own completion (R18); its effect is in the plan itself.
  const { flagUnanchored: _ignored, ...rest } = settings;
  put(rest);
  for (const list of [state.users, state.groups, state.contacts, state.foreignAddresses, state.archives] as const) {
    put(list.length);
    for (const x of list) put(x);
  }
  return h.digest('hex');
}
