/**
 * Jump hosts on the page (issue 17; web/src/jump.ts, target.ts, messages.ts, errors.ts): the
 * route's `?jump=` of the WebSocket URL (IPv6 in brackets, percent-encoded, never a secret; none
 * on a resume), the page's own `?jump=user@host:port` pre-fill, `auth.jump`, the hop of a host key
 * question, and the sentences of a failure on a jump host. Plain values in and out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeClose, type CloseInfo } from '../../../web/src/errors.js';
import { hopFailureOf, hostKeyServerLabel, readJumpParams } from '../../../web/src/jump.js';
import { authMessage, parseServerMessage } from '../../../web/src/messages.js';
import { gatewayUrl, type Credentials } from '../../../web/src/target.js';

const BASE = 'https://gw.example/ssh/';

void test('a new login through jump hosts names them in ?jump=, IPv6 bracketed and percent-encoded', () => {
  const url = gatewayUrl({ host: 'db.internal', port: 22 }, null, { jump: [{ host: 'bastion.example', port: 22 }, { host: '2001:db8::1', port: 2222 }] }, BASE);
  assert.equal(url, 'wss://gw.example/ssh/ws/db.internal/22?jump=bastion.example%3A22%2C%5B2001%3Adb8%3A%3A1%5D%3A2222');
  assert.equal(new URL(url).searchParams.get('jump'), 'bastion.example:22,[2001:db8::1]:2222', 'the bridge reads the list back');
  const odd = gatewayUrl({ host: 'db', port: 22 }, 'T1', { jump: [{ host: 'b&x=1', port: 22 }] }, 'http://127.0.0.1:8080/');
  assert.equal(new URL(odd).searchParams.get('jump'), 'b&x=1:22', 'a host cannot add a parameter');
  assert.equal(new URL(odd).searchParams.get('ticket'), 'T1');
  assert.equal(new URL(odd).searchParams.get('x'), null);
});

void test('no hops is no ?jump=; a resume URL is unchanged (it attaches to the session, not the route)', () => {
  assert.equal(gatewayUrl({ host: 'db', port: 22 }, null, { jump: [] }, BASE), 'wss://gw.example/ssh/ws/db/22');
  assert.equal(gatewayUrl({ host: 'db', port: 22 }, null, { token: 'tok', position: 5 }, BASE), 'wss://gw.example/ssh/ws/db/22?resume=tok&position=5');
});

void test('auth carries each hop\'s login in jump, with the target\'s own at the top; none without hops', () => {
  const creds: Credentials = {
    username: 'alice', method: 'password', password: 'target-pw',
    jump: [{ host: 'bastion', port: 22, login: { username: 'ops', method: 'password', password: 'hop-pw' } }],
  };
  const msg = authMessage(creds, { cols: 80, rows: 24 });
  assert.equal(msg['username'], 'alice');
  assert.equal(msg['password'], 'target-pw');
  assert.deepEqual(msg['jump'], [{ username: 'ops', method: 'password', password: 'hop-pw' }]);
  const keyHop: Credentials = {
    username: 'alice', method: 'keyboard-interactive',
    jump: [{ host: 'b', port: 22, login: { username: 'ops', method: 'publickey', privateKey: 'KEY\n', passphrase: '' } }],
  };
  assert.deepEqual(authMessage(keyHop, { cols: 80, rows: 24 })['jump'], [{ username: 'ops', method: 'publickey', privateKey: 'KEY\n' }]);
  const direct = authMessage({ username: 'alice', method: 'password', password: 'pw' }, { cols: 80, rows: 24 });
  assert.equal('jump' in direct, false);
  assert.deepEqual(direct, { type: 'auth', term: 'xterm-256color', cols: 80, rows: 24, flowControl: true, resume: true, username: 'alice', method: 'password', password: 'pw' });
});

void test('?jump=user@host:port,… pre-fills every hop it names, in order; never more than host, port and user', () => {
  assert.deepEqual(readJumpParams('?jump=ops@bastion.example:2222'), [{ host: 'bastion.example', port: 2222, user: 'ops' }]);
  assert.deepEqual(readJumpParams('?host=db&jump=bastion'), [{ host: 'bastion' }]);
  assert.deepEqual(readJumpParams('?jump=%5B2001%3Adb8%3A%3A1%5D%3A22'), [{ host: '2001:db8::1', port: 22 }]);
  assert.deepEqual(readJumpParams('?jump=[::1]:2200'), [{ host: '::1', port: 2200 }]);
  assert.deepEqual(readJumpParams('?jump=a:22,ops@b:23'), [{ host: 'a', port: 22 }, { host: 'b', port: 23, user: 'ops' }]);
  assert.deepEqual(readJumpParams('?jump=a,[::1]:2,c:3'), [{ host: 'a' }, { host: '::1', port: 2 }, { host: 'c', port: 3 }]);
  assert.deepEqual(readJumpParams('?jump=a,b,c,d'), [{ host: 'a' }, { host: 'b' }, { host: 'c' }], 'at most three hops, as the bridge takes');
  assert.deepEqual(readJumpParams('?jump=a,,c'), [{ host: 'a' }], 'the list ends at a hop that is not one: c never becomes hop 2');
  assert.deepEqual(readJumpParams('?jump=a,b%20c'), [{ host: 'a' }]);
  assert.deepEqual(readJumpParams('?jump=ops:secret@bastion'), [{ host: 'bastion', user: 'ops:secret' }], 'no password field: user:pw is a username');
  assert.deepEqual(readJumpParams(''), []);
  assert.deepEqual(readJumpParams('?jump='), []);
  assert.deepEqual(readJumpParams('?jump=ops@'), []);
  assert.deepEqual(readJumpParams('?jump=a%20b'), []);
});

void test('a host key question of a hop names the jump host; the target\'s does not', () => {
  const frame = { type: 'hostkey', host: 'bastion.example', port: 22, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:x', status: 'unknown' };
  const hop = parseServerMessage(JSON.stringify({ ...frame, hop: 1 }));
  assert.ok(hop !== null && hop.type === 'hostkey');
  assert.equal(hop.hop, 1);
  assert.equal(hostKeyServerLabel(hop, hop.hop), 'Jump host 1: bastion.example:22');
  const own = parseServerMessage(JSON.stringify(frame));
  assert.ok(own !== null && own.type === 'hostkey');
  assert.equal(own.hop, null);
  assert.equal(hostKeyServerLabel(own, own.hop), 'bastion.example:22');
  for (const bad of [0, -1, 1.5, '1']) {
    const m = parseServerMessage(JSON.stringify({ ...frame, hop: bad }));
    assert.ok(m !== null && m.type === 'hostkey' && m.hop === null, String(bad));
  }
  assert.equal(hostKeyServerLabel({ host: '::1', port: 2222 }, 2), 'Jump host 2: [::1]:2222');
});

/** The close of a login refused with the v1 `error` frame `code`/`message`. */
function closed(code: string, message: string, method: CloseInfo['method'] = 'password'): CloseInfo {
  return { code: 4001, reason: `${code}: ${message}`, target: 'db:22', wasReady: false, method, error: { code, message } };
}

