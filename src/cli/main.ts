/**
 * The `roster` command line (DESIGN: commander, every command has --json). Builds the
 * CliContext, registers every command module, and maps errors to exit codes (errors.ts).
 */
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.ts';
import type { Store } from '../store/db.ts';
import type { RosterConfig } from '../config/config.ts';
import { RosterError } from '../core/errors.ts';
import { emit, printError } from './output.ts';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Top-level command → its module, imported on demand: a command loads only what it needs (the
 * store's query builder, the LDAP client, the config schema are hundreds of modules), which keeps
 * `roster sync` start-up short. Help and unknown commands load every module (commander lists them).
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  providers: () => import('./commands/providers.ts'),
  tenants: () => import('./commands/tenants.ts'),
  domains: () => import('./commands/domains.ts'),
  connections: () => import('./commands/connections.ts'),
  sync: () => import('./commands/sync.ts'),
  secrets: () => import('./commands/secrets.ts'),
  users: () => import('./commands/users.ts'),
  rules: () => import('./commands/rules.ts'),
  archives: () => import('./commands/archives.ts'),
  conflicts: () => import('./commands/conflicts.ts'),
  exceptions: () => import('./commands/exceptions.ts'),
  additions: () => import('./commands/additions.ts'),
  runs: () => import('./commands/runs.ts'),
  purge: () => import('./commands/purge.ts'),
  cache: () => import('./commands/cache.ts'),
  lookup: () => import('./commands/lookup.ts'),
  'message-rules': () => import('./commands/message-rules.ts'),
  duplicates: () => import('./commands/duplicates.ts'),
  postfix: () => import('./commands/postfix.ts'),
};

/** The modules to register for `argv`: the named command's alone, or all (in the help's order). */
async function commandModules(argv: readonly string[]): Promise<Register[]> {
  // --json is the only global option and takes no value: the first other word is the command.
  const word = argv.find((a) => !a.startsWith('-'));
  const load = word !== undefined && Object.hasOwn(COMMANDS, word) ? [COMMANDS[word]!] : Object.values(COMMANDS);
  return (await Promise.all(load.map((l) => l()))).map((m) => m.register);
}

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
      const { openStore } = await import('../store/db.ts');
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
  let loadConfig: (() => RosterConfig) | undefined;
  // Loaded before any action runs (not for --help); actions read the config synchronously.
  const getConfig = () => {
    if (loadConfig === undefined) throw new RosterError('internal', 'configuration read before the command started');
    return (config ??= loadConfig());
  };
  let commanderMessage = '';
  program
    .description('Keeps the user roster of each tenant in step with its directories.')
    .option('--json', 'print one JSON document on stdout (errors as JSON on stderr)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: (str) => (commanderMessage = str.replace(/^error: /, '').trim()) });
  program.hook('preAction', async () => {
    loadConfig ??= (await import('../config/config.ts')).loadConfig;
  });
  const ctx = makeContext(program, getConfig, opened);
  for (const register of await commandModules(argv)) register(program, ctx);
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
