/**
 * How one connection reaches and reads its directory (BEHAVIOR §1, R1–R3, R20, R43, R55, R57).
 * Stored as JSON in connections.settings; the bind password is stored apart, encrypted (R42),
 * and is never part of this object.
 */
import type { DeletionDelayDays, SyncOptions } from './model.ts';
import { DEFAULT_HOLD_THRESHOLD, type HoldThreshold } from './guards.ts';

export type ProfileName = 'active-directory' | 'openldap';
export type Security = 'ldaps' | 'starttls' | 'plain';

export interface ServerSpec {
  host: string;
  port: number;
  security: Security;
  /**
   * R55: the IP to connect to when `host` is a name resolved by the connection's own DNS server
   * (SRV discovery); `host` stays the name shown and verified in TLS. Never stored.
   */
  address?: string;
}

/** R55: `_ldap._tcp.<domain>` (ldap) or `_ldap._tcp.dc._msdcs.<domain>` (ad). */
export type SrvKind = 'ldap' | 'ad';

/** R55: servers discovered by SRV records instead of (or when no) `servers` are listed. */
export interface SrvSettings {
  domain: string;
  kind: SrvKind;
  /** Applied to every discovered target; its port comes from the SRV record. */
  security: Security;
  /** 'ip' or 'ip:port' of the DNS server to ask; null = the system resolver. */
  dnsServer: string | null;
}

/**
 * Roster fields a profile maps, each to one directory attribute name (R1). An override
 * replaces the profile's attribute for that field on one connection.
 */
export type MappedField =
  | 'primary'
  | 'aliases'
  | 'givenName'
  | 'surname'
  | 'displayName'
  | 'homePhone'
  | 'mobile'
  | 'company'
  | 'department'
  | 'notes'
  | 'anchor'
  | 'kerberosName'
  | 'accountName'
  | 'members'
  | 'groupName'
  | 'contactName';

export interface ConnectionSettings {
  profile: ProfileName;
  servers: ServerSpec[];
  /** R55: SRV discovery; when set, servers are discovered at each run and `servers` is empty. Absent = null. */
  srv?: SrvSettings | null;
  /** PEM file of the CA that signed the servers' certificates; null = system store (R43). */
  caFile: string | null;
  /** R43: a simple bind over plain LDAP needs this explicit opt-in. */
  allowPlainBind: boolean;
  bindDn: string;
  baseDn: string;
  /** R2: RFC 4515 filter AND-ed with the profile's object filter; validated before saving. */
  customFilter: string | null;
  attributeOverrides: Partial<Record<MappedField, string>>;
  /** D3: object class that marks public folders (AD: publicFolder; OpenLDAP: none unless set). */
  publicFolderClass: string | null;
  /** AD NTLM names: NetBIOS domain; null = discover from the directory. */
  netbiosDomain: string | null;
  options: SyncOptions;
  deletionDelayDays: DeletionDelayDays;
  pageSize: number;
  /** R57 */
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  /**
   * R41 mass-deletion hold of this connection: a run is held when it would flag or remove more than
   * `count` users AND more than `percent` % of the connection's synced users, or more than `absolute`.
   * Optional because rows stored before it existed (and older callers) lack it: read it through
   * `holdThresholdOf` (absent = the R41 defaults). validateConnectionSettings always fills it in.
   */
  holdThreshold?: HoldThreshold;
}

/** The connection's R41 threshold; settings stored before the field existed get the defaults. */
export function holdThresholdOf(s: { holdThreshold?: Partial<HoldThreshold> | undefined }): HoldThreshold {
  return { ...DEFAULT_HOLD_THRESHOLD, ...(s.holdThreshold ?? {}) };
}

export const DEFAULT_CONNECTION_SETTINGS: Omit<ConnectionSettings, 'profile' | 'servers' | 'bindDn' | 'baseDn'> = {
  caFile: null,
  allowPlainBind: false,
  customFilter: null,
  attributeOverrides: {},
  publicFolderClass: null,
  netbiosDomain: null,
  options: { syncDisabledUsers: false, syncPublicFolders: false, readContacts: false },
  deletionDelayDays: 7,
  pageSize: 1000,
  connectTimeoutMs: 10_000,
  operationTimeoutMs: 60_000,
  holdThreshold: { ...DEFAULT_HOLD_THRESHOLD },
};
