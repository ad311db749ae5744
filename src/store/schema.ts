/**
 * The database schema as Kysely sees it. The same column types on SQLite and PostgreSQL:
 * ids are TEXT (UUIDs made by the application), booleans are INTEGER 0/1, times are ISO-8601
 * TEXT in UTC (sortable), JSON is TEXT. That keeps every query identical on both dialects.
 *
 * Address uniqueness (R13) is enforced by the database: every address held by a user (primary
 * or alias), a group or a public folder is one row of `addresses`, keyed by the address, which the
 * database holds lower-case only (CHECK on PostgreSQL, trigger on SQLite, migration 0003): so no
 * address can have two holders in any case. Contacts' addresses are not part of that space (they live in
 * `contact_addresses`, R60).
 */
import type { Generated } from 'kysely';

export interface ProviderTable {
  id: string;
  name: string; // unique
  created_at: string;
}

export interface TenantTable {
  id: string;
  provider_id: string; // FK providers ON DELETE CASCADE
  name: string; // unique per provider
  sync_enabled: number; // 0/1 (R24)
  sync_enabled_at: string | null; // R18
  created_at: string;
}

export interface DomainTable {
  id: string;
  tenant_id: string; // FK tenants ON DELETE CASCADE
  name: string; // ASCII (punycode) lower-case; UNIQUE across the system
  created_at: string;
}

