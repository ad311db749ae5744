/**
 * `roster postfix serve` — the socketmap lookup server Postfix asks for recipient validation and
 * alias resolution (R61, docs/POSTFIX.md); `roster postfix check <address>` — what each map answers.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { RosterError } from '../../core/errors.ts';
import { normalizeAddress, normalizeDomain } from '../../core/address.ts';
import { explainVerdict, recipientVerdict } from '../../core/recipient.ts';
import { withStore } from '../with-store.ts';
import { fields } from '../output.ts';

function positiveInt(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RosterError('bad_input', `${name} must be an integer ≥ ${min}`);
  return n;
}

interface ServeOptions {
  listen: string;
  allowRemote?: boolean;
  lookupTimeout: string;
  idleTimeout: string;
  maxConnections: string;
  recipientDelimiter?: string;
}

/** Store errors are logged at most once per interval, with the count of the ones not shown. */
function storeErrorLogger(intervalMs: number): (e: unknown) => void {
  let last = 0;
  let suppressed = 0;
  return (e) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    const code = (e as { code?: unknown }).code;
    const what = e instanceof Error ? (e.message.split('\n')[0] ?? '').slice(0, 200) : String(e).slice(0, 200);
    const more = suppressed > 0 ? ` (${suppressed} more since the last report)` : '';
    process.stderr.write(`roster postfix: store lookup failed, answered TEMP: ${typeof code === 'string' ? `${code} ` : ''}${what || e?.constructor?.name}${more}\n`);
    last = now;
    suppressed = 0;
  };
}

/** --recipient-delimiter: a few punctuation characters, never "@" or whitespace. */
function checkDelimiter(d: string): string {
  if (d.length > 8 || /[@\s\p{L}\p{N}]/u.test(d)) {
    throw new RosterError('bad_input', `--recipient-delimiter takes punctuation characters such as "+" or "+-" (not letters, digits, "@" or spaces), not ${JSON.stringify(d)}`);
  }
  return d;
}

