/**
 * R5: our own paging loop (safe-paging.ts) against a real slapd — every page is read, page sizes are
 * honoured, and the ldapts internals it relies on are still there (this fails first if ldapts changes).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'ldapts';
import { startSlapd, type Slapd } from '../../test/helpers/slapd.ts';
import { generateOpenLdapLdif } from '../../test/fixtures/directory-generator.ts';
import { hasPagingInternals, pagedSearch } from './safe-paging.ts';
import { compileFilter } from './filter-compile.ts';

const gen = generateOpenLdapLdif({ seed: 7, users: 250, baseDn: 'dc=example,dc=test', managedDomains: ['example.test'], unmanagedDomains: [] });
let s: Slapd;
before(async () => {
  s = await startSlapd({ ldif: gen.toString() });
});
after(async () => {
  await s?.stop();
});

test('the ldapts internals the paging loop uses exist', () => {
  assert.equal(hasPagingInternals(new Client({ url: 'ldap://127.0.0.1:1' })), true);
});

test('R5 paging reads every entry across pages of 7, one page at a time', async () => {
  const client = new Client({ url: s.url, timeout: 10_000, connectTimeout: 5_000 });
  try {
    await client.bind(s.readerDn, s.readerPassword);
    const sizes: number[] = [];
    const dns = new Set<string>();
    for await (const page of pagedSearch(client, {
      base: s.baseDn, scope: 'sub', filter: compileFilter('(objectClass=inetOrgPerson)'),
      attributes: ['mail'], binaryAttrs: [], pageSize: 7,
    })) {
      sizes.push(page.entries.length);
      for (const e of page.entries) dns.add(e.dn);
    }
    assert.equal(dns.size, gen.manifest.users);
    assert.ok(sizes.every((n) => n <= 7), `a page held more than 7 entries: ${sizes.join(',')}`);
    assert.equal(sizes.length, Math.ceil(gen.manifest.users / 7));
  } finally {
    await client.unbind().catch(() => undefined);
  }
});

test('R5 a failing search result throws instead of ending the read', async () => {
  const client = new Client({ url: s.url, timeout: 10_000, connectTimeout: 5_000 });
  try {
    await client.bind(s.readerDn, s.readerPassword);
    const read = async (): Promise<number> => {
      let n = 0;
      for await (const page of pagedSearch(client, {
        base: `ou=nowhere,${s.baseDn}`, scope: 'sub', filter: compileFilter('(objectClass=*)'),
        attributes: ['cn'], binaryAttrs: [], pageSize: 10,
      })) n += page.entries.length;
      return n;
    };
    await assert.rejects(read(), (e: Error) => /no ?such ?object/i.test(`${e.name} ${e.message}`));
  } finally {
    await client.unbind().catch(() => undefined);
  }
});

test('R5 entries mapped as they arrive: pages hold the mapped values; a throw from the mapping fails the read with that error', async () => {
  const client = new Client({ url: s.url, timeout: 10_000, connectTimeout: 5_000 });
  try {
    await client.bind(s.readerDn, s.readerPassword);
    const search = { base: s.baseDn, scope: 'sub' as const, filter: compileFilter('(objectClass=inetOrgPerson)'), attributes: ['mail'], binaryAttrs: [], pageSize: 50 };
    const dns: string[] = [];
    for await (const page of pagedSearch(client, search, (e) => e.dn.toUpperCase())) dns.push(...page.entries);
    assert.equal(new Set(dns).size, gen.manifest.users);
    assert.ok(dns.every((d) => d === d.toUpperCase()));
    const stop = new Error('entry 120 cannot be mapped');
    let mapped = 0;
    const read = async (): Promise<number> => {
      let n = 0;
      for await (const page of pagedSearch(client, search, (e) => {
        if (++mapped === 120) throw stop;
        return e;
      })) n += page.entries.length;
      return n;
    };
    await assert.rejects(read(), (e) => e === stop);
    assert.equal(mapped, 120, 'no entry is mapped after the failure');
  } finally {
    await client.unbind().catch(() => undefined);
  }
});
