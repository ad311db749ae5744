/**
 * Step (e)'s ten named directory changes and the checks that each one landed in the store.
 *
 * The changes are picked deterministically from the generator (a pure function of spec and
 * index), applied through ldapmodify against the running slapd, and checked afterwards with SQL
 * on the store: identity by anchor (R11: a rename keeps the user id), R15 flags for the deleted
 * and the disabled user, R10 for the re-enabled and the new user, R12/R13 for alias changes,
 * R13a for the primary change, D7 for the membership.
 */
import {
  generateUser, groupDn, deterministicUuid, peopleDn, userAttrs, type GeneratedUser, type GeneratorSpec,
} from '../test/fixtures/directory-generator.ts';
import { ldifAdd, ldifDelete, ldifModify, ldifModrdn } from '../test/fixtures/ldif.ts';
import type { StoreReader } from './store-reader.ts';

export interface ChangePlan {
  ldif: string;
  /** One line per change, for the report. */
  names: string[];
  picks: Picks;
}

interface Picks {
  deleted: GeneratedUser;
  renamed: GeneratedUser & { newDn: string };
  aliasAdded: GeneratedUser & { alias: string };
  aliasRemoved: GeneratedUser & { alias: string };
  disabled: GeneratedUser;
  reenabled: GeneratedUser;
  primaryChanged: GeneratedUser & { newPrimary: string };
  renamedDisplay: GeneratedUser & { newDisplayName: string };
  added: GeneratedUser;
  member: GeneratedUser & { groupDn: string; groupAnchor: string };
}

const eligible = (u: GeneratedUser): boolean => !u.disabled && u.managedPrimary;
const domainOf = (a: string): string => a.slice(a.indexOf('@') + 1).toLowerCase();

