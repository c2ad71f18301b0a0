import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TicketStore } from '../../src/auth/tickets.js';
import type { Identity } from '../../src/auth/identity.js';

const who: Identity = { method: 'token', subject: 'ci', targets: null, users: null, admin: false, files: 'write' };
const here = { clientIp: '192.0.2.1', target: 'ssh.example:22' };

function store(ttl = 30_000, max?: number): { s: TicketStore; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const s = new TicketStore(ttl, { now: () => clock.now, ...(max === undefined ? {} : { max }) });
  return { s, clock };
}

void test('a ticket is redeemed once, by the address and for the target it was issued to', (t) => {
  const { s } = store();
  t.after(() => s.dispose());
  const issued = s.issue(who, here);
  assert.ok(issued !== null);
  assert.match(issued.ticket, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(s.redeem(issued.ticket, here), { ok: true, identity: who });
  assert.deepEqual(s.redeem(issued.ticket, here), { ok: false, reason: 'unknown or already used' });
});

void test('a wrong address or target burns the ticket too, so it cannot be retried', (t) => {
  const { s } = store();
  t.after(() => s.dispose());
  const a = s.issue(who, here);
  const b = s.issue(who, here);
  assert.ok(a !== null && b !== null);
  assert.deepEqual(s.redeem(a.ticket, { ...here, clientIp: '192.0.2.2' }), { ok: false, reason: 'issued to another address' });
  assert.equal(s.redeem(a.ticket, here).ok, false);
  assert.deepEqual(s.redeem(b.ticket, { ...here, target: 'other.example:22' }), { ok: false, reason: 'issued for another target' });
  assert.equal(s.redeem(b.ticket, here).ok, false);
  assert.equal(s.redeem('made-up', here).ok, false);
});

void test('tickets expire after the TTL and are swept', (t) => {
  const { s, clock } = store(30_000);
  t.after(() => s.dispose());
  const a = s.issue(who, here);
  const b = s.issue(who, here);
  assert.ok(a !== null && b !== null);
  clock.now += 29_999;
  assert.equal(s.redeem(a.ticket, here).ok, true);
  clock.now += 1;
  assert.deepEqual(s.redeem(b.ticket, here), { ok: false, reason: 'expired' });
  s.issue(who, here);
  clock.now += 30_000;
  s.sweep();
  assert.equal(s.size, 0);
});

void test('the store is bounded: full of live tickets it refuses, expired ones make room', (t) => {
  const { s, clock } = store(1000, 3);
  t.after(() => s.dispose());
  for (let i = 0; i < 3; i++) assert.ok(s.issue(who, here) !== null);
  assert.equal(s.issue(who, here), null);
  clock.now += 1000;
  assert.ok(s.issue(who, here) !== null);
  assert.equal(s.size, 1);
});

void test('fixed-target tickets (target null) are bound to the address only', (t) => {
  const { s } = store();
  t.after(() => s.dispose());
  const a = s.issue(who, { clientIp: here.clientIp, target: null });
  assert.ok(a !== null);
  assert.equal(s.redeem(a.ticket, { clientIp: here.clientIp, target: null }).ok, true);
});
