/**
 * The `roster` command line (DESIGN: commander, every command has --json). Builds the
 * CliContext, registers every command module, and maps errors to exit codes (errors.ts).
 */
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.ts';
import type { Store } from '../store/db.ts';
import { openStore } from '../store/db.ts';
import { loadConfig, type RosterConfig } from '../config/config.ts';
import { RosterError } from '../core/errors.ts';
import { emit, printError } from './output.ts';
import { register as registerProviders } from './commands/providers.ts';
import { register as registerTenants } from './commands/tenants.ts';
import { register as registerDomains } from './commands/domains.ts';
import { register as registerConnections } from './commands/connections.ts';
import { register as registerSync } from './commands/sync.ts';
import { register as registerSecrets } from './commands/secrets.ts';
import { register as registerUsers } from './commands/users.ts';
import { register as registerRules } from './commands/rules.ts';
import { register as registerArchives } from './commands/archives.ts';
import { register as registerConflicts } from './commands/conflicts.ts';
import { register as registerExceptions } from './commands/exceptions.ts';
import { register as registerAdditions } from './commands/additions.ts';
import { register as registerRuns } from './commands/runs.ts';
import { register as registerPurge } from './commands/purge.ts';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

/** Builds the context; the config is read lazily so that `--help` works with a bad environment. */
function makeContext(program: Command, getConfig: () => RosterConfig, opened: Store[]): CliContext {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  return {
    async openStore() {
      const store = await openStore({ url: getConfig().databaseUrl });
      opened.push(store);
      return store;
    },
    now: () => getConfig().clockOverride ?? new Date().toISOString(),
    get clockOverride() {
      return getConfig().clockOverride;
    },
    actor: `cli:${osUser()}`,
    json,
    emit: (value, human) => emit(json(), value, human),
    interactive: process.stderr.isTTY === true,
  };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('roster');
  const opened: Store[] = [];
  let config: RosterConfig | null = null;
  const getConfig = () => (config ??= loadConfig());
  let commanderMessage = '';
  program
    .description('Keeps the user roster of each tenant in step with its directories.')
    .option('--json', 'print one JSON document on stdout (errors as JSON on stderr)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (str) => (commanderMessage = str.replace(/^error: /, '').trim()) });
  const ctx = makeContext(program, getConfig, opened);
  for (const register of [registerProviders, registerTenants, registerDomains, registerConnections, registerSync, registerSecrets,
    registerUsers, registerRules, registerArchives, registerConflicts, registerExceptions, registerAdditions, registerRuns, registerPurge]) {
    register(program, ctx);
  }
  const json = argv.includes('--json');
  const debug = process.env['ROSTER_DEBUG'] === '1';
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      if (e.code === 'commander.executeSubCommandAsync' || e.code === 'commander.help') return 0;
      return printError(new RosterError('bad_input', commanderMessage || e.message), json, debug);
    }
    return printError(e, json, debug);
  } finally {
    for (const s of opened) await s.close().catch(() => {});
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
