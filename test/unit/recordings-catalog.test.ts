/**
 * The recordings view's pure parts: which names are recordings, what a header line yields (also
 * when it is broken), the duration from a file's tail, the listing query, and who is an admin
 * (token line flag, JWT claim, --admin-subjects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminFromClaims, subjectIsAdmin } from '../../src/auth/identity.js';
import { runTokenCommand } from '../../src/auth/token-command.js';
import { AuthSetupError, matchToken, newToken, parseTokenFile } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/loader.js';
import { BridgeError } from '../../src/errors.js';
import { parseListQuery } from '../../src/http/recordings-route.js';
import { encodeEvent, encodeHeader } from '../../src/record/asciicast.js';
import { isRecordingName, lastEventTime, parseCastHeader, parseRecordingName, recordingName, splitTitle } from '../../src/record/catalog.js';
import { NODE_ID } from '../../src/config/cluster-kinds.js';
import { fileStamp } from '../../src/record/recorder.js';

const ID = '0123456789abcdef0123456789abcdef';

void test('recording names: exactly the recorder\'s YYYYMMDDTHHMMSSZ-<32 hex>.cast', () => {
  const made = `${fileStamp(new Date('2025-03-14T09:15:02Z'))}-${ID}.cast`;
  assert.equal(made, `20250314T091502Z-${ID}.cast`);
  assert.ok(isRecordingName(made), 'what the recorder writes is a name');
  for (const bad of [
    '', '.', '..', '../etc/passwd', `../20250314T091502Z-${ID}.cast`, `a/20250314T091502Z-${ID}.cast`,
    `20250314T091502Z-${ID}.cast/`, `20250314T091502Z-${ID}.cast\0`, `20250314T091502Z-${ID}.cast\n`,
    `20250314T091502Z-${ID}.txt`, `20250314T091502Z-${ID}.cast.bak`, `20250314T091502Z-${ID.toUpperCase()}.cast`,
    `20250314T091502Z-${ID.slice(1)}.cast`, `2025031T091502Z-${ID}.cast`, `%2e%2e%2f20250314T091502Z-${ID}.cast`,
    `20250314T091502Z-${ID}%2ecast`, `..%2F..%2Fetc%2Fpasswd`, `20250314T091502Z-${ID}.cast%00`, ` 20250314T091502Z-${ID}.cast`,
  ]) {
    assert.equal(isRecordingName(bad), false, JSON.stringify(bad));
  }
});

void test('in a cluster the name carries the node: STAMP-NODE-SESSION.cast; one node keeps STAMP-SESSION.cast', () => {
  const stamp = fileStamp(new Date('2025-03-14T09:15:02Z'));
  assert.equal(recordingName(stamp, ID, null), `20250314T091502Z-${ID}.cast`, 'one node: the names of old, exactly');
  assert.equal(recordingName(stamp, ID, 'gw-2'), `20250314T091502Z-gw-2-${ID}.cast`);
  assert.deepEqual(parseRecordingName(`20250314T091502Z-${ID}.cast`), { stamp: '20250314T091502Z', node: null, sessionId: ID });
  // Every node id (NODE_ID: letters, digits, _ and -, 1-64) round-trips, also those that end in
  // something like a session id or hold dashes: the session id is always the last 32 hex digits.
  for (const node of ['gw-1', 'a', 'N_0', '-', '--', 'x'.repeat(64), `x-${ID}`, ID, '0123', 'gw-1-', '-gw']) {
    assert.ok(NODE_ID.test(node), node);
    const name = recordingName(stamp, ID, node);
    assert.ok(isRecordingName(name), name);
    assert.deepEqual(parseRecordingName(name), { stamp, node, sessionId: ID }, name);
  }
  // What a node id cannot hold makes no name either.
  for (const node of ['', 'x'.repeat(65), 'gw.1', 'gw~1', 'gw/1', 'gw 1', '..', 'gw%2F1', 'gw\x00', 'gw:1']) {
    assert.equal(NODE_ID.test(node), false, node);
    assert.equal(isRecordingName(`20250314T091502Z-${node}-${ID}.cast`), false, JSON.stringify(node));
    assert.equal(parseRecordingName(`20250314T091502Z-${node}-${ID}.cast`), null, JSON.stringify(node));
  }
  for (const bad of [`20250314T091502Z--${ID}.cast`, `20250314T091502Z-gw-1-${ID.slice(1)}.cast`, `20250314T091502Z-gw-1${ID}.cast`,
    `20250314T091502Z-gw-1-${ID}.cast.live`, `../20250314T091502Z-gw-1-${ID}.cast`, `20250314T091502Z-gw-1-${ID.toUpperCase()}.cast`]) {
    assert.equal(isRecordingName(bad), false, bad);
  }
  // Names still sort by their start first, whichever node wrote them.
  const names = [recordingName('20250314T091502Z', ID, 'zz'), recordingName('20250314T091503Z', ID, null), recordingName('20250314T091501Z', ID, 'a')].sort();
  assert.deepEqual(names.map((n) => parseRecordingName(n)?.stamp), ['20250314T091501Z', '20250314T091502Z', '20250314T091503Z']);
});

void test('a header the recorder writes gives every field the listing shows', () => {
  const head = encodeHeader({
    width: 132, height: 43, timestamp: 1741943702, term: 'xterm-256color', title: 'alice@db.example:22',
    extra: { webssh_bridge: { session: ID, client_ip: '192.0.2.7', auth_method: 'jwt', subject: 'alice@example.com', protocol: 'v1' } },
  });
  assert.deepEqual(parseCastHeader(`${head}[0.1,"o","x"]\n`), {
    width: 132, height: 43, timestamp: 1741943702, title: 'alice@db.example:22', username: 'alice', target: 'db.example:22',
    sessionId: ID, clientIp: '192.0.2.7', authMethod: 'jwt', subject: 'alice@example.com',
  });
  // An SSH user with an @ and an IPv6 target: the last @ splits.
  assert.deepEqual(splitTitle('bob@corp@[fd00::1]:2222'), { username: 'bob@corp', target: '[fd00::1]:2222' });
  assert.equal(splitTitle('no-at-sign'), null);
  assert.equal(splitTitle('@host:22'), null);
});

void test('a broken header is listed with its fields missing, never an exception', () => {
  const none = parseCastHeader('');
  assert.deepEqual(Object.values(none).filter((v) => v !== null), []);
  for (const head of ['{"version":2,"width":80', 'not json\n', '[1,2]\n', 'null\n', '{"version":1,"width":80,"height":24}\n', '{"version":2,"width":80}']) {
    assert.deepEqual(parseCastHeader(head), none, JSON.stringify(head));
  }
  // Wrong types are null field by field; the rest stays.
  const partial = parseCastHeader('{"version":2,"width":"80","height":24,"timestamp":-5,"title":7,"webssh_bridge":{"session":12,"subject":"ops"}}\n');
  assert.deepEqual(partial, { ...none, height: 24, subject: 'ops' });
  // A header line longer than the bounded read is incomplete: nothing, not a guess.
  assert.deepEqual(parseCastHeader(`{"version":2,"title":"${'x'.repeat(9000)}`.slice(0, 8192)), none);
});

void test('duration: the time of the last complete event in the tail', () => {
  const header = encodeHeader({ width: 80, height: 24, timestamp: 1, term: 'xterm', title: 'a@b:22' });
  const events = [encodeEvent(10, 'o', 'a'), encodeEvent(1500.5, 'r', '90x30'), encodeEvent(2750, 'o', 'bye\r\n')].join('');
  assert.equal(lastEventTime(header + events, true), 2.75);
  assert.equal(lastEventTime(header, true), null, 'no event yet');
  // A tail that starts mid-line skips that line; a last line still being written is skipped too.
  const tail = `"cut line"]\n${encodeEvent(4000, 'o', 'z')}[5.5,"o","unfinis`;
  assert.equal(lastEventTime(tail, false), 4);
  assert.equal(lastEventTime('[9,"o","x"]\n', false), null, 'the first line of a partial tail may be cut: not trusted');
  assert.equal(lastEventTime(`${header}[1.25,"m","recording truncated"]\n`, true), 1.25, 'a marker is an event');
});

void test('listing query: limit 1-1000, before a recording name', () => {
  assert.deepEqual(parseListQuery(new URLSearchParams('')), { limit: 1000, before: null });
  assert.deepEqual(parseListQuery(new URLSearchParams(`limit=5&before=20250314T091502Z-${ID}.cast`)), { limit: 5, before: `20250314T091502Z-${ID}.cast` });
  assert.deepEqual(parseListQuery(new URLSearchParams(`before=20250314T091502Z-gw-3-${ID}.cast`)), { limit: 1000, before: `20250314T091502Z-gw-3-${ID}.cast` }, 'a name of a node');
  for (const [q, code] of [['limit=0', 'BAD_REQUEST'], ['limit=1001', 'BAD_REQUEST'], ['limit=x', 'BAD_REQUEST'], ['limit=-1', 'BAD_REQUEST'], ['before=../x', 'BAD_RECORDING_NAME']] as const) {
    assert.throws(() => parseListQuery(new URLSearchParams(q)), (err: unknown) => err instanceof BridgeError && err.code === code, q);
  }
});

void test('admin tokens: the third field `admin` after a name; new-token/hash-token --admin write it', () => {
  const admin = newToken('ops', true);
  const plain = newToken('dev');
  assert.match(admin.line, /^sha256:[0-9a-f]{64} ops admin$/);
  const tokens = parseTokenFile(`${admin.line}\n${plain.line}\n`);
  assert.deepEqual(matchToken(tokens, admin.token), { name: 'ops', admin: true, files: 'write' });
  assert.deepEqual(matchToken(tokens, plain.token), { name: 'dev', admin: false, files: 'write' });
  // The name "admin" alone is a name, not the flag; any other third word is refused.
  assert.deepEqual(matchToken(parseTokenFile(newToken('admin').line), ''), undefined);
  assert.equal([...parseTokenFile(newToken('admin').line).values()][0]?.admin, false);
  assert.throws(() => parseTokenFile(`${plain.line} root`), AuthSetupError);
  assert.throws(() => parseTokenFile(`${plain.line} admin extra`), AuthSetupError);
  assert.throws(() => newToken(undefined, true), /needs a name/);

  const made = runTokenCommand(['new-token', '--admin', 'ops'], () => assert.fail('no stdin'));
  assert.equal(made.code, 0);
  const [token, line] = made.stdout.trim().split('\n');
  assert.equal(matchToken(parseTokenFile(line ?? ''), token ?? '')?.admin, true);
  const hashed = runTokenCommand(['hash-token', 'ops', '--admin'], () => `${token ?? ''}\n`);
  assert.equal(hashed.stdout.trim(), line);
  assert.equal(runTokenCommand(['new-token', '--admin'], () => '').code, 2, '--admin needs a name');
  assert.equal(runTokenCommand(['new-token', '--admin', '--admin', 'x'], () => '').code, 2);
});

void test('the webssh_admin claim: true or false; any other value makes the token invalid', () => {
  assert.equal(adminFromClaims({}), false);
  assert.equal(adminFromClaims({ webssh_admin: true }), true);
  assert.equal(adminFromClaims({ webssh_admin: false }), false);
  for (const v of ['true', 1, 0, null, ['true'], {}]) {
    assert.throws(() => adminFromClaims({ webssh_admin: v }), /claim webssh_admin must be true or false/, JSON.stringify(v));
  }
});

void test('--admin-subjects: exact names or globs, case-sensitive; validated by the option table', () => {
  assert.equal(subjectIsAdmin([], 'root'), false);
  assert.equal(subjectIsAdmin(['carol'], 'carol'), true);
  assert.equal(subjectIsAdmin(['carol'], 'Carol'), false);
  assert.equal(subjectIsAdmin(['carol'], 'carol2'), false);
  assert.equal(subjectIsAdmin(['ops-*', 'a?c'], 'ops-dave'), true);
  assert.equal(subjectIsAdmin(['ops-*', 'a?c'], 'abc'), true);
  assert.equal(subjectIsAdmin(['ops-*', 'a?c'], 'dev-ops'), false);
  assert.equal(subjectIsAdmin(['a.c'], 'abc'), false, 'a dot is literal');

  const ok = loadConfig(['--admin-subjects', 'carol, ops-*'], {});
  assert.equal(ok.kind, 'config');
  if (ok.kind === 'config') assert.deepEqual(ok.config.adminSubjects, ['carol', 'ops-*']);
  const env = loadConfig([], { UWSB_ADMIN_SUBJECTS: 'dave' });
  if (env.kind === 'config') assert.deepEqual(env.config.adminSubjects, ['dave']);
  const def = loadConfig([], {});
  if (def.kind === 'config') assert.deepEqual(def.config.adminSubjects, []);
  assert.throws(() => loadConfig(['--admin-subjects', 'bad\u0007name'], {}), /admin-subjects/);
});
