/**
 * The `--listen` value of `roster postfix serve`: `host:port`, `[ipv6]:port` or `unix:/path`.
 * The socketmap protocol has no authentication and no encryption, so a TCP address that is not
 * loopback is refused unless the operator says `--allow-remote` (and then firewalls it).
 */
import { isIP } from 'node:net';
import { RosterError } from '../core/errors.ts';

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses and checks a listen address; RosterError('bad_input') with what to do otherwise. */
export function parseListen(value: string, allowRemote: boolean): ListenAddress {
  const v = value.trim();
  if (v.startsWith('unix:')) {
    const path = v.slice('unix:'.length);
    if (!path.startsWith('/')) throw new RosterError('bad_input', `--listen ${value}: a UNIX socket needs an absolute path (unix:/run/roster/socketmap.sock)`);
    return { kind: 'unix', path };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RosterError('bad_input', `--listen ${value}: expected host:port, [ipv6]:port or unix:/path (e.g. 127.0.0.1:10027)`);
  }
  if (m?.[1] !== undefined && isIP(host) !== 6) throw new RosterError('bad_input', `--listen ${value}: ${host} is not an IPv6 address`);
  if (!isLoopbackHost(host) && !allowRemote) {
    throw new RosterError(
      'bad_input',
      `refusing to listen on ${value}: not a loopback address. The socketmap protocol has no authentication: ` +
        'run the server on the Postfix host (127.0.0.1), or pass --allow-remote and allow only the Postfix hosts in the firewall',
    );
  }
  return { kind: 'tcp', host, port };
}
