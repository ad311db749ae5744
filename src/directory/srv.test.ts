import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderSrvRecords, srvQueryName, type SrvRecord } from './srv.ts';

const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 389, priority, weight });

/** A deterministic random source replaying the given values. */
const seq = (...v: number[]) => { let i = 0; return () => v[i++ % v.length]!; };

test('R55 SRV owner names: _ldap._tcp.<domain> and _ldap._tcp.dc._msdcs.<domain> for AD', () => {
  assert.equal(srvQueryName('example.test', 'ldap'), '_ldap._tcp.example.test');
  assert.equal(srvQueryName('example.test.', 'ad'), '_ldap._tcp.dc._msdcs.example.test');
});

test('R55 RFC 2782: lowest priority first whatever the weights', () => {
  const out = orderSrvRecords([rec('c', 20, 100), rec('a', 0, 1), rec('b', 10, 1000)], () => 0.99);
  assert.deepEqual(out.map((r) => r.name), ['a', 'b', 'c']);
});

test('R55 RFC 2782: weighted pick within a priority follows the random source', () => {
  const rs = [rec('w10', 5, 10), rec('w30', 5, 30), rec('w60', 5, 60)];
  // total 100: r = floor(x * 101). 0.05 → 5 ≤ 10 → w10 first; then total 90, 0.5 → 45 > 30 → w60.
  assert.deepEqual(orderSrvRecords(rs, seq(0.05, 0.5, 0)).map((r) => r.name), ['w10', 'w60', 'w30']);
  // 0.95 → 95 > 40 → w60 first; then total 40, 0 → w10.
  assert.deepEqual(orderSrvRecords(rs, seq(0.95, 0, 0)).map((r) => r.name), ['w60', 'w10', 'w30']);
  assert.deepEqual(rs.map((r) => r.name), ['w10', 'w30', 'w60'], 'input not mutated');
});

test('R55 RFC 2782: weight 0 has a small chance (random 0) and otherwise comes last', () => {
  const rs = [rec('heavy', 1, 50), rec('zero', 1, 0)];
  assert.deepEqual(orderSrvRecords(rs, () => 0).map((r) => r.name), ['zero', 'heavy']);
  assert.deepEqual(orderSrvRecords(rs, () => 0.5).map((r) => r.name), ['heavy', 'zero']);
});

test('R55 RFC 2782: proportions over many draws match the weights', () => {
  let s = 42;
  const lcg = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const firsts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const f = orderSrvRecords([rec('a', 0, 10), rec('b', 0, 30), rec('c', 0, 60)], lcg)[0]!.name;
    firsts.set(f, (firsts.get(f) ?? 0) + 1);
  }
  assert.ok(Math.abs(firsts.get('a')! / 20_000 - 0.1) < 0.02, `a ${firsts.get('a')}`);
  assert.ok(Math.abs(firsts.get('c')! / 20_000 - 0.6) < 0.02, `c ${firsts.get('c')}`);
});

test('R55 RFC 2782: a "." target means no service', () => {
  assert.deepEqual(orderSrvRecords([rec('.', 0, 0)], Math.random), []);
});