export interface ConnectionTable {
  id: string;
  tenant_id: string; // FK tenants ON DELETE CASCADE
  name: string; // unique per tenant
  priority: number; // R51: lower wins
  enabled: number; // 0/1
  profile: string; // 'active-directory' | 'openldap'
  /** JSON of ConnectionSettings (src/core/connection.ts): never the secret. */
  settings: string;
  /** Server set + base DN, normalized; UNIQUE (tenant_id, scope_key) (R51). */
  scope_key: string;
  /** The bind password, encrypted (R42): `v1:<key id>:<iv b64>:<tag b64>:<ciphertext b64>`, or null. */
  bind_secret: string | null;
  schedule: string; // '30m' | '6h' | '12h' | '24h' | '3d' | '7d' | cron
  last_complete_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserTable {
  id: string;
  tenant_id: string; // FK tenants ON DELETE CASCADE
  kind: string; // 'user' | 'public_folder'
  source: string; // UserSource
  state: string; // UserState
  access_enabled: number; // 0/1
  given_name: string | null;
  surname: string | null;
  display_name: string | null;
  home_phone: string | null;
  mobile: string | null;
  company: string | null;
  department: string | null;
  notes: string | null;
  kerberos_name: string | null;
  ntlm_name: string | null;
  connection_id: string | null; // FK connections ON DELETE SET NULL
  anchor: string | null; // UNIQUE (connection_id, anchor) when both set
  dn: string | null;
  flag_reason: string | null;
  flagged_at: string | null;
  delete_after: string | null;
  created_at: string;
  updated_at: string;
}

export interface AddressTable {
  address: string; // normalized, lower-case (CHECK/trigger); PRIMARY KEY: unique across the system in any case (R13)
  tenant_id: string;
  role: string; // 'primary' | 'alias' | 'group'
  user_id: string | null; // FK users ON DELETE CASCADE; set for primary and alias
  group_id: string | null; // FK groups ON DELETE CASCADE; set for group
  // CHECK: exactly one of user_id / group_id; role 'group' iff group_id; UNIQUE (user_id) WHERE role = 'primary'
}

export interface GroupTable {
  id: string;
  tenant_id: string;
  connection_id: string; // FK connections ON DELETE CASCADE
  anchor: string; // UNIQUE (connection_id, anchor)
  dn: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface MembershipTable {
  connection_id: string; // FK connections ON DELETE CASCADE
  group_anchor: string;
  member_anchor: string;
  // PRIMARY KEY (connection_id, group_anchor, member_anchor)
}

export interface ContactTable {
  id: string;
  tenant_id: string;
  connection_id: string; // FK connections ON DELETE CASCADE
  anchor: string; // UNIQUE (connection_id, anchor)
  dn: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ContactAddressTable {
  contact_id: string; // FK contacts ON DELETE CASCADE
  address: string;
  // PRIMARY KEY (contact_id, address)
}

export interface RuleTable {
  id: string;
  user_id: string; // FK users ON DELETE CASCADE (rules go with the user, R21)
  kind: string; // 'allow' | 'deny'
  value: string;
  created_at: string;
}

export interface ArchiveTable {
  id: string;
  tenant_id: string;
  address: string; // UNIQUE (tenant_id, address)
  user_id: string | null; // FK users ON DELETE SET NULL (archives outlive users, R21)
  created_at: string;
}

export interface ExceptionTable {
  id: string;
  connection_id: string; // FK connections ON DELETE CASCADE
  kind: string; // 'user' | 'group' | 'alias'
  anchor: string | null; // user and group exceptions (D8)
  dn: string | null; // last DN, for display
  address: string | null; // alias exceptions
  created_at: string;
}

export interface AdditionTable {
  id: string;
  connection_id: string; // FK connections ON DELETE CASCADE (D4)
  tenant_id: string;
  address: string; // UNIQUE
  created_at: string;
}

export interface RunTable {
  id: string;
  tenant_id: string;
  connection_id: string; // FK connections ON DELETE CASCADE
  trigger: string; // 'cli' | 'schedule' | 'api' | 'approve'
  actor: string;
  dry_run: number; // 0/1
  status: string; // 'running' | 'succeeded' | 'failed' | 'held' | 'approved' | 'rejected' | 'previewed'
  started_at: string; // lifecycle clock (D5)
  finished_at: string | null;
  duration_ms: number | null; // real clock
  clock_override: string | null; // D5: the override in force, if any
  server_used: string | null;
  server_attempts?: string | null; // optional for inserts and older row literals; JSON ServerAttempt[] (R55), null for runs before 0002
  counts: string | null; // JSON RunCounts
  plan: string | null; // JSON Plan (held runs and dry runs keep it whole; others a summary)
  error: string | null;
  error_code: string | null;
}

export interface RunItemTable {
  id: Generated<number>;
  run_id: string; // FK runs ON DELETE CASCADE
  kind: string; // 'skipped' | 'issue'
  code: string; // SkipReason or IssueCode
  anchor: string | null;
  dn: string | null;
  value: string | null;
  detail: string | null;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string; // 'cli:<os user>' | 'sync:<connection>' | 'purge'
  action: string; // e.g. 'user.add', 'run.apply', 'conflict.ignore'
  tenant_id: string | null;
  object_kind: string | null;
  object_id: string | null;
  before: string | null; // JSON
  after: string | null; // JSON
}

/** R55: health of one server of a connection (migration 0002); times on the real clock. */
export interface ServerHealthTable {
  connection_id: string; // FK connections ON DELETE CASCADE
  server: string; // serverKey(): 'ldaps://host:636', 'ldap+starttls://host:389', 'ldap://host:389'
  unhealthy_until: string | null;
  last_error: string | null;
  last_failure_at: string | null;
  last_success_at: string | null;
}

/** R61 (migration 0003): one distinct folded word (src/core/fold.ts) of an object's name; exactly one owner id set. */
export interface SearchTermTable {
  tenant_id: string;
  term: string; // PG: COLLATE "C" (prefix = byte range, as on SQLite)
  user_id: string | null; // no FK: deleted with the user by trigger (display name, given name, surname)
  group_id: string | null; // deleted with the group by trigger (name)
  contact_id: string | null; // deleted with the contact by trigger (name)
}

export type DuplicateKind = 'display_name' | 'group_name' | 'contact_name' | 'kerberos_name' | 'ntlm_name' | 'address';

/** R63 (migration 0003): a duplicate found by a connection's complete read; UNIQUE (connection_id, kind, key). */
export interface DuplicateFindingTable {
  id: string;
  tenant_id: string;
  connection_id: string; // FK connections ON DELETE CASCADE: the connection whose read found it
  run_id: string; // FK runs ON DELETE CASCADE: the run that last confirmed it
  kind: DuplicateKind;
  value: string; // as shown
  key: string; // normalized (what was compared)
  objects: string; // JSON DuplicateObject[] (src/store/duplicates.ts)
  first_seen_at: string; // lifecycle clock (D5)
  last_seen_at: string;
}

/** R63 consequences in force: a user affected by a finding; rows go with the finding or the user. */
export interface FindingUserTable {
  finding_id: string;
  user_id: string;
  consequence: 'no_spoofing_protection' | 'no_personal_features';
}

/** R62 (migration 0003): a tenant message rule; UNIQUE (tenant_id, name). */
export interface MessageRuleTable {
  id: string;
  tenant_id: string;
  name: string;
  action: 'allow' | 'block' | 'quarantine' | 'tag';
  created_at: string;
  updated_at: string;
}

/** R62: a sender or recipient of a message rule: a user (by id), a directory group (by connection + anchor) or an address. */
export interface MessageRuleTargetTable {
  id: string;
  rule_id: string; // FK message_rules ON DELETE CASCADE
  role: 'sender' | 'recipient';
  kind: 'user' | 'group' | 'address';
  user_id: string | null; // FK users ON DELETE CASCADE
  connection_id: string | null; // FK connections ON DELETE CASCADE
  anchor: string | null;
  address: string | null;
  label: string; // what the admin named (address, or group name at the time), for display
}

export interface Database {
  providers: ProviderTable;
  tenants: TenantTable;
  domains: DomainTable;
  connections: ConnectionTable;
  users: UserTable;
  addresses: AddressTable;
  groups: GroupTable;
  memberships: MembershipTable;
  contacts: ContactTable;
  contact_addresses: ContactAddressTable;
  rules: RuleTable;
  archives: ArchiveTable;
  exceptions: ExceptionTable;
  additions: AdditionTable;
  runs: RunTable;
  run_items: RunItemTable;
  audit: AuditTable;
  server_health: ServerHealthTable;
  search_terms: SearchTermTable;
  duplicate_findings: DuplicateFindingTable;
  finding_users: FindingUserTable;
  message_rules: MessageRuleTable;
  message_rule_targets: MessageRuleTargetTable;
}
