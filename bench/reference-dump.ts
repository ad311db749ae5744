/**
 * Step (a): the reference a sync is compared with — `ldapsearch`, paged by 1000, over the same
 * transport and bind account, with the SAME base, filters and attribute lists Roster requests.
 * Those come from the product's own profile code (src/directory/profiles.ts) applied to the
 * connection's stored settings, so the reference follows the product if its requests change.
 */
import type { ConnectionSettings } from '../src/core/connection.ts';
import { contactAttributes, groupAttributes, resolveProfile, userAttributes } from '../src/directory/profiles.ts';
import { shq } from './measure.ts';

export interface Search {
  what: string;
  filter: string;
  attrs: string[];
}

/** The searches one read of this connection performs, in order (users, public folders, groups, contacts). */
export function searchesOf(settings: ConnectionSettings): Search[] {
  const p = resolveProfile(settings);
  const out: Search[] = [{ what: 'users', filter: p.userFilter, attrs: userAttributes(p) }];
  if (settings.options.syncPublicFolders && p.publicFolderFilter !== null) out.push({ what: 'public folders', filter: p.publicFolderFilter, attrs: userAttributes(p) });
  out.push({ what: 'groups', filter: p.groupFilter, attrs: groupAttributes(p) });
  if (settings.options.readContacts && p.contactFilter !== null) out.push({ what: 'contacts', filter: p.contactFilter, attrs: contactAttributes(p) });
  return out;
}

export interface DumpTarget {
  url: string;
  bindDn: string;
  passwordFile: string;
  baseDn: string;
  pageSize: number;
}

/** One ldapsearch argv per search (output is redirected by the caller). */
export function ldapsearchArgv(t: DumpTarget, s: Search): string[] {
  return ['ldapsearch', '-x', '-H', t.url, '-D', t.bindDn, '-y', t.passwordFile, '-LLL', '-o', 'ldif-wrap=no',
    '-b', t.baseDn, '-s', 'sub', '-E', `pr=${t.pageSize}/noprompt`, s.filter, ...s.attrs];
}

/** The shell script of step (a): every search back to back, each to /dev/null, failing on the first error. */
export function dumpScript(t: DumpTarget, searches: Search[], sink = '/dev/null', append = false): string {
  return ['set -e', ...searches.map((s) => `${ldapsearchArgv(t, s).map(shq).join(' ')} ${append ? '>>' : '>'} ${shq(sink)}`)].join('; ');
}
