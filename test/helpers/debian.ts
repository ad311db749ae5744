/**
 * Installs Debian packages the tests, the demo and the benchmark need, when they are missing.
 * Real servers, not mocks: a harness that cannot install or start its server fails loudly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';

/** Package sets by purpose. */
export const PACKAGE_SETS = {
  openldap: ['slapd', 'ldap-utils'],
  // samba-ad-provision, samba-dsdb-modules and samba-vfs-modules (acl_xattr, for the sysvol ACLs) are only
  // Recommends of samba: without them (--no-install-recommends) no DC can be provisioned.
  samba: ['samba', 'samba-ad-provision', 'samba-dsdb-modules', 'samba-vfs-modules', 'krb5-user', 'ldb-tools', 'dnsutils', 'winbind', 'smbclient'],
  postgres: ['postgresql'],
  // Postfix for the recipient-validation tests (test/helpers/postfix.ts): a private instance only;
  // debconf "No configuration" below keeps the system one unconfigured and never started.
  postfix: ['postfix', 'postfix-ldap'],
  tools: ['openssl', 'procps', 'iproute2'],
} as const;

export type PackageSet = keyof typeof PACKAGE_SETS;

function isInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

let updated = false;

/** Makes sure every package of the given sets is installed; installs the missing ones as root. */
export function ensurePackages(...sets: PackageSet[]): void {
  const wanted = sets.flatMap((s) => PACKAGE_SETS[s]);
  const missing = wanted.filter((p) => !isInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Debian packages missing: ${missing.join(' ')}. Run as root or: sudo apt-get install -y ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Never create or start the system instances: slapd unconfigured, no service starts.
  execFileSync('sh', ['-c', 'echo "slapd slapd/no_configuration boolean true" | debconf-set-selections'], { env });
  execFileSync('sh', ['-c', 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections'], { env });
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    if (!updated) {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      updated = true;
    }
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  const still = missing.filter((p) => !isInstalled(p));
  if (still.length > 0) throw new Error(`apt-get could not install: ${still.join(' ')}`);
}

// `node test/helpers/debian.ts openldap samba …` installs from the shell (used by ./dev).
if (import.meta.main) {
  const sets = process.argv.slice(2) as PackageSet[];
  for (const s of sets) if (!(s in PACKAGE_SETS)) throw new Error(`unknown package set: ${s}`);
  ensurePackages(...sets);
}
