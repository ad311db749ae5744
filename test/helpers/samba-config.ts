/**
 * Configuration files of a private Samba DC: our own smb.conf (every path inside its dir, no
 * DNS forwarder, trimmed services, the test CA's certificate), krb5.conf and TLS files. Written
 * for a fresh provision and again for every copy of a template (paths and address change).
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverCertFor, testPki } from './tls.ts';

export const REALM = 'EXAMPLE.TEST';

function smbConf(dir: string, host: string): string {
  return `[global]
	netbios name = DC1
	realm = ${REALM}
	workgroup = EXAMPLE
	server role = active directory domain controller
	# a host address with a mask: Samba only accepts addresses of real interfaces otherwise
	interfaces = ${host}/8
	bind interfaces only = yes
	# no SMB file server (s3fs): LDAP, KDC, DNS and RPC are all the tests use
	server services = -dnsupdate -nbt -wrepl -s3fs
	# two workers per service instead of four: half the processes on 2-core test machines
	prefork children = 2
	disable netbios = yes
	dns forwarder =
	private dir = ${dir}/private
	state directory = ${dir}/state
	cache directory = ${dir}/cache
	lock directory = ${dir}
	pid directory = ${dir}/pid
	binddns dir = ${dir}/bind-dns
	ncalrpc dir = ${dir}/run/ncalrpc
	winbindd socket directory = ${dir}/run/winbindd
	ntp signd socket directory = ${dir}/run/ntp_signd
	log file = ${dir}/log/log.%m
	logging = file
	log level = 1
	panic action =
	tls enabled = yes
	tls keyfile = ${dir}/tls/key.pem
	tls certfile = ${dir}/tls/cert.pem
	tls cafile = ${dir}/tls/ca.pem
	ldap server require strong auth = no
	idmap_ldb:use rfc2307 = yes
[sysvol]
	path = ${dir}/state/sysvol
	read only = No
[netlogon]
	path = ${dir}/state/sysvol/example.test/scripts
	read only = No
`;
}

/** Writes smb.conf, krb5.conf and TLS files for `dir` (a fresh provision or a copied template). */
export function configure(dir: string, host: string): void {
  for (const d of ['etc', 'log', 'cache', 'pid', 'run', 'tls', 'bind-dns']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc/smb.conf'), smbConf(dir, host));
  writeFileSync(join(dir, 'krb5.conf'), `[libdefaults]\n\tdefault_realm = ${REALM}\n\tdns_lookup_realm = false\n\tdns_lookup_kdc = false\n` +
    `[realms]\n\t${REALM} = {\n\t\tkdc = ${host}\n\t\tadmin_server = ${host}\n\t}\n[domain_realm]\n\t.example.test = ${REALM}\n`);
  const cert = serverCertFor([host], ['dc1.example.test', 'localhost']);
  copyFileSync(cert.certFile, join(dir, 'tls/cert.pem'));
  copyFileSync(cert.keyFile, join(dir, 'tls/key.pem'));
  chmodSync(join(dir, 'tls/key.pem'), 0o600); // Samba refuses a key readable by others
  copyFileSync(testPki().caFile, join(dir, 'tls/ca.pem'));
}