/** Picks ten distinct users and builds the change LDIF (group-1 gains a member). */
export function planChanges(spec: GeneratorSpec): ChangePlan {
  const managed = new Set(spec.managedDomains.map((d) => d.toLowerCase()));
  const used = new Set<number>();
  // Start in the middle: clear of the first groups' member ranges, distinct users, deterministic.
  let cursor = Math.floor(spec.users * 0.37);
  const pick = (ok: (u: GeneratedUser) => boolean): GeneratedUser => {
    for (let n = 0; n < spec.users; n++) {
      const i = (cursor + n) % spec.users;
      if (used.has(i)) continue;
      const u = generateUser(spec, i);
      if (ok(u)) { used.add(i); cursor = i + 1; return u; }
    }
    throw new Error('the directory has no user fit for a change');
  };
  const d0 = spec.managedDomains[0]!;
  const deleted = pick(eligible);
  const ren = pick(eligible);
  const add = pick(eligible);
  const rm = pick((u) => eligible(u) && u.mails.length > 1 && managed.has(domainOf(u.mails[1]!)));
  const disabled = pick(eligible);
  const reenabled = pick((u) => u.disabled && u.managedPrimary);
  const prim = pick(eligible);
  const disp = pick(eligible);
  const mem = pick(eligible);
  let k = spec.users;
  while (!eligible(generateUser(spec, k))) k++;
  const added = generateUser(spec, k);

  const picks: Picks = {
    deleted,
    renamed: { ...ren, newDn: `uid=${ren.uid}-renamed,${peopleDn(spec)}` },
    aliasAdded: { ...add, alias: `bench.${add.uid}@${d0}` },
    aliasRemoved: { ...rm, alias: rm.mails[1]! },
    disabled,
    reenabled,
    primaryChanged: { ...prim, newPrimary: `new.${prim.uid}@${d0}` },
    renamedDisplay: { ...disp, newDisplayName: `${disp.displayName} (bench renamed)` },
    added,
    member: { ...mem, groupDn: groupDn(spec, 0), groupAnchor: deterministicUuid(spec.seed, 2, 0) },
  };
  const p = picks;
  const ldif = [
    ldifDelete(p.deleted.dn),
    ldifModrdn(p.renamed.dn, `uid=${p.renamed.uid}-renamed`),
    ldifModify(p.aliasAdded.dn, [{ op: 'add', attr: 'mail', values: [p.aliasAdded.alias] }]),
    ldifModify(p.aliasRemoved.dn, [{ op: 'delete', attr: 'mail', values: [p.aliasRemoved.alias] }]),
    ldifModify(p.disabled.dn, [{ op: 'add', attr: 'pwdAccountLockedTime', values: ['000001010000Z'] }]),
    ldifModify(p.reenabled.dn, [{ op: 'delete', attr: 'pwdAccountLockedTime' }]),
    ldifModify(p.primaryChanged.dn, [{ op: 'replace', attr: 'mail', values: [p.primaryChanged.newPrimary, ...p.primaryChanged.mails.slice(1)] }]),
    ldifModify(p.renamedDisplay.dn, [{ op: 'replace', attr: 'displayName', values: [p.renamedDisplay.newDisplayName] }]),
    ldifAdd(p.added.dn, userAttrs(p.added)),
    ldifModify(p.member.groupDn, [{ op: 'add', attr: 'member', values: [p.member.dn] }]),
  ].join('');
  const names = [
    `delete ${p.deleted.dn}`,
    `rename (modrdn) ${p.renamed.dn} → ${p.renamed.newDn}`,
    `alias added ${p.aliasAdded.alias} to ${p.aliasAdded.uid}`,
    `alias removed ${p.aliasRemoved.alias} from ${p.aliasRemoved.uid}`,
    `disable ${p.disabled.uid} (pwdAccountLockedTime 000001010000Z)`,
    `re-enable ${p.reenabled.uid} (lock removed)`,
    `primary address ${p.primaryChanged.mails[0]} → ${p.primaryChanged.newPrimary}`,
    `display name of ${p.renamedDisplay.uid} → "${p.renamedDisplay.newDisplayName}"`,
    `new user ${p.added.dn} (${p.added.mails[0]})`,
    `group membership: ${p.member.uid} added to ${p.member.groupDn}`,
  ];
  return { ldif, names, picks };
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function userByAnchor(s: StoreReader, anchor: string): Promise<Record<string, unknown> | undefined> {
  return (await s.all('SELECT id, state, access_enabled, flag_reason, dn, display_name, source FROM users WHERE anchor = ?', [anchor.toLowerCase()]))[0];
}

async function owner(s: StoreReader, address: string): Promise<{ user_id: unknown; role: unknown } | undefined> {
  return (await s.all('SELECT user_id, role FROM addresses WHERE lower(address) = ?', [address.toLowerCase()]))[0] as { user_id: unknown; role: unknown } | undefined;
}

async function hasMembership(s: StoreReader, group: string, member: string): Promise<boolean> {
  return (await s.all('SELECT 1 AS x FROM memberships WHERE group_anchor = ? AND member_anchor = ?', [group.toLowerCase(), member.toLowerCase()])).length > 0;
}

/** What the checks compare against: ids before the changes, and the before-state that must differ. */
export interface BeforeState {
  ids: Record<string, string | undefined>;
  aliasRemovedHeld: boolean;
  memberPresent: boolean;
  reenabledPresent: boolean;
}

export async function readBefore(s: StoreReader, plan: ChangePlan): Promise<BeforeState> {
  const p = plan.picks;
  const ids: Record<string, string | undefined> = {};
  for (const [k, u] of Object.entries(p) as Array<[string, GeneratedUser]>) ids[k] = (await userByAnchor(s, u.entryUUID))?.id as string | undefined;
  return {
    ids,
    aliasRemovedHeld: (await owner(s, p.aliasRemoved.alias))?.user_id === ids['aliasRemoved'],
    memberPresent: await hasMembership(s, p.member.groupAnchor, p.member.entryUUID),
    reenabledPresent: ids['reenabled'] !== undefined,
  };
}

const normDn = (dn: unknown): string => String(dn ?? '').replace(/\s*,\s*/g, ',').toLowerCase();

/** Checks that each of the ten changes landed; every check also requires its precondition. */
export async function checkChanges(s: StoreReader, plan: ChangePlan, before: BeforeState): Promise<Check[]> {
  const p = plan.picks;
  const out: Check[] = [];
  const add = (name: string, ok: boolean, detail: string): void => { out.push({ name, ok, detail }); };
  const show = (u: Record<string, unknown> | undefined): string => (u ? `state=${String(u.state)} access=${String(u.access_enabled)} reason=${String(u.flag_reason)}` : 'no user');

  let u = await userByAnchor(s, p.deleted.entryUUID);
  add('delete → pending_deletion (R15)', before.ids['deleted'] !== undefined && u?.id === before.ids['deleted'] && u?.state === 'pending_deletion' && Number(u?.access_enabled) === 0, show(u));

  u = await userByAnchor(s, p.renamed.entryUUID);
  add('rename → same id, new DN (R11)', before.ids['renamed'] !== undefined && u?.id === before.ids['renamed'] && normDn(u?.dn) === normDn(p.renamed.newDn) && u?.state === 'active',
    `id kept=${u?.id === before.ids['renamed']} dn=${String(u?.dn)}`);

  let o = await owner(s, p.aliasAdded.alias);
  add('alias added (R12/R13)', before.ids['aliasAdded'] !== undefined && o?.user_id === before.ids['aliasAdded'] && o?.role === 'alias', o ? `held as ${String(o.role)}` : 'absent');

  o = await owner(s, p.aliasRemoved.alias);
  add('alias removed (R12)', before.aliasRemovedHeld && o === undefined, `held before=${before.aliasRemovedHeld} after=${o ? 'yes' : 'no'}`);

  u = await userByAnchor(s, p.disabled.entryUUID);
  add('disable → pending_deletion (R15)', before.ids['disabled'] !== undefined && u?.state === 'pending_deletion' && String(u?.flag_reason ?? '').includes('disabled'), show(u));

  u = await userByAnchor(s, p.reenabled.entryUUID);
  add('re-enable → user added active (R10)', !before.reenabledPresent && u?.state === 'active' && Number(u?.access_enabled) === 1, `before=${before.reenabledPresent ? 'present' : 'absent'} ${show(u)}`);

  u = await userByAnchor(s, p.primaryChanged.entryUUID);
  const newOwner = await owner(s, p.primaryChanged.newPrimary);
  const oldOwner = await owner(s, p.primaryChanged.mails[0]!);
  add('primary change → same id, new primary (R13a)', before.ids['primaryChanged'] !== undefined && u?.id === before.ids['primaryChanged'] &&
    newOwner?.user_id === u?.id && newOwner?.role === 'primary' && oldOwner === undefined,
  `new=${newOwner ? String(newOwner.role) : 'absent'} old=${oldOwner ? 'still held' : 'released'}`);

  u = await userByAnchor(s, p.renamedDisplay.entryUUID);
  add('display name (R12)', before.ids['renamedDisplay'] !== undefined && u?.display_name === p.renamedDisplay.newDisplayName, `display_name=${JSON.stringify(u?.display_name)}`);

  const addedOwner = await owner(s, p.added.mails[0]!);
  const addedUser = addedOwner ? (await s.all('SELECT state, source, anchor FROM users WHERE id = ?', [addedOwner.user_id]))[0] : undefined;
  add('new user added (R10)', addedOwner?.role === 'primary' && addedUser?.state === 'active' && addedUser?.source === 'ldap' && addedUser?.anchor != null,
    addedUser ? `state=${String(addedUser.state)} source=${String(addedUser.source)}` : 'absent');

  const member = await hasMembership(s, p.member.groupAnchor, p.member.entryUUID);
  add('group membership added (D7)', !before.memberPresent && member, `before=${before.memberPresent} after=${member}`);
  return out;
}
