/**
 * R61 recipient validation end to end: a real slapd, `roster sync` through the CLI, `roster postfix
 * serve` as a child process on the same store, Postfix's own lookup client (`postmap -q
 * socketmap:…`) and a PRIVATE Postfix whose smtpd asks our server for every RCPT TO.
 *
 * The story, on a SQLite store and on a PostgreSQL store: active users, an alias, a group and an
 * IDN address are accepted (250); unknown addresses and other domains are rejected (5xx); a user
 * removed from the directory is flagged by the next sync and rejected from then on (550 5.1.1);
 * with the directory down the same answers come (from the store); with the store broken, and with
 * our server stopped, Postfix defers (451 4.x.x) — never a 550 because of our own failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { scenario, type Scenario } from '../helpers/cli.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/tcp-fault.ts';
import { postmapQuery, smtpSession, startPostfix, startRosterServe, type PostfixInstance, type RosterServe, type SmtpReply } from '../helpers/postfix.ts';
import { ldifEntry } from '../fixtures/ldif.ts';

const BASE = 'dc=example,dc=test';
const PEOPLE = `ou=people,${BASE}`;
const T0 = '2026-12-01T00:00:00.000Z';
const T1 = '2026-12-01T01:00:00.000Z';
const T2 = '2026-12-01T02:00:00.000Z';

function person(uid: string, mails: string[], extra: Record<string, string> = {}): string {
  return ldifEntry(`uid=${uid},${PEOPLE}`, {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: uid, sn: uid, mail: mails, ...extra,
  });
}

const LDIF = [
  ldifEntry(PEOPLE, { objectClass: ['top', 'organizationalUnit'], ou: 'people' }),
  ldifEntry(`ou=groups,${BASE}`, { objectClass: ['top', 'organizationalUnit'], ou: 'groups' }),
  person('ann', ['ann@example.test', 'ann.alias@example.test']),
  person('bob', ['bob@example.test']),
  person('anna', ['anna@xn--bcher-kva.test']),
  person('leaver', ['leaver@example.test', 'leaver.alias@example.test']),
  person('outsider', ['out@unmanaged.test']),
  ldifEntry(`cn=staff,ou=groups,${BASE}`, {
    objectClass: ['top', 'groupOfNames', 'rosterMailRecipient'], cn: 'staff', mail: 'staff@example.test',
    member: [`uid=ann,${PEOPLE}`, `uid=bob,${PEOPLE}`],
  }),
].join('');

const ok = (r: SmtpReply, what: string): void => assert.equal(r.code, 250, `${what}: ${r.code} ${r.text}`);
const unknownUser = (r: SmtpReply, what: string): void => {
  assert.equal(r.code, 550, `${what}: ${r.code} ${r.text}`);
  assert.equal(r.enhanced, '5.1.1', `${what}: ${r.text}`);
  assert.match(r.text, /User unknown in relay recipient table/);
};
const deferred = (r: SmtpReply, what: string): void => {
  assert.equal(r.code, 451, `${what}: must be deferred, got ${r.code} ${r.text}`);
  assert.match(r.enhanced ?? '', /^4\./, `${what}: ${r.text}`);
};

/** RCPT TO for each address in one SMTP session. */
async function rcpts(port: number, addresses: string[], o: { smtputf8?: boolean } = {}): Promise<Map<string, SmtpReply>> {
  const s = await smtpSession(port, o);
  const out = new Map<string, SmtpReply>();
  try {
    for (const a of addresses) out.set(a, await s.rcpt(a));
  } finally {
    await s.quit();
  }
  return out;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`postfix recipient validation [${dialect}]`, () => {
    let slapd: Slapd;
    let s: Scenario;
    let pg: TestPostgres | undefined;
    let proxy: FaultProxy | undefined;
    let serve: RosterServe;
    let postfix: PostfixInstance;
    let table: (map: string) => string;
    /** The environment of `roster postfix serve`: the same store (PostgreSQL through a fault proxy). */
    let serveEnv: Record<string, string>;

    before(async () => {
      slapd = await startSlapd({ ldif: LDIF });
      let databaseUrl: string | undefined;
      if (dialect === 'postgres') {
        pg = await startPostgres();
        databaseUrl = await pg.createDatabase();
      }
      s = await scenario({
        now: T0, domains: ['example.test', 'bücher.test'], ...(databaseUrl !== undefined ? { databaseUrl } : {}),
        connection: { profile: 'openldap', server: slapd.url, baseDn: BASE, bindDn: slapd.readerDn, bindPassword: slapd.readerPassword },
      });
      serveEnv = s.env();
      if (databaseUrl !== undefined) {
        const u = new URL(databaseUrl);
        proxy = await startFaultProxy({ target: { host: u.hostname, port: Number(u.port) } });
        u.hostname = '127.0.0.1';
        u.port = String(proxy.port);
        serveEnv = { ...serveEnv, ROSTER_DATABASE_URL: u.href };
      }
    });

    after(async () => {
      await serve?.stop('SIGKILL').catch(() => undefined);
      await postfix?.stop();
      await proxy?.stop();
      await slapd?.stop();
      await pg?.stop();
      s?.cleanup();
    });

    test('R61 sync, then roster postfix serve and a private Postfix come up on the same store', async () => {
      const run = await s.sync({ now: T0 });
      assert.equal(run.status, 'succeeded');
      assert.equal(run.counts.added, 4, 'ann, bob, anna, leaver (the outsider is in an unmanaged domain)');
      serve = await startRosterServe(serveEnv, ['--lookup-timeout', '2000']);
      assert.match(serve.stderr(), new RegExp(`listening on 127\\.0\\.0\\.1:${serve.port} .*store: ${dialect}`));
      postfix = await startPostfix({ socketmap: `inet:127.0.0.1:${serve.port}`, aliasMap: true });
      table = (map) => `socketmap:inet:127.0.0.1:${serve.port}:${map}`;
    });

    test("R61 postmap -q through Postfix's socketmap client: valid → value, anything else → exit 1", async () => {
      const q = (key: string, map: string) => postmapQuery(postfix.configDir, key, table(map));
      for (const [key, map, value] of [
        ['ann@example.test', 'recipient', 'ann@example.test'],
        ['Ann.Alias@EXAMPLE.test', 'recipient', 'ann.alias@example.test'],
        ['staff@example.test', 'recipient', 'staff@example.test'],
        ['anna@bücher.test', 'recipient', 'anna@xn--bcher-kva.test'],
        ['ann.alias@example.test', 'alias', 'ann@example.test'],
        ['example.test', 'domain', 'example.test'],
      ] as const) {
        const r = await q(key, map);
        assert.equal(r.status, 0, `${map} ${key}: ${r.out}`);
        assert.equal(r.value, value, `${map} ${key}`);
      }
      for (const [key, map] of [['nobody@example.test', 'recipient'], ['out@unmanaged.test', 'recipient'], ['ann@example.test', 'alias'], ['unmanaged.test', 'domain']] as const) {
        const r = await q(key, map);
        assert.equal(r.status, 1, `${map} ${key} must be not found: ${r.out}`);
        assert.equal(r.value, null);
      }
    });

    test('R61 SMTP: active user, alias (any case), group and IDN address → 250; unknown → 550 5.1.1; other domains → relay denied', async () => {
      const r = await rcpts(postfix.smtpPort, ['ann@example.test', 'ANN.ALIAS@Example.Test', 'bob@example.test', 'staff@example.test', 'leaver@example.test', 'nobody@example.test', 'out@unmanaged.test']);
      for (const a of ['ann@example.test', 'ANN.ALIAS@Example.Test', 'bob@example.test', 'staff@example.test', 'leaver@example.test']) ok(r.get(a)!, a);
      unknownUser(r.get('nobody@example.test')!, 'unknown address');
      const relay = r.get('out@unmanaged.test')!;
      assert.equal(relay.code, 554, `unmanaged domain: ${relay.text}`);
      assert.match(relay.text, /Relay access denied/);
      const idn = await rcpts(postfix.smtpPort, ['anna@bücher.test', 'anna@xn--bcher-kva.test'], { smtputf8: true });
      for (const [a, reply] of idn) ok(reply, a);
    });

    test('R61 R15 a user removed from the directory is flagged by the next sync and rejected from then on', async () => {
      await slapd.ldapModify(`dn: uid=leaver,${PEOPLE}\nchangetype: delete\n\n`);
      const run = await s.sync({ now: T1 });
      assert.equal(run.counts.flagged, 1);
      assert.equal((await s.user('leaver@example.test'))?.state, 'pending_deletion');
      const r = await rcpts(postfix.smtpPort, ['leaver@example.test', 'leaver.alias@example.test', 'ann@example.test']);
      unknownUser(r.get('leaver@example.test')!, 'flagged primary');
      unknownUser(r.get('leaver.alias@example.test')!, 'flagged alias');
      ok(r.get('ann@example.test')!, 'ann');
      assert.equal((await postmapQuery(postfix.configDir, 'leaver@example.test', table('recipient'))).status, 1);
      const check = await s.json(['postfix', 'check', 'leaver@example.test']);
      assert.deepEqual(check.verdict, { valid: false, reason: 'pending_deletion', explanation: 'not valid: its user is flagged for deletion (R15)' });
      assert.equal(check.maps.recipient.answer, 'NOTFOUND');
    });

    test('R60 R61 with the directory down, syncs fail and the answers stay the same (they come from the store)', async () => {
      await slapd.halt();
      const failed = await s.sync({ now: T2, expectCode: 6 });
      assert.equal(failed.status, 'failed');
      assert.equal(failed.errorCode, 'connect_failed');
      const r = await rcpts(postfix.smtpPort, ['ann@example.test', 'ann.alias@example.test', 'staff@example.test', 'leaver@example.test', 'nobody@example.test']);
      for (const a of ['ann@example.test', 'ann.alias@example.test', 'staff@example.test']) ok(r.get(a)!, a);
      unknownUser(r.get('leaver@example.test')!, 'flagged');
      unknownUser(r.get('nobody@example.test')!, 'unknown');
      assert.equal((await postmapQuery(postfix.configDir, 'bob@example.test', table('recipient'))).value, 'bob@example.test');
    });

    test('R61 a broken store makes Postfix defer (451 4.x.x), never reject; answers come back when the store does', async () => {
      const breakStore = (): void => {
        if (proxy !== undefined) {
          // PostgreSQL goes away: open connections reset, new ones fail at their first byte.
          proxy.setFault({ kind: 'reset', atByte: 0, direction: 'toServer' });
        } else {
          const db = new DatabaseSync(join(s.dataDir, 'roster.db'));
          db.exec('ALTER TABLE addresses RENAME TO addresses_broken');
          db.close();
        }
      };
      const repairStore = (): void => {
        if (proxy !== undefined) {
          proxy.setFault({ kind: 'none' });
        } else {
          const db = new DatabaseSync(join(s.dataDir, 'roster.db'));
          db.exec('ALTER TABLE addresses_broken RENAME TO addresses');
          db.close();
        }
      };
      breakStore();
      try {
        const r = await rcpts(postfix.smtpPort, ['ann@example.test', 'nobody@example.test', 'leaver@example.test']);
        for (const [a, reply] of r) deferred(reply, a);
        // postmap exits 1 for "not found" and for a fatal query error alike: the message tells them apart.
        const pm = await postmapQuery(postfix.configDir, 'ann@example.test', table('recipient'));
        assert.equal(pm.value, null);
        assert.match(pm.out, /socketmap server temporary error: roster store unavailable/);
        assert.match(pm.out, /query error/);
        assert.match(serve.stderr(), /store lookup failed, answered TEMP/);
      } finally {
        repairStore();
      }
      const back = await rcpts(postfix.smtpPort, ['ann@example.test', 'nobody@example.test']);
      ok(back.get('ann@example.test')!, 'after repair');
      unknownUser(back.get('nobody@example.test')!, 'after repair');
    });

    test('R61 SIGTERM stops the server cleanly; with no lookup server Postfix defers (451), it does not reject', async () => {
      const stopped = await serve.stop('SIGTERM');
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /SIGTERM: stopping/);
      const doc = JSON.parse(stopped.stdout);
      assert.equal(doc.stoppedBy, 'SIGTERM');
      assert.ok(doc.answered > 20, `answered ${doc.answered}`);
      const r = await rcpts(postfix.smtpPort, ['ann@example.test', 'nobody@example.test']);
      for (const [a, reply] of r) deferred(reply, a);
      assert.match(postfix.log(), /socketmap.*(Connection refused|lookup error)/i);
    });
  });
}
