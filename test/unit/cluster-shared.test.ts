/**
 * The pure parts of the rate limit, bans and tickets in Redis: key names (one hash tag, a ticket
 * only as its digest), reply parsers (a reply of the wrong shape throws), a ticket's record, and
 * the binding check shared with the in-process store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bindingRefusal } from '../../src/auth/tickets.js';
import { HASH_TAG } from '../../src/redis/keys.js';
import { ReplyError } from '../../src/redis/replies.js';
import { banKey, failuresKey, rateKey, TICKET_INDEX_KEY, ticketDigest, ticketKey } from '../../src/redis/shared-keys.js';
import { parseCount, parseEnter, parseFailure, parseMint } from '../../src/redis/shared-replies.js';
import { encodeTicket, parseTicket, type TicketRecord } from '../../src/manager/ticket-record.js';
import { SHARED_SCRIPTS } from '../../src/redis/shared-scripts.js';
import { SCRIPTS } from '../../src/redis/scripts.js';

void test('every shared key carries the admission hash tag; a ticket is named by its SHA-256 only', () => {
  const ticket = 'dGhpcyBpcyBub3QgYSByZWFsIHRpY2tldCBidXQgMzI';
  const keys = [rateKey('192.0.2.1'), rateKey('*'), banKey('2001:db8::1'), failuresKey('192.0.2.1'), TICKET_INDEX_KEY, ticketKey(ticketDigest(ticket))];
  for (const k of keys) assert.ok(k.startsWith(`${HASH_TAG}:`), k);
  assert.equal(rateKey('192.0.2.1'), '{uwsb}:rate:192.0.2.1');
  assert.equal(banKey('192.0.2.1'), '{uwsb}:ban:192.0.2.1');
  assert.equal(failuresKey('192.0.2.1'), '{uwsb}:fails:192.0.2.1');
  assert.equal(ticketDigest(ticket), createHash('sha256').update(ticket).digest('hex'));
  assert.match(ticketKey(ticketDigest(ticket)), /^\{uwsb\}:ticket:[0-9a-f]{64}$/);
  assert.ok(!ticketKey(ticketDigest(ticket)).includes(ticket));
  assert.equal(new Set(keys).size, keys.length, 'no two concerns share a key');
});

void test('the shared scripts are registered under names of their own', () => {
  for (const name of Object.keys(SHARED_SCRIPTS)) assert.ok(!(name in SCRIPTS), name);
  for (const spec of Object.values(SHARED_SCRIPTS)) assert.match(spec.lua, /\S/);
});

void test('parseEnter: ok, banned (Retry-After: the ban\'s seconds, rounded up), limited (at least 1 s); anything else throws', () => {
  assert.deepEqual(parseEnter(['ok', 0]), { ok: true });
  assert.deepEqual(parseEnter([Buffer.from('ok'), '0']), { ok: true });
  assert.deepEqual(parseEnter(['banned', 89_001]), { ok: false, code: 'AUTH_BANNED', retryAfterS: 90 });
  assert.deepEqual(parseEnter(['limited', 1]), { ok: false, code: 'RATE_LIMITED', retryAfterS: 1 });
  assert.deepEqual(parseEnter(['limited', 0]), { ok: false, code: 'RATE_LIMITED', retryAfterS: 1 });
  assert.deepEqual(parseEnter(['limited', 10_000]), { ok: false, code: 'RATE_LIMITED', retryAfterS: 10 });
  for (const bad of [null, 'ok', ['ok'], ['banned', 0], ['banned', -1], ['limited', -5], ['maybe', 0], ['ok', 'x'], ['ok', 0, 1]]) {
    assert.throws(() => parseEnter(bad), ReplyError, JSON.stringify(bad));
  }
});

void test('parseFailure: {ban started, attempts left, ms of ban left}; a wrong shape throws', () => {
  assert.deepEqual(parseFailure([0, 2, 0]), { banStarted: false, attemptsLeft: 2, bannedForMs: 0 });
  assert.deepEqual(parseFailure([1, 0, 300_000]), { banStarted: true, attemptsLeft: 0, bannedForMs: 300_000 });
  assert.deepEqual(parseFailure(['0', '0', '1234']), { banStarted: false, attemptsLeft: 0, bannedForMs: 1234 });
  for (const bad of [null, [0, 2], [2, 0, 0], [0, -1, 0], [0, 1, -1], [0, 1.5, 0], [0, 1, 0, 0]]) {
    assert.throws(() => parseFailure(bad), ReplyError, JSON.stringify(bad));
  }
});

void test('parseMint and parseCount', () => {
  assert.equal(parseMint(1), true);
  assert.equal(parseMint(0), false);
  assert.throws(() => parseMint(2), ReplyError);
  assert.throws(() => parseMint('OK'), ReplyError);
  assert.equal(parseCount(7), 7);
  assert.throws(() => parseCount(-1), ReplyError);
  assert.throws(() => parseCount(null), ReplyError);
});

void test('a ticket\'s record round-trips, holds no field it does not need, and a record that does not parse throws', () => {
  const rec: TicketRecord = {
    clientIp: '2001:db8::7', target: 'host.example:22',
    identity: { method: 'jwt', subject: 'alice@idp', targets: ['*.example:22'], users: null, admin: false },
  };
  assert.deepEqual(parseTicket(encodeTicket(rec)), rec);
  assert.deepEqual(parseTicket(Buffer.from(encodeTicket({ ...rec, target: null }))), { ...rec, target: null });
  const extra = { ...rec, identity: { ...rec.identity, secret: 'not kept' } } as unknown as TicketRecord;
  assert.ok(!encodeTicket(extra).includes('not kept'), 'only the identity\'s own fields are stored');
  assert.equal(parseTicket(null), null, 'no record: unknown, expired or used');
  const bad = [
    'not json', '{}', JSON.stringify({ v: 2, ip: '1', target: null, id: rec.identity }),
    JSON.stringify({ v: 1, ip: 1, target: null, id: rec.identity }),
    JSON.stringify({ v: 1, ip: '1', target: null, id: { ...rec.identity, method: 'ticket' } }),
    JSON.stringify({ v: 1, ip: '1', target: null, id: { ...rec.identity, targets: [1] } }),
    JSON.stringify({ v: 1, ip: '1', target: null, id: { ...rec.identity, admin: 'yes' } }),
  ];
  for (const b of bad) assert.throws(() => parseTicket(b), ReplyError, b);
});

void test('bindingRefusal: the address must match; the target too, unless issued for none (fixed-target mode)', () => {
  const issued = { clientIp: '192.0.2.1', target: 'h:22' };
  assert.equal(bindingRefusal(issued, issued), null);
  assert.equal(bindingRefusal(issued, { clientIp: '192.0.2.2', target: 'h:22' }), 'issued to another address');
  assert.equal(bindingRefusal(issued, { clientIp: '192.0.2.1', target: 'h:23' }), 'issued for another target');
  assert.equal(bindingRefusal({ clientIp: '192.0.2.1', target: null }, { clientIp: '192.0.2.1', target: 'h:23' }), null);
});
