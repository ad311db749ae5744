import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { forEachDialect } from '../../../test/helpers/dialects.ts';
import { CTX, insertUserRow } from '../../../test/helpers/admin-fixtures.ts';
import { addProvider, addTenant, getTenant, listProviders, listTenants, setTenantSync, showTenant } from './tenants.ts';
import { addDomain, listDomains, previewDomainRemoval, removeDomain } from './domains.ts';
import { addConnection, editConnection, getConnection, deleteConnection, loadBindSecret, scopeKey, type ConnectionInput } from './connections.ts';
import { DEFAULT_CONNECTION_SETTINGS } from '../../core/connection.ts';
import { RosterError } from '../../core/errors.ts';
import { encryptSecret, decryptSecret } from '../../sync/secrets.ts';
import { rotateSecrets } from '../../sync/rotate-secrets.ts';

const isCode = (code: string) => (e: unknown) => e instanceof RosterError && e.code === code;
const input = (name: string, host = 'dc1.acme.test', o: Partial<ConnectionInput> = {}): ConnectionInput => ({
  name, priority: 1, enabled: true, schedule: '30m',
  settings: { ...DEFAULT_CONNECTION_SETTINGS, profile: 'openldap', servers: [{ host, port: 636, security: 'ldaps' }], bindDn: 'cn=r,dc=acme,dc=test', baseDn: 'dc=acme,dc=test' },
  ...o,
});

