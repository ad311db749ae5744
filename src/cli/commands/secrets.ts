/**
 * `roster secrets rotate --new-key-file F` (R42): re-encrypts every connection secret with
 * the key in F in one transaction, then installs F's key as the configured key file (the old
 * key is kept beside it as <key file>.old-<key id>). With ROSTER_SECRET_KEY in the
 * environment there is no file to replace: the command says which value to set instead.
 */
import { copyFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { loadConfig } from '../../config/config.ts';
import { loadSecretKey, readKeyFile, createKeyFile, writeKeyFile } from '../../config/secret-key.ts';
import { rotateSecrets } from '../../sync/rotate-secrets.ts';
import { keyId } from '../../sync/secrets.ts';
import { RosterError } from '../../core/errors.ts';
import { withStore, adminCtx } from '../with-store.ts';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('secrets').description('the key that encrypts bind passwords (R42)');
  cmd
    .command('rotate')
    .description('re-encrypt all bind passwords with a new key and install it')
    .requiredOption('--new-key-file <file>', 'the new key (32 bytes, raw or base64); created if missing')
    .action(async (o: { newKeyFile: string }) => {
      const config = loadConfig();
      const oldKey = loadSecretKey(config, false);
      let newKey: Buffer;
      try {
        newKey = readKeyFile(o.newKeyFile);
      } catch (e) {
        if (e instanceof RosterError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') newKey = createKeyFile(o.newKeyFile);
        else throw e;
      }
      if (newKey.equals(oldKey)) throw new RosterError('bad_input', 'the new key is the key already in use');
      const result = await withStore(ctx, (s) => rotateSecrets(s.db, oldKey, newKey, adminCtx(ctx)));
      let installed: string | null = null;
      if (config.secretKeyBase64 === null) {
        copyFileSync(config.secretKeyFile, `${config.secretKeyFile}.old-${keyId(oldKey)}`);
        writeKeyFile(config.secretKeyFile, newKey);
        installed = config.secretKeyFile;
      }
      ctx.emit({ ...result, installedKeyFile: installed }, [
        `${result.rotated} secrets re-encrypted with key ${result.newKeyId} (was ${result.oldKeyId})`,
        installed === null
          ? 'ROSTER_SECRET_KEY is set: replace its value with the base64 content of the new key file'
          : `key file ${installed} now holds the new key; the old key is kept as ${installed}.old-${result.oldKeyId}`,
      ]);
    });
}
