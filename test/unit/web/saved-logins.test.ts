/** Recent hosts and profiles (web/src/saved-logins.ts): reading the store, the list operations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addRecent, findProfile, loginKey, loginLabel, MAX_PROFILES, MAX_RECENT, parseProfiles, parseRecent, profileName,
  profileProblem, removeProfile, removeRecent, renameProfile, sameTarget, saveProfile, type LoginTarget, type Profile,
} from '../../../web/src/saved-logins.js';
import type { SealedKey } from '../../../web/src/key-vault.js';

const alice: LoginTarget = { host: 'db1.example', port: 22, username: 'alice', method: 'password' };
const bob: LoginTarget = { host: '2001:db8::1', port: 2222, username: 'bob', method: 'publickey' };
const b64 = (n: number): string => Buffer.alloc(n, 7).toString('base64');
const sealed: SealedKey = { v: 1, iterations: 600_000, salt: b64(16), iv: b64(12), data: b64(64) };

void test('a malformed store counts as empty, never throws', () => {
  for (const text of [null, '', 'not json', '{"host":"x"}', '42', 'null', '"a"', '[', 'x'.repeat(5 * 1024 * 1024)]) {
    assert.deepEqual(parseRecent(text), [], String(text).slice(0, 20));
    assert.deepEqual(parseProfiles(text), [], String(text).slice(0, 20));
  }
});

void test('stored recent hosts: bad entries are dropped, the rest kept in order, deduplicated, bounded', () => {
  const entries: unknown[] = [
    alice,
    { ...alice, host: 'DB1.example' }, // the same user@host:port, the host's case aside
    { ...bob, host: '[2001:db8::1]' }, // brackets are dropped
    { ...alice, port: 0 },
    { ...alice, port: '22' },
    { ...alice, host: '' },
    { ...alice, host: 'a b' },
    { ...alice, username: 'x\ny' },
    { ...alice, method: 'telepathy' },
    { ...alice, username: 'carol', password: 'hunter2' }, // extra fields are not kept
    null,
    'alice@db1',
  ];
  const list = parseRecent(JSON.stringify(entries));
  assert.deepEqual(list, [alice, bob, { ...alice, username: 'carol' }]);
  assert.ok(!JSON.stringify(list).includes('hunter2'));
  const many = Array.from({ length: 30 }, (_, i) => ({ ...alice, username: `u${i}` }));
  assert.equal(parseRecent(JSON.stringify(many)).length, MAX_RECENT);
});

void test('addRecent puts the login first, once, at most MAX_RECENT; removeRecent by user@host:port', () => {
  let list: LoginTarget[] = [];
  list = addRecent(list, alice);
  list = addRecent(list, bob);
  list = addRecent(list, { ...alice, method: 'publickey' });
  assert.deepEqual(list.map(loginLabel), ['alice@db1.example:22', 'bob@[2001:db8::1]:2222']);
  assert.equal(list[0]?.method, 'publickey', 'the newest method wins');
  for (let i = 0; i < 20; i++) list = addRecent(list, { ...alice, username: `u${i}` });
  assert.equal(list.length, MAX_RECENT);
  assert.equal(list[0]?.username, 'u19');
  // Only the record's own fields are stored.
  const extra = { ...alice, password: 'secret' } as LoginTarget;
  assert.deepEqual(Object.keys(addRecent([], extra)[0] ?? {}).sort(), ['host', 'method', 'port', 'username']);
  assert.deepEqual(removeRecent([alice, bob], loginKey({ ...alice, host: 'DB1.EXAMPLE' })), [bob]);
});

void test('fixed-target mode: sameTarget compares host (case, brackets aside) and port', () => {
  assert.ok(sameTarget(alice, { host: 'DB1.example', port: 22 }));
  assert.ok(!sameTarget(alice, { host: 'db1.example', port: 2222 }));
  assert.ok(sameTarget(bob, { host: '[2001:db8::1]', port: 2222 }));
});

void test('profile names are trimmed, bounded, free of control characters', () => {
  assert.equal(profileName('  prod   db '), 'prod db');
  assert.equal(profileName(''), '');
  assert.equal(profileName('x'.repeat(65)), '');
  assert.equal(profileName('a\u0007b'), '');
});

void test('saveProfile adds, replaces by name (case aside), refuses beyond MAX_PROFILES', () => {
  let r = saveProfile([], 'Prod', alice, null);
  assert.ok(r.ok);
  let list: Profile[] = r.ok ? r.list : [];
  r = saveProfile(list, 'staging', bob, sealed);
  list = r.ok ? r.list : [];
  assert.deepEqual(list.map((p) => p.name), ['Prod', 'staging']);
  assert.deepEqual(findProfile(list, 'STAGING')?.key, sealed);
  r = saveProfile(list, 'prod', { ...alice, username: 'root' }, null);
  list = r.ok ? r.list : [];
  assert.deepEqual(list.map((p) => `${p.name}:${p.username}`), ['prod:root', 'staging:bob'], 'replaced in place');
  assert.deepEqual(saveProfile(list, '   ', alice, null), { ok: false, reason: 'name' });
  let full: Profile[] = [];
  for (let i = 0; i < MAX_PROFILES; i++) {
    const next = saveProfile(full, `p${i}`, alice, null);
    full = next.ok ? next.list : full;
  }
  assert.equal(full.length, MAX_PROFILES);
  assert.deepEqual(saveProfile(full, 'one more', alice, null), { ok: false, reason: 'full' });
  assert.ok(saveProfile(full, 'P3', bob, null).ok, 'replacing one is still fine');
});

void test('renameProfile keeps the key, refuses a taken or empty name; removeProfile drops the key with it', () => {
  const list: Profile[] = [{ ...alice, name: 'a' }, { ...bob, name: 'b', key: sealed }];
  const r = renameProfile(list, 'B', 'bee');
  assert.ok(r.ok);
  assert.deepEqual(r.ok ? r.list[1] : null, { ...bob, name: 'bee', key: sealed });
  assert.deepEqual(renameProfile(list, 'b', 'A'), { ok: false, reason: 'taken' });
  assert.ok(renameProfile(list, 'a', 'A').ok, 'a new case of its own name is fine');
  assert.deepEqual(renameProfile(list, 'b', ' '), { ok: false, reason: 'name' });
  assert.deepEqual(renameProfile(list, 'zzz', 'y'), { ok: false, reason: 'missing' });
  const left = removeProfile(list, 'b');
  assert.deepEqual(left, [{ ...alice, name: 'a' }]);
  assert.ok(!JSON.stringify(left).includes(sealed.data));
  assert.match(profileProblem('taken', ' A '), /already a profile named "A"/);
});

void test('stored profiles: bad entries and unreadable keys are dropped, one per name, bounded', () => {
  const entries: unknown[] = [
    { ...alice, name: 'a' },
    { ...alice, name: 'A' }, // the same name
    { ...bob, name: 'b', key: sealed },
    { ...bob, name: 'c', key: { ...sealed, iterations: 1000 } }, // too few iterations: the key is dropped
    { ...bob, name: 'd', key: { ...sealed, iterations: 1e12 } }, // too many: a stored record must not hang the page
    { ...bob, name: 'e', key: { ...sealed, salt: b64(8) } },
    { ...bob, name: 'f', key: { ...sealed, data: 'not base64!' } },
    { ...bob, name: ' g' }, // not a stored name
    { ...bob, name: 42 },
    { ...bob },
  ];
  const list = parseProfiles(JSON.stringify(entries));
  assert.deepEqual(list, [
    { ...alice, name: 'a' },
    { ...bob, name: 'b', key: sealed },
    { ...bob, name: 'c' }, { ...bob, name: 'd' }, { ...bob, name: 'e' }, { ...bob, name: 'f' },
  ]);
  const many = Array.from({ length: 80 }, (_, i) => ({ ...alice, name: `p${i}` }));
  assert.equal(parseProfiles(JSON.stringify(many)).length, MAX_PROFILES);
});
