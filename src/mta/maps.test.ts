import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { seedHolders } from './test-holders.ts';
import type { Database } from '../store/schema.ts';
import { answerMap, createResolver } from './maps.ts';
import { showReply } from './socketmap.ts';

/** Every map's answer for `key`, as Postfix would log it. */
async function answers(db: Kysely<Database>, key: string): Promise<{ recipient: string; alias: string; domain: string }> {
  return {
    recipient: showReply(await answerMap(db, 'recipient', key)),
    alias: showReply(await answerMap(db, 'alias', key)),
    domain: showReply(await answerMap(db, 'domain', key)),
  };
}

forEachDialect('postfix maps', (open) => {
  test('R61 recipient map: active users (primary and alias), public folders and groups are valid → OK <address>', async () => {
    const { db } = await open();
    await seedHolders(db);
    for (const a of ['ann@acme.test', 'ann.b@acme.test', 'man@acme.test', 'folder@acme.test', 'folder.alias@acme.test', 'staff@acme.test', 'gus@globex.test', 'gustav@globex.test']) {
      assert.equal(showReply(await answerMap(db, 'recipient', a)), `OK ${a}`, a);
    }
  });

  test('R61 recipient map: flagged, deactivated, access-disabled, contact-only, unknown and unmanaged addresses are NOTFOUND', async () => {
    const { db } = await open();
    await seedHolders(db);
    for (const a of ['flag@acme.test', 'flag.alias@acme.test', 'deact@acme.test', 'deact.alias@acme.test', 'noaccess@acme.test', 'contact@acme.test', 'nobody@acme.test', 'ann@unmanaged.test']) {
      assert.equal(showReply(await answerMap(db, 'recipient', a)), 'NOTFOUND', a);
    }
  });

  test('R61 R4 keys are case-insensitive and IDN domains match their punycode form; answers use the normalized address', async () => {
    const { db } = await open();
    await seedHolders(db);
    assert.equal(showReply(await answerMap(db, 'recipient', 'ANN@Acme.TEST')), 'OK ann@acme.test');
    assert.equal(showReply(await answerMap(db, 'recipient', 'Anna@BÜCHER.test')), 'OK anna@xn--bcher-kva.test');
    assert.equal(showReply(await answerMap(db, 'recipient', 'anna@xn--bcher-kva.test')), 'OK anna@xn--bcher-kva.test');
    assert.equal(showReply(await answerMap(db, 'alias', 'ANNA@bücher.test')), 'OK ann@acme.test');
    assert.equal(showReply(await answerMap(db, 'domain', 'BÜCHER.test')), 'OK xn--bcher-kva.test');
  });

  test('R61 partial and malformed keys (@domain, bare local part, empty, spaces, two @) are NOTFOUND on every map', async () => {
    const { db } = await open();
    await seedHolders(db);
    for (const k of ['@acme.test', 'ann', 'ann@', '', ' ', 'ann@@acme.test', 'a b@acme.test', 'ann@acme', '.acme.test', 'acme.test.', 'x'.repeat(300) + '@acme.test']) {
      assert.deepEqual(await answers(db, k), { recipient: 'NOTFOUND', alias: 'NOTFOUND', domain: 'NOTFOUND' }, JSON.stringify(k));
    }
  });

  test('R61 alias map: an alias of a valid user or public folder → OK <primary>; primaries, groups, invalid holders → NOTFOUND', async () => {
    const { db } = await open();
    await seedHolders(db);
    assert.equal(showReply(await answerMap(db, 'alias', 'ann.b@acme.test')), 'OK ann@acme.test');
    assert.equal(showReply(await answerMap(db, 'alias', 'folder.alias@acme.test')), 'OK folder@acme.test');
    assert.equal(showReply(await answerMap(db, 'alias', 'gustav@globex.test')), 'OK gus@globex.test');
    for (const a of ['ann@acme.test', 'staff@acme.test', 'flag.alias@acme.test', 'deact.alias@acme.test', 'contact@acme.test', 'nobody@acme.test']) {
      assert.equal(showReply(await answerMap(db, 'alias', a)), 'NOTFOUND', a);
    }
  });

  test('R61 domain map: managed domains of any tenant → OK <domain>; others and addresses → NOTFOUND', async () => {
    const { db } = await open();
    await seedHolders(db);
    assert.equal(showReply(await answerMap(db, 'domain', 'acme.test')), 'OK acme.test');
    assert.equal(showReply(await answerMap(db, 'domain', 'GLOBEX.test')), 'OK globex.test');
    for (const d of ['other.test', 'sub.acme.test', 'test', 'ann@acme.test']) assert.equal(showReply(await answerMap(db, 'domain', d)), 'NOTFOUND', d);
  });

  test('R61 resolver: unknown map → PERM; a store failure → TEMP (never NOTFOUND), reported to onStoreError', async () => {
    const store = await open();
    await seedHolders(store.db);
    const errors: string[] = [];
    const resolve = createResolver(store.db, { onStoreError: (_e, map) => errors.push(map) });
    assert.deepEqual(await resolve({ map: 'recipient', key: 'ann@acme.test' }), { kind: 'OK', value: 'ann@acme.test' });
    const perm = await resolve({ map: 'virtual', key: 'ann@acme.test' });
    assert.equal(perm.kind, 'PERM');
    assert.match(showReply(perm), /unknown map "virtual"; Roster serves recipient, alias, domain/);
    await store.close();
    for (const [map, key] of [['recipient', 'ann@acme.test'], ['alias', 'ann.b@acme.test'], ['domain', 'acme.test']] as const) {
      const r = await resolve({ map, key });
      assert.deepEqual(r, { kind: 'TEMP', reason: 'roster store unavailable' }, map);
    }
    assert.deepEqual(errors, ['recipient', 'alias', 'domain']);
    // A malformed key needs no store: still NOTFOUND, not TEMP.
    assert.deepEqual(await resolve({ map: 'recipient', key: '@acme.test' }), { kind: 'NOTFOUND' });
  });
});