async function serve(ctx: CliContext, o: ServeOptions): Promise<void> {
  const { parseListen } = await import('../../mta/listen.ts');
  const listen = parseListen(o.listen, o.allowRemote === true);
  const timeoutMs = positiveInt('--lookup-timeout', o.lookupTimeout, 1);
  const idleMs = positiveInt('--idle-timeout', o.idleTimeout, 1) * 1000;
  const maxConnections = positiveInt('--max-connections', o.maxConnections, 1);
  const { createResolver } = await import('../../mta/maps.ts');
  const { startSocketmapServer } = await import('../../mta/server.ts');
  const store = await ctx.openStore(); // closed by main.ts when the command returns
  const recipientDelimiter = checkDelimiter(o.recipientDelimiter ?? '');
  const resolve = createResolver(store.db, { timeoutMs, onStoreError: storeErrorLogger(10_000), recipientDelimiter });
  if (listen.kind === 'unix') await removeStaleSocket(listen.path);
  let server;
  try {
    server = await startSocketmapServer({
      ...(listen.kind === 'unix' ? { path: listen.path } : { host: listen.host, port: listen.port }),
      resolve,
      idleTimeoutMs: idleMs,
      maxConnections,
      onEvent: (e) => {
        if (e.kind === 'framing_error') process.stderr.write(`roster postfix: closed a connection from ${e.remote}: ${e.message}\n`);
      },
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new RosterError('config', `cannot listen on ${o.listen}: ${code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, { cause: e });
  }
  process.stderr.write(`roster postfix: listening on ${listen.kind === 'unix' ? `unix:${listen.path}` : server.listening} (socketmap maps: recipient, alias, domain; store: ${store.dialect})\n`);
  const signal = await new Promise<string>((res) => {
    const stop = (s: string) => () => res(s);
    process.once('SIGTERM', stop('SIGTERM'));
    process.once('SIGINT', stop('SIGINT'));
  });
  process.stderr.write(`roster postfix: ${signal}: stopping\n`);
  await server.close(5000);
  ctx.emit({ listening: server.listening, answered: server.answered, stoppedBy: signal }, `stopped after ${server.answered} answers`);
}

/** A socket file left by a server that died: removed only when nothing accepts on it. */
async function removeStaleSocket(path: string): Promise<void> {
  const { existsSync, lstatSync, unlinkSync } = await import('node:fs');
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new RosterError('bad_input', `--listen unix:${path}: the path exists and is not a socket`);
  const { connect } = await import('node:net');
  const alive = await new Promise<boolean>((res) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
  if (alive) throw new RosterError('config', `cannot listen on unix:${path}: another server answers there`);
  unlinkSync(path);
}

async function check(ctx: CliContext, key: string, o: { recipientDelimiter?: string }): Promise<void> {
  const delimiter = checkDelimiter(o.recipientDelimiter ?? '');
  const { answerMap, MAP_NAMES, splitExtension } = await import('../../mta/maps.ts');
  const { loadRecipientFacts } = await import('../../mta/recipient-facts.ts');
  const { showReply } = await import('../../mta/socketmap.ts');
  const address = normalizeAddress(key);
  const domainKey = address !== null ? address.slice(address.indexOf('@') + 1) : key;
  const domain = normalizeDomain(domainKey);
  const r = await withStore(ctx, async (s) => {
    let facts = address === null ? null : (await loadRecipientFacts(s.db, address)).facts;
    // Plus-addressing: when the whole address is not valid, the verdict is its base address's (as serve answers).
    const split = address === null ? null : splitExtension(address, delimiter);
    let base: string | null = null;
    if (split !== null && facts !== null && !recipientVerdict(facts).valid) {
      base = split.base;
      facts = (await loadRecipientFacts(s.db, split.base)).facts;
    }
    const maps: Record<string, { key: string; answer: string }> = {};
    for (const map of MAP_NAMES) {
      const k = map === 'domain' ? domainKey : key;
      maps[map] = { key: k, answer: showReply(await answerMap(s.db, map, k, delimiter)) };
    }
    return { facts, maps, base };
  });
  const verdict = recipientVerdict(r.facts);
  const out = {
    key,
    address,
    domain: domain !== null && domain.includes('.') ? domain : null,
    verdict: { ...verdict, explanation: explainVerdict(verdict) },
    ...(r.base !== null ? { verdictOf: r.base } : {}),
    maps: r.maps,
  };
  ctx.emit(out, [
    ...fields([
      ['address', address ?? `(not an address: ${JSON.stringify(key)})`],
      ['verdict', out.verdict.explanation + (r.base !== null ? ` (as ${r.base}, recipient delimiter ${JSON.stringify(delimiter)})` : '')],
    ]),
    ...MAP_NAMES.map((m) => `  ${m.padEnd(9)} ${JSON.stringify(r.maps[m]!.key)} → ${r.maps[m]!.answer}`),
  ]);
}

export function register(program: Command, ctx: CliContext): void {
  const postfix = program.command('postfix').description('recipient validation for Postfix: a socketmap lookup server (docs/POSTFIX.md)');
  postfix
    .command('serve')
    .description('answer Postfix socketmap lookups (maps recipient, alias, domain) from the store until SIGTERM/SIGINT')
    .option('--listen <address>', 'host:port, [ipv6]:port or unix:/path', '127.0.0.1:10027')
    .option('--allow-remote', 'allow a non-loopback listen address (the protocol has no authentication: firewall it)')
    .option('--lookup-timeout <ms>', 'answer TEMP when the store has not answered within this time', '5000')
    .option('--idle-timeout <seconds>', 'close a connection silent for this long (Postfix closes its own after 10 s)', '60')
    .option('--max-connections <n>', 'connections open at once (one per Postfix process using the maps)', '1024')
    .option('--recipient-delimiter <chars>', 'plus-addressing: also accept user<delim>anything@domain for a valid user@domain (as Postfix recipient_delimiter, e.g. "+")', '')
    .action((o: ServeOptions) => serve(ctx, o));
  postfix
    .command('check <address>')
    .description('what each map answers for an address (and its domain), with the R61 verdict')
    .option('--recipient-delimiter <chars>', 'answer as `serve --recipient-delimiter` would', '')
    .action((address: string, o: { recipientDelimiter?: string }) => check(ctx, address, o));
}
