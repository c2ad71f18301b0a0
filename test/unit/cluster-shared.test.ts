/**
 * The pure parts of the rate limit, bans, tickets and host keys in Redis: key names (one hash
 * tag, a ticket only as its digest, a server as `[host]:port`), reply parsers (a reply of the
 * wrong shape throws), a ticket's record, a host key's record, and the binding check shared with
 * the in-process store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bindingRefusal } from '../../src/auth/tickets.js';
import { HASH_TAG } from '../../src/redis/keys.js';
import { ReplyError } from '../../src/redis/replies.js';
import { banKey, failuresKey, HOST_KEYS_KEY, hostKeyField, rateKey, TICKET_INDEX_KEY, ticketDigest, ticketKey } from '../../src/redis/shared-keys.js';
import { parseCount, parseEnter, parseFailure, parseFound, parseMint, parseShare } from '../../src/redis/shared-replies.js';
import { decodeHostKey, encodeHostKey, MAX_HOST_KEY_RECORD } from '../../src/redis/host-key-record.js';
import { parseKnownHosts } from '../../src/ssh/known-hosts.js';
import { encodeTicket, parseTicket, type TicketRecord } from '../../src/manager/ticket-record.js';
import { SHARED_SCRIPTS } from '../../src/redis/shared-scripts.js';
import { SCRIPTS } from '../../src/redis/scripts.js';

void test('every shared key carries the admission hash tag; a ticket is named by its SHA-256 only', () => {
  const ticket = 'dGhpcyBpcyBub3QgYSByZWFsIHRpY2tldCBidXQgMzI';
  const keys = [rateKey('192.0.2.1'), rateKey('*'), banKey('2001:db8::1'), failuresKey('192.0.2.1'), TICKET_INDEX_KEY, ticketKey(ticketDigest(ticket)), HOST_KEYS_KEY];
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
    identity: { method: 'jwt', subject: 'alice@idp', targets: ['*.example:22'], users: null, admin: false, files: 'read' },
  };
  assert.deepEqual(parseTicket(encodeTicket(rec)), rec);
  assert.deepEqual(parseTicket(Buffer.from(encodeTicket({ ...rec, target: null }))), { ...rec, target: null });
  const extra = { ...rec, identity: { ...rec.identity, secret: 'not kept' } } as unknown as TicketRecord;
  assert.ok(!encodeTicket(extra).includes('not kept'), 'only the identity\'s own fields are stored');
  assert.equal(parseTicket(null), null, 'no record: unknown, expired or used');
  assert.deepEqual(parseTicket(encodeTicket({ ...rec, identity: { ...rec.identity, files: 'write' } }))?.identity.files, 'write');
  const noFiles = encodeTicket(rec).replace(',"files":"read"', '');
  assert.ok(!noFiles.includes('files'));
  assert.throws(() => parseTicket(noFiles), 'a record without the files access is not taken for an identity');
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

void test('a server\'s field in the host key hash: `[host]:port`, bare and in lower case, bracketed on every port', () => {
  assert.equal(HOST_KEYS_KEY, '{uwsb}:hostkeys');
  assert.equal(hostKeyField('Host.Example', 22), '[host.example]:22');
  assert.equal(hostKeyField('192.0.2.1', 2222), '[192.0.2.1]:2222');
  assert.equal(hostKeyField('2001:DB8::1', 22), '[2001:db8::1]:22');
  assert.equal(hostKeyField('[2001:db8::1]', 2222), '[2001:db8::1]:2222', 'brackets of its own are not doubled');
});

void test('a host key\'s record is a known_hosts line without its host: it round-trips, and what is not one is refused', () => {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
  const rec = { keyType: 'ssh-ed25519', key: blob.toString('base64') };
  const text = encodeHostKey(rec);
  assert.equal(text, `ssh-ed25519 ${blob.toString('base64')}`);
  assert.deepEqual(decodeHostKey(text), rec);
  assert.equal(parseKnownHosts(`[h]:2222 ${text}`, 'redis').length, 1, 'with the host in front, OpenSSH\'s own line');
  assert.throws(() => encodeHostKey({ keyType: 'ssh ed25519', key: rec.key }), /key type/);
  assert.throws(() => encodeHostKey({ keyType: '', key: rec.key }), /key type/);
  assert.throws(() => encodeHostKey({ keyType: 'ssh-ed25519', key: 'not base64!' }), /base64/);
  assert.throws(() => encodeHostKey({ keyType: 'ssh-ed25519', key: 'QUJD\nREVG' }), /base64/);
  assert.throws(() => encodeHostKey({ keyType: 'ssh-rsa', key: 'A'.repeat(MAX_HOST_KEY_RECORD) }), /longer than/);
  for (const bad of ['', 'ssh-ed25519', `ssh-ed25519 ${rec.key} comment`, `ssh-ed25519  ${rec.key}`, 'ssh-ed25519 abc', `${'x'.repeat(65)} ${rec.key}`, `ssh-rsa ${'A'.repeat(MAX_HOST_KEY_RECORD)}`]) {
    assert.equal(decodeHostKey(bad), null, JSON.stringify(bad.slice(0, 80)));
  }
});

void test('parseShare and parseFound: the host key scripts\' replies; a wrong shape throws', () => {
  assert.deepEqual(parseShare(['stored']), { kind: 'stored' });
  assert.deepEqual(parseShare([Buffer.from('present')]), { kind: 'present' });
  assert.deepEqual(parseShare(['full']), { kind: 'full' });
  assert.deepEqual(parseShare(['changed', 'ssh-ed25519 AAAA']), { kind: 'changed', record: 'ssh-ed25519 AAAA' });
  for (const bad of [null, 'stored', [], ['stored', 'x'], ['changed'], ['changed', 1], ['maybe']]) assert.throws(() => parseShare(bad), ReplyError, JSON.stringify(bad));
  assert.deepEqual(parseFound(['ssh-ed25519 AAAA', null], 2), ['ssh-ed25519 AAAA', null]);
  assert.deepEqual(parseFound([Buffer.from('x y')], 1), ['x y']);
  for (const bad of [null, [null], ['a', 1], 'a']) assert.throws(() => parseFound(bad, 2), ReplyError, JSON.stringify(bad));
});