forEachDialect('postfix maps: plus-addressing', (open) => {
  test('R61 with a recipient delimiter, user+ext@ is valid when user@ is; the alias map keeps the extension; invalid bases stay NOTFOUND', async () => {
    const { db } = await open();
    await seedHolders(db);
    assert.equal(showReply(await answerMap(db, 'recipient', 'ann+news@acme.test')), 'NOTFOUND', 'no delimiter configured: the whole key only');
    assert.equal(showReply(await answerMap(db, 'recipient', 'ann+news@acme.test', '+')), 'OK ann+news@acme.test');
    assert.equal(showReply(await answerMap(db, 'recipient', 'ann-news@acme.test', '+-')), 'OK ann-news@acme.test');
    assert.equal(showReply(await answerMap(db, 'alias', 'ann.b+q4@acme.test', '+')), 'OK ann+q4@acme.test');
    assert.equal(showReply(await answerMap(db, 'alias', 'ann+q4@acme.test', '+')), 'NOTFOUND', 'a primary has nothing to rewrite');
    for (const k of ['flag+x@acme.test', 'nobody+x@acme.test', 'contact+x@acme.test', '+ann@acme.test']) {
      assert.equal(showReply(await answerMap(db, 'recipient', k, '+')), 'NOTFOUND', k);
    }
  });
});

test('splitExtension: first delimiter after the first character; none → null', async () => {
  const { splitExtension } = await import('./maps.ts');
  const a = (s: string) => s as Parameters<typeof splitExtension>[0];
  assert.deepEqual(splitExtension(a('ann+x+y@acme.test'), '+'), { base: 'ann@acme.test', extension: '+x+y' });
  assert.equal(splitExtension(a('+ann@acme.test'), '+'), null);
  assert.equal(splitExtension(a('ann@acme.test'), '+'), null);
  assert.equal(splitExtension(a('ann+x@acme.test'), ''), null);
});

forEachDialect('postfix maps and lookup resolve agree', (open) => {
  test('R61 the socketmap facts and `lookup resolve` give the same verdict for every kind of address (two gatherers, one verdict)', async () => {
    const { db } = await open();
    await seedHolders(db);
    const { resolveAddress } = await import('../lookup/resolve-address.ts');
    const { loadRecipientFacts } = await import('./recipient-facts.ts');
    const { recipientVerdict } = await import('../core/recipient.ts');
    const keys = ['ann@acme.test', 'ann.b@acme.test', 'anna@xn--bcher-kva.test', 'man@acme.test', 'folder@acme.test', 'folder.alias@acme.test',
      'staff@acme.test', 'gus@globex.test', 'gustav@globex.test', 'flag@acme.test', 'flag.alias@acme.test', 'deact@acme.test',
      'deact.alias@acme.test', 'noaccess@acme.test', 'contact@acme.test', 'nobody@acme.test', 'ann@unmanaged.test'];
    for (const k of keys) {
      const viaMta = recipientVerdict((await loadRecipientFacts(db, k as never)).facts);
      const viaResolve = (await resolveAddress(db, { address: k })).verdict;
      assert.deepEqual([viaResolve.valid, viaResolve.reason], [viaMta.valid, viaMta.reason], k);
    }
  });
});