void test('a failure on a jump host is said of that jump host; the target\'s own failures are unchanged', () => {
  assert.deepEqual(hopFailureOf('ssh authentication failed: hop 1 (bastion.example:22)'), { hop: 1, server: 'bastion.example:22', detail: '' });
  assert.deepEqual(hopFailureOf('target unreachable: hop 2 ([::1]:22): forward to db:22 refused: administratively prohibited'),
    { hop: 2, server: '[::1]:22', detail: 'forward to db:22 refused: administratively prohibited' });
  assert.equal(hopFailureOf('ssh authentication failed'), null);
  assert.equal(describeClose(closed('SSH_AUTH_FAILED', 'ssh authentication failed: hop 1 (bastion:22)')),
    'Authentication failed on jump host 1 (bastion:22): wrong username, password or key.');
  assert.equal(describeClose(closed('SSH_AUTH_FAILED', 'ssh authentication failed')), 'Authentication failed: wrong username or password.');
  assert.equal(describeClose(closed('TARGET_UNREACHABLE', 'target unreachable: hop 1 (bastion:22): forward to db:22 refused: administratively prohibited')),
    'Could not reach db:22 through jump host 1 (bastion:22) (forward to db:22 refused: administratively prohibited).');
  assert.equal(describeClose(closed('TARGET_UNREACHABLE', 'target unreachable: hop 1 (bastion:22): ECONNREFUSED')),
    'Could not reach db:22 through jump host 1 (bastion:22) (connection refused).');
  assert.equal(describeClose(closed('CONNECT_TIMEOUT', 'connect timeout: hop 1 (bastion:22)')), 'Connecting to jump host 1 (bastion:22) timed out.');
  assert.equal(describeClose(closed('TARGET_UNREACHABLE', 'target unreachable: ECONNREFUSED')), 'Could not reach db:22 (connection refused).');
});

void test('failures on hop 2 and 3 read of jump host 2 and 3 (auth, forward, key, host key)', () => {
  assert.equal(describeClose(closed('SSH_AUTH_FAILED', 'ssh authentication failed: hop 2 (10.0.5.4:2222)')),
    'Authentication failed on jump host 2 (10.0.5.4:2222): wrong username, password or key.');
  assert.equal(describeClose(closed('TARGET_UNREACHABLE', 'target unreachable: hop 3 ([2001:db8::3]:22): forward to db:22 refused: administratively prohibited')),
    'Could not reach db:22 through jump host 3 ([2001:db8::3]:22) (forward to db:22 refused: administratively prohibited).');
  assert.equal(describeClose(closed('SSH_KEY_PASSPHRASE', 'private key passphrase wrong or missing: hop 2 (10.0.5.4:22): the passphrase does not decrypt the key')),
    'The passphrase for the private key of jump host 2 (10.0.5.4:22) is wrong or missing.');
  assert.equal(describeClose(closed('SSH_KEY_INVALID', 'private key could not be read: hop 3 (c:22): not a private key')), 'The private key for jump host 3 (c:22) could not be read.');
  assert.equal(describeClose(closed('SSH_NO_AUTH_METHOD', 'server does not accept this authentication method: hop 2 (b:22)')), 'Jump host 2 (b:22) does not accept this authentication method.');
  assert.equal(describeClose(closed('SSH_KEY_PASSPHRASE', 'private key passphrase wrong or missing')), 'The passphrase for the private key is wrong or missing.', 'the target\'s own: unchanged');
  assert.equal(describeClose(closed('CONNECT_TIMEOUT', 'connect timeout: hop 2 (b:22)')), 'Connecting to jump host 2 (b:22) timed out.');
});

void test('a keyboard-interactive round of a jump host names its hop; the target\'s has none', () => {
  const round = { type: 'prompt', name: '', instructions: '', prompts: [{ prompt: 'Password: ', echo: false }] };
  const hop = parseServerMessage(JSON.stringify({ ...round, hop: 1 }));
  assert.equal(hop?.type === 'prompt' ? hop.hop : 'not a prompt', 1);
  const target = parseServerMessage(JSON.stringify(round));
  assert.equal(target?.type === 'prompt' ? target.hop : 'not a prompt', null);
  const bad = parseServerMessage(JSON.stringify({ ...round, hop: 0 }));
  assert.equal(bad?.type === 'prompt' ? bad.hop : 'not a prompt', null, 'a hop that is not 1 or more is ignored');
});
