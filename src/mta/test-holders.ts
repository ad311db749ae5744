/**
 * Store rows for the MTA tests (maps.test.ts, server.test.ts): every kind of holder R61 names.
 */
import type { Kysely } from 'kysely';
import { T0, insertUserRow, seedTenant } from '../../test/helpers/admin-fixtures.ts';
import type { Database } from '../store/schema.ts';

/**
 * One tenant with every kind of holder R61 names, plus a second tenant: the maps answer from these
 * rows exactly as `roster postfix serve` does.
 */
export async function seedHolders(db: Kysely<Database>): Promise<void> {
  const s = await seedTenant(db, { tenant: 'acme', domains: ['acme.test', 'xn--bcher-kva.test'], connections: ['main'] });
  const conn = s.connections['main']!;
  await insertUserRow(db, s.tenantId, { address: 'ann@acme.test', aliases: ['ann.b@acme.test', 'anna@xn--bcher-kva.test'], connectionId: conn });
  await insertUserRow(db, s.tenantId, { address: 'flag@acme.test', aliases: ['flag.alias@acme.test'], connectionId: conn, state: 'pending_deletion', flagReason: 'missing', flaggedAt: T0 });
  await insertUserRow(db, s.tenantId, { address: 'deact@acme.test', aliases: ['deact.alias@acme.test'], state: 'deactivated', source: 'manual' });
  await insertUserRow(db, s.tenantId, { address: 'noaccess@acme.test', state: 'active', access: false, source: 'manual' });
  await insertUserRow(db, s.tenantId, { address: 'man@acme.test', source: 'manual' });
  const pf = await insertUserRow(db, s.tenantId, { address: 'folder@acme.test', aliases: ['folder.alias@acme.test'], connectionId: conn });
  await db.updateTable('users').set({ kind: 'public_folder' }).where('id', '=', pf).execute();
  const gid = crypto.randomUUID();
  await db.insertInto('groups').values({ id: gid, tenant_id: s.tenantId, connection_id: conn, anchor: 'g1', dn: 'cn=staff', name: 'Staff', created_at: T0, updated_at: T0 }).execute();
  await db.insertInto('addresses').values({ address: 'staff@acme.test', tenant_id: s.tenantId, role: 'group', user_id: null, group_id: gid }).execute();
  const cid = crypto.randomUUID();
  await db.insertInto('contacts').values({ id: cid, tenant_id: s.tenantId, connection_id: conn, anchor: 'c1', dn: 'cn=ext', name: 'External', created_at: T0, updated_at: T0 }).execute();
  await db.insertInto('contact_addresses').values([{ contact_id: cid, address: 'contact@acme.test' }, { contact_id: cid, address: 'ann@acme.test' }]).execute();
  const other = await seedTenant(db, { tenant: 'globex', domains: ['globex.test'] });
  await insertUserRow(db, other.tenantId, { address: 'gus@globex.test', aliases: ['gustav@globex.test'], source: 'manual' });
}