forEachDialect('admin tenants and domains', (open) => {
  test('D1: a tenant without provider lands in "default"; names are unique per provider; audited (R25)', async () => {
    const { db } = await open();
    const t = await addTenant(db, { name: 'acme' }, CTX);
    assert.equal(t.provider, 'default');
    await addProvider(db, 'msp', CTX);
    await addTenant(db, { name: 'acme', provider: 'msp' }, CTX);
    await assert.rejects(addTenant(db, { name: 'acme' }, CTX), isCode('conflict'));
    await assert.rejects(addTenant(db, { name: 'x', provider: 'nope' }, CTX), isCode('not_found'));
    await assert.rejects(addTenant(db, { name: 'bad name' }, CTX), isCode('bad_input'));
    await assert.rejects(getTenant(db, 'acme'), isCode('bad_input'), 'ambiguous name needs a provider');
    assert.equal((await getTenant(db, 'acme', 'msp')).provider, 'msp');
    assert.deepEqual((await listProviders(db)).map((p) => [p.name, p.tenants]), [['default', 1], ['msp', 1]]);
    assert.equal((await listTenants(db, { provider: 'msp' })).length, 1);
    const audit = await db.selectFrom('audit').select(['action', 'actor']).orderBy('id').execute();
    assert.deepEqual(audit.map((a) => a.action), ['provider.add', 'tenant.add', 'provider.add', 'tenant.add']);
    assert.ok(audit.every((a) => a.actor === 'cli:test'));
  });

  test('R24/R18: enable-sync records when; disabling keeps it; re-enabling twice keeps the first time', async () => {
    const { db } = await open();
    let t = await addTenant(db, { name: 'acme' }, CTX);
    t = await setTenantSync(db, t, true, CTX);
    assert.deepEqual([t.syncEnabled, t.syncEnabledAt], [true, CTX.now]);
    t = await setTenantSync(db, t, true, { ...CTX, now: '2026-12-01T00:00:00.000Z' });
    assert.equal(t.syncEnabledAt, CTX.now, 'already on: unchanged');
    t = await setTenantSync(db, t, false, CTX);
    assert.equal((await showTenant(db, 'acme')).syncEnabled, false);
  });

  test('domains: punycode, unique across tenants (conflict names the owner), bad names refused', async () => {
    const { db } = await open();
    const a = await addTenant(db, { name: 'acme' }, CTX);
    const b = await addTenant(db, { name: 'globex' }, CTX);
    assert.equal((await addDomain(db, a, 'Bücher.Example', CTX)).name, 'xn--bcher-kva.example');
    await assert.rejects(addDomain(db, b, 'BÜCHER.example', CTX), (e: unknown) => isCode('conflict')(e) && /tenant "acme"/.test((e as Error).message));
    await assert.rejects(addDomain(db, b, 'not a domain', CTX), isCode('bad_input'));
    assert.deepEqual((await listDomains(db, a)).map((d) => d.display), ['bücher.example']);
    assert.deepEqual((await showTenant(db, 'acme')).domains, ['xn--bcher-kva.example']);
  });

  test('R17: removing a domain removes its users with rules at once, keeps archives unlinked, strips aliases', async () => {
    const { db } = await open();
    const t = await addTenant(db, { name: 'acme' }, CTX);
    await addDomain(db, t, 'acme.test', CTX);
    await addDomain(db, t, 'old.test', CTX);
    const gone = await insertUserRow(db, t.id, { address: 'ann@old.test', aliases: ['ann@acme.test'] });
    const stays = await insertUserRow(db, t.id, { address: 'bob@acme.test', aliases: ['bob@old.test', 'robert@acme.test'] });
    await db.insertInto('rules').values({ id: crypto.randomUUID(), user_id: gone, kind: 'allow', value: 'x@y.test', created_at: CTX.now }).execute();
    await db.insertInto('archives').values({ id: crypto.randomUUID(), tenant_id: t.id, address: 'ann@old.test', user_id: gone, created_at: CTX.now }).execute();
    const preview = await previewDomainRemoval(db, t, 'OLD.test');
    assert.deepEqual(preview, { domain: 'old.test', users: 1, aliases: 1, rules: 1, archivesUnlinked: 1, additions: 0 });
    assert.equal((await db.selectFrom('users').select('id').execute()).length, 2, 'preview changes nothing');
    const r = await removeDomain(db, t, 'old.test', CTX);
    assert.deepEqual(r, preview);
    assert.deepEqual((await db.selectFrom('users').select('id').execute()).map((u) => u.id), [stays]);
    assert.equal((await db.selectFrom('rules').select('id').execute()).length, 0);
    const arch = await db.selectFrom('archives').select(['address', 'user_id']).execute();
    assert.deepEqual(arch, [{ address: 'ann@old.test', user_id: null }]);
    const addrs = (await db.selectFrom('addresses').select('address').orderBy('address').execute()).map((a) => a.address);
    assert.deepEqual(addrs, ['bob@acme.test', 'robert@acme.test']);
    assert.deepEqual((await listDomains(db, t)).map((d) => d.name), ['acme.test']);
    const audit = (await db.selectFrom('audit').select('action').where('action', 'like', '%remove%').execute()).map((a) => a.action).sort();
    assert.deepEqual(audit, ['alias.remove_with_domain', 'domain.remove', 'user.remove_with_domain']);
    await assert.rejects(removeDomain(db, t, 'old.test', CTX), isCode('not_found'));
  });

  test('connections: validated (R2 filter, R20 delay, R43 plain bind), unique scope per tenant (R51), edit, delete', async () => {
    const { db } = await open();
    const t = await addTenant(db, { name: 'acme' }, CTX);
    const key = randomBytes(32);
    const withSettings = (s: Partial<ConnectionInput['settings']>) => {
      const i = input('bad');
      return { ...i, settings: { ...i.settings, ...s } };
    };
    await assert.rejects(addConnection(db, t, withSettings({ customFilter: '(cn=a' }), null, CTX), (e: unknown) => isCode('bad_input')(e) && /invalid filter at position/.test((e as Error).message));
    await assert.rejects(addConnection(db, t, withSettings({ deletionDelayDays: 3 as 7 }), null, CTX), /7, 14, 30 or never/);
    await assert.rejects(addConnection(db, t, withSettings({ servers: [{ host: 'h', port: 389, security: 'plain' }] }), null, CTX), /allow-plain-bind/);
    await assert.rejects(addConnection(db, t, withSettings({ baseDn: 'not a dn' }), null, CTX), /base DN/);
    const c = await addConnection(db, t, input('main'), encryptSecret('pw-1', key), CTX);
    assert.equal(c.hasBindPassword, true);
    assert.ok(!JSON.stringify(c).includes('pw-1'));
    await assert.rejects(addConnection(db, t, input('other', 'DC1.acme.test'), null, CTX), (e: unknown) => isCode('conflict')(e) && /R51/.test((e as Error).message));
    await addConnection(db, t, input('hr', 'dc2.acme.test'), null, CTX);
    assert.equal(scopeKey(input('x', 'DC1.ACME.test').settings), scopeKey({ ...input('y').settings, baseDn: 'DC=acme, DC=test' }));
    const e = await editConnection(db, t, 'main', { ...c, priority: 7, settings: { ...c.settings, deletionDelayDays: null } }, undefined, CTX);
    assert.deepEqual([e.priority, e.settings.deletionDelayDays, e.hasBindPassword], [7, null, true]);
    assert.equal(decryptSecret((await loadBindSecret(db, c.id))!, key), 'pw-1', 'edit without a password keeps it');
    await assert.rejects(editConnection(db, t, 'main', { ...c, name: 'hr' }, undefined, CTX), isCode('conflict'));
    const d = await deleteConnection(db, t, 'hr', CTX);
    assert.equal(d.connection, 'hr');
    await assert.rejects(getConnection(db, t, 'hr'), isCode('not_found'));
    const audit = (await db.selectFrom('audit').select(['action', 'before', 'after']).where('object_kind', '=', 'connection').execute());
    assert.deepEqual(audit.map((a) => a.action).sort(), ['connection.add', 'connection.add', 'connection.delete', 'connection.edit']);
    assert.ok(!JSON.stringify(audit).includes('v1:'), 'no secret, even encrypted, in audit rows');
  });

  test('R42: rotation re-encrypts every secret in one transaction; a secret no key can read aborts it all', async () => {
    const { db } = await open();
    const t = await addTenant(db, { name: 'acme' }, CTX);
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    await addConnection(db, t, input('a', 'h1'), encryptSecret('pa', k1), CTX);
    await addConnection(db, t, input('b', 'h2'), encryptSecret('pb', k1), CTX);
    const r = await rotateSecrets(db, k1, k2, CTX);
    assert.deepEqual([r.rotated, r.alreadyNew], [2, 0]);
    const rows = await db.selectFrom('connections').select(['name', 'bind_secret']).orderBy('name').execute();
    assert.deepEqual(rows.map((x) => decryptSecret(x.bind_secret!, k2)), ['pa', 'pb']);
    assert.deepEqual((await rotateSecrets(db, k1, k2, CTX)).alreadyNew, 2, 're-run is safe');
    await addConnection(db, t, input('c', 'h3'), encryptSecret('pc', randomBytes(32)), CTX);
    const before = await db.selectFrom('connections').select('bind_secret').orderBy('name').execute();
    await assert.rejects(rotateSecrets(db, k2, randomBytes(32), CTX), isCode('config'));
    assert.deepEqual(await db.selectFrom('connections').select('bind_secret').orderBy('name').execute(), before, 'nothing half-rotated');
  });
});
