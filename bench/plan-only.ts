/**
 * planRun alone at 100k users, in memory: a first-sync plan (empty store) and a no-change plan
 * (a store holding exactly what the first plan adds). Repeats and prints each time.
 *   node --no-warnings [--cpu-prof] bench/plan-only.ts [--users N] [--repeat K]
 */
import { parseArgs } from 'node:util';
import { planRun } from '../src/core/plan.ts';
import type { Address, RunSettings, StoreState, StoreUser } from '../src/core/model.ts';
import { buildSnapshot, benchSettings } from './pipeline-only.ts';

const { values: argv } = parseArgs({ options: { users: { type: 'string', default: '100000' }, repeat: { type: 'string', default: '3' } }, strict: false });
/** This process's CPU time (user + system), ms: a busy shared machine stretches wall time. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const NOW = '2026-11-22T10:00:00.000Z';
const snapshot = buildSnapshot(Number(argv.users));
const settings: RunSettings = benchSettings();
const empty: StoreState = { users: [], groups: [], contacts: [], foreignAddresses: [], archives: [] };
let first = planRun(snapshot, empty, settings, NOW);
// The store after the first plan: ids in anchor order, as apply would make them.
const users: StoreUser[] = [];
let n = 0;
for (const op of first.ops) {
  if (op.op !== 'add_user') continue;
  users.push({ id: `id-${String(n++).padStart(8, '0')}`, kind: op.fields.kind, source: 'ldap', state: 'active', accessEnabled: true, primary: op.fields.primary,
    aliases: op.aliases, details: op.fields.details, kerberosName: null, ntlmName: null, connectionId: 'conn-1', anchor: op.anchor, dn: op.fields.dn,
    flagReason: null, flaggedAt: null, deleteAfter: null });
}
const memberOf = new Map<string, string[]>();
for (const op of first.ops) if (op.op === 'set_members') memberOf.set(op.groupAnchor, [...op.add].sort());
const groups = first.ops.flatMap((op) => op.op === 'upsert_group'
  ? [{ id: `g-${op.anchor}`, anchor: op.anchor, dn: op.dn, name: op.name, address: op.address as Address | null, memberAnchors: memberOf.get(op.anchor) ?? [] }] : []);
const full: StoreState = { users, groups, contacts: [], foreignAddresses: [], archives: [] };
first = undefined as never;
for (let k = 0; k < Number(argv.repeat); k++) {
  let t = performance.now();
  let c = cpuMs();
  const a = planRun(snapshot, empty, settings, NOW);
  const ta = performance.now() - t;
  const ca = cpuMs() - c;
  t = performance.now();
  c = cpuMs();
  const b = planRun(snapshot, full, settings, NOW);
  const tb = performance.now() - t;
  const cb = cpuMs() - c;
  console.log(`first ${ta.toFixed(0)} ms wall ${ca.toFixed(0)} ms CPU (${a.ops.length} ops), no-change ${tb.toFixed(0)} ms wall ${cb.toFixed(0)} ms CPU ` +
    `(${b.ops.length} ops, unchanged ${b.counts.unchanged}); heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`);
}
