/**
 * R42 key rotation: re-encrypts every stored connection secret with a new key, in ONE
 * transaction, so the store never holds a mix that no single key can read.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { decryptSecret, encryptSecret, keyId, secretKeyId } from './secrets.ts';
import { recordAudit, type AdminCtx } from '../store/admin/tenants.ts';

export interface RotationResult {
  oldKeyId: string;
  newKeyId: string;
  /** Secrets re-encrypted. */
  rotated: number;
  /** Secrets already under the new key (a rotation re-run after an interruption). */
  alreadyNew: number;
}

/**
 * Decrypts each secret with `oldKey` (or leaves it when already under `newKey`) and stores it
 * encrypted with `newKey`. Any secret readable by neither key aborts the whole rotation.
 */
export async function rotateSecrets(db: Kysely<Database>, oldKey: Buffer, newKey: Buffer, ctx: AdminCtx): Promise<RotationResult> {
  const newId = keyId(newKey);
  return db.transaction().execute(async (tx) => {
    const rows = await tx.selectFrom('connections').select(['id', 'tenant_id', 'bind_secret']).where('bind_secret', 'is not', null).orderBy('id').execute();
    let rotated = 0;
    let alreadyNew = 0;
    for (const r of rows) {
      const stored = r.bind_secret!;
      if (secretKeyId(stored) === newId) {
        decryptSecret(stored, newKey); // proves it is readable, or throws
        alreadyNew++;
        continue;
      }
      const next = encryptSecret(decryptSecret(stored, oldKey), newKey);
      await tx.updateTable('connections').set({ bind_secret: next, updated_at: ctx.now }).where('id', '=', r.id).execute();
      rotated++;
    }
    const result = { oldKeyId: keyId(oldKey), newKeyId: newId, rotated, alreadyNew };
    await recordAudit(tx, ctx, [{ action: 'secrets.rotate', tenantId: null, objectKind: 'secret_key', objectId: newId, after: result }]);
    return result;
  });
}
