/**
 * Runs the OpenLDAP command-line tools (ldapsearch, ldapmodify, ldapadd) against test servers,
 * for fixtures, assertions and the benchmark's reference numbers. Passwords go through a 0600
 * file (`-y`), never on the command line, so `ps` and logs never show them (R42).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where and as whom a tool connects. */
export interface LdapTarget {
  url: string;
  bindDn?: string;
  password?: string;
  /** CA for ldaps:// and -ZZ; verification is always on (LDAPTLS_REQCERT=demand). */
  caFile?: string;
  /** Extra environment, e.g. LDAPTLS_* overrides for TLS tests. */
  env?: Record<string, string>;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one tool with the target's connection arguments and optional stdin. Resolves with the
 * exit code (no throw), so callers can assert on failures such as code 4 (sizeLimitExceeded).
 */
export async function runLdapTool(tool: 'ldapsearch' | 'ldapmodify' | 'ldapadd' | 'ldapdelete' | 'ldapwhoami' | 'ldappasswd',
  target: LdapTarget, args: readonly string[], input?: string): Promise<ToolResult> {
  const pwDir = target.password !== undefined ? mkdtempSync(join(tmpdir(), 'roster-ldappw-')) : undefined;
  try {
    const auth: string[] = ['-x', '-H', target.url];
    if (target.bindDn !== undefined) auth.push('-D', target.bindDn);
    if (pwDir !== undefined) {
      const pwFile = join(pwDir, 'pw');
      writeFileSync(pwFile, target.password!, { mode: 0o600 }); // -y reads the whole file: no newline
      auth.push('-y', pwFile);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, LDAPTLS_REQCERT: 'demand', ...target.env };
    if (target.caFile !== undefined) env.LDAPTLS_CACERT = target.caFile;
    return await new Promise<ToolResult>((resolve, reject) => {
      const child = spawn(tool, [...auth, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
      child.stdin.on('error', () => { /* tool exited before reading all input; its code tells */ });
      child.stdin.end(input ?? '');
    });
  } finally {
    if (pwDir !== undefined) rmSync(pwDir, { recursive: true, force: true });
  }
}

/** ldapmodify -a style apply of change LDIF; throws with the tool's message on failure. */
export async function ldapModify(target: LdapTarget, ldif: string, opts: { add?: boolean } = {}): Promise<void> {
  const r = await runLdapTool('ldapmodify', target, opts.add ? ['-a'] : [], ldif);
  if (r.code !== 0) throw new Error(`ldapmodify failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
}

export interface SearchOptions {
  base: string;
  filter?: string;
  scope?: 'base' | 'one' | 'sub';
  attrs?: readonly string[];
  /** Page size for the simple paged results control; omitted = no paging. */
  pageSize?: number;
  /** Extra raw arguments (e.g. ['-E', '!sync=ro']). */
  extra?: readonly string[];
}

function searchArgs(o: SearchOptions): string[] {
  const a = ['-LLL', '-o', 'ldif-wrap=no', '-b', o.base, '-s', o.scope ?? 'sub'];
  if (o.pageSize !== undefined) a.push('-E', `pr=${o.pageSize}/noprompt`);
  a.push(...(o.extra ?? []), o.filter ?? '(objectClass=*)', ...(o.attrs ?? []));
  return a;
}

/** ldapsearch; resolves with the raw result (code 0 = success, 4 = size limit, …). */
export function ldapSearch(target: LdapTarget, o: SearchOptions): Promise<ToolResult> {
  return runLdapTool('ldapsearch', target, searchArgs(o));
}

/** Parses `-LLL -o ldif-wrap=no` output into entries (attribute names as returned; base64 decoded). */
export function parseLdif(text: string): Array<{ dn: string; attrs: Record<string, string[]> }> {
  const entries: Array<{ dn: string; attrs: Record<string, string[]> }> = [];
  for (const block of text.split(/\n\n+/)) {
    let dn: string | undefined;
    const attrs: Record<string, string[]> = {};
    for (const line of block.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
      if (m[1]!.toLowerCase() === 'dn') dn = value;
      else (attrs[m[1]!] ??= []).push(value);
    }
    if (dn !== undefined) entries.push({ dn, attrs });
  }
  return entries;
}

/** Search that must succeed; returns parsed entries. */
export async function ldapSearchEntries(target: LdapTarget, o: SearchOptions): Promise<Array<{ dn: string; attrs: Record<string, string[]> }>> {
  const r = await ldapSearch(target, o);
  if (r.code !== 0) throw new Error(`ldapsearch failed (${r.code}): ${r.stderr.trim()}`);
  return parseLdif(r.stdout);
}

/**
 * Counts entries matching a filter (requests no attributes, pages by 1000); the result code is
 * returned too so tests can tell a complete count from a truncated one.
 */
export async function ldapCount(target: LdapTarget, o: Omit<SearchOptions, 'attrs'>): Promise<{ count: number; code: number; stderr: string }> {
  const r = await ldapSearch(target, { pageSize: 1000, ...o, attrs: ['1.1'] });
  let count = 0;
  for (const line of r.stdout.split('\n')) if (line.startsWith('dn:') || line.startsWith('dn::')) count++;
  return { count, code: r.code, stderr: r.stderr };
}
