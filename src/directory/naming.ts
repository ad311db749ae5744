/**
 * Facts the reader needs from the directory itself: the rootDSE's naming contexts (D8 reads
 * excepted groups from the naming context root) and, for AD, the NetBIOS domain name from the
 * Configuration partition's crossRef (R1 NTLM names).
 */
import type { Client } from 'ldapts';
import { escapeFilterValue } from './escape.ts';
import { searchOnce, type SearchContext } from './paged-search.ts';
import { readFirst, readStrings } from './values.ts';

export interface RootDse {
  namingContexts: string[];
  defaultNamingContext: string | null;
  configurationNamingContext: string | null;
}

export async function readRootDse(client: Client, ctx: SearchContext): Promise<RootDse> {
  const [e] = await searchOnce(client, {
    base: '', scope: 'base', filter: '(objectClass=*)', binaryAttrs: [],
    attributes: ['namingContexts', 'defaultNamingContext', 'configurationNamingContext'],
  }, { ...ctx, what: 'the rootDSE' });
  if (!e) return { namingContexts: [], defaultNamingContext: null, configurationNamingContext: null };
  return {
    namingContexts: readStrings(e, 'namingContexts', []),
    defaultNamingContext: readFirst(e, 'defaultNamingContext', []),
    configurationNamingContext: readFirst(e, 'configurationNamingContext', []),
  };
}

function normDn(dn: string): string {
  return dn.replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
}

/**
 * The naming context that holds `baseDn`: the longest namingContext that is a suffix of it (AD's
 * defaultNamingContext first), or baseDn itself when none is (a server that hides its rootDSE).
 */
export function namingContextOf(baseDn: string, root: RootDse): string {
  const b = normDn(baseDn);
  const candidates = [...(root.defaultNamingContext ? [root.defaultNamingContext] : []), ...root.namingContexts]
    .filter((nc) => nc !== '' && (b === normDn(nc) || b.endsWith(',' + normDn(nc))))
    .sort((x, y) => y.length - x.length);
  return candidates[0] ?? baseDn;
}

/** AD: the NetBIOS name of the domain whose naming context holds baseDn, or null when none is found. */
export async function discoverNetbiosDomain(client: Client, root: RootDse, baseDn: string, ctx: SearchContext): Promise<string | null> {
  if (!root.configurationNamingContext) return null;
  const nc = namingContextOf(baseDn, root);
  const entries = await searchOnce(client, {
    base: `CN=Partitions,${root.configurationNamingContext}`, scope: 'one', binaryAttrs: [],
    filter: `(&(objectClass=crossRef)(nCName=${escapeFilterValue(nc)})(nETBIOSName=*))`,
    attributes: ['nETBIOSName'],
  }, { ...ctx, what: 'the NetBIOS domain name' });
  for (const e of entries) {
    const n = readFirst(e, 'nETBIOSName', []);
    if (n !== null) return n.trim();
  }
  return null;
}
